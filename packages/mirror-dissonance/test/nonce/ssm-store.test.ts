/**
 * SSM adapter of the nonce secret store (mocked SDK; the emulator runs in
 * test/integration): SecureStrings `/guardian/<stage>/redaction_nonce_v<N>`
 * listed without decryption, read one at a time with decryption, written once
 * with the project KMS key.
 */
import {
  DeleteParameterCommand,
  GetParameterCommand,
  GetParametersByPathCommand,
  ParameterAlreadyExists,
  ParameterNotFound,
  PutParameterCommand,
  SSMClient,
  ThrottlingException,
  type Parameter,
} from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { DependencyError, InputError, IntegrityError, PhaseMirrorError, UsageError } from '../../src/errors';
import { nonceParameterName, SsmNonceStore } from '../../src/nonce/ssm-store';
import { nonceVersionOf, type NonceVersionInfo } from '../../src/nonce/store';
import { guardianPath } from '../../src/secrets/guardian-path';

const NONCE = '0123456789abcdef'.repeat(4);
const KMS_KEY = 'alias/phase-mirror';
const CREATED = new Date('2025-03-04T05:06:07.000Z');

async function catchAsync(promise: Promise<unknown>): Promise<PhaseMirrorError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof PhaseMirrorError) return error;
    throw error;
  }
  throw new Error('expected an error');
}

function catchError(fn: () => unknown): PhaseMirrorError {
  try {
    fn();
  } catch (error) {
    if (error instanceof PhaseMirrorError) return error;
    throw error;
  }
  throw new Error('expected an error');
}

function secure(name: string, lastModified: Date = CREATED): Parameter {
  return { Name: name, Type: 'SecureString', LastModifiedDate: lastModified, Version: 1 };
}

function info(version: number, stage = 'prod'): NonceVersionInfo {
  return { version, name: `/guardian/${stage}/redaction_nonce_v${version}`, createdAt: CREATED };
}

const notFound = (): ParameterNotFound => new ParameterNotFound({ message: 'parameter not found', $metadata: {} });

/** The failures the store cannot decide on now: network, throttling, permissions. */
const UNREACHABLE: ReadonlyArray<[string, () => Error, RegExp]> = [
  [
    'the endpoint refuses connections',
    () => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:443'), { code: 'ECONNREFUSED' }),
    /unreachable \(ECONNREFUSED\)/,
  ],
  ['SSM throttles', () => new ThrottlingException({ message: 'Rate exceeded', Message: 'Rate exceeded', $metadata: {} }), /throttled/],
  ['access is denied', () => Object.assign(new Error('not authorized'), { name: 'AccessDeniedException' }), /access denied/],
];

