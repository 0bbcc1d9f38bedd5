/**
 * AWS SDK v3 clients, created once per process per settings (DESIGN §11).
 * The SDK is required lazily: embedded runs never pay its ~70 ms load.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { SSMClient } from '@aws-sdk/client-ssm';

export interface AwsSettings {
  region: string;
  /** e.g. http://127.0.0.1:4566 for the emulator; default: the SDK's (AWS_ENDPOINT_URL honoured). */
  endpoint?: string;
  /** Attempts per call (SDK standard retry with backoff, throttling included). @default 4 */
  maxAttempts?: number;
}

const documentClients = new Map<string, DynamoDBDocumentClient>();
const ssmClients = new Map<string, SSMClient>();

function keyOf(settings: AwsSettings): string {
  return `${settings.region}|${settings.endpoint ?? ''}|${settings.maxAttempts ?? 4}`;
}

/** A DynamoDB document client (plain JS values, undefined members removed). */
export function dynamoDocumentClient(settings: AwsSettings): DynamoDBDocumentClient {
  const key = keyOf(settings);
  let client = documentClients.get(key);
  if (client === undefined) {
    const { DynamoDBClient } = require('@aws-sdk/client-dynamodb') as typeof import('@aws-sdk/client-dynamodb');
    const { DynamoDBDocumentClient: Document } = require('@aws-sdk/lib-dynamodb') as typeof import('@aws-sdk/lib-dynamodb');
    const base = new DynamoDBClient({
      region: settings.region,
      maxAttempts: settings.maxAttempts ?? 4,
      ...(settings.endpoint !== undefined ? { endpoint: settings.endpoint } : {}),
    });
    client = Document.from(base, { marshallOptions: { removeUndefinedValues: true } });
    documentClients.set(key, client);
  }
  return client;
}

export function ssmClient(settings: AwsSettings): SSMClient {
  const key = keyOf(settings);
  let client = ssmClients.get(key);
  if (client === undefined) {
    const { SSMClient: Client } = require('@aws-sdk/client-ssm') as typeof import('@aws-sdk/client-ssm');
    client = new Client({
      region: settings.region,
      maxAttempts: settings.maxAttempts ?? 4,
      ...(settings.endpoint !== undefined ? { endpoint: settings.endpoint } : {}),
    });
    ssmClients.set(key, client);
  }
  return client;
}
