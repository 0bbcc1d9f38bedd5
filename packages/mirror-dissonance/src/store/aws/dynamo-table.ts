/**
 * What every DynamoDB adapter shares: its client and table, the table named
 * in errors, and AWS failures mapped through `awsStoreFailure`.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { awsStoreFailure } from './errors';

export type LibDynamo = typeof import('@aws-sdk/lib-dynamodb');

/** The document-client commands, loaded on first use (embedded runs never load the SDK). */
export function lib(): LibDynamo {
  return require('@aws-sdk/lib-dynamodb') as LibDynamo;
}

export abstract class DynamoTable {
  protected readonly client: DynamoDBDocumentClient;
  protected readonly tableName: string;
  /** `DynamoDB table <name>`, as errors name it. */
  protected readonly resource: string;

  protected constructor(options: { client: DynamoDBDocumentClient; tableName: string }) {
    this.client = options.client;
    this.tableName = options.tableName;
    this.resource = `DynamoDB table ${options.tableName}`;
  }

  /** Runs one AWS call; a failure becomes STORE_FAILED naming the table and the operation. */
  protected async call<T>(operation: string, send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (error) {
      throw awsStoreFailure(error, { resource: this.resource, operation });
    }
  }
}