describe('SsmNonceStore', () => {
  const ssm = mockClient(SSMClient);
  const client = new SSMClient({ region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });

  afterEach(() => ssm.reset());

  function storeFor(stage = 'prod'): SsmNonceStore {
    return new SsmNonceStore({ client, stage, kmsKeyId: KMS_KEY });
  }

  it('names its location after the SSM path of the stage', () => {
    // Act
    const store = storeFor('staging');

    // Assess
    expect(store.location).toBe('SSM /guardian/staging/redaction_nonce_v*');
  });

  it.each(['', 'prod/x', '../prod', 'a b', 'prod\n'])('refuses an invalid stage %j with an InputError', (stage) => {
    // Act
    const error = catchError(() => storeFor(stage));

    // Assess
    expect(error).toBeInstanceOf(InputError);
    expect(error.code).toBe('INPUT_INVALID');
    expect(error.location.field).toBe('storage.stage');
    expect(ssm.calls()).toHaveLength(0);
  });

  describe('listVersions', () => {
    it('lists versions from every page, ascending, without decrypting', async () => {
      // Prepare
      ssm
        .on(GetParametersByPathCommand)
        .resolvesOnce({ Parameters: [secure('/guardian/prod/redaction_nonce_v10', new Date('2025-03-10T00:00:00Z'))], NextToken: 'page-2' })
        .resolvesOnce({
          Parameters: [secure('/guardian/prod/anonymizer_salt'), secure('/guardian/prod/redaction_nonce_v2', new Date('2025-03-02T00:00:00Z'))],
          NextToken: 'page-3',
        })
        .resolvesOnce({ Parameters: [secure('/guardian/prod/redaction_nonce_v3', new Date('2025-03-03T00:00:00Z'))] });

      // Act
      const versions = await storeFor().listVersions();

      // Assess
      expect(versions).toEqual([
        { version: 2, name: '/guardian/prod/redaction_nonce_v2', createdAt: new Date('2025-03-02T00:00:00Z') },
        { version: 3, name: '/guardian/prod/redaction_nonce_v3', createdAt: new Date('2025-03-03T00:00:00Z') },
        { version: 10, name: '/guardian/prod/redaction_nonce_v10', createdAt: new Date('2025-03-10T00:00:00Z') },
      ]);
      const inputs = ssm.commandCalls(GetParametersByPathCommand).map((call) => call.args[0].input);
      expect(inputs).toEqual([
        { Path: '/guardian/prod/', Recursive: false, WithDecryption: false, MaxResults: 10 },
        { Path: '/guardian/prod/', Recursive: false, WithDecryption: false, MaxResults: 10, NextToken: 'page-2' },
        { Path: '/guardian/prod/', Recursive: false, WithDecryption: false, MaxResults: 10, NextToken: 'page-3' },
      ]);
      expect(ssm.commandCalls(GetParameterCommand)).toHaveLength(0);
    });

    it('returns no versions when the path holds none', async () => {
      // Prepare
      ssm.on(GetParametersByPathCommand).resolves({});

      // Act
      const versions = await storeFor().listVersions();

      // Assess
      expect(versions).toEqual([]);
      expect(ssm.commandCalls(GetParametersByPathCommand)).toHaveLength(1);
    });

    it('stops at an empty NextToken', async () => {
      // Prepare
      ssm.on(GetParametersByPathCommand).resolves({ Parameters: [secure('/guardian/prod/redaction_nonce_v1')], NextToken: '' });

      // Act
      const versions = await storeFor().listVersions();

      // Assess
      expect(versions.map((v) => v.version)).toEqual([1]);
      expect(ssm.commandCalls(GetParametersByPathCommand)).toHaveLength(1);
    });

    it('ignores every parameter that is not a version of this stage, whatever its type', async () => {
      // Prepare: the ignored ones would be invalid as nonce versions (String type, no date)
      const plain = (name: string | undefined): Parameter => ({ Name: name, Type: 'String' });
      ssm.on(GetParametersByPathCommand).resolves({
        Parameters: [
          plain('/guardian/prod/anonymizer_salt'),
          plain('/guardian/prod/redaction_nonce_v0'),
          plain('/guardian/prod/redaction_nonce_v01'),
          plain('/guardian/prod/redaction_nonce_v'),
          plain('/guardian/prod/redaction_nonce_vx'),
          plain('/guardian/prod/redaction_nonce_v1234567890'),
          plain('/guardian/prod/redaction_nonce_v1_old'),
          plain('/guardian/dev/redaction_nonce_v4'),
          plain('/guardian/prod/sub/redaction_nonce_v5'),
          plain('/guardian/production/redaction_nonce_v6'),
          plain('redaction_nonce_v7'),
          plain(undefined),
          secure('/guardian/prod/redaction_nonce_v8'),
        ],
      });

      // Act
      const versions = await storeFor().listVersions();

      // Assess
      expect(versions.map((v) => v.name)).toEqual(['/guardian/prod/redaction_nonce_v8']);
    });

    it.each([
      ['a String', 'String', 'String'],
      ['a StringList', 'StringList', 'StringList'],
      ['an untyped', undefined, 'missing'],
    ])('fails closed with NONCE_INVALID on %s nonce parameter', async (_label, type, shown) => {
      // Prepare
      ssm.on(GetParametersByPathCommand).resolves({
        Parameters: [secure('/guardian/prod/redaction_nonce_v1'), { ...secure('/guardian/prod/redaction_nonce_v2'), Type: type as Parameter['Type'] }],
      });

      // Act
      const error = await catchAsync(storeFor().listVersions());

      // Assess
      expect(error).toBeInstanceOf(IntegrityError);
      expect(error.code).toBe('NONCE_INVALID');
      expect(error.message).toContain('/guardian/prod/redaction_nonce_v2');
      expect(error.message).toContain('must be a SecureString');
      expect(error.message).toContain(`it is ${shown}`);
      expect(error.context).toMatchObject({ parameter: '/guardian/prod/redaction_nonce_v2' });
    });

    it('fails closed with NONCE_INVALID on a nonce parameter without LastModifiedDate', async () => {
      // Prepare
      ssm.on(GetParametersByPathCommand).resolves({ Parameters: [{ Name: '/guardian/prod/redaction_nonce_v3', Type: 'SecureString' }] });

      // Act
      const error = await catchAsync(storeFor().listVersions());

      // Assess
      expect(error).toBeInstanceOf(IntegrityError);
      expect(error.code).toBe('NONCE_INVALID');
      expect(error.message).toContain('/guardian/prod/redaction_nonce_v3');
      expect(error.message).toContain('LastModifiedDate');
      expect(error.context).toEqual({ parameter: '/guardian/prod/redaction_nonce_v3' });
    });

    it('fails closed on a bad parameter found on a later page', async () => {
      // Prepare
      ssm
        .on(GetParametersByPathCommand)
        .resolvesOnce({ Parameters: [secure('/guardian/prod/redaction_nonce_v1')], NextToken: 'next' })
        .resolvesOnce({ Parameters: [{ ...secure('/guardian/prod/redaction_nonce_v2'), Type: 'String' }] });

      // Act
      const error = await catchAsync(storeFor().listVersions());

      // Assess
      expect(error.code).toBe('NONCE_INVALID');
    });

    it.each(UNREACHABLE)('reports NONCE_STORE_UNREACHABLE naming the path and operation when %s', async (_label, makeError, reason) => {
      // Prepare
      ssm.on(GetParametersByPathCommand).rejects(makeError());

      // Act
      const error = await catchAsync(storeFor().listVersions());

      // Assess
      expect(error).toBeInstanceOf(DependencyError);
      expect(error.code).toBe('NONCE_STORE_UNREACHABLE');
      expect(error.message).toContain('GetParametersByPath on SSM path /guardian/prod/ failed');
      expect(error.message).toMatch(reason);
      expect(error.context).toMatchObject({ resource: 'SSM path /guardian/prod/', operation: 'GetParametersByPath' });
    });

    it('reports NONCE_STORE_UNREACHABLE when a later page fails, returning no partial list', async () => {
      // Prepare
      ssm
        .on(GetParametersByPathCommand)
        .resolvesOnce({ Parameters: [secure('/guardian/prod/redaction_nonce_v1')], NextToken: 'next' })
        .rejectsOnce(new ThrottlingException({ message: 'Rate exceeded', Message: 'Rate exceeded', $metadata: {} }));

      // Act
      const error = await catchAsync(storeFor().listVersions());

      // Assess
      expect(error.code).toBe('NONCE_STORE_UNREACHABLE');
    });
  });

  describe('readValue', () => {
    it('reads one version with decryption', async () => {
      // Prepare
      ssm.on(GetParameterCommand).resolves({ Parameter: { Name: info(2).name, Type: 'SecureString', Value: NONCE } });

      // Act
      const value = await storeFor().readValue(info(2));

      // Assess
      expect(value).toBe(NONCE);
      expect(ssm.commandCalls(GetParameterCommand).map((call) => call.args[0].input)).toEqual([
        { Name: '/guardian/prod/redaction_nonce_v2', WithDecryption: true },
      ]);
    });

    it('returns undefined for a version deleted after it was listed', async () => {
      // Prepare
      ssm.on(GetParameterCommand).rejects(notFound());

      // Act
      const value = await storeFor().readValue(info(1));

      // Assess
      expect(value).toBeUndefined();
    });

    it.each([
      ['uppercase hex', NONCE.toUpperCase()],
      ['too short', NONCE.slice(1)],
      ['too long', `${NONCE}0`],
      ['a trailing newline', `${NONCE}\n`],
      ['non-hex characters', `${NONCE.slice(0, 63)}g`],
      ['empty', ''],
    ])('fails closed with NONCE_INVALID on a malformed value (%s) without revealing it', async (_label, value) => {
      // Prepare
      ssm.on(GetParameterCommand).resolves({ Parameter: { Name: info(1).name, Type: 'SecureString', Value: value } });

      // Act
      const error = await catchAsync(storeFor().readValue(info(1)));

      // Assess
      expect(error).toBeInstanceOf(IntegrityError);
      expect(error.code).toBe('NONCE_INVALID');
      expect(error.message).toBe('SSM parameter /guardian/prod/redaction_nonce_v1 is not 64 lowercase hex characters');
      expect(error.context).toEqual({ parameter: '/guardian/prod/redaction_nonce_v1' });
      expect(error.message.toLowerCase()).not.toContain(NONCE.slice(1, 40));
    });

    it('fails closed with NONCE_INVALID on a parameter without a value', async () => {
      // Prepare
      ssm.on(GetParameterCommand).resolves({ Parameter: { Name: info(1).name, Type: 'SecureString' } });

      // Act
      const error = await catchAsync(storeFor().readValue(info(1)));

      // Assess
      expect(error).toBeInstanceOf(IntegrityError);
      expect(error.code).toBe('NONCE_INVALID');
    });

    it('fails closed with NONCE_INVALID on a String parameter, without revealing its value', async () => {
      // Prepare
      ssm.on(GetParameterCommand).resolves({ Parameter: { Name: info(1).name, Type: 'String', Value: NONCE } });

      // Act
      const error = await catchAsync(storeFor().readValue(info(1)));

      // Assess
      expect(error).toBeInstanceOf(IntegrityError);
      expect(error.code).toBe('NONCE_INVALID');
      expect(error.message).toContain('must be a SecureString');
      expect(error.message).toContain('it is String');
      expect(error.message).not.toContain(NONCE);
      expect(JSON.stringify(error.context)).not.toContain(NONCE);
    });

    it('fails closed with NONCE_INVALID when the response has no parameter', async () => {
      // Prepare
      ssm.on(GetParameterCommand).resolves({});

      // Act
      const error = await catchAsync(storeFor().readValue(info(1)));

      // Assess
      expect(error.code).toBe('NONCE_INVALID');
      expect(error.message).toContain('it is missing');
    });

    it.each(UNREACHABLE)('reports NONCE_STORE_UNREACHABLE naming the parameter and operation when %s', async (_label, makeError, reason) => {
      // Prepare
      ssm.on(GetParameterCommand).rejects(makeError());

      // Act
      const error = await catchAsync(storeFor().readValue(info(4)));

      // Assess
      expect(error).toBeInstanceOf(DependencyError);
      expect(error.code).toBe('NONCE_STORE_UNREACHABLE');
      expect(error.message).toContain('GetParameter on SSM parameter /guardian/prod/redaction_nonce_v4 failed');
      expect(error.message).toMatch(reason);
      expect(error.context).toMatchObject({ resource: 'SSM parameter /guardian/prod/redaction_nonce_v4', operation: 'GetParameter' });
    });
  });

  describe('create', () => {
    it('writes a SecureString with the KMS key and never overwrites', async () => {
      // Prepare
      ssm.on(PutParameterCommand).resolves({ Version: 1 });

      // Act
      const outcome = await storeFor('dev').create(3, NONCE);

      // Assess
      expect(outcome).toBe('created');
      const calls = ssm.commandCalls(PutParameterCommand);
      expect(calls).toHaveLength(1);
      expect(calls[0].args[0].input).toMatchObject({
        Name: '/guardian/dev/redaction_nonce_v3',
        Value: NONCE,
        Type: 'SecureString',
        KeyId: KMS_KEY,
        Overwrite: false,
      });
      expect(calls[0].args[0].input.Description).toContain('version 3');
      expect(calls[0].args[0].input.Description).not.toContain(NONCE);
    });

    it("reports 'exists' when the version already exists (a concurrent rotation won)", async () => {
      // Prepare
      ssm.on(PutParameterCommand).rejects(new ParameterAlreadyExists({ message: 'exists', $metadata: {} }));

      // Act
      const outcome = await storeFor().create(2, NONCE);

      // Assess
      expect(outcome).toBe('exists');
      expect(ssm.commandCalls(PutParameterCommand)).toHaveLength(1);
    });

    it.each([
      ['no KMS key', undefined],
      ['an empty KMS key', ''],
    ])('refuses to create a version with %s, naming storage.kmsKeyId, and sends nothing', async (_label, kmsKeyId) => {
      // Prepare
      const store = new SsmNonceStore({ client, stage: 'prod', ...(kmsKeyId === undefined ? {} : { kmsKeyId }) });

      // Act
      const error = await catchAsync(store.create(1, NONCE));

      // Assess
      expect(error).toBeInstanceOf(UsageError);
      expect(error.code).toBe('USAGE');
      expect(error.message).toContain('storage.kmsKeyId');
      expect(error.message).toContain('/guardian/prod/redaction_nonce_v1');
      expect(error.location.field).toBe('storage.kmsKeyId');
      expect(error.message).not.toContain(NONCE);
      expect(ssm.calls()).toHaveLength(0);
    });

    it.each([
      ['uppercase hex', NONCE.toUpperCase()],
      ['too short', NONCE.slice(2)],
      ['a trailing newline', `${NONCE}\n`],
      ['empty', ''],
    ])('refuses an invalid value (%s) without sending anything or revealing it', async (_label, value) => {
      // Act
      const error = await catchAsync(storeFor().create(1, value));

      // Assess
      expect(error).toBeInstanceOf(IntegrityError);
      expect(error.code).toBe('NONCE_INVALID');
      expect(error.message).toBe('refusing to write /guardian/prod/redaction_nonce_v1: the new value is not 64 lowercase hex characters');
      expect(error.message.toLowerCase()).not.toContain(NONCE.slice(2, 40));
      expect(ssm.calls()).toHaveLength(0);
    });

    it.each(UNREACHABLE)('reports NONCE_STORE_UNREACHABLE naming the parameter and operation when %s', async (_label, makeError, reason) => {
      // Prepare
      ssm.on(PutParameterCommand).rejects(makeError());

      // Act
      const error = await catchAsync(storeFor().create(5, NONCE));

      // Assess
      expect(error).toBeInstanceOf(DependencyError);
      expect(error.code).toBe('NONCE_STORE_UNREACHABLE');
      expect(error.message).toContain('PutParameter on SSM parameter /guardian/prod/redaction_nonce_v5 failed');
      expect(error.message).toMatch(reason);
      expect(error.message).not.toContain(NONCE);
      expect(error.context).toMatchObject({ resource: 'SSM parameter /guardian/prod/redaction_nonce_v5', operation: 'PutParameter' });
    });
  });

  describe('delete', () => {
    it("deletes a version and reports 'deleted'", async () => {
      // Prepare
      ssm.on(DeleteParameterCommand).resolves({});

      // Act
      const outcome = await storeFor().delete(info(1));

      // Assess
      expect(outcome).toBe('deleted');
      expect(ssm.commandCalls(DeleteParameterCommand).map((call) => call.args[0].input)).toEqual([{ Name: '/guardian/prod/redaction_nonce_v1' }]);
    });

    it("reports 'absent' for a version that is already gone", async () => {
      // Prepare
      ssm.on(DeleteParameterCommand).rejects(notFound());

      // Act
      const outcome = await storeFor().delete(info(1));

      // Assess
      expect(outcome).toBe('absent');
    });

    it.each(UNREACHABLE)('reports NONCE_STORE_UNREACHABLE naming the parameter and operation when %s', async (_label, makeError, reason) => {
      // Prepare
      ssm.on(DeleteParameterCommand).rejects(makeError());

      // Act
      const error = await catchAsync(storeFor().delete(info(6)));

      // Assess
      expect(error).toBeInstanceOf(DependencyError);
      expect(error.code).toBe('NONCE_STORE_UNREACHABLE');
      expect(error.message).toContain('DeleteParameter on SSM parameter /guardian/prod/redaction_nonce_v6 failed');
      expect(error.message).toMatch(reason);
      expect(error.context).toMatchObject({ resource: 'SSM parameter /guardian/prod/redaction_nonce_v6', operation: 'DeleteParameter' });
    });
  });
});

