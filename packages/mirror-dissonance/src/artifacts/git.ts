/**
 * The few git queries the collector needs. git runs through execFileSync with
 * an argument array (never a shell), in the repository root, and refs are
 * resolved to commit ids before use, so a ref cannot be read as an option.
 */
import { execFileSync } from 'node:child_process';
import { InputError } from '../errors';

/** Generous: a diff listing 100k paths is a few MB. */
const GIT_MAX_BUFFER = 256 * 1024 * 1024;

/**
 * Paths changed between the merge base of `base` and HEAD and HEAD itself
 * (`git diff --name-only <base>...HEAD`), as sorted POSIX paths relative to
 * `root` (a root below the top level of its repository only sees its own
 * files). Renames are listed as both the old and the new path, since moving a
 * file out of a governed path changes that path too.
 *
 * `base` is resolved as given, and when no such ref exists locally as
 * `origin/<base>` (CI checkouts usually have only the remote-tracking ref).
 *
 * @throws InputError `GIT_FAILED` naming the base and carrying the first
 *   line of git's stderr: unknown ref, not a repository, no merge base (a
 *   shallow clone), git missing.
 */
export function changedFiles(root: string, base: string): string[] {
  if (base === '' || base.startsWith('-')) {
    throw new InputError('GIT_FAILED', `invalid base ref "${base}": a ref cannot be empty or start with "-"`, {
      location: { field: 'base' },
      context: { base },
    });
  }
  const baseCommit = resolveBase(root, base);
  const output = runGit(
    root,
    ['-c', 'core.quotePath=false', 'diff', '--name-only', '-z', '--no-renames', '--relative', `${baseCommit}...HEAD`, '--'],
    base,
  );
  const paths = new Set(output.split('\0').filter((path) => path !== ''));
  return [...paths].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

function resolveBase(root: string, base: string): string {
  const candidates = base.startsWith('origin/') ? [base] : [base, `origin/${base}`];
  let firstFailure: InputError | undefined;
  for (const candidate of candidates) {
    try {
      return runGit(root, ['rev-parse', '--verify', '--end-of-options', `${candidate}^{commit}`], base).trim();
    } catch (error) {
      if (!(error instanceof InputError)) throw error;
      firstFailure ??= error;
    }
  }
  throw new InputError(
    'GIT_FAILED',
    `base ref "${base}" not found${candidates.length > 1 ? ` (also tried origin/${base})` : ''}: ${firstFailure?.context.stderr ?? ''}`,
    { location: { field: 'base' }, context: { base, stderr: firstFailure?.context.stderr } },
  );
}

function runGit(root: string, args: string[], base: string): string {
  const subcommand = args.find((arg) => arg === 'diff' || arg === 'rev-parse') ?? args[0];
  try {
    return execFileSync('git', args, {
      cwd: root,
      encoding: 'utf8',
      maxBuffer: GIT_MAX_BUFFER,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (error) {
    const stderr = firstLine(stderrOf(error)) || (error instanceof Error ? error.message : String(error));
    const hint = /merge base/i.test(stderr) ? ' (is the clone shallow? fetch the base history, e.g. fetch-depth: 0)' : '';
    throw new InputError('GIT_FAILED', `git ${subcommand} failed for base "${base}": ${stderr}${hint}`, {
      location: { field: 'base' },
      context: { base, stderr, args },
      cause: error,
    });
  }
}

function stderrOf(error: unknown): string {
  if (error !== null && typeof error === 'object' && 'stderr' in error) {
    const stderr = error.stderr;
    if (typeof stderr === 'string') return stderr;
    if (Buffer.isBuffer(stderr)) return stderr.toString('utf8');
  }
  return '';
}

function firstLine(text: string): string {
  return text.split(/\r?\n/).find((line) => line.trim() !== '')?.trim() ?? '';
}
