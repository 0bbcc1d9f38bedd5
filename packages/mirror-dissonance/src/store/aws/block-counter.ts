/**
 * DynamoDB adapter of the circuit-breaker block counter (DESIGN §7). One
 * item per key: pk `counter#<key>`, `count`, `expiresAtMs` (the exact expiry
 * the caller gave, compared on every read and write) and `expiresAt` (epoch
 * seconds rounded up, the table's TTL attribute, so DynamoDB never deletes a
 * live counter; it may delete an expired one days later, which reads ignore).
 *
 * Exact under concurrency without any read-modify-write in JavaScript:
 * 1. `ADD #count :one` conditioned on a live item — the common case, one call;
 * 2. when that condition fails (no item, or expired), `SET #count = :one`
 *    conditioned on "absent or expired": exactly one concurrent caller wins
 *    the (re)start and gets 1;
 * 3. a caller that loses step 2 goes back to step 1 and counts on the item
 *    the winner created. Every round some caller makes progress, so the loop
 *    is bounded (MAX_ROUNDS) and never hides a failure.
 */
import { DependencyError, InputError } from '../../errors';
import type { BlockCounter } from '../ports';
import { awsStoreFailure, isConditionalCheckFailed } from './errors';
import type { DynamoAdapterOptions } from './fp-store';
import { DynamoTable, lib, type LibDynamo } from './dynamo-table';


/** Increment-then-restart rounds before a counter that keeps expiring under us is reported. */
const MAX_ROUNDS = 8;

export class DynamoBlockCounter extends DynamoTable implements BlockCounter {
  private readonly now: () => number;

  constructor(options: DynamoAdapterOptions) {
    super(options);
    this.now = options.now ?? Date.now;
  }

  /** Adds one; a live counter takes the latest expiry given, an expired one restarts at 1. */
  async increment(key: string, expiresAt: Date): Promise<number> {
    if (typeof key !== 'string' || key.length === 0) {
      throw new InputError('INPUT_INVALID', 'block counter key must be a non-empty string', { location: { field: 'key' } });
    }
    const expiresMs = expiresAt instanceof Date ? expiresAt.getTime() : Number.NaN;
    if (Number.isNaN(expiresMs)) {
      throw new InputError('INPUT_INVALID', 'block counter expiresAt must be a valid Date', { location: { field: 'expiresAt' } });
    }
    const { UpdateCommand } = lib();
    const itemKey = { pk: `counter#${key}` };
    const values = { ':one': 1, ':expiresMs': expiresMs, ':ttl': Math.ceil(expiresMs / 1000) };
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const now = this.now();
      const counted = await this.conditionalUpdate(
        new UpdateCommand({
          TableName: this.tableName,
          Key: itemKey,
          UpdateExpression: 'ADD #count :one SET expiresAtMs = :expiresMs, expiresAt = :ttl',
          ConditionExpression: 'attribute_exists(pk) AND expiresAtMs > :now',
          ExpressionAttributeNames: { '#count': 'count' },
          ExpressionAttributeValues: { ...values, ':now': now },
          ReturnValues: 'UPDATED_NEW',
        }),
      );
      if (counted !== undefined) return counted;
      const restarted = await this.conditionalUpdate(
        new UpdateCommand({
          TableName: this.tableName,
          Key: itemKey,
          UpdateExpression: 'SET #count = :one, expiresAtMs = :expiresMs, expiresAt = :ttl',
          ConditionExpression: 'attribute_not_exists(pk) OR expiresAtMs <= :now',
          ExpressionAttributeNames: { '#count': 'count' },
          ExpressionAttributeValues: { ...values, ':now': now },
          // ALL_NEW: a restart may leave `count` (1) and the expiry unchanged, and UPDATED_NEW may then omit them.
          ReturnValues: 'ALL_NEW',
        }),
      );
      if (restarted !== undefined) return restarted;
    }
    throw new DependencyError(
      'STORE_FAILED',
      `UpdateItem on ${this.resource} failed: counter ${key} kept expiring or restarting during ${MAX_ROUNDS} rounds (is its expiry in the past?)`,
      { context: { resource: this.resource, operation: 'UpdateItem', key } },
    );
  }

  /** Strongly consistent read; 0 when absent or expired. */
  async get(key: string): Promise<number> {
    const { GetCommand } = lib();
    let item: Record<string, unknown> | undefined;
    try {
      item = (await this.client.send(new GetCommand({ TableName: this.tableName, Key: { pk: `counter#${key}` }, ConsistentRead: true })))
        .Item;
    } catch (error) {
      throw awsStoreFailure(error, { resource: this.resource, operation: 'GetItem' });
    }
    if (item === undefined || !(Number(item.expiresAtMs) > this.now())) return 0;
    return this.countOf(item, `counter#${key}`, 'GetItem');
  }

  /** The new count, or undefined when the condition failed. */
  private async conditionalUpdate(command: InstanceType<LibDynamo['UpdateCommand']>): Promise<number | undefined> {
    let attributes: Record<string, unknown>;
    try {
      attributes = (await this.client.send(command)).Attributes ?? {};
    } catch (error) {
      if (isConditionalCheckFailed(error)) return undefined;
      throw awsStoreFailure(error, { resource: this.resource, operation: 'UpdateItem' });
    }
    return this.countOf(attributes, String(command.input.Key?.pk), 'UpdateItem');
  }

  private countOf(item: Record<string, unknown>, pk: string, operation: string): number {
    const count = item.count;
    if (typeof count !== 'number' || !Number.isInteger(count) || count < 1) {
      throw awsStoreFailure(new Error(`counter item ${pk} has no positive integer count (got ${String(count)})`), {
        resource: this.resource,
        operation,
      });
    }
    return count;
  }
}
