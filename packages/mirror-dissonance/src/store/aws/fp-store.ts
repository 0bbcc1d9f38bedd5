/**
 * DynamoDB adapter of the FP event store (DESIGN §7), passing the same
 * contract suite as the SQLite adapter.
 *
 * Items of the fpEvents table (keys as in table-definitions.ts):
 * - event: pk `rule#<ruleId>`, sk `event#<observedAt>#<eventId>` where the
 *   time is the canonical `toISOString()` of observedAt (fixed width, UTC,
 *   milliseconds), so sort-key order is time order whatever precision or
 *   offset the caller wrote; the caller's `observedAt` text is stored and
 *   returned unchanged. Also `observedMs` (number) and `expiresAt` (TTL).
 * - guard: pk `event#<eventId>`, sk `guard`, claimed with a conditional
 *   PutItem (`attribute_not_exists(pk)`, or the guarded event expired)
 *   before its event is written, so an event id is unique across rules and
 *   observation times, under concurrency. The guard points at its event
 *   (`eventPk`, `eventSk`): marking reads it with a strongly consistent
 *   GetItem instead of the eventually consistent EventIndex, so a mark right
 *   after a record never misses it. Guards carry no `eventId`/`findingId`
 *   attribute, so neither GSI sees them.
 *
 * Retention: an event is live while `observedMs + 90 d > now` (the SQLite
 * rule, to the millisecond). Reads exclude expired items by sort-key range
 * where the key carries the time, otherwise in code: DynamoDB's TTL deletes
 * lazily (up to days later), and `expiresAt` (epoch seconds, rounded up) is
 * only its deletion time, never earlier than the read cut-off.
 *
 * Consistency: base-table queries are strongly consistent; FindingIndex
 * queries (markedFindings, list by finding) are eventually consistent, as
 * every GSI is.
 */
