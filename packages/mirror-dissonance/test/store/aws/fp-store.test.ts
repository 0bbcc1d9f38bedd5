/**
 * DynamoFpStore against a mocked SDK: the exact requests (keys per
 * table-definitions.ts, conditional guard claims, consistent reads), every
 * page followed, clean-up after failures, and error mapping. The same adapter
 * runs the shared FpStore contract on the emulator in
 * test/integration/fp-store.int.test.ts.
 */
import { ConditionalCheckFailedException, DynamoDBClient, ResourceNotFoundException } from '@aws-sdk/client-dynamodb';
import {
  BatchWriteCommand,
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  ScanCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { ConflictError, DependencyError, NotFoundError } from '../../../src/errors';
import { DynamoFpStore, fpEventSortKey, WRITE_CONCURRENCY } from '../../../src/store/aws/fp-store';
import { TABLE_DEFINITIONS } from '../../../src/store/aws/table-definitions';
import type { NewFpEvent } from '../../../src/store/ports';
import { FP_EVENT_RETENTION_MS } from '../../../src/store/sqlite';

const dynamo = mockClient(DynamoDBDocumentClient);
const client = DynamoDBDocumentClient.from(
  new DynamoDBClient({ region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } }),
);
const TABLE = 'pm-test-fp-events';
const NOW = Date.parse('2030-03-01T00:00:00.000Z');
const CUTOFF = NOW - FP_EVENT_RETENTION_MS;
/** Lowest sort key of a live event at NOW. */
const FROM = `event#${new Date(CUTOFF + 1).toISOString()}#`;
const store = new DynamoFpStore({ client, tableName: TABLE, now: () => NOW });

function newEvent(eventId: string, observedAt = '2030-02-28T12:00:00.000Z', ruleId = 'MD-001'): NewFpEvent {
  return { eventId, ruleId, ruleVersion: '1.0.0', findingId: `f-${eventId}`, repository: 'acme/widgets', runId: 'run-1', path: 'a.yml', observedAt };
}

/** The stored item of an event, as the adapter writes it. */
function stored(eventId: string, observedAt = '2030-02-28T12:00:00.000Z', extra: Record<string, unknown> = {}, ruleId = 'MD-001'): Record<string, unknown> {
  const observedMs = Date.parse(observedAt);
  return {
    ...newEvent(eventId, observedAt, ruleId),
    pk: `rule#${ruleId}`,
    sk: fpEventSortKey(observedMs, eventId),
    observedMs,
    expiresAt: Math.ceil((observedMs + FP_EVENT_RETENTION_MS) / 1000),
    ...extra,
  };
}

function conditionFailed(item?: Record<string, unknown>): ConditionalCheckFailedException {
  return new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {}, ...(item ? { Item: item as never } : {}) });
}

const mark = { reviewer: 'alice', reason: 'fixture', markedAt: '2030-02-28T13:00:00.000Z' };

afterEach(() => dynamo.reset());

