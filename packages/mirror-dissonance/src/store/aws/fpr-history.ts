/**
 * DynamoDB adapter of the FPR history (DESIGN §7): pk `rule#<ruleId>`, sk
 * `snapshot#<at>` with `at` as canonical `toISOString()` (fixed width, UTC),
 * so the newest snapshot is the first item of a descending query whatever
 * precision or offset the caller wrote. Two snapshots with the same instant
 * share a key: the one recorded last stands, as in the SQLite adapter.
 *
 * Retention mirrors the SQLite adapter: recording a snapshot deletes the
 * rule's snapshots more than 90 days older than it. No TTL is set on
 * snapshots, because a TTL would also delete the latest snapshot of a rule
 * that stayed quiet for 90 days, and L0 needs that one to witness a later
 * FPR decrease.
 */
import { InputError } from '../../errors';
import type { FprHistory } from '../ports';
import { FP_EVENT_RETENTION_MS, parseInstant, requireText } from '../sqlite/fp-store';
import { awsStoreFailure } from './errors';
import type { DynamoAdapterOptions } from './fp-store';
import { DynamoTable, lib } from './dynamo-table';

type Key = Record<string, unknown>;

const SNAPSHOT_PREFIX = 'snapshot#';

/** Rounds of UnprocessedItems retries while pruning. */
const MAX_ROUNDS = 8;

export class DynamoFprHistory extends DynamoTable implements FprHistory {

  /** `now` is accepted for symmetry with the other adapters; history has no clock-based expiry. */
  constructor(options: DynamoAdapterOptions) {
    super(options);
  }

  /** One strongly consistent query, newest first, Limit 1. */
  async last(ruleId: string): Promise<{ fpr: number; reviewed: number } | undefined> {
    const { QueryCommand } = lib();
    const page = await this.call('Query', () =>
      this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :snapshot)',
          ExpressionAttributeValues: { ':pk': `rule#${ruleId}`, ':snapshot': SNAPSHOT_PREFIX },
          ScanIndexForward: false,
          Limit: 1,
          ConsistentRead: true,
        }),
      ),
    );
    const item = page.Items?.[0];
    if (item === undefined) return undefined;
    if (typeof item.fpr !== 'number' || typeof item.reviewed !== 'number') {
      throw awsStoreFailure(new Error(`snapshot ${String(item.pk)} / ${String(item.sk)} lacks numeric fpr or reviewed`), {
        resource: this.resource,
        operation: 'Query',
      });
    }
    return { fpr: item.fpr, reviewed: item.reviewed };
  }

  /** PutItem of the snapshot, then deletion of the rule's snapshots older than `at` − 90 days. */
  async record(ruleId: string, snapshot: { fpr: number; reviewed: number; at: string }): Promise<void> {
    requireText(ruleId, 'ruleId');
    if (typeof snapshot.fpr !== 'number' || !(snapshot.fpr >= 0 && snapshot.fpr <= 1)) {
      throw new InputError('INPUT_INVALID', `fpr must be a number in [0, 1], got ${String(snapshot.fpr)}`, { location: { field: 'fpr' } });
    }
    if (!Number.isInteger(snapshot.reviewed) || snapshot.reviewed < 0) {
      throw new InputError('INPUT_INVALID', `reviewed must be a non-negative integer, got ${String(snapshot.reviewed)}`, {
        location: { field: 'reviewed' },
      });
    }
    const atMs = parseInstant(snapshot.at, 'at');
    const { PutCommand } = lib();
    const pk = `rule#${ruleId}`;
    await this.call('PutItem', () =>
      this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            pk,
            sk: `${SNAPSHOT_PREFIX}${new Date(atMs).toISOString()}`,
            ruleId,
            fpr: snapshot.fpr,
            reviewed: snapshot.reviewed,
            at: snapshot.at,
          },
        }),
      ),
    );
    await this.prune(pk, atMs - FP_EVENT_RETENTION_MS);
  }

  /** Deletes the rule's snapshots strictly older than `cutoffMs` (keys only, every page). */
  private async prune(pk: string, cutoffMs: number): Promise<void> {
    const { BatchWriteCommand, QueryCommand } = lib();
    const keys: Key[] = [];
    let startKey: Key | undefined;
    do {
      const page = await this.call('Query', () =>
        this.client.send(
          new QueryCommand({
            TableName: this.tableName,
            KeyConditionExpression: 'pk = :pk AND sk BETWEEN :first AND :cutoff',
            ExpressionAttributeValues: {
              ':pk': pk,
              ':first': SNAPSHOT_PREFIX,
              // `snapshot#<cutoff>` itself sorts after every older snapshot and is kept (SQLite: recorded_ms < cutoff).
              ':cutoff': `${SNAPSHOT_PREFIX}${new Date(cutoffMs).toISOString()}`,
            },
            ProjectionExpression: 'pk, sk',
            ConsistentRead: true,
            ...(startKey !== undefined ? { ExclusiveStartKey: startKey } : {}),
          }),
        ),
      );
      for (const item of page.Items ?? []) keys.push({ pk: item.pk, sk: item.sk });
      startKey = page.LastEvaluatedKey;
    } while (startKey !== undefined);
    const cutoffSk = `${SNAPSHOT_PREFIX}${new Date(cutoffMs).toISOString()}`;
    const stale = keys.filter((key) => String(key.sk) < cutoffSk);

    for (let start = 0; start < stale.length; start += 25) {
      let requests = stale.slice(start, start + 25).map((Key) => ({ DeleteRequest: { Key } }));
      for (let round = 1; requests.length > 0; round++) {
        if (round > MAX_ROUNDS) {
          throw awsStoreFailure(new Error(`${requests.length} deletes stayed unprocessed after ${MAX_ROUNDS} rounds`), {
            resource: this.resource,
            operation: 'BatchWriteItem',
          });
        }
        const batch = requests;
        const result = await this.call('BatchWriteItem', () =>
          this.client.send(new BatchWriteCommand({ RequestItems: { [this.tableName]: batch } })),
        );
        requests = (result.UnprocessedItems?.[this.tableName] ?? []) as typeof requests;
        if (requests.length > 0) await new Promise((resolve) => setTimeout(resolve, 20 * 2 ** round));
      }
    }
  }

}
