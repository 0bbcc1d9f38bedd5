/**
 * The baseline-loader Lambda handler on the emulator: a versioned S3 bucket
 * and the governance-cache table from the shared definitions. A valid
 * baseline uploaded under baselines/<owner>/<repo>/ becomes the repository's
 * current baseline (key, version id, sha256); an invalid one ends up under
 * quarantine/ with its version gone from baselines/ and the reason recorded;
 * a late event for an older object does not roll the current baseline back.
 */
import { createHash, randomBytes } from 'node:crypto';
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectVersionsCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { DynamoGovernanceCache, serializeBaseline } from '@phase-mirror/mirror-dissonance';
import { createBaselineLoader, type S3Event } from '../../lambdas/baseline-loader/handler';
import { emulatorEndpoint, useSuiteTables } from '../../packages/mirror-dissonance/test/integration/tables';

const region = process.env.AWS_REGION || 'us-east-1';
const tables = useSuiteTables('baseline');
const bucket = `pm-baselines-${randomBytes(5).toString('hex')}`;
let s3: S3Client;
let output = '';
const restores: (() => void)[] = [];

function env(): NodeJS.ProcessEnv {
  return { AWS_REGION: region, AWS_ENDPOINT_URL: emulatorEndpoint(), PHASE_MIRROR_STAGE: 'int', GOVERNANCE_CACHE_TABLE: tables.names.governanceCache };
}

function cache(): DynamoGovernanceCache {
  return new DynamoGovernanceCache({ client: tables.documents, tableName: tables.names.governanceCache });
}

function baselineText(createdAt: string, files: Record<string, string>): string {
  return serializeBaseline({ version: 1, createdAt, globs: ['src/**'], files });
}

/** Uploads `body` and returns the ObjectCreated event S3 would send for it. */
async function upload(key: string, body: string): Promise<{ event: S3Event; versionId: string }> {
  const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: 'application/json' }));
  const versionId = put.VersionId!;
  const event: S3Event = {
    Records: [
      {
        eventName: 'ObjectCreated:Put',
        s3: { bucket: { name: bucket }, object: { key: encodeURIComponent(key).replace(/%2F/g, '/'), size: Buffer.byteLength(body), versionId } },
      },
    ],
  };
  return { event, versionId };
}

async function versionsOf(key: string): Promise<string[]> {
  const listed = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: key }));
  return (listed.Versions ?? []).filter((version) => version.Key === key).map((version) => version.VersionId!);
}

beforeAll(async () => {
  for (const stream of [process.stdout, process.stderr]) {
    const original = stream.write.bind(stream);
    stream.write = ((chunk: string | Uint8Array) => {
      output += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
      return true;
    }) as typeof stream.write;
    restores.push(() => (stream.write = original));
  }
  s3 = new S3Client({ endpoint: emulatorEndpoint(), region, forcePathStyle: true });
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  await s3.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }));
});

afterAll(async () => {
  for (const restore of restores) restore();
  const listed = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket }));
  for (const entry of [...(listed.Versions ?? []), ...(listed.DeleteMarkers ?? [])]) {
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: entry.Key!, VersionId: entry.VersionId! }));
  }
  await s3.send(new DeleteBucketCommand({ Bucket: bucket }));
  s3.destroy();
});

describe('the baseline-loader Lambda handler on the emulator', () => {
  it('records a valid baseline as the repository\'s current one: key, version id, sha256', async () => {
    // Prepare
    const key = 'baselines/acme/api/baseline.json';
    const body = baselineText('2026-03-01T12:00:00.000Z', { 'src/a.ts': 'a'.repeat(64) });
    const { event, versionId } = await upload(key, body);

    // Act
    const result = await createBaselineLoader()(event, env());

    // Assess
    expect(result.loaded).toEqual([expect.objectContaining({ repository: 'acme/api', versionId, outcome: 'recorded' })]);
    const current = await cache().currentBaseline('acme/api');
    expect(current).toMatchObject({
      repository: 'acme/api',
      bucket,
      key,
      versionId,
      sha256: createHash('sha256').update(body).digest('hex'),
      size: Buffer.byteLength(body),
      baselineCreatedAt: '2026-03-01T12:00:00.000Z',
      fileCount: 1,
    });
    expect(Date.parse(current!.loadedAt)).not.toBeNaN();
    expect(await versionsOf(key)).toEqual([versionId]);
    expect(output).toMatch(/"BaselineLoaded":1/);
  });

  it('quarantines an invalid baseline: copied to quarantine/, its version removed from baselines/, the reason recorded', async () => {
    // Prepare
    const key = 'baselines/acme/web/baseline.json';
    const body = '{"version": 1, "createdAt": "yesterday", "globs": [], "files": {}}';
    const { event, versionId } = await upload(key, body);

    // Act
    const result = await createBaselineLoader()(event, env());

    // Assess
    expect(result.quarantined).toEqual([expect.objectContaining({ key, versionId, quarantineKey: `quarantine/${key}` })]);
    const quarantined = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: `quarantine/${key}` }));
    expect(await quarantined.Body!.transformToString()).toBe(body);
    expect(await versionsOf(key)).toEqual([]);
    const record = await cache().lastQuarantine('acme/web');
    expect(record).toMatchObject({ key, versionId, quarantineKey: `quarantine/${key}`, reason: expect.stringContaining('createdAt must be an ISO 8601 date-time') });
    expect(await cache().currentBaseline('acme/web')).toBeUndefined();
    expect(output).toMatch(/"BaselineQuarantined":1/);
  });

  it('keeps the newer baseline current when the event of an older object arrives late', async () => {
    // Prepare: two uploads; the newer one is handled first
    const olderKey = 'baselines/acme/late/2026-01.json';
    const newerKey = 'baselines/acme/late/2026-02.json';
    const older = await upload(olderKey, baselineText('2026-01-01T00:00:00.000Z', {}));
    await new Promise((resolve) => setTimeout(resolve, 1100)); // S3 LastModified has one-second resolution
    const newer = await upload(newerKey, baselineText('2026-02-01T00:00:00.000Z', {}));
    const loader = createBaselineLoader();

    // Act
    await loader(newer.event, env());
    const late = await loader(older.event, env());

    // Assess
    expect(late.loaded).toEqual([expect.objectContaining({ key: olderKey, outcome: 'superseded' })]);
    expect(await cache().currentBaseline('acme/late')).toMatchObject({ key: newerKey, versionId: newer.versionId });
  });

  it('skips an event whose object version was already removed', async () => {
    const key = 'baselines/acme/gone/baseline.json';
    const { event, versionId } = await upload(key, baselineText('2026-03-01T00:00:00.000Z', {}));
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key, VersionId: versionId }));

    const result = await createBaselineLoader()(event, env());

    expect(result.ignored).toEqual([{ key, reason: 'the object (version) no longer exists' }]);
    expect(await cache().currentBaseline('acme/gone')).toBeUndefined();
  });
});