describe('nonceParameterName', () => {
  it('names a version under the guardian path of the stage', () => {
    // Act & Assess
    expect(nonceParameterName('prod', 1)).toBe('/guardian/prod/redaction_nonce_v1');
    expect(nonceParameterName('dev-eu_1.a', 42)).toBe('/guardian/dev-eu_1.a/redaction_nonce_v42');
  });

  it('round-trips with nonceVersionOf', () => {
    // Act & Assess
    for (const version of [1, 9, 10, 123456789]) expect(nonceVersionOf(nonceParameterName('prod', version))).toBe(version);
  });

  it('refuses a stage that is not a single path segment', () => {
    // Act
    const error = catchError(() => nonceParameterName('prod/other', 1));

    // Assess
    expect(error).toBeInstanceOf(InputError);
    expect(error.location.field).toBe('storage.stage');
  });
});

describe('nonceVersionOf', () => {
  it.each([
    ['redaction_nonce_v1', 1],
    ['redaction_nonce_v10', 10],
    ['redaction_nonce_v999999999', 999999999],
    ['/guardian/prod/redaction_nonce_v7', 7],
    ['/guardian/prod/sub/redaction_nonce_v7', 7],
    ['/tmp/state/redaction_nonce_v3', 3],
  ])('reads the version of %s', (name, version) => {
    // Act & Assess
    expect(nonceVersionOf(name)).toBe(version);
  });

  it.each([
    'redaction_nonce_v0',
    'redaction_nonce_v01',
    'redaction_nonce_v',
    'redaction_nonce_v-1',
    'redaction_nonce_v1.5',
    'redaction_nonce_v1e3',
    'redaction_nonce_v1234567890',
    'redaction_nonce_v1/',
    'redaction_nonce_v1.tmp',
    'Redaction_Nonce_V1',
    'x_redaction_nonce_v1',
    'anonymizer_salt',
    'nonce',
    '',
  ])('rejects %j', (name) => {
    // Act & Assess
    expect(nonceVersionOf(name)).toBeUndefined();
  });
});

describe('guardianPath', () => {
  it('builds the stage path with a trailing slash', () => {
    // Act & Assess
    expect(guardianPath('prod')).toBe('/guardian/prod/');
    expect(guardianPath('A.b-c_9')).toBe('/guardian/A.b-c_9/');
  });

  it.each([[''], ['a/b'], ['..\u0000'], ['prod '], [undefined], [42]])('refuses %j with an InputError naming storage.stage', (stage) => {
    // Act
    const error = catchError(() => guardianPath(stage as string));

    // Assess
    expect(error).toBeInstanceOf(InputError);
    expect(error.code).toBe('INPUT_INVALID');
    expect(error.location.field).toBe('storage.stage');
    expect(error.message).toContain('storage stage must match');
  });
});
