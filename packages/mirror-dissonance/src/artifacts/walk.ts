/**
 * Enumerates the files of a repository the way git sees its working tree:
 * every regular file below the root, minus `.git/` and the root's
 * `.phase-mirror/` state folder, minus what `.gitignore`
 * files (at every level) and `.git/info/exclude` exclude. Symlinks are
 * followed only while they stay inside the root, so a repository cannot make
 * the oracle read `/etc/passwd` or loop forever.
 */
import { readdirSync, readFileSync, realpathSync, statSync, type Dirent } from 'node:fs';
import { join, sep } from 'node:path';
import ignore, { type Ignore } from 'ignore';
import { InputError } from '../errors';
import type { SkippedFile } from '../types';

/** The embedded state folder (`.phase-mirror/` at the repository root, DESIGN §7). */
export const STATE_DIR_NAME = '.phase-mirror';

export interface WalkResult {
  /** Repository-relative POSIX paths of the regular files, sorted by code unit. */
  files: string[];
  /** Entries not enumerated, sorted by path. */
  skipped: SkippedFile[];
}

/**
 * Lists every non-ignored regular file below `root`.
 *
 * Why synchronous readdir inside an async function: the walk is a long run of
 * tiny syscalls and promise scheduling per directory does not pay for itself
 * (measured on 50k files in 2,500 directories, warm cache, 2 CPUs: plain
 * readdirSync 115–150 ms, fs.promises.readdir with 16–64 in flight 155–215 ms;
 * the whole walk with ignore matching 105–160 ms). Regular files are never
 * stat'ed (the dirent type is enough); only symlinks are resolved.
 *
 * Ignore semantics follow git: patterns of a nested `.gitignore` are scoped
 * to its directory, deeper files take precedence over shallower ones, the
 * last matching pattern wins, negation re-includes, and nothing below an
 * excluded directory can be re-included (the walk does not descend into it).
 * `.git/info/exclude` has the lowest precedence.
 *
 * Symlinks: a link whose real target is inside the root is followed (a file
 * link is listed under the link's path, a directory link is walked); a target
 * outside the root is skipped as `symlink_outside_root`; a directory link to
 * one of its own ancestors (a cycle) is skipped as `symlink_loop`; a dangling
 * link is skipped as `unreadable`. An unreadable directory or `.gitignore` is
 * skipped as `unreadable` with its errno.
 *
 * @throws InputError `REPO_NOT_FOUND` when `root` is not an existing directory,
 *   `FILE_UNREADABLE` when the root itself cannot be listed.
 */
export async function walkRepository(root: string): Promise<WalkResult> {
  const realRoot = resolveRoot(root);
  const walker = new Walker(realRoot);
  walker.loadExclude();
  let rootEntries: Dirent[];
  try {
    rootEntries = readdirSync(realRoot, { withFileTypes: true });
  } catch (error) {
    throw new InputError('FILE_UNREADABLE', `cannot list the repository root ${root}: ${errnoOf(error)}`, {
      location: { file: root },
      cause: error,
    });
  }
  walker.walkEntries(realRoot, '', rootEntries, new Set([realRoot]));
  walker.files.sort(compareCodeUnits);
  walker.skipped.sort((a, b) => compareCodeUnits(a.path, b.path));
  return { files: walker.files, skipped: walker.skipped };
}

function resolveRoot(root: string): string {
  let realRoot: string;
  try {
    realRoot = realpathSync.native(root);
  } catch (error) {
    throw new InputError('REPO_NOT_FOUND', `repository root ${root} does not exist (${errnoOf(error)})`, {
      location: { file: root },
      cause: error,
    });
  }
  if (!statSync(realRoot).isDirectory()) {
    throw new InputError('REPO_NOT_FOUND', `repository root ${root} is not a directory`, { location: { file: root } });
  }
  return realRoot;
}

class Walker {
  readonly files: string[] = [];
  readonly skipped: SkippedFile[] = [];
  /** One matcher for the whole tree: nested patterns are rewritten with their directory prefix. */
  private readonly matcher: Ignore = ignore({ ignorecase: false });
  private readonly rootPrefix: string;

  constructor(private readonly realRoot: string) {
    this.rootPrefix = realRoot.endsWith(sep) ? realRoot : realRoot + sep;
  }

  /** `.git/info/exclude` applies relative to the root with the lowest precedence, so it is added first. */
  loadExclude(): void {
    const text = this.readIgnoreFile(join(this.realRoot, '.git', 'info', 'exclude'), '.git/info/exclude', true);
    if (text !== undefined) this.matcher.add(text);
  }

