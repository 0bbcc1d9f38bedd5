import {
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  type DynamoDBClient,
  type TableDescription,
} from '@aws-sdk/client-dynamodb';
import { DependencyError, UsageError } from '../../src/errors';
import { TABLE_DEFINITIONS, type AttributeDefinition, type TableId } from '../../src/store/aws/table-definitions';
import { createTableInput, createTables, deleteTables, emulatorDynamoDbClient, emulatorEndpoint, uniqueTableNames } from './tables';

const TABLE_IDS = Object.keys(TABLE_DEFINITIONS) as TableId[];

function keySchemaOf(partitionKey: AttributeDefinition, sortKey: AttributeDefinition | undefined) {
  return [
    { AttributeName: partitionKey.name, KeyType: 'HASH' },
    ...(sortKey !== undefined ? [{ AttributeName: sortKey.name, KeyType: 'RANGE' }] : []),
  ];
}

async function describe_(client: DynamoDBClient, tableName: string): Promise<TableDescription> {
  const output = await client.send(new DescribeTableCommand({ TableName: tableName }));
  if (output.Table === undefined) throw new Error(`DescribeTable ${tableName} returned no table`);
  return output.Table;
}

describe('integration harness: tables from TABLE_DEFINITIONS', () => {
  let client: DynamoDBClient;
  let names: Record<TableId, string>;

  beforeAll(async () => {
    client = emulatorDynamoDbClient();
    names = uniqueTableNames('harness');
    await createTables(client, names);
  });

  afterAll(async () => {
    await deleteTables(client, names);
    client.destroy();
  });

  it('talks to the emulator named by AWS_ENDPOINT_URL, never to a real account', () => {
    // Assess
    expect(emulatorEndpoint()).toBe(process.env.AWS_ENDPOINT_URL);
    expect(emulatorEndpoint()).toMatch(/^https?:\/\//);
  });

  it.each(TABLE_IDS)('creates %s with exactly the key schema, attributes and billing of its definition', async (id) => {
    // Prepare
    const definition = TABLE_DEFINITIONS[id];

    // Act
    const table = await describe_(client, names[id]);

    // Assess
    expect(table.TableName).toBe(names[id]);
    expect(table.TableStatus).toBe('ACTIVE');
    expect(table.BillingModeSummary?.BillingMode).toBe('PAY_PER_REQUEST');
    expect(table.KeySchema).toEqual(keySchemaOf(definition.partitionKey, definition.sortKey));
    const declared = new Map<string, string>();
    for (const key of [definition.partitionKey, definition.sortKey, ...definition.globalSecondaryIndexes.flatMap((index) => [index.partitionKey, index.sortKey])]) {
      if (key !== undefined) declared.set(key.name, key.type);
    }
    const attributes = (table.AttributeDefinitions ?? []).map((attribute) => [attribute.AttributeName, attribute.AttributeType]);
    expect(new Map(attributes as [string, string][])).toEqual(declared);
    expect(attributes).toHaveLength(declared.size);
    expect(table.LocalSecondaryIndexes ?? []).toEqual([]);
  });

  it.each(TABLE_IDS)('creates the global secondary indexes of %s as defined', async (id) => {
    // Prepare
    const expected = TABLE_DEFINITIONS[id].globalSecondaryIndexes
      .map((index) => ({
        IndexName: index.indexName,
        KeySchema: keySchemaOf(index.partitionKey, index.sortKey),
        Projection: index.projection,
      }))
      .sort((a, b) => a.IndexName.localeCompare(b.IndexName));

    // Act
    const table = await describe_(client, names[id]);

    // Assess
    const actual = (table.GlobalSecondaryIndexes ?? [])
      .map((index) => ({
        IndexName: index.IndexName ?? '',
        KeySchema: index.KeySchema,
        Projection: index.Projection?.ProjectionType,
      }))
      .sort((a, b) => a.IndexName.localeCompare(b.IndexName));
    expect(actual).toEqual(expected);
  });

  it.each(TABLE_IDS)('enables TTL on %s exactly when its definition has a TTL attribute', async (id) => {
    // Prepare
    const ttlAttribute = TABLE_DEFINITIONS[id].timeToLiveAttribute;

    // Act
    const output = await client.send(new DescribeTimeToLiveCommand({ TableName: names[id] }));

    // Assess
    if (ttlAttribute !== undefined) {
      expect(output.TimeToLiveDescription).toEqual({ TimeToLiveStatus: 'ENABLED', AttributeName: 'expiresAt' });
    } else {
      expect(output.TimeToLiveDescription?.TimeToLiveStatus).toBe('DISABLED');
      expect(output.TimeToLiveDescription?.AttributeName).toBeUndefined();
    }
  });

  it('fails creating a table that already exists, naming the table and the operation', async () => {
    // Act
    const attempt = createTables(client, names);

    // Assess
    await expect(attempt).rejects.toBeInstanceOf(DependencyError);
    await expect(attempt).rejects.toMatchObject({
      code: 'STORE_FAILED',
      context: { operation: 'CreateTable', awsError: 'ResourceInUseException' },
    });
    await expect(attempt).rejects.toThrow(/CreateTable on table harness-[0-9a-f]{8}-/);
  });
});

describe('uniqueTableNames', () => {
  it('names every table <prefix>-<random>-<suffix>, different on each call', () => {
    // Act
    const first = uniqueTableNames('suite');
    const second = uniqueTableNames('suite');

    // Assess
    expect(Object.keys(first).sort()).toEqual([...TABLE_IDS].sort());
    for (const id of TABLE_IDS) {
      expect(first[id]).toMatch(new RegExp(`^suite-[0-9a-f]{8}-${TABLE_DEFINITIONS[id].suffix}$`));
      expect(second[id]).not.toBe(first[id]);
    }
    expect(new Set(Object.values(first)).size).toBe(TABLE_IDS.length);
  });

  it('rejects a prefix that makes an invalid table name', () => {
    // Act / Assess
    expect(() => uniqueTableNames('bad prefix')).toThrow(UsageError);
  });
});

describe('createTableInput', () => {
  it('declares an attribute shared by the table and an index once', () => {
    // Act
    const input = createTableInput(TABLE_DEFINITIONS.fpEvents, 'fp-events');

    // Assess
    expect(input.AttributeDefinitions?.map((attribute) => attribute.AttributeName).sort()).toEqual(['eventId', 'findingId', 'pk', 'sk']);
  });

  it('refuses a definition that declares one attribute with two types', () => {
    // Prepare
    const definition = { ...TABLE_DEFINITIONS.consent, sortKey: { name: 'pk', type: 'N' as const } };

    // Act / Assess
    expect(() => createTableInput(definition, 'conflicting')).toThrow(/attribute pk is declared both S and N/);
  });
});

describe('deleteTables', () => {
  it('deletes every table and treats tables already gone as deleted', async () => {
    // Prepare
    const client = emulatorDynamoDbClient();
    const names = uniqueTableNames('harness-delete');
    await createTables(client, names);

    // Act
    await deleteTables(client, names);
    await deleteTables(client, names);

    // Assess
    for (const id of TABLE_IDS) {
      await expect(client.send(new DescribeTableCommand({ TableName: names[id] }))).rejects.toMatchObject({
        name: 'ResourceNotFoundException',
      });
    }
    client.destroy();
  });
});
