/**
 * The baseline-loader handler with mocked S3 and DynamoDB clients: a valid
 * baseline becomes the repository's current baseline in the governance
 * cache; an invalid one (or one outside the key layout, too large, not
 * UTF-8) is copied to quarantine/, its version deleted and the reason
 * recorded; out-of-order and vanished objects change nothing; S3 failures
 * fail the invocation after the other records were handled.
 */
import { createHash } from 'node:crypto';
import { CopyObjectCommand, DeleteObjectCommand, GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { DependencyError, dynamoDocumentClient, DynamoGovernanceCache, InputError, serializeBaseline, type BaselineRecord } from '@phase-mirror/mirror-dissonance';
import { createBaselineLoader, decodeEventKey, MAX_BASELINE_BYTES, repositoryOfKey, type S3Event } from '../../lambdas/baseline-loader/handler';

const s3 = mockClient(S3Client);
const ddb = mockClient(DynamoDBDocumentClient);
const env = { AWS_REGION: 'eu-west-1', PHASE_MIRROR_STAGE: 'test' };
const NOW = new Date('2026-03-02T10:00:00.000Z');
const WRITTEN = new Date('2026-03-02T09:59:58.000Z');
const BUCKET = 'phase-mirror-test-baselines';
const KEY = 'baselines/acme/api/baseline.json';

const VALID = serializeBaseline({ version: 1, createdAt: '2026-03-01T12:00:00.000Z', globs: ['src/**'], files: { 'src/a.ts': 'a'.repeat(64), 'src/b.ts': 'b'.repeat(64) } });

let output = '';
let restore: () => void = () => undefined;

beforeEach(() => {
  s3.reset();
  ddb.reset();
  ddb.on(PutCommand).resolves({});
  s3.on(CopyObjectCommand).resolves({});
  s3.on(DeleteObjectCommand).resolves({});
  output = '';
  const undo = [process.stdout, process.stderr].map((stream) => {
    const original = stream.write.bind(stream);
    stream.write = ((chunk: string | Uint8Array) => {
      output += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
      return true;
    }) as typeof stream.write;
    return () => (stream.write = original);
  });
  restore = () => undo.forEach((fn) => fn());
});

afterEach(() => restore());

function event(key: string, options: { versionId?: string; size?: number; eventName?: string; bucket?: string } = {}): S3Event {
  return {
    Records: [
      {
        eventName: options.eventName ?? 'ObjectCreated:Put',
        s3: {
          bucket: { name: options.bucket ?? BUCKET },
          object: { key, size: options.size ?? 100, ...(options.versionId !== undefined ? { versionId: options.versionId } : { versionId: 'v1' }) },
        },
      },
    ],
  };
}

/** The object S3 answers with: a body whose bytes can be read once. */
function stored(content: string | Uint8Array, versionId = 'v1'): Record<string, unknown> {
  const bytes = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
  return { Body: { transformToByteArray: async () => new Uint8Array(bytes) }, ContentLength: bytes.length, VersionId: versionId, LastModified: WRITTEN };
}

function lines(): Record<string, unknown>[] {
  return output
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

const loader = () => createBaselineLoader({ clock: () => NOW });

describe('baseline-loader handler', () => {
  it('records a valid baseline as the repository\'s current one, for the exact version of the event', async () => {
    // Prepare
    s3.on(GetObjectCommand).resolves(stored(VALID) as never);

    // Act
    const result = await loader()(event(KEY), env);

    // Assess
    const sha256 = createHash('sha256').update(VALID).digest('hex');
    expect(result).toEqual({ loaded: [{ repository: 'acme/api', key: KEY, versionId: 'v1', sha256, outcome: 'recorded' }], quarantined: [], ignored: [] });
    expect(s3.commandCalls(GetObjectCommand)[0]!.args[0].input).toEqual({ Bucket: BUCKET, Key: KEY, VersionId: 'v1' });
    const put = ddb.commandCalls(PutCommand)[0]!.args[0].input;
    expect(put.TableName).toBe('phase-mirror-test-governance-cache');
    expect(put.Item).toEqual({
      pk: 'baseline#acme/api',
      kind: 'baseline',
      repository: 'acme/api',
      bucket: BUCKET,
      key: KEY,
      versionId: 'v1',
      sha256,
      size: Buffer.byteLength(VALID),
      objectLastModified: WRITTEN.toISOString(),
      baselineCreatedAt: '2026-03-01T12:00:00.000Z',
      fileCount: 2,
      loadedAt: NOW.toISOString(),
    });
    expect(put.ConditionExpression).toBe('attribute_not_exists(pk) OR objectLastModified <= :written');
    expect(s3.commandCalls(CopyObjectCommand)).toHaveLength(0);
    expect(lines()).toEqual(expect.arrayContaining([expect.objectContaining({ BaselineLoaded: 1, service: 'baseline-loader' })]));
  });

  it('quarantines an invalid baseline: copy to quarantine/, delete that version, record and log the reason', async () => {
    // Prepare
    s3.on(GetObjectCommand).resolves(stored('{"version": 2}') as never);

    // Act
    const result = await loader()(event(KEY), env);

    // Assess
    expect(result.loaded).toEqual([]);
    expect(result.quarantined).toEqual([
      { bucket: BUCKET, key: KEY, versionId: 'v1', repository: 'acme/api', quarantineKey: `quarantine/${KEY}`, reason: expect.stringContaining('version must be 1') },
    ]);
    expect(s3.commandCalls(CopyObjectCommand)[0]!.args[0].input).toEqual({
      Bucket: BUCKET,
      Key: `quarantine/${KEY}`,
      CopySource: `${BUCKET}/${KEY}?versionId=v1`,
      MetadataDirective: 'COPY',
    });
    expect(s3.commandCalls(DeleteObjectCommand)[0]!.args[0].input).toEqual({ Bucket: BUCKET, Key: KEY, VersionId: 'v1' });
    const put = ddb.commandCalls(PutCommand)[0]!.args[0].input;
    expect(put.Item).toMatchObject({ pk: 'quarantine#acme/api', kind: 'quarantine', quarantineKey: `quarantine/${KEY}`, quarantinedAt: NOW.toISOString() });
    expect(put.Item!.reason).toBe(`${KEY}: integrity baseline: version must be 1, got 2 (field version)`);
    expect(lines()).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ BaselineQuarantined: 1 }),
        expect.objectContaining({ level: 'WARN', message: 'baseline quarantined', key: KEY, reason: expect.stringContaining('version must be 1') }),
      ]),
    );
  });

  it('copies before it deletes, so a failed copy never loses the object', async () => {
    s3.on(GetObjectCommand).resolves(stored('not json') as never);
    s3.on(CopyObjectCommand).rejects(Object.assign(new Error('Access Denied'), { name: 'AccessDenied' }));

    await expect(loader()(event(KEY), env)).rejects.toThrow('Access Denied');

    expect(s3.commandCalls(DeleteObjectCommand)).toHaveLength(0);
    expect(lines()).toEqual(expect.arrayContaining([expect.objectContaining({ BaselineLoadFailure: 1 })]));
  });

  it.each([
    ['a key that names no repository', 'baselines/readme.json', {}, 'does not follow baselines/<owner>/<repo>/<name>.json'],
    ['an object over the size limit', KEY, { size: MAX_BASELINE_BYTES + 1 }, `limited to ${MAX_BASELINE_BYTES}`],
  ])('quarantines %s without reading it', async (_name, key, options, reason) => {
    const result = await loader()(event(key, options), env);

    expect(result.quarantined).toEqual([expect.objectContaining({ key, reason: expect.stringContaining(reason) })]);
    expect(s3.commandCalls(GetObjectCommand)).toHaveLength(0);
    expect(s3.commandCalls(DeleteObjectCommand)).toHaveLength(1);
  });

  it('records the quarantine of a key outside the layout under the key itself', async () => {
    await loader()(event('baselines/readme.json'), env);

    expect(ddb.commandCalls(PutCommand)[0]!.args[0].input.Item).toMatchObject({ pk: 'quarantine#key:baselines/readme.json' });
  });

  it('quarantines an object that is not UTF-8 text', async () => {
    s3.on(GetObjectCommand).resolves(stored(new Uint8Array([0x7b, 0xff, 0xfe, 0x7d])) as never);

    const result = await loader()(event(KEY), env);

    expect(result.quarantined[0]!.reason).toBe('the object is not UTF-8 text');
  });

  it('decodes the event\'s URL-encoded key and encodes the copy source', async () => {
    s3.on(GetObjectCommand).resolves(stored('[]') as never);

    await loader()(event('baselines/acme/api/my+baseline%281%29.json'), env);

    expect(s3.commandCalls(GetObjectCommand)[0]!.args[0].input.Key).toBe('baselines/acme/api/my baseline(1).json');
    expect(s3.commandCalls(CopyObjectCommand)[0]!.args[0].input).toMatchObject({
      Key: 'quarantine/baselines/acme/api/my baseline(1).json',
      CopySource: `${BUCKET}/baselines/acme/api/my%20baseline(1).json?versionId=v1`,
    });
  });

  it('leaves the current baseline alone when it comes from an object written later (out-of-order event)', async () => {
    s3.on(GetObjectCommand).resolves(stored(VALID) as never);
    ddb.on(PutCommand).rejects(Object.assign(new Error('The conditional request failed'), { name: 'ConditionalCheckFailedException' }));

    const result = await loader()(event(KEY), env);

    expect(result.loaded).toEqual([expect.objectContaining({ outcome: 'superseded' })]);
    expect(lines().some((line) => 'BaselineLoaded' in line)).toBe(false);
  });

  it('skips an object version that is already gone', async () => {
    s3.on(GetObjectCommand).rejects(Object.assign(new Error('The specified version does not exist.'), { name: 'NoSuchVersion' }));

    const result = await loader()(event(KEY), env);

    expect(result).toEqual({ loaded: [], quarantined: [], ignored: [{ key: KEY, reason: 'the object (version) no longer exists' }] });
    expect(ddb.calls()).toHaveLength(0);
  });

  it('ignores keys outside baselines/ and events other than ObjectCreated', async () => {
    const outside = await loader()(event('quarantine/baselines/acme/api/baseline.json'), env);
    const removed = await loader()(event(KEY, { eventName: 'ObjectRemoved:Delete' }), env);

    expect(outside.ignored).toEqual([{ key: 'quarantine/baselines/acme/api/baseline.json', reason: 'outside baselines/' }]);
    expect(removed.ignored).toEqual([{ key: KEY, reason: 'event ObjectRemoved:Delete is not ObjectCreated' }]);
    expect(s3.calls()).toHaveLength(0);
  });

  it('handles the other records before failing on an S3 error, so a retry finds them done', async () => {
    // Prepare: the first record's read fails, the second one is valid
    const other = 'baselines/acme/web/baseline.json';
    s3.on(GetObjectCommand, { Key: KEY }).rejects(Object.assign(new Error('Service Unavailable'), { name: 'ServiceUnavailable' }));
    s3.on(GetObjectCommand, { Key: other }).resolves(stored(VALID) as never);
    const records = [...event(KEY).Records!, ...event(other).Records!];

    // Act
    const failure = loader()({ Records: records }, env);

    // Assess
    await expect(failure).rejects.toThrow('Service Unavailable');
    expect(ddb.commandCalls(PutCommand).map((call) => call.args[0].input.Item!.pk)).toEqual(['baseline#acme/web']);
    expect(lines()).toEqual(expect.arrayContaining([expect.objectContaining({ BaselineLoadFailure: 1 }), expect.objectContaining({ BaselineLoaded: 1 })]));
  });

  it('uses GOVERNANCE_CACHE_TABLE over the stage default', async () => {
    s3.on(GetObjectCommand).resolves(stored(VALID) as never);

    await loader()(event(KEY), { AWS_REGION: 'eu-west-1', GOVERNANCE_CACHE_TABLE: 'custom-cache' });

    expect(ddb.commandCalls(PutCommand)[0]!.args[0].input.TableName).toBe('custom-cache');
  });

  it.each([
    ['PHASE_MIRROR_STAGE', { AWS_REGION: 'eu-west-1' }],
    ['GOVERNANCE_CACHE_TABLE', { ...env, GOVERNANCE_CACHE_TABLE: 'a b' }],
    ['AWS_REGION', { PHASE_MIRROR_STAGE: 'test' }],
  ])('fails on a missing or bad %s, naming it and calling nothing', async (variable, badEnv) => {
    await expect(loader()(event(KEY), badEnv)).rejects.toThrow(variable);

    expect(s3.calls()).toHaveLength(0);
    expect(lines()).toEqual(expect.arrayContaining([expect.objectContaining({ BaselineLoadFailure: 1 })]));
  });
});

