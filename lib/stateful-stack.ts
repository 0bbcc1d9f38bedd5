/**
 * Stateful resources of one stage: the project KMS key, the DynamoDB tables
 * (one per entry of TABLE_DEFINITIONS, the same definitions the adapters and
 * the emulator use), the baselines bucket with its access-log bucket, and the
 * asymmetric epoch-signing key(s).
 */
import { Duration, Stack, type StackProps } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { TABLE_DEFINITIONS, type TableId } from '../packages/mirror-dissonance/src/store/aws/table-definitions';
import type { StageConfig } from './config';
import { accessLogsBucketName, baselinesBucketName, resourceName, tableName } from './names';
import { createAccessLogsBucket, createProjectKey, createSecureBucket, createSigningKey, createTable } from './secure-defaults';

export interface StatefulStackProps extends StackProps {
  config: StageConfig;
}

/** Prefix of baseline objects in the baselines bucket (the loader's S3 event filter). */
export const BASELINES_PREFIX = 'baselines/';
/** Where the baseline loader copies invalid baselines (same key after the prefix). */
export const QUARANTINE_PREFIX = 'quarantine/';

export class StatefulStack extends Stack {
  readonly key: kms.Key;
  readonly tables: Readonly<Record<TableId, dynamodb.Table>>;
  readonly baselinesBucket: s3.Bucket;
  readonly accessLogsBucket: s3.Bucket;
  readonly epochSigningKey: kms.Key;
  readonly epochMlDsaKey?: kms.Key;

  constructor(scope: Construct, id: string, props: StatefulStackProps) {
    super(scope, id, props);
    const { config } = props;
    const ephemeral = config.ephemeral;

    this.key = createProjectKey(this, 'ProjectKey', {
      alias: `alias/phase-mirror-${config.name}`,
      description: `Phase Mirror ${config.name}: tables, baselines, nonce parameters and the alarm topic`,
      ephemeral,
      logGroupNamePrefix: `/aws/lambda/${resourceName(config.name, '')}`,
    });

    const tables = {} as Record<TableId, dynamodb.Table>;
    for (const definition of Object.values(TABLE_DEFINITIONS)) {
      tables[definition.id] = createTable(this, tableConstructId(definition.id), {
        definition,
        tableName: tableName(config.name, definition.suffix),
        key: this.key,
        ephemeral,
      });
    }
    this.tables = tables;

    this.accessLogsBucket = createAccessLogsBucket(this, 'AccessLogsBucket', { bucketName: accessLogsBucketName(config), ephemeral, retention: Duration.days(365) });
    this.baselinesBucket = createSecureBucket(this, 'BaselinesBucket', {
      bucketName: baselinesBucketName(config),
      key: this.key,
      ephemeral,
      accessLogs: this.accessLogsBucket,
      accessLogsPrefix: 'baselines-bucket/',
      noncurrentVersionExpiration: Duration.days(90),
    });

    this.epochSigningKey = createSigningKey(this, 'EpochSigningKey', {
      alias: `alias/phase-mirror-${config.name}-epoch-signing`,
      description: `Phase Mirror ${config.name}: ECDSA P-256 signatures of sealed ledger epochs`,
      keySpec: kms.KeySpec.ECC_NIST_P256,
      ephemeral,
    });
    if (config.mlDsaEpochSigning) {
      this.epochMlDsaKey = createSigningKey(this, 'EpochMlDsaKey', {
        alias: `alias/phase-mirror-${config.name}-epoch-signing-ml-dsa`,
        description: `Phase Mirror ${config.name}: ML-DSA-44 signatures of sealed ledger epochs`,
        keySpec: kms.KeySpec.ML_DSA_44,
        ephemeral,
      });
    }
  }
}

/** `fpEvents` → `FpEventsTable`. */
export function tableConstructId(id: string): string {
  return `${id.charAt(0).toUpperCase()}${id.slice(1)}Table`;
}
