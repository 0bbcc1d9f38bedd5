/**
 * The anonymizer salt: embedded file (0600, created once, fail closed) and
 * SSM SecureString (mocked SDK here; the emulator in test/integration).
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { GetParameterCommand, ParameterNotFound, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { EMBEDDED_SALT_FILE, loadOrCreateEmbeddedSalt, loadSsmSalt, ssmSaltParameter } from '../../src/calibration/salt';
import { DependencyError, PhaseMirrorError } from '../../src/errors';

const isPosix = process.platform !== 'win32';
const posixIt = isPosix ? it : it.skip;

function catchError(fn: () => unknown): PhaseMirrorError {
  try {
    fn();
  } catch (error) {
    if (error instanceof PhaseMirrorError) return error;
    throw error;
  }
  throw new Error('expected an error');
}

async function catchAsync(promise: Promise<unknown>): Promise<PhaseMirrorError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof PhaseMirrorError) return error;
    throw error;
  }
  throw new Error('expected an error');
}

describe('loadOrCreateEmbeddedSalt', () => {
  let root: string;
  let stateDir: string;
  let saltFile: string;

  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'pm-salt-'));
    stateDir = path.join(root, '.phase-mirror');
    saltFile = path.join(stateDir, EMBEDDED_SALT_FILE);
  });

  afterEach(() => {
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('creates a 64-hex salt in a 0600 file inside a 0700 directory on first use', () => {
    // Act
    const salt = loadOrCreateEmbeddedSalt(stateDir);

    // Assess
    expect(salt).toMatch(/^[0-9a-f]{64}$/);
    expect(fs.readFileSync(saltFile, 'utf8')).toBe(`${salt}\n`);
    if (isPosix) {
      expect(fs.statSync(saltFile).mode & 0o777).toBe(0o600);
      expect(fs.statSync(stateDir).mode & 0o777).toBe(0o700);
    }
    expect(fs.readdirSync(stateDir)).toEqual([EMBEDDED_SALT_FILE]);
  });

  it('reuses the existing salt on later loads', () => {
    const first = loadOrCreateEmbeddedSalt(stateDir);
    expect(loadOrCreateEmbeddedSalt(stateDir)).toBe(first);
    expect(loadOrCreateEmbeddedSalt(stateDir)).toBe(first);
  });

  it('creates different salts for different state folders', () => {
    const other = path.join(root, 'other');
    expect(loadOrCreateEmbeddedSalt(stateDir)).not.toBe(loadOrCreateEmbeddedSalt(other));
  });

  it('reads a salt written without a trailing newline', () => {
    fs.mkdirSync(stateDir, { mode: 0o700 });
    fs.writeFileSync(saltFile, 'c'.repeat(64), { mode: 0o600 });
    expect(loadOrCreateEmbeddedSalt(stateDir)).toBe('c'.repeat(64));
  });

  it('agrees on one salt when several processes create it at once', async () => {
    // Prepare: each child transpiles the TypeScript sources on load, like ts-jest does here
    const modulePath = require.resolve('../../src/calibration/salt.ts');
    const program = [
      "const ts = require('typescript');",
      "const fs = require('fs');",
      "const Module = require('module');",
      "Module._extensions['.ts'] = (m, file) => m._compile(ts.transpileModule(fs.readFileSync(file, 'utf8'), { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true } }).outputText, file);",
      `const { loadOrCreateEmbeddedSalt } = require(${JSON.stringify(modulePath)});`,
      `process.stdout.write(loadOrCreateEmbeddedSalt(${JSON.stringify(stateDir)}));`,
    ].join('\n');
    const run = (): Promise<string> =>
      new Promise((resolve, reject) => {
        execFile(process.execPath, ['-e', program], (error, stdout) => (error ? reject(error) : resolve(stdout)));
      });

    // Act
    const values = await Promise.all([run(), run(), run(), run()]);

    // Assess
    expect(new Set(values).size).toBe(1);
    expect(values[0]).toMatch(/^[0-9a-f]{64}$/);
    expect(fs.readFileSync(saltFile, 'utf8')).toBe(`${values[0]}\n`);
    expect(fs.readdirSync(stateDir)).toEqual([EMBEDDED_SALT_FILE]);
  }, 30_000);

  it.each([
    ['uppercase hex', 'A'.repeat(64)],
    ['too short', 'a'.repeat(63)],
    ['too long', 'a'.repeat(65)],
    ['empty', ''],
    ['non-hex characters', 'g'.repeat(64)],
    ['two trailing newlines', `${'a'.repeat(64)}\n\n`],
  ])('fails closed on a corrupt salt file (%s), naming the file and leaving it as is', (_label, content) => {
    // Prepare
    fs.mkdirSync(stateDir, { mode: 0o700 });
    fs.writeFileSync(saltFile, content, { mode: 0o600 });

    // Act
    const error = catchError(() => loadOrCreateEmbeddedSalt(stateDir));

    // Assess
    expect(error).toBeInstanceOf(DependencyError);
    expect(error.code).toBe('STORE_FAILED');
    expect(error.message).toContain(saltFile);
    expect(error.message).toMatch(/corrupt/);
    expect(error.location.file).toBe(saltFile);
    if (content.length > 0) expect(error.message).not.toContain(content.trim());
    expect(fs.readFileSync(saltFile, 'utf8')).toBe(content);
  });

  posixIt.each([
    ['0644', 0o644],
    ['0640', 0o640],
    ['0604', 0o604],
    ['0666', 0o666],
  ])('fails closed on a salt file with mode %s', (octal, mode) => {
    // Prepare
    const value = 'd'.repeat(64);
    fs.mkdirSync(stateDir, { mode: 0o700 });
    fs.writeFileSync(saltFile, `${value}\n`);
    fs.chmodSync(saltFile, mode);

    // Act
    const error = catchError(() => loadOrCreateEmbeddedSalt(stateDir));

    // Assess
    expect(error).toBeInstanceOf(DependencyError);
    expect(error.code).toBe('STORE_FAILED');
    expect(error.message).toContain(`${saltFile} has mode ${octal}`);
    expect(error.message).toContain(`chmod 600 ${saltFile}`);
    expect(error.context).toMatchObject({ file: saltFile, mode: octal });
    expect(error.message).not.toContain(value);
  });

  posixIt('refuses a salt file that is a symbolic link', () => {
    const target = path.join(root, 'elsewhere');
    fs.writeFileSync(target, `${'f'.repeat(64)}\n`, { mode: 0o600 });
    fs.mkdirSync(stateDir, { mode: 0o700 });
    fs.symlinkSync(target, saltFile);

    const error = catchError(() => loadOrCreateEmbeddedSalt(stateDir));

    expect(error.code).toBe('STORE_FAILED');
    expect(error.message).toBe(`anonymizer salt file ${saltFile} is a symbolic link`);
  });

  it('refuses a salt path that is a directory', () => {
    fs.mkdirSync(saltFile, { recursive: true });
    const error = catchError(() => loadOrCreateEmbeddedSalt(stateDir));
    expect(error.code).toBe('STORE_FAILED');
    expect(error.message).toMatch(/not a regular file/);
  });

  it('fails closed when the state directory cannot be created', () => {
    const blocker = path.join(root, 'a-file');
    fs.writeFileSync(blocker, 'x');
    const error = catchError(() => loadOrCreateEmbeddedSalt(path.join(blocker, '.phase-mirror')));
    expect(error).toBeInstanceOf(DependencyError);
    expect(error.message).toMatch(/cannot create state directory/);
  });

  posixIt('fails closed when the salt file cannot be created', () => {
    // Prepare: a path with room for `anonymizer_salt` but not for the temporary name
    const segment = 'd'.repeat(200);
    let deep = root;
    while (deep.length + segment.length + 1 + `/${EMBEDDED_SALT_FILE}`.length < 4070) deep = path.join(deep, segment);
    const padding = 4090 - (deep.length + 1 + `/${EMBEDDED_SALT_FILE}`.length);
    const deepState = path.join(deep, 'p'.repeat(Math.max(1, padding)));
    fs.mkdirSync(deepState, { recursive: true });

    // Act
    const error = catchError(() => loadOrCreateEmbeddedSalt(deepState));

    // Assess
    expect(error.code).toBe('STORE_FAILED');
    expect(error.message).toMatch(/cannot create the anonymizer salt file/);
    expect(fs.readdirSync(deepState)).toEqual([]);
  });

  describe('when the file system fails', () => {
    afterEach(() => {
      jest.restoreAllMocks();
    });

    // The module object itself, so spies are seen by the code under test.
    const nodeFs = require('node:fs') as typeof import('node:fs');

    function errno(code: string): NodeJS.ErrnoException {
      return Object.assign(new Error(`${code}: simulated`), { code });
    }

    it.each([
      ['the salt cannot be written', 'writeSync', 'ENOSPC'],
      ['the file system has no hard links', 'linkSync', 'EPERM'],
      ['the temporary file cannot be removed', 'unlinkSync', 'EIO'],
    ] as const)('fails closed when %s and leaves no temporary file behind', (_label, method, code) => {
      // Prepare
      fs.mkdirSync(stateDir, { mode: 0o700 });
      const original = nodeFs[method] as (...args: unknown[]) => unknown;
      jest.spyOn(nodeFs, method).mockImplementationOnce(((...args: unknown[]) => {
        if (method === 'unlinkSync') original(...args);
        throw errno(code);
      }) as never);

      // Act
      const error = catchError(() => loadOrCreateEmbeddedSalt(stateDir));

      // Assess
      expect(error.code).toBe('STORE_FAILED');
      expect(error.message).toMatch(/cannot create the anonymizer salt file/);
      expect((error.cause as NodeJS.ErrnoException).code).toBe(code);
      expect(fs.readdirSync(stateDir).filter((name) => name.endsWith('.tmp'))).toEqual([]);
    });

    it('fails closed when the salt file cannot be read after opening', () => {
      fs.mkdirSync(stateDir, { mode: 0o700 });
      fs.writeFileSync(saltFile, `${'a'.repeat(64)}\n`, { mode: 0o600 });
      jest.spyOn(nodeFs, 'readSync').mockImplementationOnce(() => {
        throw errno('EIO');
      });

      const error = catchError(() => loadOrCreateEmbeddedSalt(stateDir));

      expect(error.code).toBe('STORE_FAILED');
      expect(error.message).toBe(`anonymizer salt file ${saltFile} cannot be read`);
    });
  });
});

describe('loadSsmSalt', () => {
  const ssm = mockClient(SSMClient);
  const client = new SSMClient({ region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  const SALT = '5a'.repeat(32);

  afterEach(() => ssm.reset());

  it('reads /guardian/<stage>/anonymizer_salt with decryption', async () => {
    // Prepare
    ssm.on(GetParameterCommand).resolves({ Parameter: { Name: '/guardian/prod/anonymizer_salt', Type: 'SecureString', Value: SALT } });

    // Act
    const salt = await loadSsmSalt(client, 'prod');

    // Assess
    expect(salt).toBe(SALT);
    const calls = ssm.commandCalls(GetParameterCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0].args[0].input).toEqual({ Name: '/guardian/prod/anonymizer_salt', WithDecryption: true });
  });

  it('names the missing parameter and how to create it', async () => {
    // Prepare
    ssm.on(GetParameterCommand).rejects(new ParameterNotFound({ message: 'not found', $metadata: {} }));

    // Act
    const error = await catchAsync(loadSsmSalt(client, 'dev'));

    // Assess
    expect(error).toBeInstanceOf(DependencyError);
    expect(error.code).toBe('STORE_FAILED');
    expect(error.message).toContain('SSM parameter /guardian/dev/anonymizer_salt does not exist');
    expect(error.message).toContain('aws ssm put-parameter --name /guardian/dev/anonymizer_salt --type SecureString');
    expect(error.context).toMatchObject({ parameter: '/guardian/dev/anonymizer_salt', operation: 'GetParameter' });
  });

  it.each([
    ['uppercase', 'AB'.repeat(32)],
    ['short', 'ab'.repeat(31)],
    ['with a newline', `${'ab'.repeat(32)}\n`],
    ['not hex', 'zz'.repeat(32)],
  ])('refuses a parameter value that is %s, never echoing it', async (_label, value) => {
    ssm.on(GetParameterCommand).resolves({ Parameter: { Name: '/guardian/dev/anonymizer_salt', Type: 'SecureString', Value: value } });

    const error = await catchAsync(loadSsmSalt(client, 'dev'));

    expect(error.code).toBe('STORE_FAILED');
    expect(error.message).toBe('anonymizer salt SSM parameter /guardian/dev/anonymizer_salt is not 64 lowercase hex characters');
    expect(JSON.stringify(error.context)).not.toContain(value.trim());
  });

  it('refuses a parameter that is not a SecureString', async () => {
    ssm.on(GetParameterCommand).resolves({ Parameter: { Name: '/guardian/dev/anonymizer_salt', Type: 'String', Value: SALT } });

    const error = await catchAsync(loadSsmSalt(client, 'dev'));

    expect(error.code).toBe('STORE_FAILED');
    expect(error.message).toContain('must be a SecureString (it is String)');
    expect(error.message).not.toContain(SALT);
  });

  it('refuses an answer without a parameter', async () => {
    ssm.on(GetParameterCommand).resolves({});
    const error = await catchAsync(loadSsmSalt(client, 'dev'));
    expect(error.message).toContain('(it is missing)');
  });

  it('maps AWS failures to STORE_FAILED naming the parameter and operation', async () => {
    ssm.on(GetParameterCommand).rejects(Object.assign(new Error('denied'), { name: 'AccessDeniedException' }));

    const error = await catchAsync(loadSsmSalt(client, 'dev'));

    expect(error.code).toBe('STORE_FAILED');
    expect(error.message).toBe(
      'GetParameter on SSM parameter /guardian/dev/anonymizer_salt failed: access denied: the credentials may not GetParameter on SSM parameter /guardian/dev/anonymizer_salt',
    );
    expect(error.context).toMatchObject({ resource: 'SSM parameter /guardian/dev/anonymizer_salt', awsError: 'AccessDeniedException' });
  });

  it.each(['', 'a/b', 'has space'])('refuses the stage %j before calling SSM', async (stage) => {
    await expect(loadSsmSalt(client, stage)).rejects.toMatchObject({ code: 'INPUT_INVALID', location: { field: 'storage.stage' } });
    expect(ssm.commandCalls(GetParameterCommand)).toHaveLength(0);
  });

  it('builds the parameter path of a stage', () => {
    expect(ssmSaltParameter('staging-2')).toBe('/guardian/staging-2/anonymizer_salt');
  });
});
