/**
 * DynamoBlockCounter against a mocked SDK: the UpdateItem shapes (ADD on a
 * live counter, conditional restart), the retry between them, consistent
 * reads with expiry, and error mapping. The same adapter runs the shared
 * contract and 1,000 concurrent increments on the emulator in
 * test/integration/block-counter.int.test.ts.
 */
import { ConditionalCheckFailedException, DynamoDBClient, ResourceNotFoundException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { DependencyError, InputError } from '../../../src/errors';
import { DynamoBlockCounter } from '../../../src/store/aws/block-counter';
import { TABLE_DEFINITIONS } from '../../../src/store/aws/table-definitions';

const dynamo = mockClient(DynamoDBDocumentClient);
const client = DynamoDBDocumentClient.from(
  new DynamoDBClient({ region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } }),
);
const TABLE = 'pm-test-block-counter';
const NOW = Date.parse('2030-01-01T00:10:00.000Z');
const counter = new DynamoBlockCounter({ client, tableName: TABLE, now: () => NOW });
const HOUR_END = new Date('2030-01-01T01:00:00.500Z');

const conditionFailed = (): ConditionalCheckFailedException =>
  new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });

afterEach(() => dynamo.reset());

describe('DynamoBlockCounter', () => {
  it('uses the key and TTL of the blockCounter table definition', () => {
    expect(TABLE_DEFINITIONS.blockCounter.partitionKey.name).toBe('pk');
    expect(TABLE_DEFINITIONS.blockCounter.sortKey).toBeUndefined();
    expect(TABLE_DEFINITIONS.blockCounter.timeToLiveAttribute).toBe('expiresAt');
  });

  describe('increment', () => {
    it('adds one to a live counter with one UpdateItem ADD and returns the new value', async () => {
      // Prepare
      dynamo.on(UpdateCommand).resolves({ Attributes: { count: 7, expiresAtMs: HOUR_END.getTime(), expiresAt: 1 } });

      // Act
      const value = await counter.increment('acme/widgets#2030-01-01T00', HOUR_END);

      // Assess
      expect(value).toBe(7);
      expect(dynamo.commandCalls(UpdateCommand).map((call) => call.args[0].input)).toEqual([
        {
          TableName: TABLE,
          Key: { pk: 'counter#acme/widgets#2030-01-01T00' },
          UpdateExpression: 'ADD #count :one SET expiresAtMs = :expiresMs, expiresAt = :ttl',
          ConditionExpression: 'attribute_exists(pk) AND expiresAtMs > :now',
          ExpressionAttributeNames: { '#count': 'count' },
          ExpressionAttributeValues: { ':one': 1, ':expiresMs': HOUR_END.getTime(), ':ttl': Math.ceil(HOUR_END.getTime() / 1000), ':now': NOW },
          ReturnValues: 'UPDATED_NEW',
        },
      ]);
    });

    it('(re)starts an absent or expired counter at 1 with a conditional SET', async () => {
      dynamo.on(UpdateCommand).rejectsOnce(conditionFailed()).resolves({ Attributes: { pk: 'counter#k', count: 1 } });

      expect(await counter.increment('k', HOUR_END)).toBe(1);

      const restart = dynamo.commandCalls(UpdateCommand)[1].args[0].input;
      expect(restart).toEqual({
        TableName: TABLE,
        Key: { pk: 'counter#k' },
        UpdateExpression: 'SET #count = :one, expiresAtMs = :expiresMs, expiresAt = :ttl',
        ConditionExpression: 'attribute_not_exists(pk) OR expiresAtMs <= :now',
        ExpressionAttributeNames: { '#count': 'count' },
        ExpressionAttributeValues: { ':one': 1, ':expiresMs': HOUR_END.getTime(), ':ttl': Math.ceil(HOUR_END.getTime() / 1000), ':now': NOW },
        ReturnValues: 'ALL_NEW',
      });
    });

    it('counts on the counter another caller restarted first (lost the restart race)', async () => {
      dynamo
        .on(UpdateCommand)
        .rejectsOnce(conditionFailed())
        .rejectsOnce(conditionFailed())
        .resolves({ Attributes: { count: 2 } });

      expect(await counter.increment('k', HOUR_END)).toBe(2);
      expect(dynamo.commandCalls(UpdateCommand).map((call) => call.args[0].input.UpdateExpression?.slice(0, 3))).toEqual(['ADD', 'SET', 'ADD']);
    });

    it('gives up with STORE_FAILED after 8 rounds of failed conditions', async () => {
      dynamo.on(UpdateCommand).rejects(conditionFailed());

      const attempt = counter.increment('k', HOUR_END);

      await expect(attempt).rejects.toBeInstanceOf(DependencyError);
      await expect(attempt).rejects.toMatchObject({
        code: 'STORE_FAILED',
        message: expect.stringContaining('kept expiring or restarting during 8 rounds'),
        context: { resource: `DynamoDB table ${TABLE}`, operation: 'UpdateItem', key: 'k' },
      });
      expect(dynamo.commandCalls(UpdateCommand)).toHaveLength(16);
    });

    it('maps other failures to STORE_FAILED naming the table and UpdateItem', async () => {
      dynamo.on(UpdateCommand).rejects(new ResourceNotFoundException({ message: 'Requested resource not found', $metadata: {} }));

      await expect(counter.increment('k', HOUR_END)).rejects.toMatchObject({
        code: 'STORE_FAILED',
        message: `UpdateItem on DynamoDB table ${TABLE} failed: DynamoDB table ${TABLE} does not exist (create it, or check storage.tables / the region)`,
        context: { resource: `DynamoDB table ${TABLE}`, operation: 'UpdateItem', awsError: 'ResourceNotFoundException' },
      });
    });

    it('rejects a returned count that is not a positive integer', async () => {
      dynamo.on(UpdateCommand).resolves({ Attributes: {} });
      await expect(counter.increment('k', HOUR_END)).rejects.toMatchObject({
        code: 'STORE_FAILED',
        message: expect.stringContaining('counter item counter#k has no positive integer count (got undefined)'),
      });
    });

    it('validates the key and the expiry before any request', async () => {
      await expect(counter.increment('', HOUR_END)).rejects.toBeInstanceOf(InputError);
      await expect(counter.increment('k', new Date('nope'))).rejects.toMatchObject({ code: 'INPUT_INVALID', location: { field: 'expiresAt' } });
      expect(dynamo.calls()).toHaveLength(0);
    });
  });

  describe('get', () => {
    it('reads the counter consistently and returns its count while it is live', async () => {
      dynamo.on(GetCommand).resolves({ Item: { pk: 'counter#k', count: 4, expiresAtMs: NOW + 1 } });

      expect(await counter.get('k')).toBe(4);
      expect(dynamo.commandCalls(GetCommand)[0].args[0].input).toEqual({ TableName: TABLE, Key: { pk: 'counter#k' }, ConsistentRead: true });
    });

    it('returns 0 for an absent counter and for one expired but not yet deleted by the TTL', async () => {
      dynamo.on(GetCommand).resolvesOnce({}).resolves({ Item: { pk: 'counter#k', count: 4, expiresAtMs: NOW } });
      expect(await counter.get('k')).toBe(0);
      expect(await counter.get('k')).toBe(0);
    });

    it('maps failures and malformed items to STORE_FAILED naming GetItem', async () => {
      dynamo
        .on(GetCommand)
        .rejectsOnce(Object.assign(new Error('The security token included in the request is invalid.'), { name: 'UnrecognizedClientException' }))
        .resolves({ Item: { pk: 'counter#k', count: 'many', expiresAtMs: NOW + 1 } });

      await expect(counter.get('k')).rejects.toMatchObject({
        code: 'STORE_FAILED',
        message: expect.stringContaining('AWS credentials are missing or rejected'),
        context: { operation: 'GetItem' },
      });
      await expect(counter.get('k')).rejects.toMatchObject({ code: 'STORE_FAILED', context: { operation: 'GetItem' } });
    });
  });
});
