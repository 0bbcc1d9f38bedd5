/**
 * DynamoDB adapter of the governance cache (table `governanceCache` of
 * table-definitions.ts), written by the baseline-loader function:
 *
 * - pk `baseline#<owner/repo>`: the repository's current integrity baseline
 *   as loaded from the baselines bucket (bucket, key, version id, sha256 of
 *   the bytes, when the object was written and when it was loaded). A record
 *   only replaces one for an object written at the same time or earlier, so a
 *   late, out-of-order S3 event never rolls the current baseline back.
 * - pk `quarantine#<owner/repo>`: the last baseline quarantined and why.
 *
 * Repository names are case-insensitive on GitHub: the keys use lowercase,
 * the items keep the name as written.
 */
import { InputError } from '../../errors';
import { isConditionalCheckFailed, awsStoreFailure } from './errors';
import { DynamoTable, lib } from './dynamo-table';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

export interface BaselineRecord {
  /** `owner/repo` as written in the object key. */
  repository: string;
  bucket: string;
  key: string;
  /** S3 version id (versioned bucket); undefined on an unversioned bucket. */
  versionId?: string;
  /** SHA-256 (hex) of the object's bytes. */
  sha256: string;
  size: number;
  /** When S3 stored the object (its LastModified), ISO 8601. */
  objectLastModified: string;
  /** The baseline's own `createdAt` and the number of files it pins. */
  baselineCreatedAt: string;
  fileCount: number;
  /** When the loader recorded it, ISO 8601. */
  loadedAt: string;
}

export interface QuarantineRecord {
  /** `owner/repo` when the key names one; undefined for a key outside the layout. */
  repository?: string;
  bucket: string;
  /** The original key and version that were quarantined. */
  key: string;
  versionId?: string;
  /** Where the object was copied: `quarantine/<original key>`. */
  quarantineKey: string;
  reason: string;
  quarantinedAt: string;
}

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;

export function governanceBaselineKey(repository: string): string {
  return `baseline#${repository.toLowerCase()}`;
}

/** The quarantine record's key: the repository, or the object key when it names none. */
export function governanceQuarantineKey(record: Pick<QuarantineRecord, 'repository' | 'key'>): string {
  return record.repository !== undefined ? `quarantine#${record.repository.toLowerCase()}` : `quarantine#key:${record.key}`;
}

export class DynamoGovernanceCache extends DynamoTable {
  constructor(options: { client: DynamoDBDocumentClient; tableName: string }) {
    super(options);
  }

  /**
   * Records `record` as the repository's current baseline unless the current
   * one comes from an object written later.
   * @returns `recorded`, or `superseded` when a newer object is already current
   */
  async recordBaseline(record: BaselineRecord): Promise<'recorded' | 'superseded'> {
    validateRepository(record.repository);
    for (const field of ['objectLastModified', 'loadedAt', 'baselineCreatedAt'] as const) {
      if (!ISO.test(record[field])) {
        throw new InputError('INPUT_INVALID', `${field} must be an ISO 8601 UTC date-time, got ${JSON.stringify(record[field])}`, { location: { field } });
      }
    }
    const { PutCommand } = lib();
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { pk: governanceBaselineKey(record.repository), kind: 'baseline', ...record },
          ConditionExpression: 'attribute_not_exists(pk) OR objectLastModified <= :written',
          ExpressionAttributeValues: { ':written': record.objectLastModified },
        }),
      );
      return 'recorded';
    } catch (error) {
      if (isConditionalCheckFailed(error)) return 'superseded';
      throw awsStoreFailure(error, { resource: this.resource, operation: 'PutItem' });
    }
  }

  /** The repository's current baseline; undefined when none was loaded. */
  async currentBaseline(repository: string): Promise<BaselineRecord | undefined> {
    validateRepository(repository);
    const { GetCommand } = lib();
    const result = await this.call('GetItem', () =>
      this.client.send(new GetCommand({ TableName: this.tableName, Key: { pk: governanceBaselineKey(repository) }, ConsistentRead: true })),
    );
    if (result.Item === undefined) return undefined;
    const { pk: _pk, kind: _kind, ...record } = result.Item;
    return record as BaselineRecord;
  }

  /** Records the last quarantine of the repository (or of the key, when it names no repository). */
  async recordQuarantine(record: QuarantineRecord): Promise<void> {
    if (record.repository !== undefined) validateRepository(record.repository);
    const { PutCommand } = lib();
    await this.call('PutItem', () =>
      this.client.send(new PutCommand({ TableName: this.tableName, Item: { pk: governanceQuarantineKey(record), kind: 'quarantine', ...record } })),
    );
  }

  /** The last quarantine recorded for the repository. */
  async lastQuarantine(repository: string): Promise<QuarantineRecord | undefined> {
    validateRepository(repository);
    const { GetCommand } = lib();
    const result = await this.call('GetItem', () =>
      this.client.send(new GetCommand({ TableName: this.tableName, Key: { pk: governanceQuarantineKey({ repository, key: '' }) }, ConsistentRead: true })),
    );
    if (result.Item === undefined) return undefined;
    const { pk: _pk, kind: _kind, ...record } = result.Item;
    return record as QuarantineRecord;
  }
}

function validateRepository(repository: string): void {
  if (typeof repository !== 'string' || !/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/.test(repository)) {
    throw new InputError('INPUT_INVALID', `repository must be owner/name, got ${JSON.stringify(repository)}`, { location: { field: 'repository' } });
  }
}
