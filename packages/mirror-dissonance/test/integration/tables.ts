/**
 * DynamoDB tables for the integration suites, created from TABLE_DEFINITIONS
 * (the one definition the adapters and CDK use) so the emulator's tables
 * cannot drift from production's. Each suite uses its own random table names:
 * suites share one emulator, in parallel or one after another.
 */
import { randomBytes } from 'node:crypto';
import {
  CreateTableCommand,
  DeleteTableCommand,
  DynamoDBClient,
  UpdateTimeToLiveCommand,
  waitUntilTableExists,
  waitUntilTableNotExists,
  type AttributeDefinition as SdkAttributeDefinition,
  type CreateTableCommandInput,
  type KeySchemaElement,
} from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { UsageError } from '../../src/errors';
import { dynamoDocumentClient } from '../../src/store/aws/clients';
import { awsStoreFailure } from '../../src/store/aws/errors';
import {
  TABLE_DEFINITIONS,
  type AttributeDefinition,
  type TableDefinition,
  type TableId,
} from '../../src/store/aws/table-definitions';

/** Seconds a create or delete may take to settle (moto: instant; LocalStack: a few seconds). */
const WAIT_SECONDS = 60;
const TABLE_NAME = /^[A-Za-z0-9_.-]{3,255}$/;

/**
 * The emulator's endpoint from AWS_ENDPOINT_URL. Refuses to run without one so
 * an integration suite can never create or delete tables in a real account.
 */
export function emulatorEndpoint(): string {
  const endpoint = process.env.AWS_ENDPOINT_URL;
  if (endpoint === undefined || endpoint === '') {
    throw new UsageError(
      'AWS_ENDPOINT_URL is not set: run the integration suites with `npm run test:integration`, which starts the emulator and sets it',
      { context: { variable: 'AWS_ENDPOINT_URL' } },
    );
  }
  return endpoint;
}

/** A DynamoDB client for the emulator (endpoint from AWS_ENDPOINT_URL, region from AWS_REGION, default us-east-1). */
export function emulatorDynamoDbClient(): DynamoDBClient {
  return new DynamoDBClient({ endpoint: emulatorEndpoint(), region: process.env.AWS_REGION || 'us-east-1', maxAttempts: 4 });
}

/**
 * Physical names for every table, unique to this call: `<prefix>-<8 hex>-<suffix>`.
 * @throws UsageError when the prefix would make an invalid DynamoDB table name.
 */
export function uniqueTableNames(prefix: string): Record<TableId, string> {
  const random = randomBytes(4).toString('hex');
  const names = {} as Record<TableId, string>;
  for (const definition of Object.values(TABLE_DEFINITIONS)) {
    const name = `${prefix}-${random}-${definition.suffix}`;
    if (!TABLE_NAME.test(name)) {
      throw new UsageError(`table name ${JSON.stringify(name)} is not a valid DynamoDB table name (3-255 of A-Z a-z 0-9 _ . -)`, {
        context: { prefix },
      });
    }
    names[definition.id] = name;
  }
  return names;
}

/** The CreateTable input of one definition: on-demand billing, its key schema and GSIs. */
export function createTableInput(definition: TableDefinition, tableName: string): CreateTableCommandInput {
  const attributes = new Map<string, AttributeDefinition['type']>();
  const declare = (attribute: AttributeDefinition): void => {
    const known = attributes.get(attribute.name);
    if (known !== undefined && known !== attribute.type) {
      throw new UsageError(
        `table ${definition.id}: attribute ${attribute.name} is declared both ${known} and ${attribute.type} in TABLE_DEFINITIONS`,
        { location: { field: `TABLE_DEFINITIONS.${definition.id}` } },
      );
    }
    attributes.set(attribute.name, attribute.type);
  };
  const keySchema = (partitionKey: AttributeDefinition, sortKey: AttributeDefinition | undefined): KeySchemaElement[] => {
    declare(partitionKey);
    const schema: KeySchemaElement[] = [{ AttributeName: partitionKey.name, KeyType: 'HASH' }];
    if (sortKey !== undefined) {
      declare(sortKey);
      schema.push({ AttributeName: sortKey.name, KeyType: 'RANGE' });
    }
    return schema;
  };

  const input: CreateTableCommandInput = {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    KeySchema: keySchema(definition.partitionKey, definition.sortKey),
    AttributeDefinitions: [],
  };
  if (definition.globalSecondaryIndexes.length > 0) {
    input.GlobalSecondaryIndexes = definition.globalSecondaryIndexes.map((index) => ({
      IndexName: index.indexName,
      KeySchema: keySchema(index.partitionKey, index.sortKey),
      Projection: { ProjectionType: index.projection },
    }));
  }
  input.AttributeDefinitions = [...attributes].map(
    ([AttributeName, AttributeType]): SdkAttributeDefinition => ({ AttributeName, AttributeType }),
  );
  return input;
}

