/**
 * SSM adapter of the nonce secret store: SecureString parameters
 * `/guardian/<stage>/redaction_nonce_v<N>`, 64 lowercase hex, encrypted with
 * the project KMS key (DESIGN §8).
 *
 * - Versions are enumerated with `GetParametersByPath` (paginated) without
 *   decryption, so listing never decrypts anything (the anonymizer salt lives
 *   under the same path);
 * - values are read with `GetParameter` and decryption, one version at a
 *   time, so a loader decrypts only the versions it will use;
 * - a version is created with `PutParameter` `Overwrite=false` and the KMS
 *   `KeyId` always given: an existing version is never replaced.
 *
 * A parameter that is not a SecureString, or whose value is not 64 lowercase
 * hex, is an IntegrityError NONCE_INVALID: fail closed, never skipped.
 */
import type { SSMClient } from '@aws-sdk/client-ssm';
import { IntegrityError, UsageError } from '../errors';
import { guardianPath } from '../secrets/guardian-path';
import { awsStoreFailure } from '../store/aws/errors';
import { assertNonceVersion, NONCE_NAME_PREFIX, NONCE_VALUE, nonceVersionOf, type NonceSecretStore, type NonceVersionInfo } from './store';

type SsmLib = typeof import('@aws-sdk/client-ssm');

/** Required when first used: embedded runs never load the SDK. */
function ssmLib(): SsmLib {
  return require('@aws-sdk/client-ssm') as SsmLib;
}

export interface SsmNonceStoreOptions {
  client: SSMClient;
  stage: string;
  /** KMS key id, ARN or alias for new versions; required to create versions. */
  kmsKeyId?: string;
}

/** `/guardian/<stage>/redaction_nonce_v<version>`. */
export function nonceParameterName(stage: string, version: number): string {
  return `${guardianPath(stage)}${NONCE_NAME_PREFIX}${version}`;
}

function errorName(error: unknown): string | undefined {
  const name = (error as { name?: unknown } | null)?.name;
  return typeof name === 'string' ? name : undefined;
}

export class SsmNonceStore implements NonceSecretStore {
  readonly location: string;
  private readonly client: SSMClient;
  private readonly stage: string;
  private readonly path: string;
  private readonly kmsKeyId: string | undefined;

  constructor(options: SsmNonceStoreOptions) {
    this.client = options.client;
    this.stage = options.stage;
    this.path = guardianPath(options.stage);
    this.kmsKeyId = options.kmsKeyId;
    this.location = `SSM ${this.path}${NONCE_NAME_PREFIX}*`;
  }

  async listVersions(): Promise<NonceVersionInfo[]> {
    const { GetParametersByPathCommand } = ssmLib();
    const versions: NonceVersionInfo[] = [];
    let nextToken: string | undefined;
    do {
      let page: import('@aws-sdk/client-ssm').GetParametersByPathCommandOutput;
      try {
        page = await this.client.send(
          new GetParametersByPathCommand({
            Path: this.path,
            Recursive: false,
            WithDecryption: false,
            MaxResults: 10,
            ...(nextToken !== undefined ? { NextToken: nextToken } : {}),
          }),
        );
      } catch (error) {
        throw awsStoreFailure(error, { resource: `SSM path ${this.path}`, operation: 'GetParametersByPath' }, 'NONCE_STORE_UNREACHABLE');
      }
      for (const parameter of page.Parameters ?? []) {
        const name = parameter.Name ?? '';
        const version = nonceVersionOf(name);
        if (version === undefined || name !== nonceParameterName(this.stage, version)) continue;
        if (parameter.Type !== 'SecureString') throw notSecure(name, parameter.Type);
        if (!(parameter.LastModifiedDate instanceof Date)) {
          throw new IntegrityError('NONCE_INVALID', `SSM parameter ${name} has no LastModifiedDate; its grace period cannot be computed`, {
            context: { parameter: name },
          });
        }
        versions.push({ version, name, createdAt: parameter.LastModifiedDate });
      }
      nextToken = page.NextToken || undefined;
    } while (nextToken !== undefined);
    return versions.sort((a, b) => a.version - b.version);
  }

  async readValue(version: NonceVersionInfo): Promise<string | undefined> {
    const { GetParameterCommand } = ssmLib();
    let parameter: import('@aws-sdk/client-ssm').Parameter | undefined;
    try {
      parameter = (await this.client.send(new GetParameterCommand({ Name: version.name, WithDecryption: true }))).Parameter;
    } catch (error) {
      // Deleted by a rotation between listing and reading: the version is simply gone.
      if (errorName(error) === 'ParameterNotFound') return undefined;
      throw awsStoreFailure(error, { resource: `SSM parameter ${version.name}`, operation: 'GetParameter' }, 'NONCE_STORE_UNREACHABLE');
    }
    if (parameter?.Type !== 'SecureString') throw notSecure(version.name, parameter?.Type);
    const value = parameter.Value;
    if (typeof value !== 'string' || !NONCE_VALUE.test(value)) {
      throw new IntegrityError('NONCE_INVALID', `SSM parameter ${version.name} is not 64 lowercase hex characters`, {
        context: { parameter: version.name },
      });
    }
    return value;
  }

  async create(version: number, value: string): Promise<'created' | 'exists'> {
    assertNonceVersion(version);
    const name = nonceParameterName(this.stage, version);
    if (this.kmsKeyId === undefined || this.kmsKeyId === '') {
      throw new UsageError(`creating ${name} needs the project KMS key: set storage.kmsKeyId in .phase-mirror.yml (key id, ARN or alias)`, {
        location: { field: 'storage.kmsKeyId' },
      });
    }
    if (!NONCE_VALUE.test(value)) {
      throw new IntegrityError('NONCE_INVALID', `refusing to write ${name}: the new value is not 64 lowercase hex characters`, {
        context: { parameter: name },
      });
    }
    const { PutParameterCommand } = ssmLib();
    try {
      await this.client.send(
        new PutParameterCommand({
          Name: name,
          Value: value,
          Type: 'SecureString',
          KeyId: this.kmsKeyId,
          Overwrite: false,
          Description: `Phase Mirror redaction nonce version ${version} (written once by rotation; never edit)`,
        }),
      );
    } catch (error) {
      if (errorName(error) === 'ParameterAlreadyExists') return 'exists';
      throw awsStoreFailure(error, { resource: `SSM parameter ${name}`, operation: 'PutParameter' }, 'NONCE_STORE_UNREACHABLE');
    }
    return 'created';
  }

  async delete(version: NonceVersionInfo): Promise<'deleted' | 'absent'> {
    const { DeleteParameterCommand } = ssmLib();
    try {
      await this.client.send(new DeleteParameterCommand({ Name: version.name }));
    } catch (error) {
      if (errorName(error) === 'ParameterNotFound') return 'absent';
      throw awsStoreFailure(error, { resource: `SSM parameter ${version.name}`, operation: 'DeleteParameter' }, 'NONCE_STORE_UNREACHABLE');
    }
    return 'deleted';
  }
}

function notSecure(name: string, type: string | undefined): IntegrityError {
  return new IntegrityError(
    'NONCE_INVALID',
    `SSM parameter ${name} must be a SecureString encrypted with the project KMS key (it is ${type ?? 'missing'}); delete it and rotate`,
    { context: { parameter: name, type } },
  );
}