  /** `realDir` is the real path of the directory whose `entries` are given; `relDir` is how the walk reached it. */
  walkEntries(realDir: string, relDir: string, entries: Dirent[], ancestors: ReadonlySet<string>): void {
    // Like git (2.32+), a symlinked .gitignore is not followed: ignore rules never come from outside the tree.
    const gitignore = entries.find((entry) => entry.name === '.gitignore' && entry.isFile());
    if (gitignore !== undefined) {
      const relPath = relDir === '' ? '.gitignore' : `${relDir}/.gitignore`;
      const text = this.readIgnoreFile(join(realDir, '.gitignore'), relPath, false);
      if (text !== undefined) this.matcher.add(scopePatterns(text, relDir));
    }
    for (const entry of entries) {
      const name = entry.name;
      // git never lists a `.git` entry, at any depth (submodules keep a `.git` file).
      if (name === '.git') continue;
      // The oracle's own state folder is never part of what the repository is.
      if (relDir === '' && name === STATE_DIR_NAME) continue;
      const relPath = relDir === '' ? name : `${relDir}/${name}`;
      if (entry.isFile()) {
        if (!this.matcher.ignores(relPath)) this.files.push(relPath);
      } else if (entry.isDirectory()) {
        // The parent is read through its real path, so the child's real path is parent + name.
        if (!this.matcher.ignores(`${relPath}/`)) this.walkDirectory(join(realDir, name), relPath, ancestors);
      } else if (entry.isSymbolicLink()) {
        // git stores a link as a file, so a link is ignored by the patterns that match it as a file.
        if (!this.matcher.ignores(relPath)) this.followLink(join(realDir, name), relPath, ancestors);
      }
      // Sockets, FIFOs and devices are not files a repository can contain.
    }
  }

  private walkDirectory(realDir: string, relDir: string, ancestors: ReadonlySet<string>): void {
    let entries: Dirent[];
    try {
      entries = readdirSync(realDir, { withFileTypes: true });
    } catch (error) {
      this.skipped.push({ path: relDir, reason: 'unreadable', detail: `cannot list directory: ${errnoOf(error)}` });
      return;
    }
    const inner = new Set(ancestors);
    inner.add(realDir);
    this.walkEntries(realDir, relDir, entries, inner);
  }

  private followLink(absPath: string, relPath: string, ancestors: ReadonlySet<string>): void {
    let target: string;
    try {
      target = realpathSync.native(absPath);
    } catch (error) {
      const code = errnoOf(error);
      if (code === 'ELOOP') {
        this.skipped.push({ path: relPath, reason: 'symlink_loop', detail: 'symbolic link chain loops (ELOOP)' });
      } else {
        this.skipped.push({ path: relPath, reason: 'unreadable', detail: `dangling symbolic link: ${code}` });
      }
      return;
    }
    if (target !== this.realRoot && !target.startsWith(this.rootPrefix)) {
      this.skipped.push({ path: relPath, reason: 'symlink_outside_root', detail: `target resolves outside the repository root` });
      return;
    }
    let isDirectory: boolean;
    let isFile: boolean;
    try {
      const stats = statSync(target);
      isDirectory = stats.isDirectory();
      isFile = stats.isFile();
    } catch (error) {
      this.skipped.push({ path: relPath, reason: 'unreadable', detail: `cannot stat link target: ${errnoOf(error)}` });
      return;
    }
    if (isFile) {
      this.files.push(relPath);
    } else if (isDirectory) {
      if (ancestors.has(target)) {
        this.skipped.push({
          path: relPath,
          reason: 'symlink_loop',
          detail: `directory link points to its own ancestor ${this.describeTarget(target)}`,
        });
        return;
      }
      if (this.matcher.ignores(`${relPath}/`)) return;
      this.walkDirectory(target, relPath, ancestors);
    }
  }

  private describeTarget(target: string): string {
    return target === this.realRoot ? '(the repository root)' : target.slice(this.rootPrefix.length).split(sep).join('/');
  }

  private readIgnoreFile(absPath: string, relPath: string, optional: boolean): string | undefined {
    try {
      return readFileSync(absPath, 'utf8');
    } catch (error) {
      const code = errnoOf(error);
      if (optional && (code === 'ENOENT' || code === 'ENOTDIR')) return undefined;
      this.skipped.push({ path: relPath, reason: 'unreadable', detail: `ignore file not applied: ${code}` });
      return undefined;
    }
  }
}

/**
 * Rewrites the patterns of the `.gitignore` in `relDir` so that they apply
 * from the root: anchored patterns (leading or inner `/`) get the directory
 * prefix, unanchored ones match at any depth below it (`dir/**\/pattern`).
 * Comments, blank lines and negations are preserved.
 */
export function scopePatterns(text: string, relDir: string): string[] {
  const lines = text.split(/\r?\n/);
  if (relDir === '') return lines;
  const prefix = escapeGlob(relDir) + '/';
  const out: string[] = [];
  for (const line of lines) {
    if (line.trim() === '' || line.startsWith('#')) continue;
    let body = line;
    let negation = '';
    if (body.startsWith('!')) {
      negation = '!';
      body = body.slice(1);
    }
    const withoutTrailing = body.replace(/\/+\s*$/, '');
    if (body.startsWith('/')) {
      out.push(`${negation}${prefix}${body.slice(1)}`);
    } else if (withoutTrailing.includes('/')) {
      out.push(`${negation}${prefix}${body}`);
    } else {
      out.push(`${negation}${prefix}**/${body}`);
    }
  }
  return out;
}

function escapeGlob(path: string): string {
  return path.replace(/[\\*?[\]!#]/g, (char) => `\\${char}`);
}

function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function errnoOf(error: unknown): string {
  if (error !== null && typeof error === 'object' && 'code' in error && typeof error.code === 'string') return error.code;
  return error instanceof Error ? error.message : String(error);
}
