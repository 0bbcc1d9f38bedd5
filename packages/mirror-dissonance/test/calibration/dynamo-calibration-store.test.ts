/**
 * DynamoCalibrationStore against a mocked SDK: the exact items and requests
 * (keys per table-definitions.ts), reading every page, and error mapping.
 * The same adapter runs the shared contract on the emulator in
 * test/integration/calibration-store.int.test.ts.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand, QueryCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { DependencyError } from '../../src/errors';
import { DynamoCalibrationStore } from '../../src/store/aws/calibration-store';
import { TABLE_DEFINITIONS } from '../../src/store/aws/table-definitions';

const dynamo = mockClient(DynamoDBDocumentClient);
const client = DynamoDBDocumentClient.from(
  new DynamoDBClient({ region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } }),
);
const store = new DynamoCalibrationStore({ client, tableName: 'pm-test-calibration' });
const hash = (n: number): string => n.toString(16).padStart(64, '0');

afterEach(() => dynamo.reset());

describe('DynamoCalibrationStore', () => {
  it('uses the key names of the calibration table definition', () => {
    expect(TABLE_DEFINITIONS.calibration.partitionKey.name).toBe('pk');
    expect(TABLE_DEFINITIONS.calibration.sortKey?.name).toBe('sk');
  });

  it('puts one item per outcome: pk rule#<ruleId>, sk record#<bucket>#<orgHash>#<random id>', async () => {
    // Prepare
    dynamo.on(PutCommand).resolves({});
    const record = { ruleId: 'MD-002', orgHash: hash(7), bucket: '2030-01-01T10:00:00.000Z', falsePositive: true };

    // Act
    await store.ingest(record);
    await store.ingest(record);

    // Assess
    const inputs = dynamo.commandCalls(PutCommand).map((call) => call.args[0].input);
    expect(inputs).toHaveLength(2);
    expect(inputs[0]).toMatchObject({
      TableName: 'pm-test-calibration',
      Item: { pk: 'rule#MD-002', ruleId: 'MD-002', orgHash: hash(7), bucket: '2030-01-01T10:00:00.000Z', falsePositive: true },
      ConditionExpression: 'attribute_not_exists(pk)',
    });
    const sks = inputs.map((input) => String(input.Item?.sk));
    for (const sk of sks) expect(sk).toMatch(new RegExp(`^record#2030-01-01T10:00:00\\.000Z#${hash(7)}#[0-9a-f-]{36}$`));
    expect(sks[0]).not.toBe(sks[1]);
    expect(Object.keys(inputs[0].Item ?? {}).sort()).toEqual(['bucket', 'falsePositive', 'orgHash', 'pk', 'ruleId', 'sk']);
  });

  it('validates a record before any request', async () => {
    await expect(store.ingest({ ruleId: 'MD-002', orgHash: 'acme', bucket: '2030-01-01T10:00:00.000Z', falsePositive: true })).rejects.toMatchObject({
      code: 'INPUT_INVALID',
      location: { field: 'orgHash' },
    });
    expect(dynamo.commandCalls(PutCommand)).toHaveLength(0);
  });

  it('counts over every page of the rule partition', async () => {
    // Prepare: three pages
    dynamo
      .on(QueryCommand)
      .resolvesOnce({ Items: [{ orgHash: hash(1), falsePositive: true }, { orgHash: hash(2), falsePositive: false }], LastEvaluatedKey: { pk: 'rule#MD-002', sk: 'a' } })
      .resolvesOnce({ Items: [{ orgHash: hash(1), falsePositive: false }], LastEvaluatedKey: { pk: 'rule#MD-002', sk: 'b' } })
      .resolvesOnce({ Items: [{ orgHash: hash(3), falsePositive: true }] });

    // Act
    const counts = await store.counts('MD-002');

    // Assess
    expect(counts).toEqual({ ruleId: 'MD-002', distinctOrgs: 3, outcomes: 4, falsePositives: 2 });
    const inputs = dynamo.commandCalls(QueryCommand).map((call) => call.args[0].input);
    expect(inputs).toHaveLength(3);
    expect(inputs[0]).toEqual({
      TableName: 'pm-test-calibration',
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': 'rule#MD-002' },
      ProjectionExpression: 'orgHash, falsePositive',
      ConsistentRead: true,
    });
    expect(inputs[1].ExclusiveStartKey).toEqual({ pk: 'rule#MD-002', sk: 'a' });
    expect(inputs[2].ExclusiveStartKey).toEqual({ pk: 'rule#MD-002', sk: 'b' });
  });

  it('fails on a malformed item instead of miscounting', async () => {
    dynamo.on(QueryCommand).resolves({ Items: [{ orgHash: hash(1) }] });
    await expect(store.counts('MD-002')).rejects.toMatchObject({ code: 'STORE_FAILED', context: { operation: 'Query' } });
  });

  it('lists rule ids from a keys-only scan over every page, sorted and distinct', async () => {
    // Prepare
    dynamo
      .on(ScanCommand)
      .resolvesOnce({ Items: [{ pk: 'rule#MD-010' }, { pk: 'rule#MD-002' }], LastEvaluatedKey: { pk: 'rule#MD-002', sk: 'x' } })
      .resolvesOnce({ Items: [{ pk: 'rule#MD-002' }, { pk: 'rule#MD-001#sub' }, { pk: 'other#ignored' }] });

    // Act
    const rules = await store.ruleIds();

    // Assess
    expect(rules).toEqual(['MD-001#sub', 'MD-002', 'MD-010']);
    const inputs = dynamo.commandCalls(ScanCommand).map((call) => call.args[0].input);
    expect(inputs[0]).toEqual({ TableName: 'pm-test-calibration', ProjectionExpression: 'pk', ConsistentRead: true });
    expect(inputs[1]).toEqual({ TableName: 'pm-test-calibration', ProjectionExpression: 'pk', ConsistentRead: true, ExclusiveStartKey: { pk: 'rule#MD-002', sk: 'x' } });
  });

  it.each([
    ['ingest', 'PutItem', PutCommand, () => store.ingest({ ruleId: 'R', orgHash: hash(1), bucket: '2030-01-01T10:00:00.000Z', falsePositive: false })],
    ['counts', 'Query', QueryCommand, () => store.counts('R')],
    ['ruleIds', 'Scan', ScanCommand, () => store.ruleIds()],
  ] as const)('maps an AWS failure of %s to STORE_FAILED naming the table and operation', async (_label, operation, command, act) => {
    // Prepare
    dynamo.on(command as typeof PutCommand).rejects(Object.assign(new Error('no such table'), { name: 'ResourceNotFoundException' }));

    // Act
    let caught: unknown;
    try {
      await act();
    } catch (error) {
      caught = error;
    }

    // Assess
    expect(caught).toBeInstanceOf(DependencyError);
    expect(caught).toMatchObject({
      code: 'STORE_FAILED',
      message: `${operation} on DynamoDB table pm-test-calibration failed: DynamoDB table pm-test-calibration does not exist (create it, or check storage.tables / the region)`,
      context: { resource: 'DynamoDB table pm-test-calibration', operation },
    });
  });

  it('refuses counts of an empty rule id without a request', async () => {
    await expect(store.counts('')).rejects.toMatchObject({ code: 'INPUT_INVALID' });
    expect(dynamo.commandCalls(QueryCommand)).toHaveLength(0);
  });
});
