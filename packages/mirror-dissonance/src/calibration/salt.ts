/**
 * Where the anonymizer salt lives (DESIGN §7): in AWS mode the SecureString
 * SSM parameter `/guardian/<stage>/anonymizer_salt`; in embedded mode
 * `<stateDir>/anonymizer_salt` (0600), created on first use. Both fail
 * closed: a missing, malformed or exposed salt is an error, never replaced
 * by a default (a new salt would silently split every organisation's history
 * into two unlinkable identities). The value never appears in an error.
 */
import type { SSMClient } from '@aws-sdk/client-ssm';
import { DependencyError } from '../errors';
import { awsStoreFailure } from '../store/aws/errors';
import { guardianPath } from '../secrets/guardian-path';
import { loadOrCreateOwnerOnlySecret } from '../secrets/owner-only-secret';

/** File name of the embedded salt inside the state directory. */
export const EMBEDDED_SALT_FILE = 'anonymizer_salt';

const SALT = /^[0-9a-f]{64}$/;

/** The SSM parameter holding a stage's salt. */
export function ssmSaltParameter(stage: string): string {
  return `${guardianPath(stage)}anonymizer_salt`;
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
  return loadOrCreateOwnerOnlySecret({
    stateDir,
    fileName: EMBEDDED_SALT_FILE,
    label: 'anonymizer salt',
    code: 'STORE_FAILED',
    context: { operation: 'load anonymizer salt' },
    corruptAdvice:
      'restore it from a backup (deleting it starts a new salt, which unlinks every organisation from its calibration history)',
  });
}
