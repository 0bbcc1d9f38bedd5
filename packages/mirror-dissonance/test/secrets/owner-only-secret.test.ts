/**
 * Owner-only secret files of the state directory (the embedded redaction
 * nonce versions, the anonymizer salt): created once (0600 in a 0700 folder),
 * published with a hard link so concurrent writers agree, and read fail
 * closed (corrupt, linked, not a file or group/world-accessible => error).
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DependencyError, PhaseMirrorError } from '../../src/errors';
import {
  loadOrCreateOwnerOnlySecret,
  publishOwnerOnlySecret,
  readOwnerOnlySecret,
  type OwnerOnlySecret,
} from '../../src/secrets/owner-only-secret';

const isPosix = process.platform !== 'win32';
const posixIt = isPosix ? it : it.skip;
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

const FILE_NAME = 'test_secret';
const ADVICE = 'restore it from the backup';

// The module object itself (not an `import * as` namespace copy), so spies
// are seen by the code under test.
const nodeFs = require('node:fs') as typeof import('node:fs');

function specFor(stateDir: string, fileName = FILE_NAME): OwnerOnlySecret {
  return {
    stateDir,
    fileName,
    label: 'test secret',
    code: 'NONCE_UNAVAILABLE',
    context: { operation: 'unit-test' },
    corruptAdvice: ADVICE,
  };
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

function errno(code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: simulated`), { code });
}

function temporaryFiles(dir: string): string[] {
  return fs.readdirSync(dir).filter((name) => name.endsWith('.tmp'));
}

describe('owner-only secrets', () => {
  let root: string;
  let stateDir: string;
  let secretFile: string;

  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'pm-secret-'));
    stateDir = path.join(root, '.phase-mirror');
    secretFile = path.join(stateDir, FILE_NAME);
  });

  afterEach(() => {
    jest.restoreAllMocks();
    // Restore permissions a test may have removed so the folder can be deleted.
    if (fs.existsSync(stateDir)) fs.chmodSync(stateDir, 0o700);
    fs.rmSync(root, { recursive: true, force: true });
  });

  function writeSecret(content: string, mode = 0o600): void {
    fs.mkdirSync(stateDir, { recursive: true, mode: 0o700 });
    fs.writeFileSync(secretFile, content, { mode });
    fs.chmodSync(secretFile, mode);
  }

  describe('loadOrCreateOwnerOnlySecret', () => {
    it('creates the state directory and a 64-hex secret file on first use', () => {
      // Act
      const value = loadOrCreateOwnerOnlySecret(specFor(stateDir));

      // Assess
      expect(value).toMatch(/^[0-9a-f]{64}$/);
      expect(fs.readFileSync(secretFile, 'utf8')).toBe(`${value}\n`);
      expect(fs.readdirSync(stateDir)).toEqual([FILE_NAME]);
    });

    posixIt('creates the secret file with mode 0600 and the directory with mode 0700', () => {
      // Act
      loadOrCreateOwnerOnlySecret(specFor(stateDir));

      // Assess
      expect(fs.statSync(secretFile).mode & 0o777).toBe(0o600);
      expect(fs.statSync(stateDir).mode & 0o777).toBe(0o700);
    });

    posixIt('makes the file mode exactly 0600 whatever the umask', () => {
      // Prepare
      const previous = process.umask(0o000);

      // Act
      try {
        loadOrCreateOwnerOnlySecret(specFor(stateDir));
      } finally {
        process.umask(previous);
      }

      // Assess
      expect(fs.statSync(secretFile).mode & 0o777).toBe(0o600);
    });

    it('reuses the existing secret on later loads without rewriting it', () => {
      // Prepare
      const first = loadOrCreateOwnerOnlySecret(specFor(stateDir));
      const inode = fs.statSync(secretFile).ino;

      // Act
      const second = loadOrCreateOwnerOnlySecret(specFor(stateDir));
      const third = loadOrCreateOwnerOnlySecret(specFor(stateDir));

      // Assess
      expect(second).toBe(first);
      expect(third).toBe(first);
      expect(fs.statSync(secretFile).ino).toBe(inode);
    });

    it('generates different secrets for different state folders', () => {
      // Prepare
      const otherDir = path.join(root, 'other', '.phase-mirror');

      // Act
      const a = loadOrCreateOwnerOnlySecret(specFor(stateDir));
      const b = loadOrCreateOwnerOnlySecret(specFor(otherDir));

      // Assess
      expect(a).not.toBe(b);
    });

    it('keeps secrets of different names in the same folder apart', () => {
      // Act
      const a = loadOrCreateOwnerOnlySecret(specFor(stateDir, 'first'));
      const b = loadOrCreateOwnerOnlySecret(specFor(stateDir, 'second'));

      // Assess
      expect(a).not.toBe(b);
      expect(fs.readdirSync(stateDir).sort()).toEqual(['first', 'second']);
    });

    it('reads a secret written without a trailing newline', () => {
      // Prepare
      writeSecret('c'.repeat(64));

      // Act
      const value = loadOrCreateOwnerOnlySecret(specFor(stateDir));

      // Assess
      expect(value).toBe('c'.repeat(64));
    });

    it('uses the secret of a concurrent writer that published between the check and the link', () => {
      // Prepare: the file appears after the existence check, as when another process wins the race
      writeSecret(`${'9'.repeat(64)}\n`);
      const existsSync = jest.spyOn(nodeFs, 'existsSync').mockReturnValueOnce(false);

      // Act
      const value = loadOrCreateOwnerOnlySecret(specFor(stateDir));

      // Assess
      expect(existsSync).toHaveBeenCalledWith(secretFile);
      expect(value).toBe('9'.repeat(64));
      expect(fs.readFileSync(secretFile, 'utf8')).toBe(`${'9'.repeat(64)}\n`);
      expect(fs.readdirSync(stateDir)).toEqual([FILE_NAME]);
    });

    it('agrees on one secret when several processes create it at once', async () => {
      // Prepare: each child transpiles the TypeScript sources on load, like ts-jest does here
      const modulePath = require.resolve('../../src/secrets/owner-only-secret.ts');
      const program = [
        "const ts = require('typescript');",
        "const fs = require('fs');",
        "const Module = require('module');",
        "Module._extensions['.ts'] = (m, file) => m._compile(ts.transpileModule(fs.readFileSync(file, 'utf8'), { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true } }).outputText, file);",
        `const { loadOrCreateOwnerOnlySecret } = require(${JSON.stringify(modulePath)});`,
        `process.stdout.write(loadOrCreateOwnerOnlySecret(${JSON.stringify(specFor(stateDir))}));`,
      ].join('\n');
      const run = (): Promise<string> =>
        new Promise((resolve, reject) => {
          execFile(process.execPath, ['-e', program], (error, stdout) => (error ? reject(error) : resolve(stdout)));
        });

      // Act
      const values = await Promise.all([run(), run(), run(), run(), run()]);

      // Assess
      expect(new Set(values).size).toBe(1);
      expect(values[0]).toMatch(/^[0-9a-f]{64}$/);
      expect(fs.readFileSync(secretFile, 'utf8')).toBe(`${values[0]}\n`);
      expect(fs.readdirSync(stateDir)).toEqual([FILE_NAME]);
    }, 30_000);

    it.each([
      ['uppercase hex', 'A'.repeat(64)],
      ['too short', 'a'.repeat(63)],
      ['too long', 'a'.repeat(65)],
      ['empty', ''],
      ['non-hex characters', 'g'.repeat(64)],
      ['two trailing newlines', `${'a'.repeat(64)}\n\n`],
      ['a Windows line ending', `${'a'.repeat(64)}\r\n`],
      ['leading whitespace', ` ${'a'.repeat(64)}`],
    ])('fails closed on a corrupt secret file (%s), naming the file and leaving it as is', (_label, content) => {
      // Prepare
      writeSecret(content);

      // Act
      const error = catchError(() => loadOrCreateOwnerOnlySecret(specFor(stateDir)));

      // Assess
      expect(error).toBeInstanceOf(DependencyError);
      expect(error.code).toBe('NONCE_UNAVAILABLE');
      expect(error.message).toContain(`test secret file ${secretFile} is corrupt`);
      expect(error.message).toContain(ADVICE);
      expect(error.location.file).toBe(secretFile);
      expect(error.context).toMatchObject({ file: secretFile, operation: 'unit-test' });
      if (content.trim().length > 0) expect(error.message).not.toContain(content.trim().slice(0, 32));
      expect(fs.readFileSync(secretFile, 'utf8')).toBe(content);
    });

    posixIt.each([
      ['0644', 0o644],
      ['0640', 0o640],
      ['0604', 0o604],
      ['0660', 0o660],
      ['0666', 0o666],
      ['0620', 0o620],
      ['0602', 0o602],
      ['0610', 0o610],
      ['0601', 0o601],
    ])('fails closed on a secret file with mode %s, readable or writable by group or others', (octal, mode) => {
      // Prepare
      const value = 'd'.repeat(64);
      writeSecret(`${value}\n`, mode);

      // Act
      const error = catchError(() => loadOrCreateOwnerOnlySecret(specFor(stateDir)));

      // Assess
      expect(error).toBeInstanceOf(DependencyError);
      expect(error.code).toBe('NONCE_UNAVAILABLE');
      expect(error.message).toContain(secretFile);
      expect(error.message).toContain(`mode ${octal}`);
      expect(error.message).toContain(`chmod 600 ${secretFile}`);
      expect(error.context).toMatchObject({ mode: octal, file: secretFile, operation: 'unit-test' });
      expect(error.message).not.toContain(value);
      expect(fs.statSync(secretFile).mode & 0o777).toBe(mode);
    });

    posixIt('accepts a secret file with a stricter mode than 0600', () => {
      // Prepare
      writeSecret(`${'e'.repeat(64)}\n`, 0o400);

      // Act
      const value = loadOrCreateOwnerOnlySecret(specFor(stateDir));

      // Assess
      expect(value).toBe('e'.repeat(64));
    });

    posixIt('refuses a secret file that is a symbolic link, even to a valid owner-only file', () => {
      // Prepare
      const target = path.join(root, 'elsewhere');
      fs.writeFileSync(target, `${'f'.repeat(64)}\n`, { mode: 0o600 });
      fs.mkdirSync(stateDir, { mode: 0o700 });
      fs.symlinkSync(target, secretFile);

      // Act
      const error = catchError(() => loadOrCreateOwnerOnlySecret(specFor(stateDir)));

      // Assess
      expect(error).toBeInstanceOf(DependencyError);
      expect(error.code).toBe('NONCE_UNAVAILABLE');
      expect(error.message).toContain(`test secret file ${secretFile} is a symbolic link`);
      expect(error.message).not.toContain('f'.repeat(64));
      expect(fs.lstatSync(secretFile).isSymbolicLink()).toBe(true);
    });

    posixIt('refuses a dangling symbolic link instead of creating a secret through it', () => {
      // Prepare
      const target = path.join(root, 'missing-target');
      fs.mkdirSync(stateDir, { mode: 0o700 });
      fs.symlinkSync(target, secretFile);

      // Act
      const error = catchError(() => loadOrCreateOwnerOnlySecret(specFor(stateDir)));

      // Assess
      expect(error.code).toBe('NONCE_UNAVAILABLE');
      expect(fs.existsSync(target)).toBe(false);
      expect(temporaryFiles(stateDir)).toEqual([]);
    });

    it('refuses a secret path that is a directory', () => {
      // Prepare
      fs.mkdirSync(secretFile, { recursive: true });

      // Act
      const error = catchError(() => loadOrCreateOwnerOnlySecret(specFor(stateDir)));

      // Assess
      expect(error).toBeInstanceOf(DependencyError);
      expect(error.code).toBe('NONCE_UNAVAILABLE');
      expect(error.message).toContain(`test secret file ${secretFile} is not a regular file`);
      expect(error.location.file).toBe(secretFile);
    });

    it('fails closed when the state directory cannot be created', () => {
      // Prepare
      const blocker = path.join(root, 'a-file');
      fs.writeFileSync(blocker, 'x');
      const blockedDir = path.join(blocker, '.phase-mirror');

      // Act
      const error = catchError(() => loadOrCreateOwnerOnlySecret(specFor(blockedDir)));

      // Assess
      expect(error).toBeInstanceOf(DependencyError);
      expect(error.code).toBe('NONCE_UNAVAILABLE');
      expect(error.message).toBe(`cannot create state directory ${blockedDir} for the test secret`);
      expect(error.location.file).toBe(blockedDir);
      expect((error.cause as NodeJS.ErrnoException).code).toBe('ENOTDIR');
    });

    posixIt('fails closed when the secret file cannot be created (path too long for the temporary file)', () => {
      // Prepare: a state directory whose path leaves room for the secret but
      // not for the temporary file name (PATH_MAX is 4096 on Linux), so
      // creation fails whatever the user's privileges.
      const segment = 'd'.repeat(200);
      const tail = 1 + FILE_NAME.length;
      let deep = root;
      while (deep.length + segment.length + 1 + tail < 4070) deep = path.join(deep, segment);
      const padding = 4090 - (deep.length + 1 + tail);
      const deepState = path.join(deep, 'p'.repeat(Math.max(1, padding)));
      fs.mkdirSync(deepState, { recursive: true });

      // Act
      const error = catchError(() => loadOrCreateOwnerOnlySecret(specFor(deepState)));

      // Assess
      expect(error).toBeInstanceOf(DependencyError);
      expect(error.code).toBe('NONCE_UNAVAILABLE');
      expect(error.message).toBe(`cannot create the test secret file ${path.join(deepState, FILE_NAME)}`);
      expect((error.cause as NodeJS.ErrnoException).code).toBe('ENAMETOOLONG');
      expect(fs.readdirSync(deepState)).toEqual([]);
    });

    posixIt('fails closed when the secret file cannot be opened for reading', () => {
      // Prepare
      writeSecret(`${'b'.repeat(64)}\n`, 0o000);

      // Act
      const act = (): string => loadOrCreateOwnerOnlySecret(specFor(stateDir));

      // Assess: root reads any file; everyone else is refused
      if (isRoot) {
        expect(act()).toBe('b'.repeat(64));
      } else {
        const error = catchError(act);
        expect(error.code).toBe('NONCE_UNAVAILABLE');
        expect(error.message).toContain(`test secret file ${secretFile} cannot be opened`);
        expect(error.message).not.toContain('b'.repeat(64));
      }
    });

    posixIt('fails closed when the state directory cannot be read or written', () => {
      // Prepare
      fs.mkdirSync(stateDir, { mode: 0o700 });
      fs.chmodSync(stateDir, 0o000);

      // Act
      const act = (): string => loadOrCreateOwnerOnlySecret(specFor(stateDir));

      // Assess: root bypasses directory permissions and creates the secret
      if (isRoot) {
        expect(act()).toMatch(/^[0-9a-f]{64}$/);
      } else {
        const error = catchError(act);
        expect(error).toBeInstanceOf(DependencyError);
        expect(error.code).toBe('NONCE_UNAVAILABLE');
        expect(error.message).toContain(secretFile);
        expect((error.cause as NodeJS.ErrnoException).code).toBe('EACCES');
      }
    });

    describe('when the file system fails', () => {
      beforeEach(() => {
        fs.mkdirSync(stateDir, { mode: 0o700 });
      });

      it.each([
        ['the mode cannot be set', 'fchmodSync', 'EPERM'],
        ['the secret cannot be written', 'writeSync', 'ENOSPC'],
        ['the secret cannot be flushed', 'fsyncSync', 'EIO'],
        ['the file system has no hard links', 'linkSync', 'EPERM'],
        ['the temporary file cannot be removed', 'unlinkSync', 'EIO'],
      ] as const)('fails closed when %s and leaves no temporary file behind', (_label, method, code) => {
        // Prepare
        const original = nodeFs[method] as (...args: unknown[]) => unknown;
        jest.spyOn(nodeFs, method).mockImplementationOnce(((...args: unknown[]) => {
          if (method === 'unlinkSync') original(...args);
          throw errno(code);
        }) as never);

        // Act
        const error = catchError(() => loadOrCreateOwnerOnlySecret(specFor(stateDir)));

        // Assess
        expect(error).toBeInstanceOf(DependencyError);
        expect(error.code).toBe('NONCE_UNAVAILABLE');
        expect(error.message).toBe(`cannot create the test secret file ${secretFile}`);
        expect(error.context).toMatchObject({ file: secretFile, operation: 'unit-test' });
        expect((error.cause as NodeJS.ErrnoException).code).toBe(code);
        expect(temporaryFiles(stateDir)).toEqual([]);
      });

      it('does not publish a secret whose write failed', () => {
        // Prepare
        jest.spyOn(nodeFs, 'writeSync').mockImplementationOnce(() => {
          throw errno('ENOSPC');
        });

        // Act
        catchError(() => loadOrCreateOwnerOnlySecret(specFor(stateDir)));

        // Assess
        expect(fs.readdirSync(stateDir)).toEqual([]);
      });

      it('reports the first failure when both the link and the clean-up fail', () => {
        // Prepare
        jest.spyOn(nodeFs, 'linkSync').mockImplementationOnce(() => {
          throw errno('EPERM');
        });
        const unlink = nodeFs.unlinkSync;
        jest.spyOn(nodeFs, 'unlinkSync').mockImplementationOnce((file) => {
          unlink(file);
          throw errno('EIO');
        });

        // Act
        const error = catchError(() => loadOrCreateOwnerOnlySecret(specFor(stateDir)));

        // Assess
        expect((error.cause as NodeJS.ErrnoException).code).toBe('EPERM');
      });

      it.each([
        ['read', 'readSync'],
        ['inspected', 'fstatSync'],
      ] as const)('fails closed when the secret file cannot be %s after opening', (_label, method) => {
        // Prepare
        writeSecret(`${'a'.repeat(64)}\n`);
        jest.spyOn(nodeFs, method).mockImplementationOnce(() => {
          throw errno('EIO');
        });

        // Act
        const error = catchError(() => loadOrCreateOwnerOnlySecret(specFor(stateDir)));

        // Assess
        expect(error).toBeInstanceOf(DependencyError);
        expect(error.code).toBe('NONCE_UNAVAILABLE');
        expect(error.message).toBe(`test secret file ${secretFile} cannot be read`);
        expect((error.cause as NodeJS.ErrnoException).code).toBe('EIO');
        expect(error.message).not.toContain('a'.repeat(64));
      });
    });
  });

  describe('publishOwnerOnlySecret', () => {
    const VALUE = '0123456789abcdef'.repeat(4);
    const OTHER = 'fedcba9876543210'.repeat(4);

    beforeEach(() => {
      fs.mkdirSync(stateDir, { mode: 0o700 });
    });

    it("publishes a new secret and reports 'created'", () => {
      // Act
      const outcome = publishOwnerOnlySecret(specFor(stateDir), VALUE);

      // Assess
      expect(outcome).toBe('created');
      expect(fs.readFileSync(secretFile, 'utf8')).toBe(`${VALUE}\n`);
      expect(readOwnerOnlySecret(specFor(stateDir))).toBe(VALUE);
      expect(fs.readdirSync(stateDir)).toEqual([FILE_NAME]);
    });

    posixIt('publishes the secret with mode 0600', () => {
      // Act
      publishOwnerOnlySecret(specFor(stateDir), VALUE);

      // Assess
      expect(fs.statSync(secretFile).mode & 0o777).toBe(0o600);
    });

    it("leaves an existing secret untouched and reports 'exists'", () => {
      // Prepare
      publishOwnerOnlySecret(specFor(stateDir), VALUE);
      const inode = fs.statSync(secretFile).ino;

      // Act
      const outcome = publishOwnerOnlySecret(specFor(stateDir), OTHER);

      // Assess
      expect(outcome).toBe('exists');
      expect(fs.readFileSync(secretFile, 'utf8')).toBe(`${VALUE}\n`);
      expect(fs.statSync(secretFile).ino).toBe(inode);
      expect(fs.readdirSync(stateDir)).toEqual([FILE_NAME]);
    });

    it("reports 'exists' without validating or replacing an existing corrupt file", () => {
      // Prepare
      writeSecret('corrupt');

      // Act
      const outcome = publishOwnerOnlySecret(specFor(stateDir), VALUE);

      // Assess
      expect(outcome).toBe('exists');
      expect(fs.readFileSync(secretFile, 'utf8')).toBe('corrupt');
    });

    it.each([
      ['uppercase hex', 'A'.repeat(64)],
      ['too short', 'a'.repeat(63)],
      ['too long', 'a'.repeat(65)],
      ['empty', ''],
      ['non-hex characters', 'g'.repeat(64)],
      ['a trailing newline', `${'a'.repeat(64)}\n`],
    ])('refuses an invalid value (%s) without writing anything', (_label, value) => {
      // Act
      const error = catchError(() => publishOwnerOnlySecret(specFor(stateDir), value));

      // Assess
      expect(error).toBeInstanceOf(DependencyError);
      expect(error.code).toBe('NONCE_UNAVAILABLE');
      expect(error.message).toBe('refusing to write the test secret: the new value is not 64 lowercase hex characters');
      expect(error.location.file).toBe(secretFile);
      expect(error.context).toMatchObject({ file: secretFile, operation: 'unit-test' });
      expect(fs.readdirSync(stateDir)).toEqual([]);
    });

    it('fails closed when the directory does not exist', () => {
      // Prepare
      const missingDir = path.join(root, 'missing');

      // Act
      const error = catchError(() => publishOwnerOnlySecret(specFor(missingDir), VALUE));

      // Assess
      expect(error).toBeInstanceOf(DependencyError);
      expect(error.message).toBe(`cannot create the test secret file ${path.join(missingDir, FILE_NAME)}`);
      expect((error.cause as NodeJS.ErrnoException).code).toBe('ENOENT');
      expect(error.message).not.toContain(VALUE);
      expect(fs.existsSync(missingDir)).toBe(false);
    });

    it('fails closed without publishing when the hard link cannot be made', () => {
      // Prepare
      jest.spyOn(nodeFs, 'linkSync').mockImplementationOnce(() => {
        throw errno('EPERM');
      });

      // Act
      const error = catchError(() => publishOwnerOnlySecret(specFor(stateDir), VALUE));

      // Assess
      expect(error).toBeInstanceOf(DependencyError);
      expect(error.message).toBe(`cannot create the test secret file ${secretFile}`);
      expect(error.message).not.toContain(VALUE);
      expect((error.cause as NodeJS.ErrnoException).code).toBe('EPERM');
      expect(fs.readdirSync(stateDir)).toEqual([]);
    });

    it('fails closed, keeping the published secret, when only the temporary name cannot be removed', () => {
      // Prepare
      const unlink = nodeFs.unlinkSync;
      jest.spyOn(nodeFs, 'unlinkSync').mockImplementationOnce((file) => {
        unlink(file);
        throw errno('EIO');
      });

      // Act
      const error = catchError(() => publishOwnerOnlySecret(specFor(stateDir), VALUE));

      // Assess
      expect(error.message).toBe(`cannot create the test secret file ${secretFile}`);
      expect((error.cause as NodeJS.ErrnoException).code).toBe('EIO');
      expect(fs.readdirSync(stateDir)).toEqual([FILE_NAME]);
      expect(readOwnerOnlySecret(specFor(stateDir))).toBe(VALUE);
    });
  });

  describe('readOwnerOnlySecret', () => {
    it('reads an existing secret', () => {
      // Prepare
      writeSecret(`${'7'.repeat(64)}\n`);

      // Act
      const value = readOwnerOnlySecret(specFor(stateDir));

      // Assess
      expect(value).toBe('7'.repeat(64));
    });

    it('reads a secret without a trailing newline', () => {
      // Prepare
      writeSecret('8'.repeat(64));

      // Act
      const value = readOwnerOnlySecret(specFor(stateDir));

      // Assess
      expect(value).toBe('8'.repeat(64));
    });

    it('fails closed on a missing file and never creates one', () => {
      // Prepare
      fs.mkdirSync(stateDir, { mode: 0o700 });

      // Act
      const error = catchError(() => readOwnerOnlySecret(specFor(stateDir)));

      // Assess
      expect(error).toBeInstanceOf(DependencyError);
      expect(error.code).toBe('NONCE_UNAVAILABLE');
      expect(error.message).toBe(`test secret file ${secretFile} cannot be opened`);
      expect((error.cause as NodeJS.ErrnoException).code).toBe('ENOENT');
      expect(fs.readdirSync(stateDir)).toEqual([]);
    });

    it('never creates the state directory', () => {
      // Act
      catchError(() => readOwnerOnlySecret(specFor(stateDir)));

      // Assess
      expect(fs.existsSync(stateDir)).toBe(false);
    });

    it('fails closed on a corrupt file without revealing its content', () => {
      // Prepare
      const content = `${'1'.repeat(63)}Z`;
      writeSecret(content);

      // Act
      const error = catchError(() => readOwnerOnlySecret(specFor(stateDir)));

      // Assess
      expect(error.code).toBe('NONCE_UNAVAILABLE');
      expect(error.message).toContain('is corrupt');
      expect(error.message).toContain(ADVICE);
      expect(error.message).not.toContain('1'.repeat(32));
    });

    posixIt('fails closed on a group-readable file', () => {
      // Prepare
      writeSecret(`${'2'.repeat(64)}\n`, 0o640);

      // Act
      const error = catchError(() => readOwnerOnlySecret(specFor(stateDir)));

      // Assess
      expect(error.code).toBe('NONCE_UNAVAILABLE');
      expect(error.context).toMatchObject({ mode: '0640' });
      expect(error.message).not.toContain('2'.repeat(64));
    });

    posixIt('refuses a symbolic link', () => {
      // Prepare
      const target = path.join(root, 'target');
      fs.writeFileSync(target, `${'3'.repeat(64)}\n`, { mode: 0o600 });
      fs.mkdirSync(stateDir, { mode: 0o700 });
      fs.symlinkSync(target, secretFile);

      // Act
      const error = catchError(() => readOwnerOnlySecret(specFor(stateDir)));

      // Assess
      expect(error.message).toBe(`test secret file ${secretFile} is a symbolic link`);
    });

    it('uses the code given by the caller', () => {
      // Prepare
      fs.mkdirSync(stateDir, { mode: 0o700 });
      const spec: OwnerOnlySecret = { ...specFor(stateDir), code: 'STORE_FAILED', context: undefined };

      // Act
      const error = catchError(() => readOwnerOnlySecret(spec));

      // Assess
      expect(error.code).toBe('STORE_FAILED');
      expect(error.context).toEqual({ file: secretFile });
    });
  });
});
