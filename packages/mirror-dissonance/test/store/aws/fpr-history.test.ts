/**
 * DynamoFprHistory against a mocked SDK: the snapshot item and keys, the
 * newest-first consistent read, pruning (every page, unprocessed deletes
 * retried) and error mapping. The same adapter runs the shared contract on
 * the emulator in test/integration/fpr-history.int.test.ts.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, DynamoDBDocumentClient, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { DynamoFprHistory } from '../../../src/store/aws/fpr-history';
import { TABLE_DEFINITIONS } from '../../../src/store/aws/table-definitions';

const dynamo = mockClient(DynamoDBDocumentClient);
const client = DynamoDBDocumentClient.from(
  new DynamoDBClient({ region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } }),
);
const TABLE = 'pm-test-fpr-history';
const history = new DynamoFprHistory({ client, tableName: TABLE });
const DAY = 24 * 60 * 60 * 1000;

afterEach(() => dynamo.reset());

describe('DynamoFprHistory', () => {
  it('uses the keys of the fprHistory table definition', () => {
    expect([TABLE_DEFINITIONS.fprHistory.partitionKey.name, TABLE_DEFINITIONS.fprHistory.sortKey?.name]).toEqual(['pk', 'sk']);
  });

  describe('last', () => {
    it('reads the newest snapshot of the rule with one consistent, descending, Limit 1 query', async () => {
      dynamo.on(QueryCommand).resolves({ Items: [{ pk: 'rule#MD-001', sk: 'snapshot#2030-01-02T00:00:00.000Z', fpr: 0.25, reviewed: 8 }] });

      expect(await history.last('MD-001')).toEqual({ fpr: 0.25, reviewed: 8 });
      expect(dynamo.commandCalls(QueryCommand)[0].args[0].input).toEqual({
        TableName: TABLE,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :snapshot)',
        ExpressionAttributeValues: { ':pk': 'rule#MD-001', ':snapshot': 'snapshot#' },
        ScanIndexForward: false,
        Limit: 1,
        ConsistentRead: true,
      });
    });

    it('returns undefined for a rule without snapshots and rejects a malformed one', async () => {
      dynamo.on(QueryCommand).resolvesOnce({ Items: [] }).resolves({ Items: [{ pk: 'rule#r', sk: 'snapshot#x', fpr: '0.5', reviewed: 1 }] });
      expect(await history.last('r')).toBeUndefined();
      await expect(history.last('r')).rejects.toMatchObject({ code: 'STORE_FAILED', message: expect.stringContaining('lacks numeric fpr or reviewed') });
    });

    it('maps a failure to STORE_FAILED naming the table and Query', async () => {
      dynamo.on(QueryCommand).rejects(Object.assign(new Error('User is not authorized'), { name: 'AccessDeniedException' }));
      await expect(history.last('r')).rejects.toMatchObject({
        code: 'STORE_FAILED',
        message: `Query on DynamoDB table ${TABLE} failed: access denied: the credentials may not Query on DynamoDB table ${TABLE}`,
        context: { resource: `DynamoDB table ${TABLE}`, operation: 'Query', awsError: 'AccessDeniedException' },
      });
    });
  });

  describe('record', () => {
    it('puts the snapshot under its canonical time and deletes only snapshots more than 90 days older, from every page', async () => {
      // Prepare: the prune query returns two pages, the last item exactly at the cut-off
      const at = Date.parse('2030-06-01T00:00:00Z');
      const cutoff = new Date(at - 90 * DAY).toISOString();
      dynamo.on(PutCommand).resolves({});
      dynamo
        .on(QueryCommand)
        .resolvesOnce({ Items: [{ pk: 'rule#MD-001', sk: 'snapshot#2029-01-01T00:00:00.000Z' }], LastEvaluatedKey: { pk: 'rule#MD-001', sk: 'k' } })
        .resolvesOnce({ Items: [{ pk: 'rule#MD-001', sk: 'snapshot#2030-01-01T00:00:00.000Z' }, { pk: 'rule#MD-001', sk: `snapshot#${cutoff}` }] });
      dynamo.on(BatchWriteCommand).resolves({});

      // Act
      await history.record('MD-001', { fpr: 0.5, reviewed: 4, at: '2030-06-01T02:00:00+02:00' });

      // Assess
      expect(dynamo.commandCalls(PutCommand)[0].args[0].input).toEqual({
        TableName: TABLE,
        Item: { pk: 'rule#MD-001', sk: 'snapshot#2030-06-01T00:00:00.000Z', ruleId: 'MD-001', fpr: 0.5, reviewed: 4, at: '2030-06-01T02:00:00+02:00' },
      });
      const queries = dynamo.commandCalls(QueryCommand).map((call) => call.args[0].input);
      expect(queries[0]).toEqual({
        TableName: TABLE,
        KeyConditionExpression: 'pk = :pk AND sk BETWEEN :first AND :cutoff',
        ExpressionAttributeValues: { ':pk': 'rule#MD-001', ':first': 'snapshot#', ':cutoff': `snapshot#${cutoff}` },
        ProjectionExpression: 'pk, sk',
        ConsistentRead: true,
      });
      expect(queries[1].ExclusiveStartKey).toEqual({ pk: 'rule#MD-001', sk: 'k' });
      expect(dynamo.commandCalls(BatchWriteCommand)[0].args[0].input.RequestItems?.[TABLE]).toEqual([
        { DeleteRequest: { Key: { pk: 'rule#MD-001', sk: 'snapshot#2029-01-01T00:00:00.000Z' } } },
        { DeleteRequest: { Key: { pk: 'rule#MD-001', sk: 'snapshot#2030-01-01T00:00:00.000Z' } } },
      ]);
    });

    it('deletes in requests of 25 and resends unprocessed deletes', async () => {
      const stale = Array.from({ length: 30 }, (_, i) => ({ pk: 'rule#r', sk: `snapshot#2020-01-01T00:00:${String(i).padStart(2, '0')}.000Z` }));
      dynamo.on(PutCommand).resolves({});
      dynamo.on(QueryCommand).resolves({ Items: stale });
      dynamo
        .on(BatchWriteCommand)
        .resolvesOnce({ UnprocessedItems: { [TABLE]: [{ DeleteRequest: { Key: stale[3] } }] } })
        .resolves({});

      await history.record('r', { fpr: 0, reviewed: 0, at: '2030-01-01T00:00:00Z' });

      expect(dynamo.commandCalls(BatchWriteCommand).map((call) => call.args[0].input.RequestItems?.[TABLE].length)).toEqual([25, 1, 5]);
    });

    it('fails with STORE_FAILED when deletes stay unprocessed', async () => {
      jest.useFakeTimers();
      try {
        dynamo.on(PutCommand).resolves({});
        dynamo.on(QueryCommand).resolves({ Items: [{ pk: 'rule#r', sk: 'snapshot#2020-01-01T00:00:00.000Z' }] });
        dynamo.on(BatchWriteCommand).callsFake((input: { RequestItems: Record<string, unknown[]> }) => ({ UnprocessedItems: input.RequestItems }));

        const attempt = history.record('r', { fpr: 0, reviewed: 0, at: '2030-01-01T00:00:00Z' });
        const assessed = expect(attempt).rejects.toMatchObject({
          code: 'STORE_FAILED',
          message: expect.stringContaining('1 deletes stayed unprocessed after 8 rounds'),
          context: { operation: 'BatchWriteItem' },
        });
        await jest.runAllTimersAsync();
        await assessed;
      } finally {
        jest.useRealTimers();
      }
    });

    it('maps a failed put to STORE_FAILED naming PutItem and validates before any request', async () => {
      dynamo.on(PutCommand).rejects(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }));
      await expect(history.record('r', { fpr: 0.1, reviewed: 1, at: '2030-01-01T00:00:00Z' })).rejects.toMatchObject({
        code: 'STORE_FAILED',
        message: expect.stringContaining('the AWS endpoint is unreachable (ECONNRESET)'),
        context: { operation: 'PutItem' },
      });
      dynamo.reset();
      await expect(history.record('r', { fpr: 2, reviewed: 1, at: '2030-01-01T00:00:00Z' })).rejects.toMatchObject({ location: { field: 'fpr' } });
      await expect(history.record('r', { fpr: 0.5, reviewed: 1.5, at: '2030-01-01T00:00:00Z' })).rejects.toMatchObject({ location: { field: 'reviewed' } });
      await expect(history.record('', { fpr: 0.5, reviewed: 1, at: '2030-01-01T00:00:00Z' })).rejects.toMatchObject({ location: { field: 'ruleId' } });
      expect(dynamo.calls()).toHaveLength(0);
    });
  });
});
