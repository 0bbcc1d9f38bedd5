import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../../src/errors';
import { changedFiles } from '../../src/artifacts/git';
import { git, makeGitRepo, makeTree, removeTrees, writeTreeFile } from './tmp-tree';

afterEach(removeTrees);

/** main has a.ts, b.ts, old/name.ts; branch `feature` modifies a.ts, adds ü dir file, renames old/name.ts, deletes b.ts. */
function repoWithFeatureBranch(): string {
  const root = makeGitRepo({ 'a.ts': 'a\n', 'b.ts': 'b\n', 'old/name.ts': 'same content\n', 'pkg/inner.ts': 'i\n' });
  git(root, 'checkout', '--quiet', '-b', 'feature');
  writeTreeFile(root, 'a.ts', 'a changed\n');
  writeTreeFile(root, 'dir ü/new file.ts', 'n\n');
  mkdirSync(join(root, 'new'));
  git(root, 'mv', 'old/name.ts', 'new/name.ts');
  git(root, 'rm', '--quiet', 'b.ts');
  git(root, 'add', '-A');
  git(root, 'commit', '--quiet', '-m', 'feature work');
  return root;
}

describe('changedFiles', () => {
  it('lists the paths changed since the merge base, sorted, with both sides of a rename', () => {
    const root = repoWithFeatureBranch();

    const files = changedFiles(root, 'main');

    expect(files).toEqual(['a.ts', 'b.ts', 'dir ü/new file.ts', 'new/name.ts', 'old/name.ts']);
  });

  it('ignores commits made on the base after the branch point (three-dot diff)', () => {
    const root = repoWithFeatureBranch();
    git(root, 'checkout', '--quiet', 'main');
    writeTreeFile(root, 'main-only.ts', 'm\n');
    git(root, 'add', '-A');
    git(root, 'commit', '--quiet', '-m', 'main moves on');
    git(root, 'checkout', '--quiet', 'feature');

    expect(changedFiles(root, 'main')).not.toContain('main-only.ts');
  });

  it('returns an empty list when HEAD is the base', () => {
    const root = makeGitRepo({ 'a.ts': 'a\n' });

    expect(changedFiles(root, 'main')).toEqual([]);
  });

  it('falls back to origin/<base> when the base exists only as a remote-tracking ref', () => {
    const root = repoWithFeatureBranch();
    const mainSha = git(root, 'rev-parse', 'main').trim();
    git(root, 'update-ref', 'refs/remotes/origin/release', mainSha);

    expect(changedFiles(root, 'release')).toEqual(['a.ts', 'b.ts', 'dir ü/new file.ts', 'new/name.ts', 'old/name.ts']);
  });

  it('accepts a commit SHA as base', () => {
    const root = repoWithFeatureBranch();
    const mainSha = git(root, 'rev-parse', 'main').trim();

    expect(changedFiles(root, mainSha)).toHaveLength(5);
  });

  it('lists only the files below a root that is a subdirectory of the repository, relative to it', () => {
    const root = makeGitRepo({ 'pkg/inner.ts': 'i\n', 'top.ts': 't\n' });
    git(root, 'checkout', '--quiet', '-b', 'feature');
    writeTreeFile(root, 'pkg/inner.ts', 'changed\n');
    writeTreeFile(root, 'top.ts', 'changed\n');
    git(root, 'commit', '--quiet', '-am', 'both');

    expect(changedFiles(join(root, 'pkg'), 'main')).toEqual(['inner.ts']);
  });

  it('throws GIT_FAILED naming the base and both refs tried when the base does not exist', () => {
    const root = makeGitRepo({ 'a.ts': 'a\n' });

    const attempt = () => changedFiles(root, 'no-such-branch');

    expect(attempt).toThrow(InputError);
    expect(attempt).toThrow(expect.objectContaining({ code: 'GIT_FAILED', context: expect.objectContaining({ base: 'no-such-branch' }) }));
    expect(attempt).toThrow(/base ref "no-such-branch" not found \(also tried origin\/no-such-branch\): fatal: /);
  });

  it('does not try origin/origin/x for a base already naming origin', () => {
    const root = makeGitRepo({ 'a.ts': 'a\n' });

    expect(() => changedFiles(root, 'origin/gone')).toThrow(/base ref "origin\/gone" not found: fatal: /);
  });

  it('throws GIT_FAILED with git stderr when the root is not a git repository', () => {
    const root = makeTree({ 'a.ts': 'a' });
    // GIT_CEILING_DIRECTORIES keeps git from finding a repository above the temp dir.
    const previous = process.env.GIT_CEILING_DIRECTORIES;
    process.env.GIT_CEILING_DIRECTORIES = join(root, '..');
    try {
      expect(() => changedFiles(root, 'main')).toThrow(expect.objectContaining({ code: 'GIT_FAILED' }));
      expect(() => changedFiles(root, 'main')).toThrow(/not a git repository/i);
    } finally {
      if (previous === undefined) delete process.env.GIT_CEILING_DIRECTORIES;
      else process.env.GIT_CEILING_DIRECTORIES = previous;
    }
  });

  it('throws GIT_FAILED with a shallow-clone hint when there is no merge base', () => {
    const root = makeGitRepo({ 'a.ts': 'a\n' });
    git(root, 'checkout', '--quiet', '--orphan', 'unrelated');
    writeTreeFile(root, 'u.ts', 'u\n');
    git(root, 'add', '-A');
    git(root, 'commit', '--quiet', '-m', 'unrelated history');

    expect(() => changedFiles(root, 'main')).toThrow(/git diff failed for base "main": fatal: .*merge base.*fetch-depth: 0/);
  });

  it.each(['--output=/tmp/pwned', '-p', ''])('refuses a base that git could read as an option (%p)', (base) => {
    const root = makeGitRepo({ 'a.ts': 'a\n' });

    expect(() => changedFiles(root, base)).toThrow(expect.objectContaining({ code: 'GIT_FAILED', location: { field: 'base' } }));
  });
});
