/**
 * Where the anonymizer salt lives (DESIGN §7): in AWS mode the SecureString
 * SSM parameter `/guardian/<stage>/anonymizer_salt`; in embedded mode
 * `<stateDir>/anonymizer_salt` (0600), created on first use. Both fail
 * closed: a missing, malformed or exposed salt is an error, never replaced
 * by a default (a new salt would silently split every organisation's history
 * into two unlinkable identities). The value never appears in an error.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { SSMClient } from '@aws-sdk/client-ssm';
import { DependencyError, InputError } from '../errors';
import { awsStoreFailure } from '../store/aws/errors';

/** File name of the embedded salt inside the state directory. */
export const EMBEDDED_SALT_FILE = 'anonymizer_salt';

const SALT = /^[0-9a-f]{64}$/;
const SALT_FILE_CONTENT = /^[0-9a-f]{64}\n?$/;
const STAGE = /^[A-Za-z0-9_.-]+$/;

/** The SSM parameter holding a stage's salt. */
export function ssmSaltParameter(stage: string): string {
  if (typeof stage !== 'string' || !STAGE.test(stage)) {
    throw new InputError('INPUT_INVALID', `storage stage must match ${STAGE.source}, got ${JSON.stringify(stage)}`, {
      location: { field: 'storage.stage' },
    });
  }
  return `/guardian/${stage}/anonymizer_salt`;
}

/**
 * Reads the salt from SSM with decryption. The parameter must exist, be a
 * SecureString (a plain String would keep the key unencrypted) and hold 64
 * lowercase hex characters.
 *
 * @throws DependencyError STORE_FAILED naming the parameter path (never the value)
 */
export async function loadSsmSalt(client: SSMClient, stage: string): Promise<string> {
  const name = ssmSaltParameter(stage);
  const resource = `SSM parameter ${name}`;
  // Required here, not at module load: embedded runs never pay for the SDK.
  const { GetParameterCommand } = require('@aws-sdk/client-ssm') as typeof import('@aws-sdk/client-ssm');
  let response: import('@aws-sdk/client-ssm').GetParameterCommandOutput;
  try {
    response = await client.send(new GetParameterCommand({ Name: name, WithDecryption: true }));
  } catch (error) {
    if ((error as { name?: unknown } | null)?.name === 'ParameterNotFound') {
      throw new DependencyError(
        'STORE_FAILED',
        `anonymizer salt ${resource} does not exist; create it once with ` +
          `\`aws ssm put-parameter --name ${name} --type SecureString --value "$(openssl rand -hex 32)"\` ` +
          '(add --key-id with the project KMS key) and never change it: a new salt unlinks every organisation from its history',
        { context: { resource, operation: 'GetParameter', parameter: name }, cause: error },
      );
    }
    throw awsStoreFailure(error, { resource, operation: 'GetParameter' });
  }
  const parameter = response.Parameter;
  if (parameter?.Type !== 'SecureString') {
    throw new DependencyError(
      'STORE_FAILED',
      `anonymizer salt ${resource} must be a SecureString (it is ${parameter?.Type ?? 'missing'}): recreate it with --type SecureString`,
      { context: { resource, operation: 'GetParameter', parameter: name, type: parameter?.Type } },
    );
  }
  const value = parameter.Value;
  if (typeof value !== 'string' || !SALT.test(value)) {
    throw new DependencyError('STORE_FAILED', `anonymizer salt ${resource} is not 64 lowercase hex characters`, {
      context: { resource, operation: 'GetParameter', parameter: name },
    });
  }
  return value;
}

/**
 * Loads `<stateDir>/anonymizer_salt`, creating it (and the 0700 directory)
 * on first use with 32 random bytes as 64 lowercase hex, mode 0600.
 * Concurrent first runs agree on one salt: the value is written to a private
 * temporary file opened with `wx` and published with a hard link, which fails
 * if the salt already exists; the loser reads the winner's file.
 *
 * @throws DependencyError STORE_FAILED naming the file (never the value) when
 *   it cannot be created or read, is corrupt, a symbolic link, or readable or
 *   writable by group or others
 */
export function loadOrCreateEmbeddedSalt(stateDir: string): string {
  const file = path.join(stateDir, EMBEDDED_SALT_FILE);
  try {
    fs.mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  } catch (error) {
    throw unavailable(`cannot create state directory ${stateDir} for the anonymizer salt`, stateDir, error);
  }
  if (!fs.existsSync(file)) createSaltFile(file);
  return readSaltFile(file);
}

function unavailable(message: string, file: string, cause?: unknown, context: Record<string, unknown> = {}): DependencyError {
  return new DependencyError('STORE_FAILED', message, {
    location: { file },
    context: { file, operation: 'load anonymizer salt', ...context },
    ...(cause === undefined ? {} : { cause }),
  });
}

function errnoCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error ? String((error as { code: unknown }).code) : undefined;
}

/** Publishes a fresh salt at `file` unless one already exists (then it is left alone). */
function createSaltFile(file: string): void {
  const temporary = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  let fd: number;
  try {
    fd = fs.openSync(temporary, 'wx', 0o600);
  } catch (error) {
    throw unavailable(`cannot create the anonymizer salt file ${file}`, file, error);
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
      // EEXIST: a concurrent run published first; its salt is the one to use.
      if (errnoCode(error) !== 'EEXIST') failure = error;
    }
  }
  try {
    fs.unlinkSync(temporary);
  } catch (error) {
    failure ??= error;
  }
  if (failure !== undefined) throw unavailable(`cannot create the anonymizer salt file ${file}`, file, failure);
}

function readSaltFile(file: string): string {
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
  } catch (error) {
    const why = errnoCode(error) === 'ELOOP' ? 'is a symbolic link' : 'cannot be opened';
    throw unavailable(`anonymizer salt file ${file} ${why}`, file, error);
  }
  try {
    const stat = fs.fstatSync(fd);
    if (!stat.isFile()) throw unavailable(`anonymizer salt file ${file} is not a regular file`, file);
    const mode = stat.mode & 0o777;
    // POSIX permission bits do not exist on Windows (Node reports 0666 there).
    if (process.platform !== 'win32' && (mode & 0o077) !== 0) {
      const octal = `0${mode.toString(8).padStart(3, '0')}`;
      throw unavailable(
        `anonymizer salt file ${file} has mode ${octal}, readable or writable by group or others; run \`chmod 600 ${file}\``,
        file,
        undefined,
        { mode: octal },
      );
    }
    // 64 hex characters and a newline; read one byte more to detect longer files.
    const buffer = Buffer.alloc(66);
    const length = fs.readSync(fd, buffer, 0, buffer.length, 0);
    const content = buffer.toString('latin1', 0, length);
    if (!SALT_FILE_CONTENT.test(content)) {
      throw unavailable(
        `anonymizer salt file ${file} is corrupt: expected 64 lowercase hex characters; restore it from a backup (deleting it starts a new salt, which unlinks every organisation from its calibration history)`,
        file,
      );
    }
    return content.slice(0, 64);
  } catch (error) {
    if (error instanceof DependencyError) throw error;
    throw unavailable(`anonymizer salt file ${file} cannot be read`, file, error);
  } finally {
    fs.closeSync(fd);
  }
}
