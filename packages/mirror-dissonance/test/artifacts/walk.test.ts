import { chmodSync, linkSync, mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../../src/errors';
import { scopePatterns, walkRepository } from '../../src/artifacts/walk';
import { canReadDespiteMode, git, makeTree, removeTrees, writeTreeFile } from './tmp-tree';

afterEach(removeTrees);

describe('walkRepository', () => {
  it('lists every regular file as sorted POSIX relative paths and never enters .git', async () => {
    // Prepare
    const root = makeTree({
      'b.txt': 'b',
      'a/z.ts': 'z',
      'a/b/c.ts': 'c',
      'A.md': 'upper',
      '.github/workflows/ci.yml': 'on: push',
      '.git/config': '[core]',
      '.git/objects/ab/cdef': 'blob',
      'vendor/.git': 'gitdir: ../.git/modules/vendor',
    });

    // Act
    const result = await walkRepository(root);

    // Assess
    expect(result.files).toEqual(['.github/workflows/ci.yml', 'A.md', 'a/b/c.ts', 'a/z.ts', 'b.txt']);
    expect(result.skipped).toEqual([]);
  });

  it('rejects a root that does not exist with REPO_NOT_FOUND naming the path', async () => {
    const root = join(makeTree(), 'missing');

    const attempt = walkRepository(root);

    await expect(attempt).rejects.toBeInstanceOf(InputError);
    await expect(attempt).rejects.toMatchObject({ code: 'REPO_NOT_FOUND', location: { file: root } });
    await expect(attempt).rejects.toThrow(root);
  });

  it('rejects a root that is a file with REPO_NOT_FOUND', async () => {
    const root = makeTree({ 'file.txt': 'x' });
    const file = join(root, 'file.txt');

    await expect(walkRepository(file)).rejects.toMatchObject({ code: 'REPO_NOT_FOUND', location: { file } });
  });

  it('applies the root .gitignore, directory patterns and negations', async () => {
    const root = makeTree({
      '.gitignore': '# build output\n*.log\n!keep.log\nbuild/\n/top-only.txt\n\n',
      'app.log': 'x',
      'keep.log': 'x',
      'build/out.js': 'x',
      'src/build/gen.js': 'x',
      'src/top-only.txt': 'x',
      'top-only.txt': 'x',
      'src/main.ts': 'x',
    });

    const result = await walkRepository(root);

    expect(result.files).toEqual(['.gitignore', 'keep.log', 'src/main.ts', 'src/top-only.txt']);
  });

  it('scopes a nested .gitignore to its directory, lets it override the parent and re-include with negation', async () => {
    const root = makeTree({
      '.gitignore': '*.tmp\nsecret.txt\n',
      'a.tmp': 'x',
      'secret.txt': 'x',
      'pkg/.gitignore': '!*.tmp\n/local/\ngenerated\n!generated/keep.ts\n',
      'pkg/a.tmp': 'x',
      'pkg/secret.txt': 'x',
      'pkg/local/x.ts': 'x',
      'pkg/sub/local/y.ts': 'x',
      'pkg/sub/generated': 'file named generated',
      'pkg/generated/keep.ts': 'cannot be re-included: its directory is excluded',
      'local/z.ts': 'x',
      'other/generated': 'not under pkg',
    });

    const result = await walkRepository(root);

    expect(result.files).toEqual([
      '.gitignore',
      'local/z.ts',
      'other/generated',
      'pkg/.gitignore',
      'pkg/a.tmp',
      'pkg/sub/local/y.ts',
    ]);
  });

  it('lets a deeper .gitignore re-include a directory the parent excluded by name', async () => {
    const root = makeTree({
      '.gitignore': 'dist/\n',
      'dist/a.js': 'x',
      'web/.gitignore': '!dist/\n',
      'web/dist/b.js': 'x',
    });

    const result = await walkRepository(root);

    expect(result.files).toEqual(['.gitignore', 'web/.gitignore', 'web/dist/b.js']);
  });

  it('applies .git/info/exclude with lower precedence than .gitignore files', async () => {
    const root = makeTree({
      '.git/info/exclude': '*.bak\nnotes/\n',
      '.gitignore': '!important.bak\n',
      'x.bak': 'x',
      'important.bak': 'x',
      'notes/n.md': 'x',
      'kept.ts': 'x',
    });

    const result = await walkRepository(root);

    expect(result.files).toEqual(['.gitignore', 'important.bak', 'kept.ts']);
  });

  it('agrees with git ls-files on a tree with layered ignore files', async () => {
    const root = makeTree({
      '.gitignore': '*.log\n!important.log\n/out/\ncache\n**/tmp/**\ndocs/*.pdf\n',
      'important.log': 'x',
      'debug.log': 'x',
      'out/a.js': 'x',
      'lib/out/b.js': 'x',
      'cache': 'x',
      'lib/cache/c.js': 'x',
      'lib/tmp/d.js': 'x',
      'docs/a.pdf': 'x',
      'docs/sub/b.pdf': 'x',
      'lib/.gitignore': '!cache\n*.js\n!keep.js\n/only-here.txt\n',
      'lib/keep.js': 'x',
      'lib/drop.js': 'x',
      'lib/only-here.txt': 'x',
      'lib/deeper/only-here.txt': 'x',
      'lib/deeper/.gitignore': '!drop.js\n',
      'lib/deeper/drop.js': 'x',
      '.git/info/exclude': 'local-*\n',
      'local-notes.md': 'x',
      'README.md': 'x',
    });
    git(root, 'init', '--quiet');
    const expected = git(root, 'ls-files', '--cached', '--others', '--exclude-standard', '-z')
      .split('\0')
      .filter((path) => path !== '')
      .sort();

    const result = await walkRepository(root);

    expect(result.files).toEqual(expected);
    expect(result.files).toContain('lib/deeper/drop.js');
    expect(result.files).not.toContain('lib/drop.js');
    expect(result.files).not.toContain('local-notes.md');
  });

  it('matches ignore patterns case-sensitively, as git does on Linux', async () => {
    const root = makeTree({ '.gitignore': 'Secret.txt\n', 'Secret.txt': 'x', 'secret.txt': 'x' });

    const result = await walkRepository(root);

    expect(result.files).toEqual(['.gitignore', 'secret.txt']);
  });

  it('follows symlinks whose target stays inside the root, listing them under the link path', async () => {
    const root = makeTree({ 'real/a.ts': 'a', 'real/b/c.ts': 'c', 'docs/readme.md': 'r' });
    symlinkSync('real/a.ts', join(root, 'file-link.ts'));
    symlinkSync('real', join(root, 'dir-link'));

    const result = await walkRepository(root);

    expect(result.files).toEqual([
      'dir-link/a.ts',
      'dir-link/b/c.ts',
      'docs/readme.md',
      'file-link.ts',
      'real/a.ts',
      'real/b/c.ts',
    ]);
    expect(result.skipped).toEqual([]);
  });

  it('never follows a symlink whose target is outside the root and records it as symlink_outside_root', async () => {
    const outside = makeTree({ 'passwd': 'root:x:0:0', 'dir/secret.key': 'k' });
    const root = makeTree({ 'ok.ts': 'x', 'nested/inner.ts': 'x' });
    symlinkSync(join(outside, 'passwd'), join(root, 'passwd-link'));
    symlinkSync(join(outside, 'dir'), join(root, 'nested', 'dir-link'), 'dir');
    symlinkSync('../' + outside.split('/').pop() + '/passwd', join(root, 'relative-escape'));

    const result = await walkRepository(root);

    expect(result.files).toEqual(['nested/inner.ts', 'ok.ts']);
    expect(result.skipped).toEqual([
      { path: 'nested/dir-link', reason: 'symlink_outside_root', detail: expect.stringContaining('outside') },
      { path: 'passwd-link', reason: 'symlink_outside_root', detail: expect.stringContaining('outside') },
      { path: 'relative-escape', reason: 'symlink_outside_root', detail: expect.stringContaining('outside') },
    ]);
  });

  it('detects a directory cycle through a symlink and records it as symlink_loop', async () => {
    const root = makeTree({ 'a/b/file.ts': 'x' });
    symlinkSync('../..', join(root, 'a', 'b', 'up'));
    symlinkSync('.', join(root, 'self'));

    const result = await walkRepository(root);

    expect(result.files).toEqual(['a/b/file.ts']);
    expect(result.skipped).toEqual([
      { path: 'a/b/up', reason: 'symlink_loop', detail: expect.stringContaining('(the repository root)') },
      { path: 'self', reason: 'symlink_loop', detail: expect.stringContaining('ancestor') },
    ]);
  });

  it('walks a directory reached twice through links when it is not an ancestor', async () => {
    const root = makeTree({ 'shared/x.ts': 'x' });
    symlinkSync('shared', join(root, 'pkg-a-shared'));
    mkdirSync(join(root, 'pkg'));
    symlinkSync('../shared', join(root, 'pkg', 'shared'));

    const result = await walkRepository(root);

    expect(result.files).toEqual(['pkg-a-shared/x.ts', 'pkg/shared/x.ts', 'shared/x.ts']);
  });

  it('records a self-referencing link chain as symlink_loop', async () => {
    const root = makeTree({ 'ok.ts': 'x' });
    symlinkSync('loop-b', join(root, 'loop-a'));
    symlinkSync('loop-a', join(root, 'loop-b'));

    const result = await walkRepository(root);

    expect(result.skipped).toEqual([
      { path: 'loop-a', reason: 'symlink_loop', detail: expect.stringContaining('ELOOP') },
      { path: 'loop-b', reason: 'symlink_loop', detail: expect.stringContaining('ELOOP') },
    ]);
  });

  it('skips a dangling link as unreadable with its errno', async () => {
    const root = makeTree({ 'ok.ts': 'x' });
    symlinkSync('does-not-exist.ts', join(root, 'dangling'));

    const result = await walkRepository(root);

    expect(result.files).toEqual(['ok.ts']);
    expect(result.skipped).toEqual([{ path: 'dangling', reason: 'unreadable', detail: 'dangling symbolic link: ENOENT' }]);
  });

  it('does not report an ignored link at all', async () => {
    const root = makeTree({ '.gitignore': 'dangling\n' });
    symlinkSync('nowhere', join(root, 'dangling'));

    const result = await walkRepository(root);

    expect(result).toEqual({ files: ['.gitignore'], skipped: [] });
  });

  it('records an unlistable directory as unreadable (or lists it when privileges bypass the mode)', async () => {
    const root = makeTree({ 'locked/inside.ts': 'x', 'open.ts': 'x' });
    const locked = join(root, 'locked');
    chmodSync(locked, 0o000);
    const privileged = canReadDespiteMode(locked);

    try {
      const result = await walkRepository(root);

      if (privileged) {
        expect(result.files).toEqual(['locked/inside.ts', 'open.ts']);
        expect(result.skipped).toEqual([]);
      } else {
        expect(result.files).toEqual(['open.ts']);
        expect(result.skipped).toEqual([{ path: 'locked', reason: 'unreadable', detail: 'cannot list directory: EACCES' }]);
      }
    } finally {
      chmodSync(locked, 0o755);
    }
  });

  it('records an unreadable .gitignore as skipped and keeps walking', async () => {
    const root = makeTree({ 'sub/x.ts': 'x' });
    // A directory named .gitignore cannot be read as a file, whoever runs the test.
    mkdirSync(join(root, 'sub', '.gitignore', 'inner'), { recursive: true });
    writeTreeFile(root, 'sub/.gitignore/inner/f.txt', 'x');
    const rootIgnore = writeTreeFile(root, '.gitignore', 'ignored.ts\n');
    chmodSync(rootIgnore, 0o000);
    writeTreeFile(root, 'ignored.ts', 'x');
    const privileged = canReadDespiteMode(rootIgnore);

    try {
      const result = await walkRepository(root);

      expect(result.files).toContain('sub/.gitignore/inner/f.txt');
      if (privileged) {
        expect(result.files).toEqual(['.gitignore', 'sub/.gitignore/inner/f.txt', 'sub/x.ts']);
        expect(result.skipped).toEqual([]);
      } else {
        expect(result.files).toEqual(['.gitignore', 'ignored.ts', 'sub/.gitignore/inner/f.txt', 'sub/x.ts']);
        expect(result.skipped).toEqual([{ path: '.gitignore', reason: 'unreadable', detail: 'ignore file not applied: EACCES' }]);
      }
    } finally {
      chmodSync(rootIgnore, 0o644);
    }
  });

  it('does not apply a symlinked .gitignore, even one pointing inside the root', async () => {
    const outside = makeTree({ rules: '*\n' });
    const root = makeTree({ 'inner-rules': '*.ts\n', 'sub/a.ts': 'x', 'b.ts': 'x' });
    symlinkSync(join(outside, 'rules'), join(root, '.gitignore'));
    symlinkSync('../inner-rules', join(root, 'sub', '.gitignore'));

    const result = await walkRepository(root);

    expect(result.files).toEqual(['b.ts', 'inner-rules', 'sub/.gitignore', 'sub/a.ts']);
    expect(result.skipped).toEqual([{ path: '.gitignore', reason: 'symlink_outside_root', detail: expect.any(String) }]);
  });

  it('handles directory names that contain glob characters in nested .gitignore scoping', async () => {
    const root = makeTree({
      'we[ir]d*/.gitignore': 'x.txt\n',
      'we[ir]d*/x.txt': 'x',
      'we[ir]d*/y.txt': 'y',
      'weid-x/x.txt': 'not scoped by the weird directory',
    });

    const result = await walkRepository(root);

    expect(result.files).toEqual(['we[ir]d*/.gitignore', 'we[ir]d*/y.txt', 'weid-x/x.txt']);
  });

  it('enumerates 50,000 files well under a second', async () => {
    // Hard links to one empty file: one syscall per file keeps the setup fast on slow disks.
    const root = makeTree({ '.gitignore': '*.log\n' });
    const source = writeTreeFile(root, 'd0/e0/f0.ts', '');
    for (let a = 0; a < 50; a++) {
      for (let b = 0; b < 50; b++) {
        const dir = join(root, `d${a}`, `e${b}`);
        mkdirSync(dir, { recursive: true });
        for (let c = a === 0 && b === 0 ? 1 : 0; c < 20; c++) linkSync(source, join(dir, `f${c}.ts`));
      }
    }

    const result = await walkRepository(root);

    expect(result.files).toHaveLength(50_001);
    expect(result.files[1]).toBe('d0/e0/f0.ts');
  }, 60_000);
});

describe('scopePatterns', () => {
  it('returns the root patterns unchanged', () => {
    expect(scopePatterns('a\n!b\n', '')).toEqual(['a', '!b', '']);
  });

  it('anchors slashed patterns to the directory and lets bare names match at any depth below it', () => {
    const scoped = scopePatterns('# c\n\nname\n/anchored\nin/ner\ndir/\n!neg\n**/deep\n\\#hash\n', 'sub/dir');

    expect(scoped).toEqual([
      'sub/dir/**/name',
      'sub/dir/anchored',
      'sub/dir/in/ner',
      'sub/dir/**/dir/',
      '!sub/dir/**/neg',
      'sub/dir/**/deep',
      'sub/dir/**/\\#hash',
    ]);
  });
});
