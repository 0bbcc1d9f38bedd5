/**
 * The DynamoDB FP store against the emulator: the same FpStore contract the
 * SQLite adapter runs (each test on its own fresh fpEvents table, created
 * from TABLE_DEFINITIONS), the item layout of table-definitions.ts, and the
 * reliability checks: 5,000 concurrent records, throttling retried with
 * backoff, a missing table.
 */
import { CreateTableCommand, DeleteTableCommand, DynamoDBClient, waitUntilTableExists } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, QueryCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { randomBytes } from 'node:crypto';
import { ConflictError, DependencyError } from '../../src/errors';
import { dynamoDocumentClient } from '../../src/store/aws/clients';
import { DynamoFpStore, fpEventSortKey } from '../../src/store/aws/fp-store';
import { TABLE_DEFINITIONS } from '../../src/store/aws/table-definitions';
import type { FpStore, NewFpEvent } from '../../src/store/ports';
import { FP_EVENT_RETENTION_MS } from '../../src/store/sqlite';
import { describeFpStoreContract } from '../store/contract/fp-store.contract';
import { daysAgo, uniqueId, type MakeStore } from '../store/contract/harness';
import { createTableInput, emulatorDynamoDbClient, emulatorEndpoint } from './tables';
import { throttledDocumentClient } from './throttle';

const region = process.env.AWS_REGION || 'us-east-1';
let admin: DynamoDBClient;
let documents: DynamoDBDocumentClient;
const created: string[] = [];

/** A fresh fpEvents table: the contract needs an empty store per test (list without a rule, ruleIds). */
async function freshTable(): Promise<string> {
  const name = `fp-${randomBytes(6).toString('hex')}-${TABLE_DEFINITIONS.fpEvents.suffix}`;
  await admin.send(new CreateTableCommand(createTableInput(TABLE_DEFINITIONS.fpEvents, name)));
  await waitUntilTableExists({ client: admin, maxWaitTime: 60 }, { TableName: name });
  created.push(name);
  return name;
}

async function dropTable(name: string): Promise<void> {
  await admin.send(new DeleteTableCommand({ TableName: name }));
  created.splice(created.indexOf(name), 1);
}

beforeAll(() => {
  admin = emulatorDynamoDbClient();
  documents = dynamoDocumentClient({ region, endpoint: emulatorEndpoint() });
});

afterAll(async () => {
  await Promise.all([...created].map(dropTable));
  admin.destroy();
}, 120_000);

const makeStore: MakeStore<FpStore> = async () => {
  const tableName = await freshTable();
  return { store: new DynamoFpStore({ client: documents, tableName }), close: () => dropTable(tableName) };
};

describeFpStoreContract('dynamodb', makeStore);

function event(ruleId: string, eventId: string, observedAt: string): NewFpEvent {
  return { eventId, ruleId, ruleVersion: '1.2.0', findingId: `finding-${eventId}`, repository: 'acme/widgets', runId: 'run-7', path: 'a.yml', observedAt };
}

