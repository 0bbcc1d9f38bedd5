/**
 * The anonymizer salt in SSM on the emulator: a SecureString written with
 * PutParameter is read back decrypted; a missing parameter and a malformed or
 * plain-String one fail closed, naming the parameter and never the value.
 */
import { randomBytes } from 'node:crypto';
import { DeleteParameterCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { Anonymizer } from '../../src/calibration/anonymizer';
import { loadSsmSalt, ssmSaltParameter } from '../../src/calibration/salt';
import { emulatorEndpoint } from './tables';

let ssm: SSMClient;
const created: string[] = [];

beforeAll(() => {
  ssm = new SSMClient({ endpoint: emulatorEndpoint(), region: process.env.AWS_REGION || 'us-east-1', maxAttempts: 4 });
});

afterAll(async () => {
  for (const name of created) await ssm.send(new DeleteParameterCommand({ Name: name }));
  ssm.destroy();
});

/** A stage of its own for each test, so parallel or repeated runs never collide. */
function uniqueStage(): string {
  return `it-${randomBytes(6).toString('hex')}`;
}

async function put(stage: string, value: string, type: 'SecureString' | 'String' = 'SecureString'): Promise<string> {
  const name = ssmSaltParameter(stage);
  await ssm.send(new PutParameterCommand({ Name: name, Value: value, Type: type }));
  created.push(name);
  return name;
}

describe('loadSsmSalt on the emulator', () => {
  it('reads back a SecureString salt written with PutParameter, usable by the anonymizer', async () => {
    // Prepare
    const stage = uniqueStage();
    const salt = randomBytes(32).toString('hex');
    await put(stage, salt);

    // Act
    const loaded = await loadSsmSalt(ssm, stage);

    // Assess
    expect(loaded).toBe(salt);
    expect(new Anonymizer(loaded).hashOrg('acme')).toMatch(/^[0-9a-f]{64}$/);
  });

  it('names the missing parameter and how to create it', async () => {
    const stage = uniqueStage();
    await expect(loadSsmSalt(ssm, stage)).rejects.toMatchObject({
      code: 'STORE_FAILED',
      message: expect.stringContaining(`SSM parameter /guardian/${stage}/anonymizer_salt does not exist`),
      context: { parameter: `/guardian/${stage}/anonymizer_salt` },
    });
  });

  it('refuses a value that is not 64 lowercase hex, without echoing it', async () => {
    const stage = uniqueStage();
    const value = randomBytes(32).toString('hex').toUpperCase();
    await put(stage, value);

    const attempt = loadSsmSalt(ssm, stage);

    await expect(attempt).rejects.toMatchObject({
      code: 'STORE_FAILED',
      message: `anonymizer salt SSM parameter /guardian/${stage}/anonymizer_salt is not 64 lowercase hex characters`,
    });
  });

  it('refuses a salt stored as a plain String', async () => {
    const stage = uniqueStage();
    await put(stage, randomBytes(32).toString('hex'), 'String');
    await expect(loadSsmSalt(ssm, stage)).rejects.toMatchObject({ code: 'STORE_FAILED', message: expect.stringContaining('must be a SecureString (it is String)') });
  });
});
