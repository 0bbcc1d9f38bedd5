/**
 * DynamoDB adapter of the consent store (DESIGN §7). Keys as in
 * table-definitions.ts, one partition per organisation:
 * - pk `org#<orgId>`, sk `current#<resource>#<scope>`: the current record of
 *   a scope, where scope is `org` or `repo:<owner/name>`;
 * - pk `org#<orgId>`, sk `history#<iso>#<resource>#<scope>#<random>`: one
 *   grant or revocation. `<iso>` is the normalized UTC time of the action
 *   (`Date#toISOString`), so the sort key orders history by time.
 * A grant or revocation writes its current record and its history entry in
 * one TransactWriteItems call: they never disagree. The expiry of a grant is
 * stored as `consentExpiresAt` (ISO text), never as the table's TTL attribute
 * `expiresAt`: an expired consent is a state to report, not a row to delete.
 */
import { randomUUID } from 'node:crypto';
import type { DynamoDBDocumentClient, TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import {
  compareConsentRecords,
  decideConsent,
  describeConsentScope,
  validateCheckTime,
  validateConsentGrant,
  validateConsentRevocation,
  validateConsentScope,
  validateOrgId,
} from '../../consent/consent';
import { DependencyError, NotFoundError } from '../../errors';
import type { ConsentHistoryEntry, ConsentRecord, ConsentResource, ConsentScope, ConsentState, ConsentStore } from '../ports';
import { awsStoreFailure } from './errors';
import { DynamoTable, lib } from './dynamo-table';

type Item = Record<string, unknown>;
type TransactItems = NonNullable<TransactWriteCommandInput['TransactItems']>;

export interface DynamoConsentStoreOptions {
  client: DynamoDBDocumentClient;
  /** Physical name of the consent table. */
  tableName: string;
  /**
   * Attempts of a grant or revocation that lost a race with a concurrent
   * write to the same scope before giving up with STORE_FAILED.
   * @default 5
   */
  maxConflictAttempts?: number;
}

const CURRENT = 'current#';
const HISTORY = 'history#';

/** Sort key of a scope's current record. */
export function consentCurrentKey(scope: ConsentScope): string {
  return `${CURRENT}${scope.resource}#${scopePart(scope.repository)}`;
}

/** Sort key of one history entry at `atMs`. */
export function consentHistoryKey(scope: ConsentScope, atMs: number, unique: string = randomUUID()): string {
  return `${HISTORY}${new Date(atMs).toISOString()}#${scope.resource}#${scopePart(scope.repository)}#${unique}`;
}

/**
 * ConsentStore over a DynamoDB table.
 *
 * Revoking a scope that is already revoked is allowed: the new revoker and
 * time replace the previous ones on the current record and the history keeps
 * both. A revocation reads the current record (strongly consistent) and
 * writes it back on condition that it has not changed since (`rev`, a random
 * token every write replaces); a concurrent write makes it re-read and retry.
 */
export class DynamoConsentStore extends DynamoTable implements ConsentStore {
  private readonly maxConflictAttempts: number;

  constructor(options: DynamoConsentStoreOptions) {
    super(options);
    this.maxConflictAttempts = Math.max(1, Math.trunc(options.maxConflictAttempts ?? 5));
  }

  async grant(scope: ConsentScope, grant: { grantedBy: string; grantedAt: string; expiresAt?: string }): Promise<ConsentRecord> {
    const target = validateConsentScope(scope);
    const valid = validateConsentGrant(grant);
    const record: ConsentRecord = { ...target, grantedBy: valid.grantedBy, grantedAt: valid.grantedAt };
    if (valid.expiresAt !== undefined) record.expiresAt = valid.expiresAt;
    const history: ConsentHistoryEntry = { ...target, action: 'grant', actor: valid.grantedBy, at: valid.grantedAt };
    if (valid.expiresAt !== undefined) history.expiresAt = valid.expiresAt;

    for (let attempt = 1; ; attempt += 1) {
      const outcome = await this.writeTransaction([
        { Put: { TableName: this.tableName, Item: this.currentItem(record) } },
        this.historyPut(history, valid.grantedMs),
      ]);
      if (outcome === 'written') return record;
      if (attempt >= this.maxConflictAttempts) throw this.lostRaces('grant consent', target, attempt);
    }
  }

  async revoke(scope: ConsentScope, revocation: { revokedBy: string; revokedAt: string }): Promise<ConsentRecord> {
    const target = validateConsentScope(scope);
    const valid = validateConsentRevocation(revocation);
    const history: ConsentHistoryEntry = { ...target, action: 'revoke', actor: valid.revokedBy, at: valid.revokedAt };

    for (let attempt = 1; ; attempt += 1) {
      const item = await this.readCurrent(target);
      if (item === undefined) {
        throw new NotFoundError('NOT_FOUND', `consent for ${describeConsentScope(target)} was never granted: nothing to revoke`, {
          location: { field: 'resource' },
          context: { resource: this.resource, operation: 'revoke consent', scope: target },
        });
      }
      const record: ConsentRecord = { ...this.toRecord(item, 'GetItem'), revokedBy: valid.revokedBy, revokedAt: valid.revokedAt };
      const outcome = await this.writeTransaction([
        {
          Put: {
            TableName: this.tableName,
            Item: this.currentItem(record),
            ...unchangedSince(item),
          },
        },
        this.historyPut(history, valid.revokedMs),
      ]);
      if (outcome === 'written') return record;
      if (attempt >= this.maxConflictAttempts) throw this.lostRaces('revoke consent', target, attempt);
    }
  }

  /** Reads the repository and org-wide records in one strongly consistent TransactGetItems. */
  async check(scope: ConsentScope, at: Date): Promise<ConsentState> {
    const target = validateConsentScope(scope);
    validateCheckTime(at);
    const orgScope: ConsentScope = { orgId: target.orgId, resource: target.resource };
    const scopes = target.repository === undefined ? [orgScope] : [target, orgScope];
    const { TransactGetCommand } = lib();
    const response = await this.call('TransactGetItems', () =>
      this.client.send(
        new TransactGetCommand({
          TransactItems: scopes.map((each) => ({ Get: { TableName: this.tableName, Key: this.key(each) } })),
        }),
      ),
    );
    const items = (response.Responses ?? []).map((each) => each?.Item);
    if (items.length !== scopes.length) {
      throw awsStoreFailure(new Error(`TransactGetItems answered ${items.length} responses for ${scopes.length} keys`), {
        resource: this.resource,
        operation: 'TransactGetItems',
      });
    }
    const records = items.map((item) => (item === undefined ? undefined : this.toRecord(item, 'TransactGetItems')));
    return target.repository === undefined ? decideConsent(undefined, records[0], at) : decideConsent(records[0], records[1], at);
  }

  async list(orgId: string): Promise<ConsentRecord[]> {
    validateOrgId(orgId);
    const items = await this.queryPrefix(orgId, CURRENT);
    return items.map((item) => this.toRecord(item, 'Query')).sort(compareConsentRecords);
  }

  /** Oldest first (the sort key starts with the normalized time; entries in the same millisecond come in no set order); every page. */
  async history(orgId: string): Promise<ConsentHistoryEntry[]> {
    validateOrgId(orgId);
    const items = await this.queryPrefix(orgId, HISTORY);
    return items.map((item) => this.toHistoryEntry(item));
  }

  private key(scope: ConsentScope): Item {
    return { pk: partitionKey(scope.orgId), sk: consentCurrentKey(scope) };
  }

  private currentItem(record: ConsentRecord): Item {
    const item: Item = {
      ...this.key(record),
      orgId: record.orgId,
      resource: record.resource,
      grantedBy: record.grantedBy,
      grantedAt: record.grantedAt,
      rev: randomUUID(),
    };
    if (record.repository !== undefined) item.repository = record.repository;
    if (record.expiresAt !== undefined) item.consentExpiresAt = record.expiresAt;
    if (record.revokedBy !== undefined && record.revokedAt !== undefined) {
      item.revokedBy = record.revokedBy;
      item.revokedAt = record.revokedAt;
    }
    return item;
  }

  private historyPut(entry: ConsentHistoryEntry, atMs: number): { Put: { TableName: string; Item: Item; ConditionExpression: string } } {
    const item: Item = {
      pk: partitionKey(entry.orgId),
      sk: consentHistoryKey(entry, atMs),
      orgId: entry.orgId,
      resource: entry.resource,
      action: entry.action,
      actor: entry.actor,
      at: entry.at,
    };
    if (entry.repository !== undefined) item.repository = entry.repository;
    if (entry.expiresAt !== undefined) item.consentExpiresAt = entry.expiresAt;
    // A fresh random suffix never exists: this only guards against overwriting history.
    return { Put: { TableName: this.tableName, Item: item, ConditionExpression: 'attribute_not_exists(sk)' } };
  }

  private async readCurrent(scope: ConsentScope): Promise<Item | undefined> {
    const { GetCommand } = lib();
    const response = await this.call('GetItem', () =>
      this.client.send(new GetCommand({ TableName: this.tableName, Key: this.key(scope), ConsistentRead: true })),
    );
    return response.Item;
  }

  /**
   * Runs one TransactWriteItems. `conflict` when it was cancelled by a failed
   * condition or a concurrent transaction on the same items (the caller
   * retries); any other failure throws STORE_FAILED.
   */
  private async writeTransaction(items: TransactItems): Promise<'written' | 'conflict'> {
    const { TransactWriteCommand } = lib();
    try {
      // An explicit token: if the SDK retries after a lost response, DynamoDB
      // recognises the same transaction instead of applying it twice.
      await this.client.send(new TransactWriteCommand({ TransactItems: items, ClientRequestToken: randomUUID() }));
      return 'written';
    } catch (error) {
      if (isRetryableCancellation(error)) return 'conflict';
      throw awsStoreFailure(error, { resource: this.resource, operation: 'TransactWriteItems' });
    }
  }

  private async queryPrefix(orgId: string, prefix: string): Promise<Item[]> {
    const { QueryCommand } = lib();
    const items: Item[] = [];
    let startKey: Item | undefined;
    do {
      const page = await this.call('Query', () =>
        this.client.send(
          new QueryCommand({
            TableName: this.tableName,
            KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
            ExpressionAttributeValues: { ':pk': partitionKey(orgId), ':prefix': prefix },
            ConsistentRead: true,
            ...(startKey !== undefined ? { ExclusiveStartKey: startKey } : {}),
          }),
        ),
      );
      items.push(...(page.Items ?? []));
      startKey = page.LastEvaluatedKey;
    } while (startKey !== undefined);
    return items;
  }

  private toRecord(item: Item, operation: string): ConsentRecord {
    const { orgId, resource, grantedBy, grantedAt } = item;
    if (!isText(orgId) || !isText(resource) || !isText(grantedBy) || !isText(grantedAt)) {
      throw this.malformed(item, operation, 'orgId, resource, grantedBy or grantedAt');
    }
    const record: ConsentRecord = { orgId, resource: resource as ConsentResource, grantedBy, grantedAt };
    if (isText(item.repository)) record.repository = item.repository;
    if (isText(item.consentExpiresAt)) record.expiresAt = item.consentExpiresAt;
    if (isText(item.revokedBy) && isText(item.revokedAt)) {
      record.revokedBy = item.revokedBy;
      record.revokedAt = item.revokedAt;
    }
    return record;
  }

  private toHistoryEntry(item: Item): ConsentHistoryEntry {
    const { orgId, resource, action, actor, at } = item;
    if (!isText(orgId) || !isText(resource) || (action !== 'grant' && action !== 'revoke') || !isText(actor) || !isText(at)) {
      throw this.malformed(item, 'Query', 'orgId, resource, action, actor or at');
    }
    const entry: ConsentHistoryEntry = { orgId, resource: resource as ConsentResource, action, actor, at };
    if (isText(item.repository)) entry.repository = item.repository;
    if (isText(item.consentExpiresAt)) entry.expiresAt = item.consentExpiresAt;
    return entry;
  }

  private malformed(item: Item, operation: string, fields: string): DependencyError {
    return awsStoreFailure(new Error(`consent item ${String(item.pk)} / ${String(item.sk)} lacks ${fields}`), {
      resource: this.resource,
      operation,
    });
  }

  private lostRaces(operation: string, scope: ConsentScope, attempts: number): DependencyError {
    return new DependencyError(
      'STORE_FAILED',
      `${operation} on ${this.resource} failed: ${describeConsentScope(scope)} kept changing under concurrent writes (${attempts} attempts)`,
      { context: { resource: this.resource, operation, attempts } },
    );
  }

}

/** The condition that the current record is still the one read (a record without `rev` predates it). */
function unchangedSince(item: Item): { ConditionExpression: string; ExpressionAttributeNames: Record<string, string>; ExpressionAttributeValues?: Item } {
  return isText(item.rev)
    ? { ConditionExpression: '#rev = :rev', ExpressionAttributeNames: { '#rev': 'rev' }, ExpressionAttributeValues: { ':rev': item.rev } }
    : { ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(#rev)', ExpressionAttributeNames: { '#rev': 'rev' } };
}

function partitionKey(orgId: string): string {
  return `org#${orgId}`;
}

function scopePart(repository: string | undefined): string {
  return repository === undefined ? 'org' : `repo:${repository}`;
}

function isText(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0;
}

/**
 * A transaction cancelled only because a condition failed or another
 * transaction held the items: retrying with fresh state can succeed.
 */
function isRetryableCancellation(error: unknown): boolean {
  const candidate = error as { name?: string; CancellationReasons?: Array<{ Code?: string } | undefined> } | null;
  if (candidate?.name !== 'TransactionCanceledException') return false;
  const codes = (candidate.CancellationReasons ?? []).map((reason) => reason?.Code ?? 'None');
  return codes.some((code) => code === 'ConditionalCheckFailed' || code === 'TransactionConflict') &&
    codes.every((code) => code === 'None' || code === 'ConditionalCheckFailed' || code === 'TransactionConflict');
}