import { randomUUID } from 'node:crypto';
import type { DynamoDBDocumentClient, QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import { ConflictError, DependencyError, NotFoundError } from '../../errors';
import { compareCodePoints } from '../../hashing';
import type { FpEvent, FpRuleStats, FpStore, NewFpEvent } from '../ports';
import {
  FP_EVENT_RETENTION_MS,
  requirePositiveInteger,
  requireText,
  requireTimeRange,
  validateMark,
  validateNewEvent,
} from '../sqlite/fp-store';
import { awsStoreFailure, isConditionalCheckFailed } from './errors';
import { DynamoTable, lib } from './dynamo-table';

type Item = Record<string, unknown>;
type Key = Record<string, unknown>;

export interface DynamoAdapterOptions {
  client: DynamoDBDocumentClient;
  /** Physical table name. */
  tableName: string;
  /**
   * Clock in epoch milliseconds, used for expiry.
   * @default Date.now
   */
  now?: () => number;
}

/** Finding ids queried at once by `markedFindings`. */
export const MARKED_FINDINGS_CONCURRENCY = 16;

/** Guard claims in flight per batch (BatchWriteItem calls in flight: a fifth of it). */
export const WRITE_CONCURRENCY = 25;

/** Rounds of UnprocessedItems retries before giving up. */
const MAX_ROUNDS = 8;

const RULE_PREFIX = 'rule#';
const EVENT_PREFIX = 'event#';
const GUARD_SK = 'guard';

/** The sort key of an event: canonical UTC time, then the id. */
export function fpEventSortKey(observedMs: number, eventId: string): string {
  return `${EVENT_PREFIX}${new Date(observedMs).toISOString()}#${eventId}`;
}

/** Lowest sort key of events observed at or after `ms`. */
function sortKeyFrom(ms: number): string {
  return `${EVENT_PREFIX}${new Date(ms).toISOString()}#`;
}

/** Where events are read from, newest first. */
interface Source {
  indexName?: string;
  /** Key condition on the partition, `sk >= :from` is appended. */
  partition: { name: 'pk' | 'findingId'; value: string };
  filter?: string;
  filterValues?: Item;
}

/**
 * FpStore on one DynamoDB table.
 *
 * Atomicity of `recordEvents` (any batch size): every guard of the batch is
 * claimed first, and the events are written only once all claims are this
 * batch's. A duplicate, even one written concurrently by another process, is
 * therefore found before any event of the batch exists: the claims are
 * released, nothing is recorded and no reader ever sees part of the batch.
 * If AWS fails after the events began to be written, what the batch wrote is
 * deleted again before the error is thrown (readers may see those events
 * meanwhile; if the clean-up fails too, the STORE_FAILED error lists the
 * event ids that may remain). A process that dies mid-batch can leave claimed
 * guards without events: those ids read as duplicates until they expire.
 *
 * Why not TransactWriteItems: one transaction holds at most 100 items (50
 * events), so larger batches need this protocol anyway; transactions cost
 * twice the write capacity; and the emulator CI runs (moto) snapshots whole
 * tables per transaction item and restores them unsynchronised on a failed
 * condition, which loses concurrent writes, so concurrency could not be
 * tested against it.
 */
export class DynamoFpStore extends DynamoTable implements FpStore {
  private readonly now: () => number;

  constructor(options: DynamoAdapterOptions) {
    super(options);
    this.now = options.now ?? Date.now;
  }

  async recordEvents(events: readonly NewFpEvent[]): Promise<void> {
    const observed = events.map((event, index) => validateNewEvent(event, index));
    const seen = new Set<string>();
    for (const event of events) {
      if (seen.has(event.eventId)) throw this.duplicate(event.eventId);
      seen.add(event.eventId);
    }
    if (events.length === 0) return;
    const batch: Pending[] = events.map((event, i) => this.pending(event, observed[i]));
    await this.claimThenWrite(batch, randomUUID(), this.now());
  }

  async markFalsePositive(
    eventId: string,
    mark: { reviewer: string; reason: string; ticket?: string; markedAt: string },
  ): Promise<FpEvent> {
    validateMark(eventId, mark);
    const { GetCommand, UpdateCommand } = lib();
    const cutoff = this.now() - FP_EVENT_RETENTION_MS;
    const guard = await this.call('GetItem', () =>
      this.client.send(
        new GetCommand({ TableName: this.tableName, Key: { pk: `${EVENT_PREFIX}${eventId}`, sk: GUARD_SK }, ConsistentRead: true }),
      ),
    );
    const target = guard.Item;
    if (target === undefined || !(Number(target.observedMs) > cutoff)) throw this.notFound(eventId);

    const falsePositive: Item = { reviewer: mark.reviewer, reason: mark.reason, markedAt: mark.markedAt };
    if (mark.ticket !== undefined) falsePositive.ticket = mark.ticket;
    try {
      const updated = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: target.eventPk, sk: target.eventSk },
          // The whole mark is replaced: the latest review stands.
          UpdateExpression: 'SET falsePositive = :fp',
          ConditionExpression: 'attribute_exists(pk) AND observedMs > :cutoff',
          ExpressionAttributeValues: { ':fp': falsePositive, ':cutoff': cutoff },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return this.toEvent(updated.Attributes ?? {}, 'UpdateItem');
    } catch (error) {
      if (isConditionalCheckFailed(error)) throw this.notFound(eventId);
      throw awsStoreFailure(error, { resource: this.resource, operation: 'UpdateItem' });
    }
  }

  /**
   * One FindingIndex query per distinct finding id (all pages, at most
   * MARKED_FINDINGS_CONCURRENCY in flight), keeping the earliest mark.
   */
  async markedFindings(findingIds: readonly string[]): Promise<Map<string, FpEvent>> {
    const unique = [...new Set(findingIds)].sort(compareCodePoints);
    const from = sortKeyFrom(this.now() - FP_EVENT_RETENTION_MS + 1);
    const earliest = new Map<string, FpEvent>();
    await inParallel(unique, MARKED_FINDINGS_CONCURRENCY, async (findingId) => {
      const items = await this.queryAll({
        IndexName: 'FindingIndex',
        KeyConditionExpression: 'findingId = :partition AND sk >= :from',
        FilterExpression: 'attribute_exists(falsePositive)',
        ExpressionAttributeValues: { ':partition': findingId, ':from': from },
      });
      let best: { event: FpEvent; markedMs: number } | undefined;
      for (const item of items) {
        const event = this.toEvent(item, 'Query');
        const markedMs = Date.parse(event.falsePositive?.markedAt ?? '');
        if (best === undefined || markedMs < best.markedMs || (markedMs === best.markedMs && event.eventId < best.event.eventId)) {
          best = { event, markedMs };
        }
      }
      if (best !== undefined) earliest.set(findingId, best.event);
    });
    // In finding-id order, like the SQLite adapter.
    const result = new Map<string, FpEvent>();
    for (const findingId of unique) {
      const event = earliest.get(findingId);
      if (event !== undefined) result.set(findingId, event);
    }
    return result;
  }

  /**
   * By rule: a query of the rule's partition; by finding: a FindingIndex
   * query; neither: a Scan of the whole table (every page, cost grows with
   * the table), keeping the newest `limit`.
   */
  async list(filter: { ruleId?: string; findingId?: string; markedOnly?: boolean; limit: number }): Promise<FpEvent[]> {
    requirePositiveInteger(filter.limit, 'limit');
    const conditions: string[] = [];
    const values: Item = {};
    if (filter.markedOnly === true) conditions.push('attribute_exists(falsePositive)');
    if (filter.ruleId !== undefined) {
      if (filter.findingId !== undefined) {
        conditions.push('findingId = :findingId');
        values[':findingId'] = filter.findingId;
      }
      return this.newest(
        { partition: { name: 'pk', value: `${RULE_PREFIX}${filter.ruleId}` }, ...filterOf(conditions, values) },
        filter.limit,
      );
    }
    if (filter.findingId !== undefined) {
      return this.newest(
        { indexName: 'FindingIndex', partition: { name: 'findingId', value: filter.findingId }, ...filterOf(conditions, values) },
        filter.limit,
      );
    }
    return this.scanNewest(conditions, filter.limit);
  }

  /**
   * Over the last `window` live events of the rule. Marking is the only
   * review recorded, so `reviewed` counts marked events and equals
   * `falsePositives` (as in the SQLite adapter).
   */
  async ruleStats(ruleId: string, window: number): Promise<FpRuleStats> {
    requireText(ruleId, 'ruleId');
    requirePositiveInteger(window, 'window');
    const events = await this.newest({ partition: { name: 'pk', value: `${RULE_PREFIX}${ruleId}` } }, window);
    const reviewed = events.filter((event) => event.falsePositive !== undefined).length;
    const falsePositives = reviewed;
    return { ruleId, total: events.length, reviewed, falsePositives, fpr: reviewed === 0 ? 0 : falsePositives / reviewed };
  }

  /** A descending query of the rule's partition with `Limit: count`. */
  async windowByCount(ruleId: string, count: number): Promise<FpEvent[]> {
    requireText(ruleId, 'ruleId');
    requirePositiveInteger(count, 'count');
    return this.newest({ partition: { name: 'pk', value: `${RULE_PREFIX}${ruleId}` } }, count);
  }

  /** `sk BETWEEN` the window's bounds, ascending, following LastEvaluatedKey to the end. */
  async windowByTime(ruleId: string, since: Date, until: Date): Promise<FpEvent[]> {
    requireText(ruleId, 'ruleId');
    const [sinceMs, untilMs] = requireTimeRange(since, until);
    const lower = Math.max(sinceMs, this.now() - FP_EVENT_RETENTION_MS + 1);
    if (lower >= untilMs) return [];
    const items = await this.queryAll({
      KeyConditionExpression: 'pk = :partition AND sk BETWEEN :from AND :to',
      // `event#<until>#` sorts before every event observed at `until`: the bound is exclusive.
      ExpressionAttributeValues: { ':partition': `${RULE_PREFIX}${ruleId}`, ':from': sortKeyFrom(lower), ':to': sortKeyFrom(untilMs) },
      ScanIndexForward: true,
      ConsistentRead: true,
    });
    return items.map((item) => this.toEvent(item, 'Query')).sort(oldestFirst);
  }

  /**
   * A Scan of the whole table, every page, projecting only `pk`. DynamoDB
   * charges a Scan by the bytes of the items it reads, whatever the
   * projection, so this costs one pass over the table: meant for reports
   * and calibration runs, not per-check paths.
   */
  async ruleIds(): Promise<string[]> {
    const { ScanCommand } = lib();
    const rules = new Set<string>();
    const from = sortKeyFrom(this.now() - FP_EVENT_RETENTION_MS + 1);
    let startKey: Key | undefined;
    do {
      const page = await this.call('Scan', () =>
        this.client.send(
          new ScanCommand({
            TableName: this.tableName,
            ProjectionExpression: 'pk',
            FilterExpression: 'begins_with(pk, :rule) AND sk >= :from',
            ExpressionAttributeValues: { ':rule': RULE_PREFIX, ':from': from },
            ...(startKey !== undefined ? { ExclusiveStartKey: startKey } : {}),
          }),
        ),
      );
      for (const item of page.Items ?? []) {
        if (typeof item.pk === 'string') rules.add(item.pk.slice(RULE_PREFIX.length));
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey !== undefined);
    return [...rules].sort(compareCodePoints);
  }

  /* ---------- writing ---------- */

  /** Items of one event: its guard (pk `event#<id>`) and the event itself. */
  private pending(event: NewFpEvent, observedMs: number): Pending {
    const eventPk = `${RULE_PREFIX}${event.ruleId}`;
    const eventSk = fpEventSortKey(observedMs, event.eventId);
    // Rounded up: DynamoDB's TTL never deletes an item the reads still treat as live.
    const expiresAt = Math.ceil((observedMs + FP_EVENT_RETENTION_MS) / 1000);
    return {
      eventId: event.eventId,
      guard: { pk: `${EVENT_PREFIX}${event.eventId}`, sk: GUARD_SK, eventPk, eventSk, observedMs, expiresAt },
      item: {
        pk: eventPk,
        sk: eventSk,
        eventId: event.eventId,
        ruleId: event.ruleId,
        ruleVersion: event.ruleVersion,
        findingId: event.findingId,
        repository: event.repository,
        runId: event.runId,
        path: event.path,
        observedAt: event.observedAt,
        observedMs,
        expiresAt,
      },
    };
  }

  /** A guard may be written when absent, or when the event it guarded has expired (the id may be recorded again). */
  private guardCondition(now: number): { ConditionExpression: string; ExpressionAttributeValues: Item } {
    return {
      ConditionExpression: 'attribute_not_exists(pk) OR observedMs <= :cutoff',
      ExpressionAttributeValues: { ':cutoff': now - FP_EVENT_RETENTION_MS },
    };
  }

  /**
   * Claims every guard (conditional PutItem, WRITE_CONCURRENCY in flight),
   * then writes the events (BatchWriteItem). A duplicate is found before any
   * event of the batch exists, so it leaves nothing behind; an AWS failure
   * after claims or writes began deletes what this batch wrote before the
   * error is thrown.
   */
  private async claimThenWrite(batch: Pending[], batchId: string, now: number): Promise<void> {
    const { PutCommand } = lib();
    const claimed: Pending[] = [];
    const duplicates = new Set<string>();
    let failure: unknown;
    await inParallel(batch, WRITE_CONCURRENCY, async (entry) => {
      if (failure !== undefined || duplicates.size > 0) return;
      try {
        await this.client.send(
          new PutCommand({
            TableName: this.tableName,
            Item: { ...entry.guard, batchId },
            ...this.guardCondition(now),
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        );
        claimed.push(entry);
      } catch (error) {
        // Our own guard: an SDK retry of a claim whose first response was lost.
        if (isConditionalCheckFailed(error) && claimingBatch(error) === batchId) claimed.push(entry);
        else if (isConditionalCheckFailed(error)) duplicates.add(entry.eventId);
        else failure ??= awsStoreFailure(error, { resource: this.resource, operation: 'PutItem' });
      }
    });
    if (duplicates.size > 0 || failure !== undefined) {
      await this.undo(claimed, batchId, { events: false }, failure ?? 'a duplicate event id');
      const first = batch.find((entry) => duplicates.has(entry.eventId));
      throw first !== undefined ? this.duplicate(first.eventId) : failure;
    }

    try {
      await this.batchWrite(batch.map((entry) => ({ PutRequest: { Item: entry.item } })));
    } catch (error) {
      const cause = awsStoreFailure(error, { resource: this.resource, operation: 'BatchWriteItem' });
      await this.undo(batch, batchId, { events: true }, cause);
      throw cause;
    }
  }

  /**
   * Deletes what a failed batch wrote: its events (when it began writing
   * them) and its guards, each only while it is still this batch's (an
   * expired guard may have been claimed again by another writer meanwhile).
   * If that fails too, the error says which events may remain.
   */
  private async undo(entries: Pending[], batchId: string, written: { events: boolean }, cause: unknown): Promise<void> {
    if (entries.length === 0) return;
    const { DeleteCommand } = lib();
    let operation = 'BatchWriteItem';
    try {
      if (written.events) await this.batchWrite(entries.map(({ item }) => ({ DeleteRequest: { Key: { pk: item.pk, sk: item.sk } } })));
      operation = 'DeleteItem';
      await inParallel(entries, WRITE_CONCURRENCY, async ({ guard }) => {
        try {
          await this.client.send(
            new DeleteCommand({
              TableName: this.tableName,
              Key: { pk: guard.pk, sk: guard.sk },
              ConditionExpression: 'batchId = :batchId',
              ExpressionAttributeValues: { ':batchId': batchId },
            }),
          );
        } catch (error) {
          if (!isConditionalCheckFailed(error)) throw error;
        }
      });
    } catch (error) {
      const undo = awsStoreFailure(error, { resource: this.resource, operation });
      const left = entries.map((entry) => entry.eventId);
      const why = cause instanceof Error ? cause.message : String(cause);
      throw new DependencyError(
        'STORE_FAILED',
        `record fp events on ${this.resource} failed (${why}) and undoing what the batch wrote failed too (${undo.message}): ` +
          `event ids ${left.join(', ')} may remain recorded or reserved`,
        { context: { resource: this.resource, operation, eventIds: left }, cause: error },
      );
    }
  }

  /** BatchWriteItem in requests of 25 (WRITE_CONCURRENCY / 5 in flight), retrying UnprocessedItems with backoff. */
  private async batchWrite(requests: WriteRequest[]): Promise<void> {
    const { BatchWriteCommand } = lib();
    const groups: WriteRequest[][] = [];
    for (let start = 0; start < requests.length; start += 25) groups.push(requests.slice(start, start + 25));
    await inParallel(groups, Math.max(1, Math.floor(WRITE_CONCURRENCY / 5)), async (group) => {
      let pending = group;
      for (let round = 1; pending.length > 0; round++) {
        if (round > MAX_ROUNDS) throw new Error(`${pending.length} write requests stayed unprocessed after ${MAX_ROUNDS} rounds`);
        const result = await this.client.send(new BatchWriteCommand({ RequestItems: { [this.tableName]: pending } }));
        pending = (result.UnprocessedItems?.[this.tableName] ?? []) as WriteRequest[];
        if (pending.length > 0) await pause(round);
      }
    });
  }

  /* ---------- reading ---------- */

  /**
   * The newest `limit` live events of a source, ties by event id ascending.
   * Unfiltered reads ask for exactly `limit` items; filtered reads page until
   * enough match. When the limit cuts through events observed in the same
   * millisecond, that millisecond is read whole so the tie order matches
   * the SQLite adapter.
   */
  private async newest(source: Source, limit: number): Promise<FpEvent[]> {
    const from = sortKeyFrom(this.now() - FP_EVENT_RETENTION_MS + 1);
    const base = {
      ...(source.indexName !== undefined ? { IndexName: source.indexName } : { ConsistentRead: true }),
      ...(source.filter !== undefined ? { FilterExpression: source.filter } : {}),
    };
    const values = { ...source.filterValues, ':partition': source.partition.value };
    // One item past the limit tells whether the limit cuts through a millisecond.
    const wanted = limit + 1;
    const items: Item[] = [];
    let startKey: Key | undefined;
    do {
      const page = await this.queryPage({
        ...base,
        KeyConditionExpression: `${source.partition.name} = :partition AND sk >= :from`,
        ExpressionAttributeValues: { ...values, ':from': from },
        ScanIndexForward: false,
        ...(source.filter === undefined ? { Limit: wanted - items.length } : {}),
        ...(startKey !== undefined ? { ExclusiveStartKey: startKey } : {}),
      });
      items.push(...page.items);
      startKey = page.lastKey;
    } while (startKey !== undefined && items.length < wanted);

    if (items.length > limit && millisecondOf(items[limit - 1]) === millisecondOf(items[limit])) {
      // The limit cuts through events of one millisecond: read that millisecond whole, so ties order as on SQLite.
      const prefix = millisecondOf(items[limit - 1]);
      const known = new Set(items.map((item) => `${String(item.pk)}\u0000${String(item.sk)}`));
      const ties = await this.queryAll({
        ...base,
        KeyConditionExpression: `${source.partition.name} = :partition AND begins_with(sk, :prefix)`,
        ExpressionAttributeValues: { ...values, ':prefix': prefix },
      });
      for (const item of ties) if (!known.has(`${String(item.pk)}\u0000${String(item.sk)}`)) items.push(item);
    }
    return items
      .map((item) => this.toEvent(item, 'Query'))
      .sort(newestFirst)
      .slice(0, limit);
  }

  private async scanNewest(conditions: string[], limit: number): Promise<FpEvent[]> {
    const { ScanCommand } = lib();
    const from = sortKeyFrom(this.now() - FP_EVENT_RETENTION_MS + 1);
    let kept: FpEvent[] = [];
    let startKey: Key | undefined;
    do {
      const page = await this.call('Scan', () =>
        this.client.send(
          new ScanCommand({
            TableName: this.tableName,
            FilterExpression: ['begins_with(pk, :rule)', 'sk >= :from', ...conditions].join(' AND '),
            ExpressionAttributeValues: { ':rule': RULE_PREFIX, ':from': from },
            ...(startKey !== undefined ? { ExclusiveStartKey: startKey } : {}),
          }),
        ),
      );
      kept = [...kept, ...(page.Items ?? []).map((item) => this.toEvent(item, 'Scan'))].sort(newestFirst).slice(0, limit);
      startKey = page.LastEvaluatedKey;
    } while (startKey !== undefined);
    return kept;
  }

  /** Every page of a query on the table (or an index). */
  private async queryAll(input: Omit<QueryCommandInput, 'TableName' | 'ExclusiveStartKey'>): Promise<Item[]> {
    const items: Item[] = [];
    let startKey: Key | undefined;
    do {
      const page = await this.queryPage({ ...input, ...(startKey !== undefined ? { ExclusiveStartKey: startKey } : {}) });
      items.push(...page.items);
      startKey = page.lastKey;
    } while (startKey !== undefined);
    return items;
  }

  private async queryPage(input: Omit<QueryCommandInput, 'TableName'>): Promise<{ items: Item[]; lastKey: Key | undefined }> {
    const { QueryCommand } = lib();
    const page = await this.call('Query', () => this.client.send(new QueryCommand({ ...input, TableName: this.tableName })));
    return { items: page.Items ?? [], lastKey: page.LastEvaluatedKey };
  }

  /* ---------- mapping ---------- */

  private toEvent(item: Item, operation: string): FpEvent {
    const text = (name: string): string => {
      const value = item[name];
      if (typeof value !== 'string') {
        throw awsStoreFailure(new Error(`item ${String(item.pk)} / ${String(item.sk)} lacks the string attribute ${name}`), {
          resource: this.resource,
          operation,
        });
      }
      return value;
    };
    const event: FpEvent = {
      eventId: text('eventId'),
      ruleId: text('ruleId'),
      ruleVersion: text('ruleVersion'),
      findingId: text('findingId'),
      repository: text('repository'),
      runId: text('runId'),
      path: text('path'),
      observedAt: text('observedAt'),
    };
    const mark = item.falsePositive as Item | undefined;
    if (mark !== undefined && mark !== null) {
      const field = (name: string): unknown => mark[name];
      if (typeof field('reviewer') !== 'string' || typeof field('reason') !== 'string' || typeof field('markedAt') !== 'string') {
        throw awsStoreFailure(new Error(`item ${String(item.pk)} / ${String(item.sk)} has an incomplete falsePositive mark`), {
          resource: this.resource,
          operation,
        });
      }
      event.falsePositive = { reviewer: String(field('reviewer')), reason: String(field('reason')), markedAt: String(field('markedAt')) };
      if (typeof field('ticket') === 'string') event.falsePositive.ticket = String(field('ticket'));
    }
    return event;
  }

  private duplicate(eventId: string, cause?: unknown): ConflictError {
    return new ConflictError('DUPLICATE_EVENT', `FP event ${eventId} is already recorded`, {
      location: { field: 'eventId' },
      context: { resource: this.resource, operation: 'record fp events', eventId },
      ...(cause !== undefined ? { cause } : {}),
    });
  }

  private notFound(eventId: string): NotFoundError {
    return new NotFoundError('NOT_FOUND', `FP event ${eventId} not found (unknown or expired) in ${this.resource}`, {
      location: { field: 'eventId' },
      context: { resource: this.resource, operation: 'mark false positive', eventId },
    });
  }

}

interface Pending {
  eventId: string;
  guard: Item;
  item: Item;
}

type WriteRequest = { PutRequest: { Item: Item } } | { DeleteRequest: { Key: Key } };

/** Runs `task` over `items` with at most `limit` in flight; the first rejection is thrown after all settle. */
async function inParallel<T>(items: readonly T[], limit: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++];
      try {
        await task(item);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure !== undefined) throw failure.error;
}

function filterOf(conditions: string[], values: Item): Pick<Source, 'filter' | 'filterValues'> {
  return conditions.length === 0 ? {} : { filter: conditions.join(' AND '), filterValues: values };
}

function observedMsOf(event: FpEvent): number {
  return Date.parse(event.observedAt);
}

/** Most recent first, ties by event id (the SQLite order). */
function newestFirst(a: FpEvent, b: FpEvent): number {
  return observedMsOf(b) - observedMsOf(a) || compareCodePoints(a.eventId, b.eventId);
}

function oldestFirst(a: FpEvent, b: FpEvent): number {
  return observedMsOf(a) - observedMsOf(b) || compareCodePoints(a.eventId, b.eventId);
}

/**
 * The `batchId` of the guard that failed a claim (ReturnValuesOnConditionCheckFailure
 * ALL_OLD). The document client does not translate errors, so the item is in
 * AttributeValue form (`{ S: '...' }`); a plain string is accepted too.
 */
function claimingBatch(error: unknown): string | undefined {
  const value = (error as { Item?: Record<string, unknown> }).Item?.batchId;
  if (typeof value === 'string') return value;
  const text = (value as { S?: unknown } | undefined)?.S;
  return typeof text === 'string' ? text : undefined;
}

/** Jittered exponential pause between our own retry rounds (the SDK retries calls itself). */
function pause(round: number): Promise<void> {
  const ceiling = Math.min(1000, 20 * 2 ** round);
  return new Promise((resolve) => setTimeout(resolve, Math.floor(ceiling / 2 + Math.random() * (ceiling / 2))));
}


/** `event#<iso>#`: the sort-key prefix shared by every event of one millisecond. */
function millisecondOf(item: Item | undefined): string {
  const sk = String(item?.sk ?? '');
  return sk.slice(0, sk.indexOf('#', EVENT_PREFIX.length) + 1);
}