describe('DynamoFpStore', () => {
  it('uses the key names and indexes of the fpEvents table definition', () => {
    const definition = TABLE_DEFINITIONS.fpEvents;
    expect([definition.partitionKey.name, definition.sortKey?.name, definition.timeToLiveAttribute]).toEqual(['pk', 'sk', 'expiresAt']);
    expect(definition.globalSecondaryIndexes.map((index) => [index.indexName, index.partitionKey.name, index.sortKey?.name])).toEqual([
      ['FindingIndex', 'findingId', 'sk'],
      ['EventIndex', 'eventId', undefined],
    ]);
    expect(fpEventSortKey(Date.parse('2030-01-01T01:00:00+01:00'), 'e-1')).toBe('event#2030-01-01T00:00:00.000Z#e-1');
  });

  describe('recordEvents', () => {
    it('claims a guard per event with a conditional put, then writes the events with BatchWriteItem', async () => {
      // Prepare
      dynamo.on(PutCommand).resolves({});
      dynamo.on(BatchWriteCommand).resolves({});

      // Act
      await store.recordEvents([newEvent('e-1', '2030-02-28T13:00:00+01:00'), newEvent('e-2')]);

      // Assess: guards
      const puts = dynamo.commandCalls(PutCommand).map((call) => call.args[0].input);
      expect(puts).toHaveLength(2);
      const batchId = puts[0].Item?.batchId;
      expect(typeof batchId).toBe('string');
      expect(puts[0]).toEqual({
        TableName: TABLE,
        Item: {
          pk: 'event#e-1',
          sk: 'guard',
          eventPk: 'rule#MD-001',
          eventSk: 'event#2030-02-28T12:00:00.000Z#e-1',
          observedMs: Date.parse('2030-02-28T12:00:00Z'),
          expiresAt: Math.ceil((Date.parse('2030-02-28T12:00:00Z') + FP_EVENT_RETENTION_MS) / 1000),
          batchId,
        },
        ConditionExpression: 'attribute_not_exists(pk) OR observedMs <= :cutoff',
        ExpressionAttributeValues: { ':cutoff': CUTOFF },
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      });
      expect(puts[1].Item).toMatchObject({ pk: 'event#e-2', batchId });
      expect(puts[0].Item).not.toHaveProperty('eventId');

      // Assess: events, written after every claim
      const writes = dynamo.commandCalls(BatchWriteCommand);
      expect(writes).toHaveLength(1);
      expect(writes[0].args[0].input.RequestItems?.[TABLE]).toEqual([
        { PutRequest: { Item: stored('e-1', '2030-02-28T13:00:00+01:00') } },
        { PutRequest: { Item: stored('e-2') } },
      ]);
      expect(dynamo.calls().map((call) => call.args[0].constructor.name)).toEqual(['PutCommand', 'PutCommand', 'BatchWriteCommand']);
    });

    it('sends nothing for an empty batch and validates before sending anything', async () => {
      await store.recordEvents([]);
      await expect(store.recordEvents([newEvent('a'), { ...newEvent('b'), observedAt: 'noon' }])).rejects.toMatchObject({
        code: 'INPUT_INVALID',
        location: { field: 'events[1].observedAt' },
      });
      await expect(store.recordEvents([newEvent('a'), newEvent('a')])).rejects.toMatchObject({ code: 'DUPLICATE_EVENT', context: { eventId: 'a' } });
      expect(dynamo.calls()).toHaveLength(0);
    });

    it('maps a failed claim to DUPLICATE_EVENT, releases the claims it made and writes no event', async () => {
      // Prepare: e-2 is taken by another batch
      dynamo.on(PutCommand).callsFake((input: { Item: Record<string, unknown> }) => {
        if (input.Item.pk === 'event#e-2') throw conditionFailed({ pk: { S: 'event#e-2' }, batchId: { S: 'another-batch' } });
        return {};
      });
      dynamo.on(DeleteCommand).resolves({});

      // Act
      const attempt = store.recordEvents([newEvent('e-1'), newEvent('e-2'), newEvent('e-3')]);

      // Assess
      await expect(attempt).rejects.toBeInstanceOf(ConflictError);
      await expect(attempt).rejects.toMatchObject({
        code: 'DUPLICATE_EVENT',
        location: { field: 'eventId' },
        context: { eventId: 'e-2', resource: `DynamoDB table ${TABLE}`, operation: 'record fp events' },
      });
      expect(dynamo.commandCalls(BatchWriteCommand)).toHaveLength(0);
      const deletes = dynamo.commandCalls(DeleteCommand).map((call) => call.args[0].input);
      const batchId = dynamo.commandCalls(PutCommand)[0].args[0].input.Item?.batchId;
      expect(deletes.map((input) => input.Key?.pk).sort()).toEqual(['event#e-1', 'event#e-3']);
      expect(deletes[0]).toMatchObject({ ConditionExpression: 'batchId = :batchId', ExpressionAttributeValues: { ':batchId': batchId } });
    });

    it('names the first duplicate in batch order and ignores a claim that another writer has taken over meanwhile', async () => {
      dynamo.on(PutCommand).callsFake((input: { Item: Record<string, unknown> }) => {
        if (input.Item.pk !== 'event#e-1') throw conditionFailed();
        return {};
      });
      dynamo.on(DeleteCommand).rejects(conditionFailed());

      await expect(store.recordEvents([newEvent('e-1'), newEvent('e-2'), newEvent('e-3')])).rejects.toMatchObject({
        code: 'DUPLICATE_EVENT',
        context: { eventId: 'e-2' },
      });
      expect(dynamo.commandCalls(DeleteCommand)).toHaveLength(1);
    });

    it('treats a failed claim on a guard of its own batch as claimed (an SDK retry after a lost response)', async () => {
      dynamo.on(PutCommand).callsFake((input: { Item: { batchId: string } }) => {
        throw conditionFailed({ pk: { S: 'event#e-1' }, batchId: { S: input.Item.batchId } });
      });
      dynamo.on(BatchWriteCommand).resolves({});

      await store.recordEvents([newEvent('e-1')]);

      expect(dynamo.commandCalls(BatchWriteCommand)).toHaveLength(1);
    });

    it('keeps at most WRITE_CONCURRENCY claims in flight and writes events in requests of 25', async () => {
      // Prepare
      let inFlight = 0;
      let peak = 0;
      dynamo.on(PutCommand).callsFake(async () => {
        inFlight += 1;
        peak = Math.max(peak, inFlight);
        await new Promise((resolve) => setTimeout(resolve, 1));
        inFlight -= 1;
        return {};
      });
      dynamo.on(BatchWriteCommand).resolves({});

      // Act
      await store.recordEvents(Array.from({ length: 120 }, (_, i) => newEvent(`e-${i}`)));

      // Assess
      expect(dynamo.commandCalls(PutCommand)).toHaveLength(120);
      expect(peak).toBe(WRITE_CONCURRENCY);
      expect(dynamo.commandCalls(BatchWriteCommand).map((call) => call.args[0].input.RequestItems?.[TABLE].length)).toEqual([25, 25, 25, 25, 20]);
    });

    it('resends unprocessed items until none are left', async () => {
      // Prepare: the first request leaves e-2 unprocessed
      dynamo.on(PutCommand).resolves({});
      dynamo
        .on(BatchWriteCommand)
        .resolvesOnce({ UnprocessedItems: { [TABLE]: [{ PutRequest: { Item: stored('e-2') } }] } })
        .resolves({});

      // Act
      await store.recordEvents([newEvent('e-1'), newEvent('e-2')]);

      // Assess
      const writes = dynamo.commandCalls(BatchWriteCommand).map((call) => call.args[0].input.RequestItems?.[TABLE]);
      expect(writes).toEqual([
        [{ PutRequest: { Item: stored('e-1') } }, { PutRequest: { Item: stored('e-2') } }],
        [{ PutRequest: { Item: stored('e-2') } }],
      ]);
    });

    it('deletes what it wrote and throws STORE_FAILED when writing the events fails', async () => {
      // Prepare
      dynamo.on(PutCommand).resolves({});
      dynamo
        .on(BatchWriteCommand)
        .rejectsOnce(new ResourceNotFoundException({ message: 'Requested resource not found', $metadata: {} }))
        .resolves({});
      dynamo.on(DeleteCommand).resolves({});

      // Act
      const attempt = store.recordEvents([newEvent('e-1'), newEvent('e-2')]);

      // Assess
      await expect(attempt).rejects.toBeInstanceOf(DependencyError);
      await expect(attempt).rejects.toMatchObject({
        code: 'STORE_FAILED',
        context: { resource: `DynamoDB table ${TABLE}`, operation: 'BatchWriteItem', awsError: 'ResourceNotFoundException' },
      });
      const undo = dynamo.commandCalls(BatchWriteCommand)[1].args[0].input.RequestItems?.[TABLE];
      expect(undo).toEqual([
        { DeleteRequest: { Key: { pk: 'rule#MD-001', sk: stored('e-1').sk } } },
        { DeleteRequest: { Key: { pk: 'rule#MD-001', sk: stored('e-2').sk } } },
      ]);
      expect(dynamo.commandCalls(DeleteCommand).map((call) => call.args[0].input.Key)).toEqual([
        { pk: 'event#e-1', sk: 'guard' },
        { pk: 'event#e-2', sk: 'guard' },
      ]);
    });

    it('gives up on items that stay unprocessed, cleans up and reports STORE_FAILED', async () => {
      jest.useFakeTimers();
      try {
        dynamo.on(PutCommand).resolves({});
        dynamo.on(BatchWriteCommand).callsFake((input: { RequestItems: Record<string, unknown[]> }) => {
          const requests = input.RequestItems[TABLE] as { PutRequest?: unknown }[];
          return requests.some((request) => request.PutRequest !== undefined) ? { UnprocessedItems: { [TABLE]: requests } } : {};
        });
        dynamo.on(DeleteCommand).resolves({});

        const attempt = store.recordEvents([newEvent('e-1')]);
        const assessed = expect(attempt).rejects.toMatchObject({
          code: 'STORE_FAILED',
          message: expect.stringContaining('1 write requests stayed unprocessed after 8 rounds'),
        });
        await jest.runAllTimersAsync();
        await assessed;
        expect(dynamo.commandCalls(BatchWriteCommand).filter((call) => call.args[0].input.RequestItems?.[TABLE][0].PutRequest)).toHaveLength(8);
      } finally {
        jest.useRealTimers();
      }
    });

    it('reports the events that may remain when the clean-up fails too', async () => {
      dynamo.on(PutCommand).resolves({});
      dynamo.on(BatchWriteCommand).rejects(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:4566'), { code: 'ECONNREFUSED' }));

      const attempt = store.recordEvents([newEvent('e-1'), newEvent('e-2')]);

      await expect(attempt).rejects.toMatchObject({
        code: 'STORE_FAILED',
        message: expect.stringContaining('event ids e-1, e-2 may remain recorded or reserved'),
        context: { operation: 'BatchWriteItem', eventIds: ['e-1', 'e-2'] },
      });
      await expect(attempt).rejects.toThrow('the AWS endpoint is unreachable (ECONNREFUSED)');
    });

    it('maps a claim that fails for another reason to STORE_FAILED on PutItem and releases the other claims', async () => {
      dynamo.on(PutCommand).callsFake((input: { Item: Record<string, unknown> }) => {
        if (input.Item.pk === 'event#e-2') throw Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
        return {};
      });
      dynamo.on(DeleteCommand).resolves({});

      await expect(store.recordEvents([newEvent('e-1'), newEvent('e-2')])).rejects.toMatchObject({
        code: 'STORE_FAILED',
        message: expect.stringContaining('throttled by AWS'),
        context: { operation: 'PutItem', awsError: 'ThrottlingException' },
      });
      expect(dynamo.commandCalls(DeleteCommand).map((call) => call.args[0].input.Key?.pk)).toEqual(['event#e-1']);
      expect(dynamo.commandCalls(BatchWriteCommand)).toHaveLength(0);
    });

    it('reports a failed release of claims with the ids still reserved', async () => {
      dynamo.on(PutCommand).callsFake((input: { Item: Record<string, unknown> }) => {
        if (input.Item.pk === 'event#e-2') throw conditionFailed();
        return {};
      });
      dynamo.on(DeleteCommand).rejects(Object.assign(new Error('denied'), { name: 'AccessDeniedException' }));

      await expect(store.recordEvents([newEvent('e-1'), newEvent('e-2')])).rejects.toMatchObject({
        code: 'STORE_FAILED',
        message: expect.stringContaining('a duplicate event id'),
        context: { operation: 'DeleteItem', eventIds: ['e-1'] },
      });
    });
  });

  describe('markFalsePositive', () => {
    it('finds the event through its guard (consistent read) and replaces the mark conditionally', async () => {
      // Prepare
      const item = stored('e-1');
      dynamo.on(GetCommand).resolves({ Item: { pk: 'event#e-1', sk: 'guard', eventPk: item.pk, eventSk: item.sk, observedMs: item.observedMs } });
      dynamo.on(UpdateCommand).resolves({ Attributes: { ...item, falsePositive: { ...mark, ticket: 'SEC-1' } } });

      // Act
      const marked = await store.markFalsePositive('e-1', { ...mark, ticket: 'SEC-1' });

      // Assess
      expect(dynamo.commandCalls(GetCommand)[0].args[0].input).toEqual({ TableName: TABLE, Key: { pk: 'event#e-1', sk: 'guard' }, ConsistentRead: true });
      expect(dynamo.commandCalls(UpdateCommand)[0].args[0].input).toEqual({
        TableName: TABLE,
        Key: { pk: item.pk, sk: item.sk },
        UpdateExpression: 'SET falsePositive = :fp',
        ConditionExpression: 'attribute_exists(pk) AND observedMs > :cutoff',
        ExpressionAttributeValues: { ':fp': { ...mark, ticket: 'SEC-1' }, ':cutoff': CUTOFF },
        ReturnValues: 'ALL_NEW',
      });
      expect(marked).toEqual({ ...newEvent('e-1'), falsePositive: { ...mark, ticket: 'SEC-1' } });
    });

    it('throws NotFoundError for an unknown id, an expired guard or an event gone by the time of the update', async () => {
      dynamo.on(GetCommand).resolvesOnce({}).resolvesOnce({ Item: { eventPk: 'rule#r', eventSk: 's', observedMs: CUTOFF } }).resolves({
        Item: { eventPk: 'rule#r', eventSk: 's', observedMs: CUTOFF + 1 },
      });
      dynamo.on(UpdateCommand).rejects(conditionFailed());

      for (let i = 0; i < 3; i++) {
        const attempt = store.markFalsePositive('e-x', mark);
        await expect(attempt).rejects.toBeInstanceOf(NotFoundError);
        await expect(attempt).rejects.toMatchObject({ code: 'NOT_FOUND', location: { field: 'eventId' }, context: { eventId: 'e-x' } });
      }
      expect(dynamo.commandCalls(UpdateCommand)).toHaveLength(1);
    });

    it('maps other failures to STORE_FAILED naming GetItem or UpdateItem', async () => {
      dynamo.on(GetCommand).rejectsOnce(new ResourceNotFoundException({ message: 'no table', $metadata: {} })).resolves({
        Item: { eventPk: 'rule#r', eventSk: 's', observedMs: NOW },
      });
      dynamo.on(UpdateCommand).rejects(Object.assign(new Error('boom'), { name: 'InternalServerError' }));

      await expect(store.markFalsePositive('e-1', mark)).rejects.toMatchObject({
        code: 'STORE_FAILED',
        message: expect.stringContaining(`DynamoDB table ${TABLE} does not exist`),
        context: { operation: 'GetItem' },
      });
      await expect(store.markFalsePositive('e-1', mark)).rejects.toMatchObject({ code: 'STORE_FAILED', context: { operation: 'UpdateItem' } });
    });

    it('validates the mark before any request', async () => {
      await expect(store.markFalsePositive('e-1', { ...mark, reason: '' })).rejects.toMatchObject({ location: { field: 'reason' } });
      await expect(store.markFalsePositive('e-1', { ...mark, ticket: '' })).rejects.toMatchObject({ location: { field: 'ticket' } });
      expect(dynamo.calls()).toHaveLength(0);
    });
  });

  describe('windowByCount and ruleStats', () => {
    it('queries the rule partition newest first with Limit (one past the window), live events only, strongly consistent', async () => {
      // Prepare
      dynamo.on(QueryCommand).resolves({ Items: [stored('e-2', '2030-02-28T12:00:01.000Z'), stored('e-1')] });

      // Act
      const events = await store.windowByCount('MD-001', 2);

      // Assess
      expect(dynamo.commandCalls(QueryCommand)[0].args[0].input).toEqual({
        TableName: TABLE,
        ConsistentRead: true,
        KeyConditionExpression: 'pk = :partition AND sk >= :from',
        ExpressionAttributeValues: { ':partition': 'rule#MD-001', ':from': FROM },
        ScanIndexForward: false,
        // One item past the window shows whether the limit cuts through a millisecond.
        Limit: 3,
      });
      expect(dynamo.commandCalls(QueryCommand)).toHaveLength(1);
      expect(events.map((e) => e.eventId)).toEqual(['e-2', 'e-1']);
    });

    it('reads no tie query when the item past the window is in another millisecond', async () => {
      dynamo.on(QueryCommand).resolves({
        Items: [stored('e-3', '2030-02-28T12:00:02.000Z'), stored('e-2', '2030-02-28T12:00:01.000Z'), stored('e-1', '2030-02-28T12:00:00.000Z')],
        LastEvaluatedKey: { pk: 'rule#MD-001', sk: 'k' },
      });
      const events = await store.windowByCount('MD-001', 2);
      expect(dynamo.commandCalls(QueryCommand)).toHaveLength(1);
      expect(events.map((e) => e.eventId)).toEqual(['e-3', 'e-2']);
    });

    it('continues after a short page and reads the whole millisecond the limit cuts through', async () => {
      // Prepare: page 1 (1 item, more to come); page 2 fills the window plus one, and both ends are in a tie at 12:00
      const at = '2030-02-28T12:00:00.000Z';
      dynamo
        .on(QueryCommand)
        .resolvesOnce({ Items: [stored('late', '2030-02-28T13:00:00.000Z')], LastEvaluatedKey: { pk: 'rule#MD-001', sk: 'k1' } })
        .resolvesOnce({ Items: [stored('t-c', at), stored('t-b', at)], LastEvaluatedKey: { pk: 'rule#MD-001', sk: 'k2' } })
        .resolvesOnce({ Items: [stored('t-c', at), stored('t-b', at)], LastEvaluatedKey: { pk: 'rule#MD-001', sk: 'k3' } })
        .resolvesOnce({ Items: [stored('t-a', at)] });

      // Act
      const events = await store.windowByCount('MD-001', 2);

      // Assess
      const inputs = dynamo.commandCalls(QueryCommand).map((call) => call.args[0].input);
      expect(inputs[1]).toMatchObject({ Limit: 2, ExclusiveStartKey: { pk: 'rule#MD-001', sk: 'k1' } });
      expect(inputs[2]).toMatchObject({
        KeyConditionExpression: 'pk = :partition AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: { ':partition': 'rule#MD-001', ':prefix': `event#${at}#` },
      });
      expect(inputs[3]).toMatchObject({ ExclusiveStartKey: { pk: 'rule#MD-001', sk: 'k3' } });
      expect(events.map((e) => e.eventId)).toEqual(['late', 't-a']);
    });

    it('computes stats from the window: marked events are the reviewed false positives', async () => {
      dynamo.on(QueryCommand).resolves({ Items: [stored('e-3', '2030-02-28T12:00:02.000Z', { falsePositive: mark }), stored('e-2'), stored('e-1', '2030-02-27T00:00:00.000Z')] });

      expect(await store.ruleStats('MD-001', 3)).toEqual({ ruleId: 'MD-001', total: 3, reviewed: 1, falsePositives: 1, fpr: 1 });
      await expect(store.ruleStats('MD-001', -1)).rejects.toMatchObject({ location: { field: 'window' } });
      await expect(store.windowByCount('MD-001', 0)).rejects.toMatchObject({ location: { field: 'count' } });
    });

    it('maps a query failure to STORE_FAILED naming the table and Query, and a malformed item too', async () => {
      dynamo.on(QueryCommand).rejectsOnce(Object.assign(new Error('throughput exceeded'), { name: 'ProvisionedThroughputExceededException' })).resolves({
        Items: [{ pk: 'rule#MD-001', sk: 'event#x#e', eventId: 'e' }],
      });

      await expect(store.windowByCount('MD-001', 5)).rejects.toMatchObject({
        code: 'STORE_FAILED',
        message: `Query on DynamoDB table ${TABLE} failed: throttled by AWS after the SDK's retries with backoff (ProvisionedThroughputExceededException)`,
        context: { resource: `DynamoDB table ${TABLE}`, operation: 'Query', awsError: 'ProvisionedThroughputExceededException' },
      });
      await expect(store.windowByCount('MD-001', 5)).rejects.toMatchObject({
        code: 'STORE_FAILED',
        message: expect.stringContaining('lacks the string attribute ruleId'),
      });
    });

    it('rejects an item with an incomplete mark', async () => {
      dynamo.on(QueryCommand).resolves({ Items: [stored('e-1', undefined, { falsePositive: { reviewer: 'alice' } })] });
      await expect(store.windowByCount('MD-001', 5)).rejects.toMatchObject({ message: expect.stringContaining('incomplete falsePositive mark') });
    });
  });

  describe('windowByTime', () => {
    it('queries sk BETWEEN the bounds oldest first and follows LastEvaluatedKey until the end', async () => {
      // Prepare: three pages
      dynamo
        .on(QueryCommand)
        .resolvesOnce({ Items: [stored('e-1', '2030-02-10T00:00:00.000Z')], LastEvaluatedKey: { pk: 'p', sk: '1' } })
        .resolvesOnce({ Items: [], LastEvaluatedKey: { pk: 'p', sk: '2' } })
        .resolvesOnce({ Items: [stored('e-2', '2030-02-11T00:00:00.000Z')] });

      // Act
      const events = await store.windowByTime('MD-001', new Date('2030-02-01T00:00:00Z'), new Date('2030-02-15T00:00:00Z'));

      // Assess
      const inputs = dynamo.commandCalls(QueryCommand).map((call) => call.args[0].input);
      expect(inputs[0]).toEqual({
        TableName: TABLE,
        KeyConditionExpression: 'pk = :partition AND sk BETWEEN :from AND :to',
        ExpressionAttributeValues: {
          ':partition': 'rule#MD-001',
          ':from': 'event#2030-02-01T00:00:00.000Z#',
          ':to': 'event#2030-02-15T00:00:00.000Z#',
        },
        ScanIndexForward: true,
        ConsistentRead: true,
      });
      expect(inputs.slice(1).map((input) => input.ExclusiveStartKey)).toEqual([{ pk: 'p', sk: '1' }, { pk: 'p', sk: '2' }]);
      expect(events.map((e) => e.eventId)).toEqual(['e-1', 'e-2']);
    });

    it('starts at the retention cut-off and sends nothing for a window that ends before it', async () => {
      dynamo.on(QueryCommand).resolves({ Items: [] });

      await store.windowByTime('MD-001', new Date(0), new Date(NOW));
      expect(await store.windowByTime('MD-001', new Date(0), new Date(CUTOFF + 1))).toEqual([]);

      expect(dynamo.commandCalls(QueryCommand)).toHaveLength(1);
      expect(dynamo.commandCalls(QueryCommand)[0].args[0].input.ExpressionAttributeValues?.[':from']).toBe(FROM);
    });
  });

  describe('list', () => {
    it('filters the rule partition by finding and mark, reading pages until the limit is met', async () => {
      dynamo
        .on(QueryCommand)
        .resolvesOnce({ Items: [], LastEvaluatedKey: { pk: 'p', sk: '1' } })
        .resolvesOnce({ Items: [stored('e-1', undefined, { falsePositive: mark })] });

      const events = await store.list({ ruleId: 'MD-001', findingId: 'f-e-1', markedOnly: true, limit: 1 });

      const input = dynamo.commandCalls(QueryCommand)[0].args[0].input;
      expect(input).toMatchObject({
        FilterExpression: 'attribute_exists(falsePositive) AND findingId = :findingId',
        ExpressionAttributeValues: { ':findingId': 'f-e-1', ':partition': 'rule#MD-001', ':from': FROM },
        ConsistentRead: true,
      });
      expect(input).not.toHaveProperty('Limit');
      expect(events).toEqual([{ ...newEvent('e-1'), falsePositive: mark }]);
    });

    it('reads a finding through FindingIndex (eventually consistent)', async () => {
      dynamo.on(QueryCommand).resolves({ Items: [stored('e-1')] });

      await store.list({ findingId: 'f-e-1', limit: 5 });

      const input = dynamo.commandCalls(QueryCommand)[0].args[0].input;
      expect(input).toMatchObject({ IndexName: 'FindingIndex', KeyConditionExpression: 'findingId = :partition AND sk >= :from', Limit: 6 });
      expect(input).not.toHaveProperty('ConsistentRead');
    });

    it('scans every page without a rule or finding, keeping the newest `limit` across pages', async () => {
      dynamo
        .on(ScanCommand)
        .resolvesOnce({ Items: [stored('old', '2030-02-01T00:00:00.000Z'), stored('mid', '2030-02-10T00:00:00.000Z')], LastEvaluatedKey: { pk: 'x', sk: 'y' } })
        .resolvesOnce({ Items: [stored('new', '2030-02-20T00:00:00.000Z', {}, 'MD-002')] });

      const events = await store.list({ markedOnly: true, limit: 2 });

      const inputs = dynamo.commandCalls(ScanCommand).map((call) => call.args[0].input);
      expect(inputs[0]).toEqual({
        TableName: TABLE,
        FilterExpression: 'begins_with(pk, :rule) AND sk >= :from AND attribute_exists(falsePositive)',
        ExpressionAttributeValues: { ':rule': 'rule#', ':from': FROM },
      });
      expect(inputs[1].ExclusiveStartKey).toEqual({ pk: 'x', sk: 'y' });
      expect(events.map((e) => e.eventId)).toEqual(['new', 'mid']);
    });

    it('maps a scan failure to STORE_FAILED naming Scan', async () => {
      dynamo.on(ScanCommand).rejects(new ResourceNotFoundException({ message: 'no table', $metadata: {} }));
      await expect(store.list({ limit: 1 })).rejects.toMatchObject({ code: 'STORE_FAILED', context: { operation: 'Scan' } });
    });
  });

  describe('markedFindings', () => {
    it('queries FindingIndex once per distinct finding for marked live events and keeps the earliest mark', async () => {
      // Prepare
      dynamo.on(QueryCommand, { ExpressionAttributeValues: { ':partition': 'f-1', ':from': FROM } }).resolves({
        Items: [
          stored('b', undefined, { findingId: 'f-1', falsePositive: { ...mark, markedAt: '2030-02-28T14:00:00Z' } }),
          stored('c', undefined, { findingId: 'f-1', falsePositive: { ...mark, markedAt: '2030-02-28T15:00:00+02:00' } }),
          stored('a', undefined, { findingId: 'f-1', falsePositive: { ...mark, markedAt: '2030-02-28T14:00:00Z' } }),
        ],
      });
      dynamo.on(QueryCommand, { ExpressionAttributeValues: { ':partition': 'f-2', ':from': FROM } }).resolves({ Items: [] });

      // Act
      const found = await store.markedFindings(['f-2', 'f-1', 'f-2']);

      // Assess: 15:00+02:00 is 13:00Z, the earliest
      expect(dynamo.commandCalls(QueryCommand)).toHaveLength(2);
      expect(dynamo.commandCalls(QueryCommand)[0].args[0].input).toMatchObject({
        IndexName: 'FindingIndex',
        KeyConditionExpression: 'findingId = :partition AND sk >= :from',
        FilterExpression: 'attribute_exists(falsePositive)',
      });
      expect([...found.keys()]).toEqual(['f-1']);
      expect(found.get('f-1')?.eventId).toBe('c');
    });

    it('breaks equal marks by event id and sends nothing for no ids', async () => {
      dynamo.on(QueryCommand).resolves({
        Items: [stored('b', undefined, { falsePositive: mark }), stored('a', undefined, { falsePositive: mark })],
      });
      expect((await store.markedFindings(['f'])).get('f')?.eventId).toBe('a');
      expect(await store.markedFindings([])).toEqual(new Map());
      expect(dynamo.commandCalls(QueryCommand)).toHaveLength(1);
    });
  });

  describe('ruleIds', () => {
    it('scans every page projecting pk, live rule items only, and returns each rule once, sorted', async () => {
      dynamo
        .on(ScanCommand)
        .resolvesOnce({ Items: [{ pk: 'rule#MD-002' }, { pk: 'rule#MD-001' }], LastEvaluatedKey: { pk: 'a', sk: 'b' } })
        .resolvesOnce({ Items: [{ pk: 'rule#MD-002' }, {}] });

      expect(await store.ruleIds()).toEqual(['MD-001', 'MD-002']);

      const inputs = dynamo.commandCalls(ScanCommand).map((call) => call.args[0].input);
      expect(inputs[0]).toEqual({
        TableName: TABLE,
        ProjectionExpression: 'pk',
        FilterExpression: 'begins_with(pk, :rule) AND sk >= :from',
        ExpressionAttributeValues: { ':rule': 'rule#', ':from': FROM },
      });
      expect(inputs[1].ExclusiveStartKey).toEqual({ pk: 'a', sk: 'b' });
    });
  });
});