describe('baseline keys', () => {
  it.each([
    ['baselines/acme/api/baseline.json', 'acme/api'],
    ['baselines/acme/api.js/2026/03/baseline.json', 'acme/api.js'],
    ['baselines/acme/api/baseline.yml', undefined],
    ['baselines/acme/baseline.json', undefined],
    ['baselines/-acme/api/baseline.json', undefined],
    ['baselines/acme/api/', undefined],
  ])('%s belongs to %s', (key, repository) => {
    expect(repositoryOfKey(key)).toBe(repository);
  });

  it('decodes event keys, keeping one that is not valid percent-encoding', () => {
    expect(decodeEventKey('baselines/a+b/c%2Bd.json')).toBe('baselines/a b/c+d.json');
    expect(decodeEventKey('baselines/100%.json')).toBe('baselines/100%.json');
  });
});

describe('DynamoGovernanceCache', () => {
  const cache = () => new DynamoGovernanceCache({ client: dynamoDocumentClient({ region: 'eu-west-1' }), tableName: 'governance' });
  const record: BaselineRecord = {
    repository: 'Acme/API',
    bucket: BUCKET,
    key: 'baselines/Acme/API/baseline.json',
    sha256: 'a'.repeat(64),
    size: 10,
    objectLastModified: WRITTEN.toISOString(),
    baselineCreatedAt: '2026-03-01T12:00:00.000Z',
    fileCount: 0,
    loadedAt: NOW.toISOString(),
  };

  it('keys repositories case-insensitively and reads back what it recorded, without its keys', async () => {
    ddb.on(GetCommand, { Key: { pk: 'baseline#acme/api' } }).resolves({ Item: { pk: 'baseline#acme/api', kind: 'baseline', ...record } });

    await cache().recordBaseline(record);
    const current = await cache().currentBaseline('acme/api');

    expect(ddb.commandCalls(PutCommand)[0]!.args[0].input.Item).toMatchObject({ pk: 'baseline#acme/api', repository: 'Acme/API' });
    expect(current).toEqual(record);
  });

  it('answers undefined for a repository with no baseline or quarantine', async () => {
    ddb.on(GetCommand).resolves({});

    expect(await cache().currentBaseline('acme/none')).toBeUndefined();
    expect(await cache().lastQuarantine('acme/none')).toBeUndefined();
  });

  it('reads the last quarantine of a repository', async () => {
    const quarantine = { repository: 'acme/api', bucket: BUCKET, key: KEY, quarantineKey: `quarantine/${KEY}`, reason: 'bad', quarantinedAt: NOW.toISOString() };
    ddb.on(GetCommand, { Key: { pk: 'quarantine#acme/api' } }).resolves({ Item: { pk: 'quarantine#acme/api', kind: 'quarantine', ...quarantine } });

    expect(await cache().lastQuarantine('acme/api')).toEqual(quarantine);
  });

  it('refuses a repository that is not owner/name and a date that is not ISO UTC', async () => {
    await expect(cache().currentBaseline('acme')).rejects.toBeInstanceOf(InputError);
    await expect(cache().recordBaseline({ ...record, loadedAt: 'now' })).rejects.toMatchObject({ location: { field: 'loadedAt' } });
    expect(ddb.calls()).toHaveLength(0);
  });

  it('reports a DynamoDB failure as a DependencyError naming the table', async () => {
    ddb.on(PutCommand).rejects(Object.assign(new Error('no such table'), { name: 'ResourceNotFoundException' }));

    const failure = cache().recordBaseline(record);

    await expect(failure).rejects.toBeInstanceOf(DependencyError);
    await expect(failure).rejects.toThrow('PutItem on DynamoDB table governance failed');
  });
});
