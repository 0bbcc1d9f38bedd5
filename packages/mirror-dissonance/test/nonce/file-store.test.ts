/**
 * Embedded adapter of the nonce secret store: one owner-only file per version
 * in the state folder, written once, and adoption of the pre-versioning
 * `<stateDir>/nonce` file as version 1.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DependencyError, PhaseMirrorError } from '../../src/errors';
import { FileNonceStore, LEGACY_NONCE_FILE } from '../../src/nonce/file-store';
import type { NonceVersionInfo } from '../../src/nonce/store';

const isPosix = process.platform !== 'win32';
const posixIt = isPosix ? it : it.skip;

const V1 = '1'.repeat(64);
const V2 = 'a'.repeat(64);
const V3 = '0123456789abcdef'.repeat(4);

// The module object itself (not an `import * as` namespace copy), so spies
// are seen by the code under test.
const nodeFs = require('node:fs') as typeof import('node:fs');

async function catchAsync(promise: Promise<unknown>): Promise<PhaseMirrorError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof PhaseMirrorError) return error;
    throw error;
  }
  throw new Error('expected an error');
}

function errno(code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: simulated`), { code });
}

describe('FileNonceStore', () => {
  let root: string;
  let stateDir: string;
  let store: FileNonceStore;

  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'pm-nonce-store-'));
    stateDir = path.join(root, '.phase-mirror');
    store = new FileNonceStore(stateDir);
  });

  afterEach(() => {
    jest.restoreAllMocks();
    fs.rmSync(root, { recursive: true, force: true });
  });

  function versionFile(version: number): string {
    return path.join(stateDir, `redaction_nonce_v${version}`);
  }

  function writeFile(name: string, content: string, mode = 0o600): string {
    fs.mkdirSync(stateDir, { recursive: true, mode: 0o700 });
    const file = path.join(stateDir, name);
    fs.writeFileSync(file, content, { mode });
    fs.chmodSync(file, mode);
    return file;
  }

  function info(version: number): NonceVersionInfo {
    return { version, name: versionFile(version), createdAt: new Date(0) };
  }

  it('names its location after the version files of the state folder', () => {
    // Assess
    expect(store.location).toBe(path.join(stateDir, 'redaction_nonce_v*'));
  });

  describe('listVersions', () => {
    it('returns no versions when the state folder does not exist', async () => {
      // Act
      const versions = await store.listVersions();

      // Assess
      expect(versions).toEqual([]);
      expect(fs.existsSync(stateDir)).toBe(false);
    });

    it('returns no versions for an empty state folder', async () => {
      // Prepare
      fs.mkdirSync(stateDir, { mode: 0o700 });

      // Act & Assess
      await expect(store.listVersions()).resolves.toEqual([]);
    });

    it('lists every version in ascending numeric order with its file path', async () => {
      // Prepare
      await store.create(10, V3);
      await store.create(2, V2);
      await store.create(1, V1);

      // Act
      const versions = await store.listVersions();

      // Assess
      expect(versions.map((v) => v.version)).toEqual([1, 2, 10]);
      expect(versions.map((v) => v.name)).toEqual([versionFile(1), versionFile(2), versionFile(10)]);
    });

    it('ignores every other file of the state folder', async () => {
      // Prepare
      await store.create(3, V3);
      for (const name of [
        'state.db',
        'state.db-wal',
        'anonymizer_salt',
        'redaction_nonce_v0',
        'redaction_nonce_v01',
        'redaction_nonce_v',
        'redaction_nonce_vx',
        'redaction_nonce_v-1',
        'redaction_nonce_v1234567890',
        'redaction_nonce_v2.tmp',
        `redaction_nonce_v2.${process.pid}.0a1b2c3d4e5f.tmp`,
        'redaction_nonce_v2.bak',
        'REDACTION_NONCE_V2',
        'x_redaction_nonce_v2',
      ]) {
        writeFile(name, `${V2}\n`);
      }

      // Act
      const versions = await store.listVersions();

      // Assess
      expect(versions.map((v) => v.version)).toEqual([3]);
    });

    it('gives the file modification time as the creation time of a version', async () => {
      // Prepare
      await store.create(1, V1);
      await store.create(2, V2);
      const first = new Date('2024-01-02T03:04:05.000Z');
      const second = new Date('2025-06-07T08:09:10.000Z');
      fs.utimesSync(versionFile(1), first, first);
      fs.utimesSync(versionFile(2), first, second);

      // Act
      const versions = await store.listVersions();

      // Assess
      expect(versions).toEqual([
        { version: 1, name: versionFile(1), createdAt: first },
        { version: 2, name: versionFile(2), createdAt: second },
      ]);
      expect(versions[1].createdAt).toEqual(fs.statSync(versionFile(2)).mtime);
    });

    it('lists versions without reading or validating their values', async () => {
      // Prepare: a corrupt version is still listed; reading it is what fails
      writeFile('redaction_nonce_v4', 'not a nonce');

      // Act
      const versions = await store.listVersions();

      // Assess
      expect(versions.map((v) => v.version)).toEqual([4]);
    });

    it('skips a version deleted by a concurrent rotation while listing', async () => {
      // Prepare
      await store.create(1, V1);
      await store.create(2, V2);
      const lstat = nodeFs.lstatSync;
      jest.spyOn(nodeFs, 'lstatSync').mockImplementation(((file: fs.PathLike, options?: fs.StatSyncOptions) => {
        if (file === versionFile(1)) throw errno('ENOENT');
        return lstat(file, options);
      }) as typeof fs.lstatSync);

      // Act
      const versions = await store.listVersions();

      // Assess
      expect(versions.map((v) => v.version)).toEqual([2]);
    });

    it('fails closed when a version file cannot be inspected', async () => {
      // Prepare
      await store.create(1, V1);
      jest.spyOn(nodeFs, 'lstatSync').mockImplementationOnce(() => {
        throw errno('EACCES');
      });

      // Act
      const error = await catchAsync(store.listVersions());

      // Assess
      expect(error).toBeInstanceOf(DependencyError);
      expect(error.code).toBe('NONCE_UNAVAILABLE');
      expect(error.message).toBe(`cannot read the redaction nonce file ${versionFile(1)}`);
      expect(error.location.file).toBe(versionFile(1));
      expect((error.cause as NodeJS.ErrnoException).code).toBe('EACCES');
    });

    it('fails closed when the state folder cannot be listed', async () => {
      // Prepare: the state folder path is a file
      fs.writeFileSync(stateDir, 'not a folder');

      // Act
      const error = await catchAsync(store.listVersions());

      // Assess
      expect(error).toBeInstanceOf(DependencyError);
      expect(error.code).toBe('NONCE_UNAVAILABLE');
      expect(error.message).toBe(`cannot list the redaction nonce versions in ${stateDir}`);
      expect(error.location.file).toBe(stateDir);
      expect(error.context).toEqual({ file: stateDir });
      expect((error.cause as NodeJS.ErrnoException).code).toBe('ENOTDIR');
    });
  });

  describe('create', () => {
    it("writes a new version and reports 'created'", async () => {
      // Act
      const outcome = await store.create(1, V1);

      // Assess
      expect(outcome).toBe('created');
      expect(fs.readFileSync(versionFile(1), 'utf8')).toBe(`${V1}\n`);
      expect(fs.readdirSync(stateDir)).toEqual(['redaction_nonce_v1']);
    });

    posixIt('creates the state folder with mode 0700 and the version file with mode 0600', async () => {
      // Act
      await store.create(1, V1);

      // Assess
      expect(fs.statSync(stateDir).mode & 0o777).toBe(0o700);
      expect(fs.statSync(versionFile(1)).mode & 0o777).toBe(0o600);
    });

    it("never overwrites an existing version and reports 'exists'", async () => {
      // Prepare
      await store.create(2, V2);

      // Act
      const outcome = await store.create(2, V3);

      // Assess
      expect(outcome).toBe('exists');
      expect(fs.readFileSync(versionFile(2), 'utf8')).toBe(`${V2}\n`);
      await expect(store.readValue(info(2))).resolves.toBe(V2);
      expect(fs.readdirSync(stateDir)).toEqual(['redaction_nonce_v2']);
    });

    it('refuses an invalid value without writing it and without echoing it', async () => {
      // Prepare
      const invalid = 'B'.repeat(64);

      // Act
      const error = await catchAsync(store.create(1, invalid));

      // Assess
      expect(error).toBeInstanceOf(DependencyError);
      expect(error.code).toBe('NONCE_UNAVAILABLE');
      expect(error.message).toContain('redaction nonce version 1');
      expect(error.message).not.toContain(invalid);
      expect(error.context).toMatchObject({ nonce_version: 1 });
      expect(fs.readdirSync(stateDir)).toEqual([]);
    });

    it('fails closed when the state folder cannot be created', async () => {
      // Prepare
      const blocker = path.join(root, 'a-file');
      fs.writeFileSync(blocker, 'x');
      const blockedDir = path.join(blocker, '.phase-mirror');

      // Act
      const error = await catchAsync(new FileNonceStore(blockedDir).create(1, V1));

      // Assess
      expect(error).toBeInstanceOf(DependencyError);
      expect(error.code).toBe('NONCE_UNAVAILABLE');
      expect(error.message).toBe(`cannot create state directory ${blockedDir} for the redaction nonce`);
      expect(error.location.file).toBe(blockedDir);
    });
  });

  describe('readValue', () => {
    it('reads the value of a version', async () => {
      // Prepare
      await store.create(1, V1);
      await store.create(2, V2);
      const [first, second] = await store.listVersions();

      // Act & Assess
      await expect(store.readValue(first)).resolves.toBe(V1);
      await expect(store.readValue(second)).resolves.toBe(V2);
    });

    it('returns undefined for a version deleted after it was listed', async () => {
      // Prepare
      await store.create(1, V1);
      const [listed] = await store.listVersions();
      fs.rmSync(versionFile(1));

      // Act
      const value = await store.readValue(listed);

      // Assess
      expect(value).toBeUndefined();
    });

    it('returns undefined for a version deleted just before its file is opened', async () => {
      // Prepare: a concurrent rotation deletes the file between any check and the open
      await store.create(1, V1);
      const [listed] = await store.listVersions();
      const open = nodeFs.openSync;
      jest.spyOn(nodeFs, 'openSync').mockImplementationOnce(((...args: Parameters<typeof fs.openSync>) => {
        fs.rmSync(versionFile(1));
        return open(...args);
      }) as typeof fs.openSync);

      // Act
      const value = await store.readValue(listed);

      // Assess
      expect(value).toBeUndefined();
    });

    it('returns undefined when the whole state folder is gone', async () => {
      // Act & Assess
      await expect(store.readValue(info(1))).resolves.toBeUndefined();
    });

    posixIt('fails closed on a version that is a dangling symbolic link instead of treating it as deleted', async () => {
      // Prepare
      fs.mkdirSync(stateDir, { mode: 0o700 });
      fs.symlinkSync(path.join(root, 'missing-target'), versionFile(1));
      const [listed] = await store.listVersions();

      // Act
      const error = await catchAsync(store.readValue(listed));

      // Assess
      expect(error).toBeInstanceOf(DependencyError);
      expect(error.code).toBe('NONCE_UNAVAILABLE');
      expect(error.message).toContain(`${versionFile(1)} is a symbolic link`);
    });

    posixIt('fails closed on a version that is a symbolic link to a valid file', async () => {
      // Prepare
      const target = path.join(root, 'elsewhere');
      fs.writeFileSync(target, `${V3}\n`, { mode: 0o600 });
      fs.mkdirSync(stateDir, { mode: 0o700 });
      fs.symlinkSync(target, versionFile(1));

      // Act
      const error = await catchAsync(store.readValue(info(1)));

      // Assess
      expect(error.message).toContain('is a symbolic link');
      expect(error.message).not.toContain(V3);
    });

    it.each([
      ['truncated', V2.slice(0, 63)],
      ['uppercase', V2.toUpperCase()],
      ['trailing garbage', `${V2}x`],
      ['empty', ''],
    ])('fails closed on a corrupt version file (%s), naming the file and not its content', async (_label, content) => {
      // Prepare
      const file = writeFile('redaction_nonce_v2', content);
      const [listed] = await store.listVersions();

      // Act
      const error = await catchAsync(store.readValue(listed));

      // Assess
      expect(error).toBeInstanceOf(DependencyError);
      expect(error.code).toBe('NONCE_UNAVAILABLE');
      expect(error.message).toContain(`redaction nonce version 2 file ${file} is corrupt`);
      expect(error.message).toContain('phase-mirror nonce rotate');
      expect(error.location.file).toBe(file);
      expect(error.context).toMatchObject({ file, nonce_version: 2 });
      expect(error.message).not.toMatch(/[0-9a-fA-F]{16}/);
      expect(JSON.stringify(error.context)).not.toMatch(/[0-9a-fA-F]{16}/);
      expect(fs.readFileSync(file, 'utf8')).toBe(content);
    });

    posixIt('fails closed on a version file readable by others, without revealing its value', async () => {
      // Prepare
      const file = writeFile('redaction_nonce_v1', `${V3}\n`, 0o644);

      // Act
      const error = await catchAsync(store.readValue(info(1)));

      // Assess
      expect(error).toBeInstanceOf(DependencyError);
      expect(error.code).toBe('NONCE_UNAVAILABLE');
      expect(error.message).toContain(`chmod 600 ${file}`);
      expect(error.message).not.toContain(V3);
    });
  });

  describe('delete', () => {
    it("deletes a version and reports 'deleted'", async () => {
      // Prepare
      await store.create(1, V1);
      await store.create(2, V2);
      const [first] = await store.listVersions();

      // Act
      const outcome = await store.delete(first);

      // Assess
      expect(outcome).toBe('deleted');
      expect(fs.existsSync(versionFile(1))).toBe(false);
      expect((await store.listVersions()).map((v) => v.version)).toEqual([2]);
      await expect(store.readValue(first)).resolves.toBeUndefined();
    });

    it("reports 'absent' for a version that is already gone", async () => {
      // Prepare
      await store.create(1, V1);
      const [first] = await store.listVersions();
      await store.delete(first);

      // Act
      const outcome = await store.delete(first);

      // Assess
      expect(outcome).toBe('absent');
    });

    it('fails closed when the version file cannot be deleted', async () => {
      // Prepare: a folder under the version name cannot be unlinked
      fs.mkdirSync(versionFile(1), { recursive: true });

      // Act
      const error = await catchAsync(store.delete(info(1)));

      // Assess
      expect(error).toBeInstanceOf(DependencyError);
      expect(error.code).toBe('NONCE_UNAVAILABLE');
      expect(error.message).toBe(`cannot delete the redaction nonce file ${versionFile(1)}`);
      expect(error.location.file).toBe(versionFile(1));
      expect(fs.existsSync(versionFile(1))).toBe(true);
    });
  });

  describe('adoption of the pre-versioning nonce file', () => {
    let legacy: string;

    beforeEach(() => {
      legacy = path.join(stateDir, LEGACY_NONCE_FILE);
    });

    it('is named `nonce`', () => {
      // Assess
      expect(LEGACY_NONCE_FILE).toBe('nonce');
    });

    it('adopts `<stateDir>/nonce` as version 1 with the same value and removes the old name', async () => {
      // Prepare
      writeFile(LEGACY_NONCE_FILE, `${V3}\n`);
      const inode = fs.statSync(legacy).ino;
      const mtime = fs.statSync(legacy).mtime;

      // Act
      const versions = await store.listVersions();

      // Assess
      expect(versions).toEqual([{ version: 1, name: versionFile(1), createdAt: mtime }]);
      await expect(store.readValue(versions[0])).resolves.toBe(V3);
      expect(fs.existsSync(legacy)).toBe(false);
      expect(fs.statSync(versionFile(1)).ino).toBe(inode);
      expect(fs.readdirSync(stateDir)).toEqual(['redaction_nonce_v1']);
    });

    it('adopts a legacy file written without a trailing newline', async () => {
      // Prepare
      writeFile(LEGACY_NONCE_FILE, V2);

      // Act
      const versions = await store.listVersions();

      // Assess
      expect(versions.map((v) => v.version)).toEqual([1]);
      await expect(store.readValue(versions[0])).resolves.toBe(V2);
    });

    it('keeps later versions alongside the adopted one', async () => {
      // Prepare
      writeFile(LEGACY_NONCE_FILE, `${V1}\n`);
      await store.create(2, V2);

      // Act
      const versions = await store.listVersions();

      // Assess
      expect(versions.map((v) => v.version)).toEqual([1, 2]);
      await expect(store.readValue(versions[0])).resolves.toBe(V1);
    });

    it('finishes an adoption interrupted after the hard link (same inode under both names)', async () => {
      // Prepare
      writeFile(LEGACY_NONCE_FILE, `${V1}\n`);
      fs.linkSync(legacy, versionFile(1));

      // Act
      const versions = await store.listVersions();

      // Assess
      expect(versions.map((v) => v.version)).toEqual([1]);
      expect(fs.existsSync(legacy)).toBe(false);
      await expect(store.readValue(versions[0])).resolves.toBe(V1);
    });

    it('refuses to choose when both the legacy file and a different version 1 exist', async () => {
      // Prepare
      writeFile(LEGACY_NONCE_FILE, `${V1}\n`);
      writeFile('redaction_nonce_v1', `${V2}\n`);

      // Act
      const error = await catchAsync(store.listVersions());

      // Assess
      expect(error).toBeInstanceOf(DependencyError);
      expect(error.code).toBe('NONCE_UNAVAILABLE');
      expect(error.message).toContain(legacy);
      expect(error.message).toContain('redaction_nonce_v1');
      expect(error.message).toContain('different contents');
      expect(error.location.file).toBe(legacy);
      expect(error.message).not.toContain(V1);
      expect(error.message).not.toContain(V2);
      expect(fs.readFileSync(legacy, 'utf8')).toBe(`${V1}\n`);
      expect(fs.readFileSync(versionFile(1), 'utf8')).toBe(`${V2}\n`);
    });

    it('refuses even when the other version 1 holds the same value in a different file', async () => {
      // Prepare
      writeFile(LEGACY_NONCE_FILE, `${V1}\n`);
      writeFile('redaction_nonce_v1', `${V1}\n`);

      // Act
      const error = await catchAsync(store.listVersions());

      // Assess
      expect(error.code).toBe('NONCE_UNAVAILABLE');
      expect(fs.existsSync(legacy)).toBe(true);
    });

    it('fails closed on a corrupt legacy file and leaves it in place', async () => {
      // Prepare
      writeFile(LEGACY_NONCE_FILE, 'abc');

      // Act
      const error = await catchAsync(store.listVersions());

      // Assess
      expect(error).toBeInstanceOf(DependencyError);
      expect(error.code).toBe('NONCE_UNAVAILABLE');
      expect(error.message).toContain(`redaction nonce (pre-versioning file) file ${legacy} is corrupt`);
      expect(fs.existsSync(legacy)).toBe(true);
      expect(fs.existsSync(versionFile(1))).toBe(false);
    });

    posixIt('fails closed on a legacy file readable by others and does not adopt it', async () => {
      // Prepare
      writeFile(LEGACY_NONCE_FILE, `${V3}\n`, 0o644);

      // Act
      const error = await catchAsync(store.listVersions());

      // Assess
      expect(error.code).toBe('NONCE_UNAVAILABLE');
      expect(error.message).toContain('mode 0644');
      expect(error.message).not.toContain(V3);
      expect(fs.existsSync(versionFile(1))).toBe(false);
    });

    posixIt('refuses a legacy file that is a symbolic link', async () => {
      // Prepare
      const target = path.join(root, 'elsewhere');
      fs.writeFileSync(target, `${V3}\n`, { mode: 0o600 });
      fs.mkdirSync(stateDir, { mode: 0o700 });
      fs.symlinkSync(target, legacy);

      // Act
      const error = await catchAsync(store.listVersions());

      // Assess
      expect(error.message).toMatch(/symbolic link/);
      expect(fs.existsSync(versionFile(1))).toBe(false);
    });

    it('fails closed when the legacy file cannot be linked as version 1', async () => {
      // Prepare
      writeFile(LEGACY_NONCE_FILE, `${V1}\n`);
      jest.spyOn(nodeFs, 'linkSync').mockImplementationOnce(() => {
        throw errno('EPERM');
      });

      // Act
      const error = await catchAsync(store.listVersions());

      // Assess
      expect(error).toBeInstanceOf(DependencyError);
      expect(error.code).toBe('NONCE_UNAVAILABLE');
      expect(error.message).toBe(`cannot adopt ${legacy} as version 1`);
      expect((error.cause as NodeJS.ErrnoException).code).toBe('EPERM');
      expect(fs.existsSync(legacy)).toBe(true);
    });

    it('fails closed when the legacy name cannot be removed after adoption', async () => {
      // Prepare
      writeFile(LEGACY_NONCE_FILE, `${V1}\n`);
      jest.spyOn(nodeFs, 'unlinkSync').mockImplementationOnce(() => {
        throw errno('EACCES');
      });

      // Act
      const error = await catchAsync(store.listVersions());

      // Assess
      expect(error).toBeInstanceOf(DependencyError);
      expect(error.message).toBe(`cannot remove ${legacy} after adopting it as version 1`);
      expect((error.cause as NodeJS.ErrnoException).code).toBe('EACCES');
    });

    it('accepts that a concurrent run removed the legacy name first', async () => {
      // Prepare
      writeFile(LEGACY_NONCE_FILE, `${V1}\n`);
      const unlink = nodeFs.unlinkSync;
      jest.spyOn(nodeFs, 'unlinkSync').mockImplementationOnce((file) => {
        unlink(file);
        throw errno('ENOENT');
      });

      // Act
      const versions = await store.listVersions();

      // Assess
      expect(versions.map((v) => v.version)).toEqual([1]);
      expect(fs.existsSync(legacy)).toBe(false);
    });
  });
});
