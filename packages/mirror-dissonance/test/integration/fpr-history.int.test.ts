/**
 * The DynamoDB FPR history against the emulator: the FprHistory contract the
 * SQLite adapter runs, the item layout, pruning of snapshots more than 90
 * days older than the newest, throttling and a missing table.
 */
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { DependencyError } from '../../src/errors';
import { DynamoFprHistory } from '../../src/store/aws/fpr-history';
import type { FprHistory } from '../../src/store/ports';
import { describeFprHistoryContract } from '../store/contract/fpr-history.contract';
import { uniqueId, type MakeStore } from '../store/contract/harness';
import { useSuiteTables } from './tables';
import { throttledDocumentClient } from './throttle';

const tables = useSuiteTables('fprhist');

// One table for the suite: every contract test uses its own random rule ids.
const makeStore: MakeStore<FprHistory> = async () => ({
  store: new DynamoFprHistory({ client: tables.documents, tableName: tables.names.fprHistory }),
  close: async () => undefined,
});

describeFprHistoryContract('dynamodb', makeStore);

async function snapshotKeys(ruleId: string): Promise<string[]> {
  const page = await tables.documents.send(
    new QueryCommand({
      TableName: tables.names.fprHistory,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': `rule#${ruleId}` },
      ConsistentRead: true,
    }),
  );
  return (page.Items ?? []).map((item) => String(item.sk));
}

describe('DynamoFprHistory on the emulator', () => {
  it('stores snapshots under rule#<id> / snapshot#<canonical UTC time>, without a TTL', async () => {
    // Prepare
    const history = new DynamoFprHistory({ client: tables.documents, tableName: tables.names.fprHistory });
    const ruleId = uniqueId('MD-002');

    // Act
    await history.record(ruleId, { fpr: 1 / 3, reviewed: 3, at: '2030-01-01T01:00:00+01:00' });

    // Assess
    const page = await tables.documents.send(
      new QueryCommand({ TableName: tables.names.fprHistory, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': `rule#${ruleId}` } }),
    );
    expect(page.Items).toEqual([
      { pk: `rule#${ruleId}`, sk: 'snapshot#2030-01-01T00:00:00.000Z', ruleId, fpr: 1 / 3, reviewed: 3, at: '2030-01-01T01:00:00+01:00' },
    ]);
    expect(await history.last(ruleId)).toEqual({ fpr: 1 / 3, reviewed: 3 });
  });

  it('orders by instant, not by the text of `at`, and lets a later record at the same instant stand', async () => {
    const history = new DynamoFprHistory({ client: tables.documents, tableName: tables.names.fprHistory });
    const ruleId = uniqueId('rule');
    // 09:30+02:00 (07:30Z) is earlier than 08:00Z although it sorts later as text
    await history.record(ruleId, { fpr: 0.2, reviewed: 5, at: '2030-01-01T08:00:00Z' });
    await history.record(ruleId, { fpr: 0.9, reviewed: 9, at: '2030-01-01T09:30:00+02:00' });
    expect(await history.last(ruleId)).toEqual({ fpr: 0.2, reviewed: 5 });
    await history.record(ruleId, { fpr: 0.4, reviewed: 6, at: '2030-01-01T08:00:00.000Z' });
    expect(await history.last(ruleId)).toEqual({ fpr: 0.4, reviewed: 6 });
  });

  it('deletes the snapshots more than 90 days older than the one recorded, keeping the rest', async () => {
    // Prepare: snapshots at day 0, 10, 50 and exactly 90 days before the newest
    const history = new DynamoFprHistory({ client: tables.documents, tableName: tables.names.fprHistory });
    const ruleId = uniqueId('rule');
    const newest = Date.parse('2030-06-01T00:00:00Z');
    const day = 24 * 60 * 60 * 1000;
    for (const age of [200, 120, 91, 90, 10]) {
      await history.record(ruleId, { fpr: 0.5, reviewed: age, at: new Date(newest - age * day).toISOString() });
    }

    // Act
    await history.record(ruleId, { fpr: 0.1, reviewed: 1, at: new Date(newest).toISOString() });

    // Assess
    expect(await snapshotKeys(ruleId)).toEqual([
      `snapshot#${new Date(newest - 90 * day).toISOString()}`,
      `snapshot#${new Date(newest - 10 * day).toISOString()}`,
      `snapshot#${new Date(newest).toISOString()}`,
    ]);
    expect(await history.last(ruleId)).toEqual({ fpr: 0.1, reviewed: 1 });
  });

  it('prunes more old snapshots than one BatchWriteItem request holds', async () => {
    // Prepare: 60 old snapshots (more than two BatchWriteItem requests)
    const history = new DynamoFprHistory({ client: tables.documents, tableName: tables.names.fprHistory });
    const ruleId = uniqueId('rule');
    const base = Date.parse('2030-01-01T00:00:00Z');
    for (let i = 0; i < 60; i++) await history.record(ruleId, { fpr: 0.5, reviewed: i, at: new Date(base + i * 60_000).toISOString() });

    // Act
    await history.record(ruleId, { fpr: 0, reviewed: 0, at: '2031-01-01T00:00:00Z' });

    // Assess
    expect(await snapshotKeys(ruleId)).toEqual(['snapshot#2031-01-01T00:00:00.000Z']);
  }, 60_000);

  it('fails with STORE_FAILED naming the table and operation when throttled on every attempt or missing', async () => {
    const { client } = throttledDocumentClient(100, 2);
    const throttled = new DynamoFprHistory({ client, tableName: tables.names.fprHistory });
    const attempt = throttled.last('MD-001');
    await expect(attempt).rejects.toBeInstanceOf(DependencyError);
    await expect(attempt).rejects.toMatchObject({
      code: 'STORE_FAILED',
      context: { resource: `DynamoDB table ${tables.names.fprHistory}`, operation: 'Query', awsError: 'ProvisionedThroughputExceededException' },
    });

    const missing = new DynamoFprHistory({ client: tables.documents, tableName: 'fpr-missing-table' });
    await expect(missing.record('MD-001', { fpr: 0.5, reviewed: 2, at: '2030-01-01T00:00:00Z' })).rejects.toMatchObject({
      code: 'STORE_FAILED',
      context: { resource: 'DynamoDB table fpr-missing-table', operation: 'PutItem', awsError: 'ResourceNotFoundException' },
    });
  }, 30_000);

  it('retries a throttled record and stores it once', async () => {
    const { client, calls } = throttledDocumentClient(1, 3);
    const history = new DynamoFprHistory({ client, tableName: tables.names.fprHistory });
    const ruleId = uniqueId('rule');

    await history.record(ruleId, { fpr: 0.25, reviewed: 4, at: '2030-01-01T00:00:00Z' });

    expect(calls[0]).toEqual({ command: 'PutItemCommand', attempts: 2 });
    expect(await history.last(ruleId)).toEqual({ fpr: 0.25, reviewed: 4 });
  }, 30_000);
});
