/**
 * Reads one repository file as text, refusing what the oracle must not or
 * need not read: anything resolving outside the root, files above a size cap,
 * binary files. A refusal is a `SkippedFile` the report lists, never a crash.
 */
import { readFileSync, realpathSync, statSync } from 'node:fs';
import { dirname, basename, isAbsolute, join, posix, relative, resolve, sep } from 'node:path';
import { InputError, PhaseMirrorError } from '../errors';
import type { RepoFile, SkippedFile } from '../types';

/** 1 MiB: larger files are skipped as `too_large`. */
export const DEFAULT_MAX_BYTES = 1_048_576;
/** How much of a file is inspected for a NUL byte, like git's binary heuristic. */
const BINARY_SNIFF_BYTES = 8192;

export interface ReadRepoFileOptions {
  /** Files larger than this are skipped without reading them. @default 1048576 */
  maxBytes?: number;
}

export type ReadRepoFileResult = { file: RepoFile } | { skipped: SkippedFile };

/**
 * Returns the absolute real path of `relPath` below `root`, resolving every
 * symlink, so callers read exactly what is inside the repository.
 *
 * A path that does not exist (yet) is resolved through its nearest existing
 * ancestor, the remaining segments appended unchanged, so the check still
 * holds for files about to be created and for dangling links (whose read then
 * fails as a normal ENOENT).
 *
 * @throws InputError `PATH_OUTSIDE_ROOT` (location.file = relPath) when the
 *   path is absolute, climbs out with `..`, or resolves outside the root
 *   through a symlink; `FILE_UNREADABLE` (errno in context) when a component
 *   cannot be resolved (ELOOP, EACCES); `REPO_NOT_FOUND` when the root does
 *   not exist.
 */
export function resolveInsideRoot(root: string, relPath: string): string {
  const realRoot = realRootOf(root);
  if (isAbsolute(relPath)) {
    throw outside(relPath, 'an absolute path is not repository-relative', false);
  }
  const lexical = resolve(realRoot, relPath);
  if (!isInside(realRoot, lexical)) {
    throw outside(relPath, 'the path climbs out of the repository root', false);
  }
  let real: string;
  try {
    real = realpathOrNearest(lexical);
  } catch (error) {
    const errno = errnoOf(error);
    throw new InputError('FILE_UNREADABLE', `cannot resolve ${relPath}: ${errno}`, {
      location: { file: relPath },
      context: { errno },
      cause: error,
    });
  }
  if (!isInside(realRoot, real)) {
    throw outside(relPath, 'the path resolves outside the repository root through a symbolic link', true);
  }
  return real;
}

/**
 * Reads a repository file as UTF-8 text (synchronously: callers read many
 * small files and the collector is a straight sequence).
 *
 * Outcomes: `{ file }`, or `{ skipped }` with reason `symlink_outside_root`
 * (a symlink leads out of the root; nothing is read), `too_large` (decided
 * from `stat`, the content is not read), `binary` (a NUL byte in the first
 * 8 KiB), or `unreadable` (errno in `detail`; also for a path that is not a
 * regular file).
 *
 * @throws InputError `PATH_OUTSIDE_ROOT` when `relPath` itself is not a
 *   repository-relative path (absolute or climbing out with `..`): that is a
 *   caller error, not a property of the repository; `INPUT_INVALID` (field
 *   maxBytes) for a negative or non-integer limit; `REPO_NOT_FOUND`.
 */
export function readRepoFile(root: string, relPath: string, options: ReadRepoFileOptions = {}): ReadRepoFileResult {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 0) {
    throw new InputError('INPUT_INVALID', `maxBytes must be a non-negative integer, got ${maxBytes}`, {
      location: { field: 'maxBytes' },
    });
  }
  const path = toPosixRelative(relPath);
  let real: string;
  try {
    real = resolveInsideRoot(root, relPath);
  } catch (error) {
    if (!(error instanceof PhaseMirrorError)) throw error;
    if (error.code === 'PATH_OUTSIDE_ROOT' && error.context.viaSymlink === true) {
      return { skipped: { path, reason: 'symlink_outside_root', detail: error.message } };
    }
    if (error.code === 'FILE_UNREADABLE') {
      return { skipped: { path, reason: 'unreadable', detail: String(error.context.errno) } };
    }
    throw error;
  }
  let size: number;
  try {
    const stats = statSync(real);
    if (!stats.isFile()) {
      return { skipped: { path, reason: 'unreadable', detail: stats.isDirectory() ? 'EISDIR' : 'not a regular file' } };
    }
    size = stats.size;
  } catch (error) {
    return { skipped: { path, reason: 'unreadable', detail: errnoOf(error) } };
  }
  if (size > maxBytes) {
    return { skipped: { path, reason: 'too_large', detail: `${size} bytes exceeds the ${maxBytes}-byte limit` } };
  }
  let bytes: Buffer;
  try {
    bytes = readFileSync(real);
  } catch (error) {
    return { skipped: { path, reason: 'unreadable', detail: errnoOf(error) } };
  }
  if (bytes.length > maxBytes) {
    // The file grew between stat and read.
    return { skipped: { path, reason: 'too_large', detail: `${bytes.length} bytes exceeds the ${maxBytes}-byte limit` } };
  }
  if (bytes.subarray(0, BINARY_SNIFF_BYTES).includes(0)) {
    return { skipped: { path, reason: 'binary', detail: `NUL byte within the first ${BINARY_SNIFF_BYTES} bytes` } };
  }
  return { file: { path, text: bytes.toString('utf8'), size: bytes.length } };
}

function realRootOf(root: string): string {
  try {
    return realpathSync.native(root);
  } catch (error) {
    throw new InputError('REPO_NOT_FOUND', `repository root ${root} does not exist (${errnoOf(error)})`, {
      location: { file: root },
      cause: error,
    });
  }
}

function realpathOrNearest(absPath: string): string {
  const missing: string[] = [];
  let current = absPath;
  for (;;) {
    try {
      const real = realpathSync.native(current);
      return missing.length === 0 ? real : join(real, ...missing.reverse());
    } catch (error) {
      const code = errnoOf(error);
      const parent = dirname(current);
      if ((code !== 'ENOENT' && code !== 'ENOTDIR') || parent === current) throw error;
      missing.push(basename(current));
      current = parent;
    }
  }
}

function isInside(realRoot: string, candidate: string): boolean {
  if (candidate === realRoot) return true;
  const rel = relative(realRoot, candidate);
  return rel !== '' && !rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel);
}

/** `viaSymlink` tells a repository property (a link leading out) from a caller error (a bad path). */
function outside(relPath: string, why: string, viaSymlink: boolean): InputError {
  return new InputError('PATH_OUTSIDE_ROOT', `${relPath} is outside the repository root: ${why}`, {
    location: { file: relPath },
    context: { viaSymlink },
  });
}

function toPosixRelative(relPath: string): string {
  const normalized = posix.normalize(relPath.split(sep).join('/'));
  return normalized.startsWith('./') ? normalized.slice(2) : normalized;
}

function errnoOf(error: unknown): string {
  if (error !== null && typeof error === 'object' && 'code' in error && typeof error.code === 'string') return error.code;
  return error instanceof Error ? error.message : String(error);
}
