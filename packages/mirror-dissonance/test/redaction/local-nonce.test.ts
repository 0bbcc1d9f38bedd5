import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DependencyError, PhaseMirrorError } from '../../src/errors';
import { LOCAL_NONCE_FILE, loadOrCreateLocalNonce } from '../../src/redaction/local-nonce';

const isPosix = process.platform !== 'win32';
const posixIt = isPosix ? it : it.skip;

function catchError(fn: () => void): PhaseMirrorError {
  try {
    fn();
  } catch (error) {
    if (error instanceof PhaseMirrorError) return error;
    throw error;
  }
  throw new Error('expected an error');
}

describe('loadOrCreateLocalNonce', () => {
  let root: string;
  let stateDir: string;
  let nonceFile: string;

  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'pm-nonce-'));
    stateDir = path.join(root, '.phase-mirror');
    nonceFile = path.join(stateDir, LOCAL_NONCE_FILE);
  });

  afterEach(() => {
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('creates the state directory and a 64-hex nonce at version 1 on first use', () => {
    // Prepare
    const now = new Date('2025-06-01T12:00:00Z');

    // Act
    const key = loadOrCreateLocalNonce(stateDir, now);

    // Assess
    expect(key.version).toBe(1);
    expect(key.value).toMatch(/^[0-9a-f]{64}$/);
    expect(key.loadedAt).toBe(now);
    expect(fs.readFileSync(nonceFile, 'utf8')).toBe(`${key.value}\n`);
    expect(fs.readdirSync(stateDir)).toEqual([LOCAL_NONCE_FILE]);
  });

  posixIt('creates the nonce file with mode 0600 and the directory with mode 0700', () => {
    // Act
    loadOrCreateLocalNonce(stateDir);

    // Assess
    expect(fs.statSync(nonceFile).mode & 0o777).toBe(0o600);
    expect(fs.statSync(stateDir).mode & 0o777).toBe(0o700);
  });

  it('reuses the existing nonce on later loads', () => {
    // Prepare
    const first = loadOrCreateLocalNonce(stateDir);
    const later = new Date(first.loadedAt.getTime() + 5_000);

    // Act
    const second = loadOrCreateLocalNonce(stateDir, later);

    // Assess
    expect(second.value).toBe(first.value);
    expect(second.loadedAt).toBe(later);
  });

  it('generates different nonces for different repositories', () => {
    // Prepare
    const otherDir = path.join(root, 'other', '.phase-mirror');

    // Act
    const a = loadOrCreateLocalNonce(stateDir);
    const b = loadOrCreateLocalNonce(otherDir);

    // Assess
    expect(a.value).not.toBe(b.value);
  });

  it('reads a nonce written without a trailing newline', () => {
    // Prepare
    fs.mkdirSync(stateDir, { mode: 0o700 });
    fs.writeFileSync(nonceFile, 'c'.repeat(64), { mode: 0o600 });

    // Act
    const key = loadOrCreateLocalNonce(stateDir);

    // Assess
    expect(key.value).toBe('c'.repeat(64));
  });

  it('agrees on one nonce when several processes create it at once', () => {
    // Prepare
    const modulePath = require.resolve('../../src/redaction/local-nonce.ts');
    // Each child transpiles the TypeScript sources on load, like ts-jest does here.
    const program = [
      "const ts = require('typescript');",
      "const fs = require('fs');",
      "const Module = require('module');",
      "const compile = (m, file) => m._compile(ts.transpileModule(fs.readFileSync(file, 'utf8'), { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 } }).outputText, file);",
      "Module._extensions['.ts'] = compile;",
      `const { loadOrCreateLocalNonce } = require(${JSON.stringify(modulePath)});`,
      `process.stdout.write(loadOrCreateLocalNonce(${JSON.stringify(stateDir)}).value);`,
    ].join('\n');
    const run = (): Promise<string> =>
      new Promise((resolve, reject) => {
        execFile(process.execPath, ['-e', program], (error, stdout) => (error ? reject(error) : resolve(stdout)));
      });

    // Act
    return Promise.all([run(), run(), run(), run()]).then((values) => {
      // Assess
      expect(new Set(values).size).toBe(1);
      expect(values[0]).toMatch(/^[0-9a-f]{64}$/);
      expect(fs.readFileSync(nonceFile, 'utf8')).toBe(`${values[0]}\n`);
      expect(fs.readdirSync(stateDir)).toEqual([LOCAL_NONCE_FILE]);
    });
  });

  it.each([
    ['uppercase hex', 'A'.repeat(64)],
    ['too short', 'a'.repeat(63)],
    ['too long', 'a'.repeat(65)],
    ['empty', ''],
    ['non-hex characters', 'g'.repeat(64)],
    ['two trailing newlines', `${'a'.repeat(64)}\n\n`],
  ])('fails closed on a corrupt nonce file (%s) and does not regenerate it', (_label, content) => {
    // Prepare
    fs.mkdirSync(stateDir, { mode: 0o700 });
    fs.writeFileSync(nonceFile, content, { mode: 0o600 });

    // Act
    const error = catchError(() => loadOrCreateLocalNonce(stateDir));

    // Assess
    expect(error).toBeInstanceOf(DependencyError);
    expect(error.code).toBe('NONCE_UNAVAILABLE');
    expect(error.message).toContain(nonceFile);
    expect(error.message).toMatch(/corrupt/);
    expect(error.location.file).toBe(nonceFile);
    if (content.length > 0) expect(error.message).not.toContain(content.trim());
    expect(fs.readFileSync(nonceFile, 'utf8')).toBe(content);
  });

  posixIt.each([
    ['0644', 0o644],
    ['0640', 0o640],
    ['0604', 0o604],
    ['0660', 0o660],
    ['0666', 0o666],
  ])('fails closed on a nonce file with mode %s', (octal, mode) => {
    // Prepare
    const value = 'd'.repeat(64);
    fs.mkdirSync(stateDir, { mode: 0o700 });
    fs.writeFileSync(nonceFile, `${value}\n`);
    fs.chmodSync(nonceFile, mode);

    // Act
    const error = catchError(() => loadOrCreateLocalNonce(stateDir));

    // Assess
    expect(error).toBeInstanceOf(DependencyError);
    expect(error.code).toBe('NONCE_UNAVAILABLE');
    expect(error.message).toContain(nonceFile);
    expect(error.message).toContain(`mode ${octal}`);
    expect(error.context.mode).toBe(octal);
    expect(error.message).toContain(`chmod 600 ${nonceFile}`);
    expect(error.message).not.toContain(value);
    expect(fs.statSync(nonceFile).mode & 0o777).toBe(mode);
  });

  posixIt('accepts a nonce file with a stricter mode than 0600', () => {
    // Prepare
    fs.mkdirSync(stateDir, { mode: 0o700 });
    fs.writeFileSync(nonceFile, `${'e'.repeat(64)}\n`);
    fs.chmodSync(nonceFile, 0o400);

    // Act
    const key = loadOrCreateLocalNonce(stateDir);

    // Assess
    expect(key.value).toBe('e'.repeat(64));
  });

  posixIt('refuses a nonce file that is a symbolic link', () => {
    // Prepare
    const target = path.join(root, 'elsewhere');
    fs.writeFileSync(target, `${'f'.repeat(64)}\n`, { mode: 0o600 });
    fs.mkdirSync(stateDir, { mode: 0o700 });
    fs.symlinkSync(target, nonceFile);

    // Act
    const error = catchError(() => loadOrCreateLocalNonce(stateDir));

    // Assess
    expect(error.code).toBe('NONCE_UNAVAILABLE');
    expect(error.message).toMatch(/symbolic link/);
  });

  it('refuses a nonce path that is a directory', () => {
    // Prepare
    fs.mkdirSync(nonceFile, { recursive: true });

    // Act
    const error = catchError(() => loadOrCreateLocalNonce(stateDir));

    // Assess
    expect(error.code).toBe('NONCE_UNAVAILABLE');
    expect(error.message).toMatch(/not a regular file/);
  });

  it('fails closed when the state directory cannot be created', () => {
    // Prepare
    const blocker = path.join(root, 'a-file');
    fs.writeFileSync(blocker, 'x');

    // Act
    const error = catchError(() => loadOrCreateLocalNonce(path.join(blocker, '.phase-mirror')));

    // Assess
    expect(error).toBeInstanceOf(DependencyError);
    expect(error.code).toBe('NONCE_UNAVAILABLE');
    expect(error.message).toMatch(/cannot create state directory/);
  });

  posixIt('fails closed when the nonce file cannot be created', () => {
    // Prepare: a state directory whose path leaves room for `nonce` but not
    // for the temporary file name (PATH_MAX is 4096 on Linux), so creation
    // fails whatever the user's privileges.
    const segment = 'd'.repeat(200);
    let deep = root;
    while (deep.length + segment.length + 1 + '/nonce'.length < 4070) deep = path.join(deep, segment);
    const padding = 4090 - (deep.length + 1 + '/nonce'.length);
    const deepState = path.join(deep, 'p'.repeat(Math.max(1, padding)));
    fs.mkdirSync(deepState, { recursive: true });

    // Act
    const error = catchError(() => loadOrCreateLocalNonce(deepState));

    // Assess
    expect(error).toBeInstanceOf(DependencyError);
    expect(error.code).toBe('NONCE_UNAVAILABLE');
    expect(error.message).toMatch(/cannot create the redaction nonce file/);
    expect(fs.readdirSync(deepState)).toEqual([]);
  });

  describe('when the file system fails while publishing', () => {
    afterEach(() => {
      jest.restoreAllMocks();
    });

    // The module object itself (not an `import * as` namespace copy), so spies
    // are seen by the code under test.
    const nodeFs = require('node:fs') as typeof import('node:fs');

    function errno(code: string): NodeJS.ErrnoException {
      return Object.assign(new Error(`${code}: simulated`), { code });
    }

    it.each([
      ['the nonce cannot be written', 'writeSync', 'ENOSPC'],
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
      const error = catchError(() => loadOrCreateLocalNonce(stateDir));

      // Assess
      expect(error).toBeInstanceOf(DependencyError);
      expect(error.code).toBe('NONCE_UNAVAILABLE');
      expect(error.message).toMatch(/cannot create the redaction nonce file/);
      expect((error.cause as NodeJS.ErrnoException).code).toBe(code);
      expect(fs.readdirSync(stateDir).filter((name) => name.endsWith('.tmp'))).toEqual([]);
    });

    it('fails closed when the nonce file cannot be read after opening', () => {
      // Prepare
      fs.mkdirSync(stateDir, { mode: 0o700 });
      fs.writeFileSync(nonceFile, `${'a'.repeat(64)}\n`, { mode: 0o600 });
      jest.spyOn(nodeFs, 'readSync').mockImplementationOnce(() => {
        throw errno('EIO');
      });

      // Act
      const error = catchError(() => loadOrCreateLocalNonce(stateDir));

      // Assess
      expect(error.code).toBe('NONCE_UNAVAILABLE');
      expect(error.message).toMatch(/cannot be read/);
    });
  });

  posixIt('fails closed when the nonce file cannot be opened for reading', () => {
    // Prepare
    fs.mkdirSync(stateDir, { mode: 0o700 });
    fs.writeFileSync(nonceFile, `${'b'.repeat(64)}\n`);
    fs.chmodSync(nonceFile, 0o000);
    const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

    // Act
    const act = (): unknown => loadOrCreateLocalNonce(stateDir);

    // Assess
    if (isRoot) {
      expect(act()).toMatchObject({ value: 'b'.repeat(64) });
    } else {
      const error = catchError(() => act());
      expect(error.code).toBe('NONCE_UNAVAILABLE');
      expect(error.message).toMatch(/cannot be opened/);
    }
  });
});