describe('DynamoFpStore on the emulator', () => {
  let tableName: string;
  let store: DynamoFpStore;

  beforeAll(async () => {
    tableName = await freshTable();
    store = new DynamoFpStore({ client: documents, tableName });
  }, 60_000);

  it('writes the event and its guard under the documented keys, with the TTL in epoch seconds', async () => {
    // Prepare
    const ruleId = uniqueId('MD-001');
    const observedAt = '2030-01-01T01:00:00+01:00';
    const observedMs = Date.parse(observedAt);
    const now = Date.parse('2030-01-02T00:00:00Z');
    const clocked = new DynamoFpStore({ client: documents, tableName, now: () => now });

    // Act
    await clocked.recordEvents([event(ruleId, `${ruleId}-e1`, observedAt)]);
    await clocked.markFalsePositive(`${ruleId}-e1`, { reviewer: 'alice', reason: 'fixture', ticket: 'SEC-1', markedAt: '2030-01-02T00:00:00Z' });

    // Assess
    const item = await documents.send(
      new GetCommand({ TableName: tableName, Key: { pk: `rule#${ruleId}`, sk: `event#2030-01-01T00:00:00.000Z#${ruleId}-e1` }, ConsistentRead: true }),
    );
    expect(item.Item).toEqual({
      pk: `rule#${ruleId}`,
      sk: fpEventSortKey(observedMs, `${ruleId}-e1`),
      eventId: `${ruleId}-e1`,
      ruleId,
      ruleVersion: '1.2.0',
      findingId: `finding-${ruleId}-e1`,
      repository: 'acme/widgets',
      runId: 'run-7',
      path: 'a.yml',
      observedAt,
      observedMs,
      expiresAt: (observedMs + FP_EVENT_RETENTION_MS) / 1000,
      falsePositive: { reviewer: 'alice', reason: 'fixture', ticket: 'SEC-1', markedAt: '2030-01-02T00:00:00Z' },
    });
    const guard = await documents.send(new GetCommand({ TableName: tableName, Key: { pk: `event#${ruleId}-e1`, sk: 'guard' }, ConsistentRead: true }));
    expect(guard.Item).toMatchObject({ eventPk: `rule#${ruleId}`, eventSk: item.Item?.sk, expiresAt: item.Item?.expiresAt });
    expect(guard.Item).not.toHaveProperty('eventId');
    const byFinding = await documents.send(
      new QueryCommand({
        TableName: tableName,
        IndexName: 'FindingIndex',
        KeyConditionExpression: 'findingId = :f',
        ExpressionAttributeValues: { ':f': `finding-${ruleId}-e1` },
      }),
    );
    expect(byFinding.Items?.map((i) => i.eventId)).toEqual([`${ruleId}-e1`]);
  });

  it('rejects an event id already recorded under another rule and another time', async () => {
    const [r1, r2] = [uniqueId('r1'), uniqueId('r2')];
    const id = uniqueId('shared');
    await store.recordEvents([event(r1, id, daysAgo(3))]);

    const attempt = store.recordEvents([event(r2, id, daysAgo(1))]);

    await expect(attempt).rejects.toBeInstanceOf(ConflictError);
    await expect(attempt).rejects.toMatchObject({ code: 'DUPLICATE_EVENT', context: { eventId: id, resource: `DynamoDB table ${tableName}` } });
    expect(await store.ruleIds()).not.toContain(r2);
  });

  it('lets exactly one of two concurrent writers of the same event id win', async () => {
    const ruleId = uniqueId('race');
    const id = uniqueId('contested');
    const results = await Promise.allSettled([
      store.recordEvents([event(ruleId, id, daysAgo(1))]),
      store.recordEvents([event(ruleId, id, daysAgo(2))]),
    ]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(results.find((r) => r.status === 'rejected')).toMatchObject({ reason: { code: 'DUPLICATE_EVENT' } });
    expect(await store.windowByCount(ruleId, 10)).toHaveLength(1);
  });

  it('hides events that expired by the injected clock and lets their ids be recorded again', async () => {
    // Prepare
    const ruleId = uniqueId('ttl');
    let now = Date.parse('2030-06-01T00:00:00Z');
    const clocked = new DynamoFpStore({ client: documents, tableName, now: () => now });
    await clocked.recordEvents([event(ruleId, `${ruleId}-a`, '2030-05-31T00:00:00Z')]);
    expect(await clocked.ruleIds()).toContain(ruleId);

    // Act: 90 days after the observation, to the millisecond
    now = Date.parse('2030-05-31T00:00:00Z') + FP_EVENT_RETENTION_MS;

    // Assess
    expect(await clocked.windowByCount(ruleId, 5)).toEqual([]);
    expect(await clocked.ruleIds()).not.toContain(ruleId);
    await expect(clocked.markFalsePositive(`${ruleId}-a`, { reviewer: 'a', reason: 'b', markedAt: '2030-08-30T00:00:00Z' })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    await clocked.recordEvents([event(ruleId, `${ruleId}-a`, '2030-08-29T00:00:00Z')]);
    expect((await clocked.windowByCount(ruleId, 5)).map((e) => e.observedAt)).toEqual(['2030-08-29T00:00:00Z']);
    now -= 1;
    expect((await clocked.windowByCount(ruleId, 5)).map((e) => e.observedAt)).toEqual(['2030-08-29T00:00:00Z', '2030-05-31T00:00:00Z']);
  });

  it('records 5,000 events written concurrently (50 batches of 100 in flight), loses none and rejects re-recorded ids', async () => {
    // Prepare: a table of its own, 5,000 events in 50 batches, all sent at once
    const own = await freshTable();
    const loaded = new DynamoFpStore({ client: documents, tableName: own });
    const ruleId = uniqueId('load');
    const start = Date.now() - 2 * 24 * 60 * 60 * 1000;
    const events = Array.from({ length: 5000 }, (_, i) =>
      event(ruleId, `${ruleId}-${String(i).padStart(5, '0')}`, new Date(start + i * 10).toISOString()),
    );
    const batches = Array.from({ length: 50 }, (_, b) => events.slice(b * 100, b * 100 + 100));

    try {
      // Act
      await Promise.all(batches.map((batch) => loaded.recordEvents(batch)));
      const stored = await loaded.windowByTime(ruleId, new Date(start), new Date(start + 5000 * 10));

      // Assess: every event, once, in order; re-recording any of them is a duplicate, alone or in a batch
      expect(stored).toHaveLength(5000);
      expect(stored.map((e) => e.eventId)).toEqual(events.map((e) => e.eventId));
      const sample = [0, 1, 777, 2500, 4999].map((i) => events[i]);
      const rerecorded = await Promise.allSettled(sample.map((e) => loaded.recordEvents([{ ...e, observedAt: daysAgo(0.5) }])));
      for (const result of rerecorded) expect(result).toMatchObject({ status: 'rejected', reason: { code: 'DUPLICATE_EVENT' } });
      const fresh = Array.from({ length: 99 }, (_, i) => event(ruleId, `${ruleId}-fresh-${i}`, daysAgo(0.5)));
      await expect(loaded.recordEvents([...fresh, events[4321]])).rejects.toMatchObject({
        code: 'DUPLICATE_EVENT',
        context: { eventId: events[4321].eventId },
      });
      expect(await loaded.windowByTime(ruleId, new Date(start), new Date())).toHaveLength(5000);
    } finally {
      await dropTable(own);
    }
  }, 300_000);

  it('keeps single-event records exact under concurrency: 300 writers, 30 of them duplicates', async () => {
    // Prepare: 300 calls of one event each, all at once
    const own = await freshTable();
    const racing = new DynamoFpStore({ client: documents, tableName: own });
    const ruleId = uniqueId('tx');
    const ids = Array.from({ length: 270 }, (_, i) => `${ruleId}-${i}`);
    const calls = [...ids, ...ids.slice(0, 30)].map((id, i) => racing.recordEvents([event(ruleId, id, new Date(Date.now() - 1000 - i).toISOString())]));

    try {
      // Act
      const results = await Promise.allSettled(calls);

      // Assess: 270 recorded once each, 30 rejected as duplicates
      const rejected = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      expect(rejected).toHaveLength(30);
      for (const r of rejected) expect(r.reason).toMatchObject({ code: 'DUPLICATE_EVENT' });
      const stored = await racing.windowByCount(ruleId, 1000);
      expect(new Set(stored.map((e) => e.eventId))).toEqual(new Set(ids));
      expect(stored).toHaveLength(270);
    } finally {
      await dropTable(own);
    }
  }, 120_000);

  it('pages windowByTime over more than 1 MB of items', async () => {
    // Prepare: 400 events of ~4 KB each (~1.6 MB), in batches larger than a transaction
    const ruleId = uniqueId('pages');
    const start = Date.now() - 24 * 60 * 60 * 1000;
    const events = Array.from({ length: 400 }, (_, i) => ({
      ...event(ruleId, `${ruleId}-${String(i).padStart(3, '0')}`, new Date(start + i).toISOString()),
      path: `${'p'.repeat(4000)}/${i}`,
    }));
    for (let i = 0; i < events.length; i += 100) await store.recordEvents(events.slice(i, i + 100));
    const pages = await documents.send(
      new QueryCommand({ TableName: tableName, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': `rule#${ruleId}` } }),
    );

    // Act
    const window = await store.windowByTime(ruleId, new Date(start), new Date(start + 400));

    // Assess: the emulator really paged, and the adapter still returned all
    expect(pages.LastEvaluatedKey).toBeDefined();
    expect(window).toHaveLength(400);
  }, 60_000);

  it('recognises its own guard when the SDK retries a claim whose response was lost', async () => {
    // Prepare: the first PutItem reaches the emulator, then its response is "lost" (a retryable 500)
    const base = new DynamoDBClient({ region, endpoint: emulatorEndpoint(), maxAttempts: 3 });
    let lost = false;
    base.middlewareStack.add(
      (next, context) => async (args) => {
        const result = await next(args);
        if (context.commandName === 'PutItemCommand' && !lost) {
          lost = true;
          throw Object.assign(new Error('We encountered an internal error. Please try again.'), {
            name: 'InternalServerError',
            $fault: 'server',
            $metadata: { httpStatusCode: 500 },
          });
        }
        return result;
      },
      { step: 'finalizeRequest', priority: 'low', name: 'loseFirstResponse' },
    );
    const flaky = new DynamoFpStore({ client: DynamoDBDocumentClient.from(base), tableName });
    const ruleId = uniqueId('lost');

    // Act
    await flaky.recordEvents([event(ruleId, `${ruleId}-1`, daysAgo(1))]);

    // Assess: recorded once, and the id is still protected
    expect(lost).toBe(true);
    expect((await store.windowByCount(ruleId, 5)).map((e) => e.eventId)).toEqual([`${ruleId}-1`]);
    await expect(store.recordEvents([event(ruleId, `${ruleId}-1`, daysAgo(2))])).rejects.toMatchObject({ code: 'DUPLICATE_EVENT' });
    base.destroy();
  });

  it('fails with STORE_FAILED naming the table and operation when the table does not exist', async () => {
    const missing = new DynamoFpStore({ client: documents, tableName: 'fp-missing-table' });
    const attempt = missing.windowByCount('MD-001', 5);
    await expect(attempt).rejects.toBeInstanceOf(DependencyError);
    await expect(attempt).rejects.toMatchObject({
      code: 'STORE_FAILED',
      context: { resource: 'DynamoDB table fp-missing-table', operation: 'Query', awsError: 'ResourceNotFoundException' },
    });
    await expect(missing.recordEvents([event('r', 'e', daysAgo(1))])).rejects.toMatchObject({
      code: 'STORE_FAILED',
      context: { operation: 'PutItem', awsError: 'ResourceNotFoundException' },
    });
  });
});

describe('DynamoFpStore under throttling', () => {
  let tableName: string;

  beforeAll(async () => {
    tableName = await freshTable();
  }, 60_000);

  it('retries throttled calls with backoff and succeeds when the throttling stops in time', async () => {
    // Prepare: 2 throttled attempts, 4 allowed
    const { client, attempts, calls } = throttledDocumentClient(2, 4);
    const store = new DynamoFpStore({ client, tableName });
    const ruleId = uniqueId('throttle');

    // Act
    await store.recordEvents([event(ruleId, `${ruleId}-1`, daysAgo(1))]);

    // Assess: the SDK's retry strategy (exponential backoff, full jitter) made three attempts of the
    // guard claim, then one of the event write; the event is stored once
    expect(attempts()).toBe(4);
    expect(calls).toEqual([
      { command: 'PutItemCommand', attempts: 3 },
      { command: 'BatchWriteItemCommand', attempts: 1 },
    ]);
    const stored = await documents.send(new ScanCommand({ TableName: tableName, FilterExpression: 'ruleId = :r', ExpressionAttributeValues: { ':r': ruleId } }));
    expect(stored.Items).toHaveLength(1);
  }, 30_000);

  it('fails with a typed STORE_FAILED naming the table and the operation once every attempt was throttled', async () => {
    // Prepare: throttled on every attempt
    const { client, attempts } = throttledDocumentClient(100, 3);
    const store = new DynamoFpStore({ client, tableName });

    // Act
    const attempt = store.windowByCount('MD-001', 10);

    // Assess
    await expect(attempt).rejects.toBeInstanceOf(DependencyError);
    await expect(attempt).rejects.toMatchObject({
      code: 'STORE_FAILED',
      message: expect.stringContaining(`Query on DynamoDB table ${tableName} failed: throttled by AWS`),
      context: { resource: `DynamoDB table ${tableName}`, operation: 'Query', awsError: 'ProvisionedThroughputExceededException' },
    });
    expect(attempts()).toBe(3);
  }, 30_000);
});
