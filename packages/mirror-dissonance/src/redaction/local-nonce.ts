/**
 * The embedded-mode redaction nonce (DESIGN §8): `<stateDir>/nonce`, 32
 * random bytes as 64 lowercase hex, owner-only permissions (0600) in an
 * owner-only directory (0700). It fails closed: a corrupt or world-readable
 * file is an error, never silently regenerated (regenerating would orphan
 * every report branded with the old nonce and hide tampering).
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DependencyError } from '../errors';
import type { NonceKey } from './redactor';

/** File name of the nonce inside the state directory. */
export const LOCAL_NONCE_FILE = 'nonce';
/** Embedded mode has a single nonce version; rotation is an SSM-mode feature. */
export const LOCAL_NONCE_VERSION = 1;

const NONCE_CONTENT = /^[0-9a-f]{64}\n?$/;

function unavailable(message: string, file: string, cause?: unknown, context: Record<string, unknown> = {}): DependencyError {
  return new DependencyError('NONCE_UNAVAILABLE', message, { location: { file }, context, cause });
}

function errnoCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error ? String((error as { code: unknown }).code) : undefined;
}

/**
 * Loads the embedded nonce from `<stateDir>/nonce`, creating it (and the
 * directory) on first use. Concurrent first runs agree on one nonce: the
 * value is written to a private temporary file opened with `wx`, then
 * published with a hard link, which fails if the nonce already exists; the
 * loser reads the winner's file. A reader therefore never sees a partly
 * written nonce.
 *
 * @param stateDir the `.phase-mirror` directory under the repository root
 * @param now load time recorded in `loadedAt` @default new Date()
 * @throws DependencyError NONCE_UNAVAILABLE naming the file (never the value)
 */
export function loadOrCreateLocalNonce(stateDir: string, now: Date = new Date()): NonceKey {
  const file = path.join(stateDir, LOCAL_NONCE_FILE);
  try {
    fs.mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  } catch (error) {
    throw unavailable(`cannot create state directory ${stateDir} for the redaction nonce`, stateDir, error);
  }
  if (!fs.existsSync(file)) createNonceFile(file);
  return { version: LOCAL_NONCE_VERSION, value: readNonceFile(file), loadedAt: now };
}

/** Publishes a fresh nonce at `file` unless one already exists (then it is left alone). */
function createNonceFile(file: string): void {
  const temporary = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  let fd: number;
  try {
    fd = fs.openSync(temporary, 'wx', 0o600);
  } catch (error) {
    throw unavailable(`cannot create the redaction nonce file ${file}`, file, error);
  }
  let failure: unknown;
  try {
    // The umask can only remove bits, but make the mode exact regardless.
    fs.fchmodSync(fd, 0o600);
    fs.writeSync(fd, `${randomBytes(32).toString('hex')}\n`);
    fs.fsyncSync(fd);
  } catch (error) {
    failure = error;
  }
  fs.closeSync(fd);
  if (failure === undefined) {
    try {
      fs.linkSync(temporary, file);
    } catch (error) {
      // EEXIST: a concurrent run published first; its nonce is the one to use.
      if (errnoCode(error) !== 'EEXIST') failure = error;
    }
  }
  // The temporary name is removed in every case; after a successful link the
  // nonce stays reachable under `file`.
  try {
    fs.unlinkSync(temporary);
  } catch (error) {
    failure ??= error;
  }
  if (failure !== undefined) throw unavailable(`cannot create the redaction nonce file ${file}`, file, failure);
}

function readNonceFile(file: string): string {
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
  } catch (error) {
    const code = errnoCode(error);
    const why = code === 'ELOOP' ? 'is a symbolic link' : 'cannot be opened';
    throw unavailable(`redaction nonce file ${file} ${why}`, file, error);
  }
  try {
    const stat = fs.fstatSync(fd);
    if (!stat.isFile()) throw unavailable(`redaction nonce file ${file} is not a regular file`, file);
    const mode = stat.mode & 0o777;
    // POSIX permission bits do not exist on Windows (Node reports 0666 there).
    if (process.platform !== 'win32' && (mode & 0o077) !== 0) {
      const octal = `0${mode.toString(8).padStart(3, '0')}`;
      throw unavailable(
        `redaction nonce file ${file} has mode ${octal}, readable or writable by group or others; run \`chmod 600 ${file}\``,
        file,
        undefined,
        { mode: octal },
      );
    }
    // 64 hex characters and a newline; read one byte more to detect longer files.
    const buffer = Buffer.alloc(66);
    const length = fs.readSync(fd, buffer, 0, buffer.length, 0);
    const content = buffer.toString('latin1', 0, length);
    if (!NONCE_CONTENT.test(content)) {
      throw unavailable(
        `redaction nonce file ${file} is corrupt: expected 64 lowercase hex characters; restore it or delete it to start a new nonce (reports branded with the old one will no longer verify)`,
        file,
      );
    }
    return content.slice(0, 64);
  } catch (error) {
    if (error instanceof DependencyError) throw error;
    throw unavailable(`redaction nonce file ${file} cannot be read`, file, error);
  } finally {
    fs.closeSync(fd);
  }
}
