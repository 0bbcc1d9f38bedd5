import { chmodSync, mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../../src/errors';
import { DEFAULT_MAX_BYTES, readRepoFile, resolveInsideRoot } from '../../src/artifacts/read-file';
import { canReadDespiteMode, makeTree, removeTrees, writeTreeFile } from './tmp-tree';

afterEach(removeTrees);

describe('resolveInsideRoot', () => {
  it('returns the absolute real path of a file inside the root', () => {
    const root = makeTree({ 'src/a.ts': 'a' });

    expect(resolveInsideRoot(root, 'src/a.ts')).toBe(join(root, 'src', 'a.ts'));
  });

  it('resolves a symlink that stays inside the root to its target', () => {
    const root = makeTree({ 'real/a.ts': 'a' });
    symlinkSync('real/a.ts', join(root, 'link.ts'));

    expect(resolveInsideRoot(root, 'link.ts')).toBe(join(root, 'real', 'a.ts'));
  });

  it('resolves a path that does not exist through its nearest existing ancestor', () => {
    const root = makeTree({ 'src/a.ts': 'a' });

    expect(resolveInsideRoot(root, 'src/new/b.ts')).toBe(join(root, 'src', 'new', 'b.ts'));
  });

  it('throws PATH_OUTSIDE_ROOT with location.file for a path climbing out with ..', () => {
    const root = makeTree();

    const attempt = () => resolveInsideRoot(root, '../etc/passwd');

    expect(attempt).toThrow(InputError);
    expect(attempt).toThrow(expect.objectContaining({ code: 'PATH_OUTSIDE_ROOT', location: { file: '../etc/passwd' } }));
  });

  it('throws PATH_OUTSIDE_ROOT for an absolute path', () => {
    const root = makeTree();

    expect(() => resolveInsideRoot(root, '/etc/passwd')).toThrow(
      expect.objectContaining({ code: 'PATH_OUTSIDE_ROOT', location: { file: '/etc/passwd' } }),
    );
  });

  it('throws PATH_OUTSIDE_ROOT when a symlinked directory leads out of the root', () => {
    const outside = makeTree({ 'secret.key': 'k' });
    const root = makeTree();
    symlinkSync(outside, join(root, 'escape'));

    expect(() => resolveInsideRoot(root, 'escape/secret.key')).toThrow(
      expect.objectContaining({ code: 'PATH_OUTSIDE_ROOT', location: { file: 'escape/secret.key' } }),
    );
  });

  it('does not mistake a sibling directory sharing the root name prefix for the inside', () => {
    const parent = makeTree({ 'repo/a.ts': 'a', 'repo-evil/b.ts': 'b' });
    const root = join(parent, 'repo');
    symlinkSync('../repo-evil/b.ts', join(root, 'b.ts'));

    expect(() => resolveInsideRoot(root, 'b.ts')).toThrow(expect.objectContaining({ code: 'PATH_OUTSIDE_ROOT' }));
  });

  it('throws FILE_UNREADABLE with the errno when a symlink chain loops', () => {
    const root = makeTree();
    symlinkSync('b', join(root, 'a'));
    symlinkSync('a', join(root, 'b'));

    expect(() => resolveInsideRoot(root, 'a/file')).toThrow(
      expect.objectContaining({ code: 'FILE_UNREADABLE', location: { file: 'a/file' }, context: { errno: 'ELOOP' } }),
    );
  });

  it('throws REPO_NOT_FOUND for a missing root', () => {
    const root = join(makeTree(), 'missing');

    expect(() => resolveInsideRoot(root, 'a.ts')).toThrow(expect.objectContaining({ code: 'REPO_NOT_FOUND' }));
  });
});

describe('readRepoFile', () => {
  it('reads a text file with its POSIX path, text and byte size', () => {
    const root = makeTree({ 'docs/é.md': 'héllo\n' });

    const result = readRepoFile(root, './docs//é.md');

    expect(result).toEqual({ file: { path: 'docs/é.md', text: 'héllo\n', size: 7 } });
  });

  it('skips a file above maxBytes as too_large', () => {
    const root = makeTree({ 'big.txt': 'x'.repeat(101) });

    const result = readRepoFile(root, 'big.txt', { maxBytes: 100 });

    expect(result).toEqual({ skipped: { path: 'big.txt', reason: 'too_large', detail: '101 bytes exceeds the 100-byte limit' } });
  });

  it('reads a file of exactly maxBytes', () => {
    const root = makeTree({ 'edge.txt': 'x'.repeat(100) });

    const result = readRepoFile(root, 'edge.txt', { maxBytes: 100 });

    expect(result).toEqual({ file: { path: 'edge.txt', text: 'x'.repeat(100), size: 100 } });
  });

  it('defaults to a 1 MiB limit and skips a larger file without reading it', () => {
    const root = makeTree();
    const path = writeTreeFile(root, 'large.bin', Buffer.alloc(DEFAULT_MAX_BYTES + 1, 0x61));
    // Unreadable content proves the size decision comes from stat alone.
    chmodSync(path, 0o000);

    const result = readRepoFile(root, 'large.bin');

    chmodSync(path, 0o644);
    expect(DEFAULT_MAX_BYTES).toBe(1_048_576);
    expect(result).toEqual({
      skipped: { path: 'large.bin', reason: 'too_large', detail: '1048577 bytes exceeds the 1048576-byte limit' },
    });
  });

  it('reads a file of exactly 1 MiB by default', () => {
    const root = makeTree({ 'mib.txt': Buffer.alloc(DEFAULT_MAX_BYTES, 0x61) });

    const result = readRepoFile(root, 'mib.txt');

    expect('file' in result && result.file.size).toBe(DEFAULT_MAX_BYTES);
  });

  it('skips a file with a NUL byte in its first 8 KiB as binary', () => {
    const content = Buffer.concat([Buffer.from('PNG'), Buffer.from([0]), Buffer.from('rest')]);
    const root = makeTree({ 'image.png': content });

    const result = readRepoFile(root, 'image.png');

    expect(result).toEqual({ skipped: { path: 'image.png', reason: 'binary', detail: 'NUL byte within the first 8192 bytes' } });
  });

  it('reads a file whose first NUL byte is after 8 KiB as text', () => {
    const content = Buffer.concat([Buffer.alloc(8192, 0x61), Buffer.from([0])]);
    const root = makeTree({ 'late-nul.txt': content });

    const result = readRepoFile(root, 'late-nul.txt');

    expect('file' in result && result.file.size).toBe(8193);
  });

  it('skips a file without read permission as unreadable with EACCES (read as usual when privileged)', () => {
    const root = makeTree({ 'locked.txt': 'secret' });
    const path = join(root, 'locked.txt');
    chmodSync(path, 0o000);
    const privileged = canReadDespiteMode(path);

    const result = readRepoFile(root, 'locked.txt');

    chmodSync(path, 0o644);
    if (privileged) {
      expect(result).toEqual({ file: { path: 'locked.txt', text: 'secret', size: 6 } });
    } else {
      expect(result).toEqual({ skipped: { path: 'locked.txt', reason: 'unreadable', detail: 'EACCES' } });
    }
  });

  it('skips a missing file as unreadable with ENOENT', () => {
    const root = makeTree();

    expect(readRepoFile(root, 'missing.txt')).toEqual({ skipped: { path: 'missing.txt', reason: 'unreadable', detail: 'ENOENT' } });
  });

  it('skips a dangling symlink as unreadable with ENOENT', () => {
    const root = makeTree();
    symlinkSync('nowhere.txt', join(root, 'dangling'));

    expect(readRepoFile(root, 'dangling')).toEqual({ skipped: { path: 'dangling', reason: 'unreadable', detail: 'ENOENT' } });
  });

  it('skips a directory as unreadable with EISDIR', () => {
    const root = makeTree();
    mkdirSync(join(root, 'dir'));

    expect(readRepoFile(root, 'dir')).toEqual({ skipped: { path: 'dir', reason: 'unreadable', detail: 'EISDIR' } });
  });

  it('skips a symlink chain that loops as unreadable with ELOOP', () => {
    const root = makeTree();
    symlinkSync('b', join(root, 'a'));
    symlinkSync('a', join(root, 'b'));

    expect(readRepoFile(root, 'a')).toEqual({ skipped: { path: 'a', reason: 'unreadable', detail: 'ELOOP' } });
  });

  it('never reads through a symlink leading outside the root: skipped as symlink_outside_root', () => {
    const outside = makeTree({ 'passwd': 'root:x:0:0' });
    const root = makeTree();
    symlinkSync(join(outside, 'passwd'), join(root, '.phase-mirror.yml'));

    const result = readRepoFile(root, '.phase-mirror.yml');

    expect(result).toEqual({
      skipped: { path: '.phase-mirror.yml', reason: 'symlink_outside_root', detail: expect.stringContaining('symbolic link') },
    });
    expect(JSON.stringify(result)).not.toContain('root:x');
  });

  it('throws PATH_OUTSIDE_ROOT for a caller path that is not repository-relative', () => {
    const parent = makeTree({ 'repo/a.txt': 'a', 'sibling.txt': 'must not be read' });

    expect(() => readRepoFile(join(parent, 'repo'), '../sibling.txt')).toThrow(
      expect.objectContaining({ code: 'PATH_OUTSIDE_ROOT', location: { file: '../sibling.txt' } }),
    );
  });

  it.each([-1, 1.5, Number.NaN])('rejects maxBytes %p as INPUT_INVALID', (maxBytes) => {
    const root = makeTree({ 'a.txt': 'a' });

    expect(() => readRepoFile(root, 'a.txt', { maxBytes })).toThrow(
      expect.objectContaining({ code: 'INPUT_INVALID', location: { field: 'maxBytes' } }),
    );
  });

  it('throws REPO_NOT_FOUND when the root is missing', () => {
    const root = join(makeTree(), 'missing');

    expect(() => readRepoFile(root, 'a.txt')).toThrow(expect.objectContaining({ code: 'REPO_NOT_FOUND' }));
  });
});
