import { execFileSync } from 'node:child_process';
import { accessSync, constants, mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** Temporary directories created by `makeTree`, removed by `removeTrees`. */
const created: string[] = [];

/**
 * Creates a temporary directory (real path) holding `files` (relative POSIX
 * path ⇒ content). Symlinks, binary and large files are made by the tests
 * themselves with fs, so none are committed.
 */
export function makeTree(files: Record<string, string | Buffer> = {}): string {
  const root = realpathSync(mkdtempSync(join(tmpdir(), 'pm-artifacts-')));
  created.push(root);
  for (const [path, content] of Object.entries(files)) writeTreeFile(root, path, content);
  return root;
}

export function writeTreeFile(root: string, path: string, content: string | Buffer): string {
  const absolute = join(root, ...path.split('/'));
  mkdirSync(dirname(absolute), { recursive: true });
  writeFileSync(absolute, content);
  return absolute;
}

export function removeTrees(): void {
  for (const root of created.splice(0)) rmSync(root, { recursive: true, force: true });
}

/**
 * Whether this process can read a file despite mode 000 (root, or
 * CAP_DAC_OVERRIDE): permission tests then assert the privileged outcome.
 */
export function canReadDespiteMode(path: string): boolean {
  try {
    accessSync(path, constants.R_OK);
    return true;
  } catch {
    return false;
  }
}

/** Runs git in `cwd` with a fixed identity and no user/system config. */
export function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, {
    cwd,
    encoding: 'utf8',
    env: {
      ...process.env,
      GIT_CONFIG_GLOBAL: '/dev/null',
      GIT_CONFIG_SYSTEM: '/dev/null',
      GIT_AUTHOR_DATE: '2024-01-01T00:00:00Z',
      GIT_COMMITTER_DATE: '2024-01-01T00:00:00Z',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** A git repository with one commit on `main` containing `files`. */
export function makeGitRepo(files: Record<string, string>): string {
  const root = makeTree(files);
  git(root, 'init', '--quiet', '--initial-branch=main');
  git(root, 'config', 'user.email', 'test@example.com');
  git(root, 'config', 'user.name', 'Phase Mirror Test');
  git(root, 'config', 'commit.gpgsign', 'false');
  git(root, 'add', '-A');
  git(root, 'commit', '--quiet', '-m', 'initial');
  return root;
}
