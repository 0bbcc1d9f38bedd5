/**
 * The DynamoDB calibration store against the emulator: the same
 * CalibrationStore contract the SQLite adapter runs (each test on a fresh
 * table, since ruleIds scans the whole table), plus the item layout of
 * table-definitions.ts and a missing table.
 */
import { CreateTableCommand, DeleteTableCommand, waitUntilTableExists, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { randomBytes } from 'node:crypto';
import { DynamoCalibrationStore } from '../../src/store/aws/calibration-store';
import { dynamoDocumentClient } from '../../src/store/aws/clients';
import { TABLE_DEFINITIONS } from '../../src/store/aws/table-definitions';
import type { CalibrationStore } from '../../src/store/ports';
import { describeCalibrationStoreContract, orgHashOf } from '../store/contract/calibration-store.contract';
import type { MakeStore } from '../store/contract/harness';
import { createTableInput, emulatorDynamoDbClient, emulatorEndpoint } from './tables';

let admin: DynamoDBClient;
let documents: DynamoDBDocumentClient;

beforeAll(() => {
  admin = emulatorDynamoDbClient();
  documents = dynamoDocumentClient({ region: process.env.AWS_REGION || 'us-east-1', endpoint: emulatorEndpoint() });
});

afterAll(() => admin.destroy());

/** A fresh calibration table built from TABLE_DEFINITIONS; deleted by `drop`. */
async function freshTable(): Promise<{ tableName: string; drop: () => Promise<void> }> {
  const tableName = `calibration-${randomBytes(6).toString('hex')}`;
  await admin.send(new CreateTableCommand(createTableInput(TABLE_DEFINITIONS.calibration, tableName)));
  await waitUntilTableExists({ client: admin, maxWaitTime: 60 }, { TableName: tableName });
  return { tableName, drop: async () => void (await admin.send(new DeleteTableCommand({ TableName: tableName }))) };
}

const makeStore: MakeStore<CalibrationStore> = async () => {
  const { tableName, drop } = await freshTable();
  return { store: new DynamoCalibrationStore({ client: documents, tableName }), close: drop };
};

describeCalibrationStoreContract('dynamodb', makeStore);

describe('DynamoCalibrationStore on the emulator', () => {
  it('writes one item per outcome under the documented keys, holding only the anonymized fields', async () => {
    // Prepare
    const { tableName, drop } = await freshTable();
    const store = new DynamoCalibrationStore({ client: documents, tableName });
    const record = { ruleId: 'MD-002', orgHash: orgHashOf('acme'), bucket: '2030-01-01T10:00:00.000Z', falsePositive: true };
    try {
      // Act
      await store.ingest(record);
      await store.ingest(record);

      // Assess
      const page = await documents.send(
        new QueryCommand({ TableName: tableName, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': 'rule#MD-002' }, ConsistentRead: true }),
      );
      expect(page.Items).toHaveLength(2);
      for (const item of page.Items ?? []) {
        expect(Object.keys(item).sort()).toEqual(['bucket', 'falsePositive', 'orgHash', 'pk', 'ruleId', 'sk']);
        expect(item).toMatchObject({ pk: 'rule#MD-002', ...record });
        expect(item.sk).toMatch(new RegExp(`^record#2030-01-01T10:00:00\\.000Z#${record.orgHash}#[0-9a-f-]{36}$`));
      }
      expect(await store.counts('MD-002')).toEqual({ ruleId: 'MD-002', distinctOrgs: 1, outcomes: 2, falsePositives: 2 });
    } finally {
      await drop();
    }
  });

  it('fails with STORE_FAILED naming the missing table and the operation', async () => {
    const store = new DynamoCalibrationStore({ client: documents, tableName: `calibration-missing-${randomBytes(4).toString('hex')}` });
    await expect(store.counts('MD-002')).rejects.toMatchObject({ code: 'STORE_FAILED', context: { operation: 'Query', awsError: 'ResourceNotFoundException' } });
    await expect(store.ruleIds()).rejects.toMatchObject({ code: 'STORE_FAILED', context: { operation: 'Scan' } });
    await expect(
      store.ingest({ ruleId: 'MD-002', orgHash: orgHashOf('acme'), bucket: '2030-01-01T10:00:00.000Z', falsePositive: false }),
    ).rejects.toMatchObject({ code: 'STORE_FAILED', message: expect.stringContaining('does not exist') });
  });
});