/**
 * Creates every table of `names` from TABLE_DEFINITIONS, waits until each is
 * ACTIVE, then enables TTL on `expiresAt` where the definition has one.
 * Tables are created concurrently; every table is attempted before the first
 * failure is thrown (callers clean up with deleteTables).
 * @throws DependencyError (STORE_FAILED) naming the table and the operation.
 */
export async function createTables(client: DynamoDBClient, names: Record<TableId, string>): Promise<void> {
  const results = await Promise.allSettled(
    Object.values(TABLE_DEFINITIONS).map(async (definition) => {
      const tableName = names[definition.id];
      let operation = 'CreateTable';
      try {
        await client.send(new CreateTableCommand(createTableInput(definition, tableName)));
        operation = 'DescribeTable (waiting for ACTIVE)';
        await waitUntilTableExists({ client, maxWaitTime: WAIT_SECONDS }, { TableName: tableName });
        if (definition.timeToLiveAttribute !== undefined) {
          operation = 'UpdateTimeToLive';
          await client.send(
            new UpdateTimeToLiveCommand({
              TableName: tableName,
              TimeToLiveSpecification: { AttributeName: definition.timeToLiveAttribute, Enabled: true },
            }),
          );
        }
      } catch (error) {
        if (error instanceof UsageError) throw error;
        throw awsStoreFailure(error, { resource: `table ${tableName}`, operation });
      }
    }),
  );
  const failure = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (failure !== undefined) throw failure.reason;
}

/**
 * Deletes every table of `names` and waits until each is gone. A table that
 * does not exist (a create that failed, a second cleanup) counts as deleted.
 * @throws DependencyError (STORE_FAILED) naming the table and the operation.
 */
export async function deleteTables(client: DynamoDBClient, names: Record<TableId, string>): Promise<void> {
  const results = await Promise.allSettled(
    Object.values(names).map(async (tableName) => {
      let operation = 'DeleteTable';
      try {
        try {
          await client.send(new DeleteTableCommand({ TableName: tableName }));
        } catch (error) {
          if ((error as { name?: string }).name !== 'ResourceNotFoundException') throw error;
          return;
        }
        operation = 'DescribeTable (waiting for deletion)';
        await waitUntilTableNotExists({ client, maxWaitTime: WAIT_SECONDS }, { TableName: tableName });
      } catch (error) {
        throw awsStoreFailure(error, { resource: `table ${tableName}`, operation });
      }
    }),
  );
  const failure = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (failure !== undefined) throw failure.reason;
}

/** The emulator tables of one suite, created before it and deleted after it. */
export interface SuiteTables {
  readonly admin: DynamoDBClient;
  readonly names: Record<TableId, string>;
  readonly documents: DynamoDBDocumentClient;
}

/**
 * Registers `beforeAll`/`afterAll` hooks that create a fresh set of tables
 * (from TABLE_DEFINITIONS, names prefixed with `prefix`) and delete them;
 * read the members inside tests, once the hooks have run.
 */
export function useSuiteTables(prefix: string): SuiteTables {
  let state: SuiteTables | undefined;
  const ready = (): SuiteTables => {
    if (state === undefined) throw new UsageError('suite tables are read before beforeAll created them');
    return state;
  };
  beforeAll(async () => {
    const admin = emulatorDynamoDbClient();
    const names = uniqueTableNames(prefix);
    await createTables(admin, names);
    const documents = dynamoDocumentClient({ region: process.env.AWS_REGION || 'us-east-1', endpoint: emulatorEndpoint() });
    state = { admin, names, documents };
  }, 120_000);
  afterAll(async () => {
    if (state === undefined) return;
    await deleteTables(state.admin, state.names);
    state.admin.destroy();
  }, 120_000);
  return {
    get admin() {
      return ready().admin;
    },
    get names() {
      return ready().names;
    },
    get documents() {
      return ready().documents;
    },
  };
}
