/**
 * The nonce-rotation handler with a mocked SSM client: configuration from the
 * environment, the core rotation, EMF metrics and structured logs — and no
 * nonce value in any of them.
 */
import { DeleteParameterCommand, GetParametersByPathCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { handler, rotateFromEnvironment } from '../../lambdas/nonce-rotation/handler';

const ssm = mockClient(SSMClient);
let output = '';
let restore: () => void = () => undefined;

beforeEach(() => {
  ssm.reset();
  output = '';
  // Powertools writes INFO and EMF to stdout, ERROR to stderr.
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

const env = { PHASE_MIRROR_STAGE: 'prod', NONCE_KMS_KEY_ID: 'alias/phase-mirror', AWS_REGION: 'eu-west-1' };
const hour = 60 * 60 * 1000;

function lines(): Record<string, unknown>[] {
  return output
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

function parameter(version: number, createdAt: Date): { Name: string; Type: 'SecureString'; LastModifiedDate: Date } {
  return { Name: `/guardian/prod/redaction_nonce_v${version}`, Type: 'SecureString', LastModifiedDate: createdAt };
}

describe('nonce-rotation handler', () => {
  it('creates v1 on the first run with Overwrite=false under the configured KMS key', async () => {
    // Prepare
    ssm.on(GetParametersByPathCommand).resolves({ Parameters: [] });
    ssm.on(PutParameterCommand).resolves({ Version: 1 });

    // Act
    const response = await rotateFromEnvironment({ source: 'aws.scheduler' }, env);

    // Assess
    expect(response).toEqual({ outcome: 'created', version: 1, deleted: [] });
    const put = ssm.commandCalls(PutParameterCommand)[0]!.args[0].input;
    expect(put).toMatchObject({ Name: '/guardian/prod/redaction_nonce_v1', Type: 'SecureString', KeyId: 'alias/phase-mirror', Overwrite: false });
    expect(put.Value).toMatch(/^[0-9a-f]{64}$/);
    expect(output).not.toContain(put.Value);
    const logged = lines();
    expect(logged).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ NonceRotation: 1, outcome: 'success', service: 'nonce-rotation' }),
        expect.objectContaining({ NonceVersion: 1 }),
        expect.objectContaining({ level: 'INFO', message: 'nonce rotated', version: 1, location: 'SSM /guardian/prod/redaction_nonce_v*' }),
      ]),
    );
  });

  it('deletes versions whose successor is older than NONCE_GRACE_SECONDS and keeps the one just superseded', async () => {
    // Prepare: v1 superseded 3 h ago, v2 current
    const now = Date.now();
    ssm.on(GetParametersByPathCommand).resolves({ Parameters: [parameter(1, new Date(now - 5 * hour)), parameter(2, new Date(now - 3 * hour))] });
    ssm.on(PutParameterCommand).resolves({ Version: 1 });
    ssm.on(DeleteParameterCommand).resolves({});

    // Act
    const response = await rotateFromEnvironment({}, { ...env, NONCE_GRACE_SECONDS: '7200' });

    // Assess
    expect(response).toMatchObject({ outcome: 'created', version: 3, previousVersion: 2, deleted: [1] });
    expect(Date.parse(response.previousValidUntil!)).toBeGreaterThanOrEqual(now + 2 * hour);
    expect(ssm.commandCalls(DeleteParameterCommand).map((call) => call.args[0].input.Name)).toEqual(['/guardian/prod/redaction_nonce_v1']);
  });

  it('treats a concurrent rotation that created the version first as success', async () => {
    ssm.on(GetParametersByPathCommand).resolves({ Parameters: [parameter(1, new Date())] });
    ssm.on(PutParameterCommand).rejects(Object.assign(new Error('exists'), { name: 'ParameterAlreadyExists' }));

    const response = await rotateFromEnvironment({}, env);

    expect(response).toEqual({ outcome: 'lost_race', version: 2, previousVersion: 1, previousValidUntil: expect.any(String), deleted: [] });
    expect(lines()).toEqual(expect.arrayContaining([expect.objectContaining({ NonceRotation: 1, outcome: 'success' })]));
  });

  it('rethrows an SSM failure after counting a failed rotation and logging the cause', async () => {
    ssm.on(GetParametersByPathCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));

    await expect(rotateFromEnvironment({}, env)).rejects.toMatchObject({ code: 'NONCE_STORE_UNREACHABLE' });

    expect(lines()).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ NonceRotation: 1, outcome: 'failure' }),
        expect.objectContaining({ level: 'ERROR', message: 'nonce rotation failed', error: expect.objectContaining({ code: 'NONCE_STORE_UNREACHABLE' }) }),
      ]),
    );
    expect(ssm.commandCalls(PutParameterCommand)).toHaveLength(0);
  });

  it.each([
    ['PHASE_MIRROR_STAGE', { ...env, PHASE_MIRROR_STAGE: '' }],
    ['NONCE_KMS_KEY_ID', { ...env, NONCE_KMS_KEY_ID: undefined }],
    ['AWS_REGION', { ...env, AWS_REGION: undefined }],
    ['NONCE_GRACE_SECONDS', { ...env, NONCE_GRACE_SECONDS: '30' }],
    ['NONCE_GRACE_SECONDS', { ...env, NONCE_GRACE_SECONDS: 'one hour' }],
  ])('fails on a bad %s, naming it, counting a failed rotation and calling nothing', async (variable, badEnv) => {
    await expect(rotateFromEnvironment({}, badEnv)).rejects.toMatchObject({ message: expect.stringContaining(variable) });
    expect(lines()).toEqual(expect.arrayContaining([expect.objectContaining({ NonceRotation: 1, outcome: 'failure' })]));
    expect(ssm.calls()).toHaveLength(0);
  });

  it('reads its configuration from the process environment when Lambda calls it with (event, context)', async () => {
    // Prepare
    ssm.on(GetParametersByPathCommand).resolves({ Parameters: [] });
    ssm.on(PutParameterCommand).resolves({ Version: 1 });
    const saved = { ...process.env };
    Object.assign(process.env, env);
    try {
      // Act
      const context = { functionName: 'phase-mirror-nonce-rotation', awsRequestId: 'r-1' };
      const response = await (handler as (event: unknown, context: unknown) => Promise<unknown>)({ source: 'aws.scheduler' }, context);

      // Assess
      expect(response).toEqual({ outcome: 'created', version: 1, deleted: [] });
      expect(ssm.commandCalls(PutParameterCommand)[0]!.args[0].input.Name).toBe('/guardian/prod/redaction_nonce_v1');
    } finally {
      for (const key of Object.keys(env)) if (saved[key] === undefined) delete process.env[key];
      Object.assign(process.env, saved);
    }
  });
});

