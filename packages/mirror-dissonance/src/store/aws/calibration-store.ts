/**
 * DynamoDB adapter of the calibration store (DESIGN §7). Keys as in
 * table-definitions.ts: pk `rule#<ruleId>`, sk
 * `record#<bucket>#<orgHash>#<random id>`, so every outcome is its own item
 * (two outcomes of one organisation in one hour are two records) and a rule's
 * records are one partition. Reads follow every page: DynamoDB returns at
 * most 1 MB per call, and a truncated count would misstate the aggregate.
 */
import { randomUUID } from 'node:crypto';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { assertCalibrationRecord } from '../../calibration/record';
import { InputError } from '../../errors';
import { compareCodePoints } from '../../hashing';
import type { CalibrationCounts, CalibrationRecord, CalibrationStore } from '../ports';
import { awsStoreFailure } from './errors';
import { DynamoTable, lib } from './dynamo-table';


export interface DynamoCalibrationStoreOptions {
  client: DynamoDBDocumentClient;
  /** Physical name of the calibration table. */
  tableName: string;
}

const RULE_PREFIX = 'rule#';

export class DynamoCalibrationStore extends DynamoTable implements CalibrationStore {

  constructor(options: DynamoCalibrationStoreOptions) {
    super(options);
  }

  async ingest(record: CalibrationRecord): Promise<void> {
    assertCalibrationRecord(record);
    const { PutCommand } = lib();
    await this.call('PutItem', () =>
      this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            pk: `${RULE_PREFIX}${record.ruleId}`,
            sk: `record#${record.bucket}#${record.orgHash}#${randomUUID()}`,
            ruleId: record.ruleId,
            orgHash: record.orgHash,
            bucket: record.bucket,
            falsePositive: record.falsePositive,
          },
          // A fresh random id never exists: this only guards against overwriting a record.
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      ),
    );
  }

  /** Queries the rule's partition (strongly consistent), every page, projecting only what the counts need. */
  async counts(ruleId: string): Promise<CalibrationCounts> {
    if (typeof ruleId !== 'string' || ruleId.length === 0) {
      throw new InputError('INPUT_INVALID', 'ruleId must be a non-empty string', { location: { field: 'ruleId' } });
    }
    const { QueryCommand } = lib();
    const orgs = new Set<string>();
    let outcomes = 0;
    let falsePositives = 0;
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.call('Query', () =>
        this.client.send(
          new QueryCommand({
            TableName: this.tableName,
            KeyConditionExpression: 'pk = :pk',
            ExpressionAttributeValues: { ':pk': `${RULE_PREFIX}${ruleId}` },
            ProjectionExpression: 'orgHash, falsePositive',
            // An aggregate read right after an ingest must include it.
            ConsistentRead: true,
            ...(startKey !== undefined ? { ExclusiveStartKey: startKey } : {}),
          }),
        ),
      );
      for (const item of page.Items ?? []) {
        const orgHash = item.orgHash;
        if (typeof orgHash !== 'string' || typeof item.falsePositive !== 'boolean') {
          throw awsStoreFailure(new Error('a calibration item lacks orgHash or falsePositive'), {
            resource: this.resource,
            operation: 'Query',
          });
        }
        orgs.add(orgHash);
        outcomes += 1;
        if (item.falsePositive) falsePositives += 1;
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey !== undefined);
    return { ruleId, distinctOrgs: orgs.size, outcomes, falsePositives };
  }

  /** Scans the table (partition keys only, strongly consistent), every page; sorted in code-point order. */
  async ruleIds(): Promise<string[]> {
    const { ScanCommand } = lib();
    const rules = new Set<string>();
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.call('Scan', () =>
        this.client.send(
          new ScanCommand({
            TableName: this.tableName,
            ProjectionExpression: 'pk',
            ConsistentRead: true,
            ...(startKey !== undefined ? { ExclusiveStartKey: startKey } : {}),
          }),
        ),
      );
      for (const item of page.Items ?? []) {
        const pk = item.pk;
        if (typeof pk === 'string' && pk.startsWith(RULE_PREFIX)) rules.add(pk.slice(RULE_PREFIX.length));
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey !== undefined);
    return [...rules].sort(compareCodePoints);
  }

}
