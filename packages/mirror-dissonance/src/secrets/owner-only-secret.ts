/**
 * A 32-byte secret kept as 64 lowercase hex in an owner-only file of the
 * state directory (the embedded nonce, the anonymizer salt). Created on first
 * use; fails closed afterwards: a corrupt, linked or group/world-accessible
 * file is an error, never silently regenerated.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DependencyError, type ErrorCode } from '../errors';

export interface OwnerOnlySecret {
  stateDir: string;
  fileName: string;
  /** What it is, for messages: `redaction nonce`, `anonymizer salt`. */
  label: string;
  /** The code of every error (the caller's failure-contract class). */
  code: ErrorCode;
  /** Extra error context (e.g. the operation). */
  context?: Record<string, unknown>;
  /** What to do about a corrupt file, appended to its message. */
  corruptAdvice: string;
}

const CONTENT = /^[0-9a-f]{64}\n?$/;

/**
 * Loads the secret, creating the directory (0700) and the file (0600) on
 * first use. Concurrent first runs agree on one value: it is written to a
 * private temporary file opened with `wx`, then published with a hard link,
 * which fails if the secret already exists; the loser reads the winner's
 * file, so a reader never sees a partly written secret.
 *
 * @throws DependencyError (with `spec.code`) naming the file, never the value
 */
export function loadOrCreateOwnerOnlySecret(spec: OwnerOnlySecret): string {
  const file = path.join(spec.stateDir, spec.fileName);
  try {
    fs.mkdirSync(spec.stateDir, { recursive: true, mode: 0o700 });
  } catch (error) {
    throw failure(spec, `cannot create state directory ${spec.stateDir} for the ${spec.label}`, spec.stateDir, error);
  }
  if (!fs.existsSync(file)) publishSecretFile(spec, file, randomBytes(32).toString('hex'));
  return readSecretFile(spec, file);
}

/**
 * Publishes `value` (64 lowercase hex) as a new owner-only secret file unless
 * one already exists under that name: `created`, or `exists` (left untouched;
 * a concurrent writer won). The directory must already exist.
 *
 * @throws DependencyError (with `spec.code`) naming the file, never the value
 */
export function publishOwnerOnlySecret(spec: OwnerOnlySecret, value: string): 'created' | 'exists' {
  if (!/^[0-9a-f]{64}$/.test(value)) {
    throw failure(spec, `refusing to write the ${spec.label}: the new value is not 64 lowercase hex characters`, path.join(spec.stateDir, spec.fileName));
  }
  return publishSecretFile(spec, path.join(spec.stateDir, spec.fileName), value);
}

/**
 * Reads an existing owner-only secret file (no creation).
 *
 * @throws DependencyError (with `spec.code`) naming the file, never the value
 */
export function readOwnerOnlySecret(spec: OwnerOnlySecret): string {
  return readSecretFile(spec, path.join(spec.stateDir, spec.fileName));
}

function failure(spec: OwnerOnlySecret, message: string, file: string, cause?: unknown, context: Record<string, unknown> = {}): DependencyError {
  return new DependencyError(spec.code, message, {
    location: { file },
    context: { file, ...spec.context, ...context },
    ...(cause === undefined ? {} : { cause }),
  });
}

function errnoCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error ? String((error as { code: unknown }).code) : undefined;
}

/** Publishes `value` at `file` unless a secret already exists there (then it is left alone). */
function publishSecretFile(spec: OwnerOnlySecret, file: string, value: string): 'created' | 'exists' {
  const temporary = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  let fd: number;
  try {
    fd = fs.openSync(temporary, 'wx', 0o600);
  } catch (error) {
    throw failure(spec, `cannot create the ${spec.label} file ${file}`, file, error);
  }
  let problem: unknown;
  let outcome: 'created' | 'exists' = 'created';
  try {
    // The umask can only remove bits, but make the mode exact regardless.
    fs.fchmodSync(fd, 0o600);
    fs.writeSync(fd, `${value}\n`);
    fs.fsyncSync(fd);
  } catch (error) {
    problem = error;
  }
  fs.closeSync(fd);
  if (problem === undefined) {
    try {
      fs.linkSync(temporary, file);
    } catch (error) {
      // EEXIST: a concurrent run published first; its secret is the one to use.
      if (errnoCode(error) === 'EEXIST') outcome = 'exists';
      else problem = error;
    }
  }
  // The temporary name is removed in every case; after a successful link the
  // secret stays reachable under `file`.
  try {
    fs.unlinkSync(temporary);
  } catch (error) {
    problem ??= error;
  }
  if (problem !== undefined) throw failure(spec, `cannot create the ${spec.label} file ${file}`, file, problem);
  return outcome;
}

function readSecretFile(spec: OwnerOnlySecret, file: string): string {
  const what = `${spec.label} file ${file}`;
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
  } catch (error) {
    const why = errnoCode(error) === 'ELOOP' ? 'is a symbolic link' : 'cannot be opened';
    throw failure(spec, `${what} ${why}`, file, error);
  }
  try {
    const stat = fs.fstatSync(fd);
    if (!stat.isFile()) throw failure(spec, `${what} is not a regular file`, file);
    const mode = stat.mode & 0o777;
    // POSIX permission bits do not exist on Windows (Node reports 0666 there).
    if (process.platform !== 'win32' && (mode & 0o077) !== 0) {
      const octal = `0${mode.toString(8).padStart(3, '0')}`;
      throw failure(spec, `${what} has mode ${octal}, readable or writable by group or others; run \`chmod 600 ${file}\``, file, undefined, {
        mode: octal,
      });
    }
    // 64 hex characters and a newline; read one byte more to detect longer files.
    const buffer = Buffer.alloc(66);
    const length = fs.readSync(fd, buffer, 0, buffer.length, 0);
    const content = buffer.toString('latin1', 0, length);
    if (!CONTENT.test(content)) {
      throw failure(spec, `${what} is corrupt: expected 64 lowercase hex characters; ${spec.corruptAdvice}`, file);
    }
    return content.slice(0, 64);
  } catch (error) {
    if (error instanceof DependencyError) throw error;
    throw failure(spec, `${what} cannot be read`, file, error);
  } finally {
    fs.closeSync(fd);
  }
}
