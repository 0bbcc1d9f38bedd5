/**
 * The Lambdas of one stage and what triggers them: the oracle (invoked
 * directly by `phase-mirror analyze --remote`), nonce rotation and epoch
 * sealing (EventBridge Scheduler, retries, a dead-letter queue), and the
 * baseline loader (S3 events on the baselines prefix). Every grant is written
 * out for the actions the code performs, on the resources it touches.
 */
import { Duration, Stack, Validations, type StackProps } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3n from 'aws-cdk-lib/aws-s3-notifications';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { TABLE_DEFINITIONS, type TableId } from '../packages/mirror-dissonance/src/store/aws/table-definitions';
import type { StageConfig } from './config';
import { acknowledgeWildcardResource, ignoreCfnLint, skipCheckov } from './nag';
import { baselinesBucketName, tableName } from './names';
import { acknowledgeDeadLetterQueue, createDeadLetterQueue, KMS_ACTIONS, SecureFunction } from './secure-defaults';
import { BASELINES_PREFIX, QUARANTINE_PREFIX, type StatefulStack } from './stateful-stack';

export interface RuntimeStackProps extends StackProps {
  config: StageConfig;
  stateful: StatefulStack;
}

/** Name prefix of the nonce SecureStrings (DESIGN §8). */
export const NONCE_PARAMETER_PREFIX = 'redaction_nonce_v';

/** DynamoDB actions per kind of access (no wildcards, no Scan). */
export const DYNAMODB_ACTIONS = {
  read: ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query', 'dynamodb:ConditionCheckItem', 'dynamodb:DescribeTable'],
  put: ['dynamodb:PutItem'],
  update: ['dynamodb:UpdateItem'],
  delete: ['dynamodb:DeleteItem'],
  batchWrite: ['dynamodb:BatchWriteItem'],
} as const;

export class RuntimeStack extends Stack {
  readonly oracle: SecureFunction;
  readonly nonceRotation: SecureFunction;
  readonly epochSealer: SecureFunction;
  readonly baselineLoader: SecureFunction;
  readonly functions: readonly SecureFunction[];
  /** Failed asynchronous invocations of every function. */
  readonly functionFailures: sqs.Queue;
  /** Schedule invocations that exhausted their retries. */
  readonly scheduleDeadLetters: sqs.Queue;
  readonly nonceRotationSchedule: scheduler.Schedule;
  readonly epochSealingSchedule: scheduler.Schedule;
  private readonly config: StageConfig;
  private readonly key: kms.IKey;

  constructor(scope: Construct, id: string, props: RuntimeStackProps) {
    super(scope, id, props);
    const { config, stateful } = props;
    this.config = config;
    this.key = stateful.key;
    this.addStackDependency(stateful);
    const key = this.key;
    const common = { stage: config.name, logRetention: config.logRetention, logKey: stateful.key, ephemeral: config.ephemeral };
    const names = (ids: TableId[]): Record<string, string> =>
      Object.fromEntries(ids.map((tableId) => [TABLE_ENV[tableId], tableName(config.name, TABLE_DEFINITIONS[tableId].suffix)]));

    this.functionFailures = createDeadLetterQueue(this, 'FunctionFailures', { reason: 'failed asynchronous Lambda invocations' });
    this.scheduleDeadLetters = createDeadLetterQueue(this, 'ScheduleDeadLetters', { reason: 'schedule invocations that exhausted their retries' });
    acknowledgeDeadLetterQueue(this.scheduleDeadLetters, 'the EventBridge Scheduler schedules (Target.DeadLetterConfig)');
    const nonce = this.nonceParameterArns();

    // ---- nonce rotation (DESIGN §8) -------------------------------------------
    this.nonceRotation = new SecureFunction(this, 'NonceRotation', {
      ...common,
      name: 'nonce-rotation',
      description: 'Rotates the redaction nonce SSM parameters /guardian/<stage>/redaction_nonce_v<N>',
      memorySize: 256,
      timeout: Duration.seconds(60),
      failureQueue: this.functionFailures,
      // The scheduler retries (and dead-letters); Lambda does not retry on its own.
      retryAttempts: 0,
      environment: {
        NONCE_KMS_KEY_ID: key.keyArn,
        NONCE_GRACE_SECONDS: String(config.nonceGracePeriod.toSeconds()),
      },
    });
    this.allow(this.nonceRotation, 'ListNonceVersions', ['ssm:GetParametersByPath'], nonce.path);
    this.allow(this.nonceRotation, 'CreateAndDeleteNonceVersions', ['ssm:PutParameter', 'ssm:DeleteParameter'], [nonce.versions]);
    this.nonceRotation.role.addToPrincipalPolicy(this.ssmKeyStatement('EncryptNonceVersions', KMS_ACTIONS.encrypt, nonce.versions));
    acknowledgeWildcardResource(
      this.nonceRotation.role,
      nonce.versions,
      'Rotation creates and deletes the numbered versions redaction_nonce_v<N> of this stage (N is not known in advance), nothing else.',
    );

    // ---- epoch sealer (issue 6) -----------------------------------------------
    const signingKeys: kms.IKey[] = [stateful.epochSigningKey, ...(stateful.epochMlDsaKey ? [stateful.epochMlDsaKey] : [])];
    this.epochSealer = new SecureFunction(this, 'EpochSealer', {
      ...common,
      name: 'epoch-sealer',
      description: 'Seals complete ledger epochs and signs them with the KMS epoch key(s)',
      memorySize: 512,
      timeout: Duration.minutes(5),
      failureQueue: this.functionFailures,
      retryAttempts: 0,
      environment: {
        ...names(['ledger', 'ledgerEpochs']),
        EPOCH_SIGNING_KEY_ID: stateful.epochSigningKey.keyArn,
        ...(stateful.epochMlDsaKey ? { EPOCH_ML_DSA_KEY_ID: stateful.epochMlDsaKey.keyArn } : {}),
        ...(config.epochSize !== undefined ? { EPOCH_SIZE: String(config.epochSize) } : {}),
      },
    });
    // Reads blocks and settings; the key may encrypt too, for the one settings write below.
    this.grantTable(this.epochSealer, 'ledger', 'ReadLedger', DYNAMODB_ACTIONS.read, true);
    // The first seal pins the epoch size: PutItem in the ledger's settings partition only.
    this.allow(this.epochSealer, 'PinLedgerSettings', DYNAMODB_ACTIONS.put, [this.tableArn('ledger')], {
      'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': ['ledger#settings'] },
    });
    this.grantTable(this.epochSealer, 'ledgerEpochs', 'WriteEpochs', [...DYNAMODB_ACTIONS.read, ...DYNAMODB_ACTIONS.put], true);
    this.allow(
      this.epochSealer,
      'SignEpochs',
      ['kms:Sign', 'kms:GetPublicKey', 'kms:DescribeKey'],
      signingKeys.map((signingKey) => signingKey.keyArn),
    );

    // ---- oracle (DESIGN §3: the pipeline over the AWS adapters) -----------------
    this.oracle = new SecureFunction(this, 'Oracle', {
      ...common,
      name: 'oracle',
      description: 'Runs the Phase Mirror oracle pipeline on artifacts sent by `phase-mirror analyze --remote`',
      memorySize: 1024,
      timeout: Duration.seconds(120),
      failureQueue: this.functionFailures,
      retryAttempts: 0,
      // The report schema and its build stamp (L0 schema_hash), read at run time.
      coreFiles: ['schemas', 'dist/schema-stamp.json'],
      environment: {
        ...names(['fpEvents', 'blockCounter', 'fprHistory', 'ledger', 'ledgerEpochs']),
        NONCE_GRACE_SECONDS: String(config.nonceGracePeriod.toSeconds()),
      },
    });
    // FP events: windows and marks (read), new events in batches, undo of a failed batch.
    this.grantTable(this.oracle, 'fpEvents', 'RecordFpEvents', [...DYNAMODB_ACTIONS.read, ...DYNAMODB_ACTIONS.put, ...DYNAMODB_ACTIONS.batchWrite, ...DYNAMODB_ACTIONS.delete], true);
    this.grantTable(this.oracle, 'blockCounter', 'CountBlocks', [...DYNAMODB_ACTIONS.read, ...DYNAMODB_ACTIONS.update], true);
    // FPR snapshots: the last one, a new one, pruning old ones (BatchWriteItem deletes).
    this.grantTable(this.oracle, 'fprHistory', 'RecordFprHistory', [...DYNAMODB_ACTIONS.read, ...DYNAMODB_ACTIONS.put, ...DYNAMODB_ACTIONS.batchWrite], true);
    // Ledger appends are TransactWriteItems of Puts conditional on the height: authorized as PutItem.
    this.grantTable(this.oracle, 'ledger', 'AppendLedger', [...DYNAMODB_ACTIONS.read, ...DYNAMODB_ACTIONS.put], true);
    this.allow(this.oracle, 'ListNonceVersions', ['ssm:GetParametersByPath'], nonce.path);
    this.allow(this.oracle, 'ReadNonceVersions', ['ssm:GetParameter'], [nonce.versions]);
    this.oracle.role.addToPrincipalPolicy(this.ssmKeyStatement('DecryptNonceVersions', KMS_ACTIONS.decrypt, nonce.versions));
    acknowledgeWildcardResource(
      this.oracle.role,
      nonce.versions,
      'The oracle reads every nonce version still in its grace period (redaction_nonce_v<N>, N not known in advance) of this stage, nothing else.',
    );

    // ---- baseline loader -------------------------------------------------------------
    const bucketName = baselinesBucketName(config);
    this.baselineLoader = new SecureFunction(this, 'BaselineLoader', {
      ...common,
      name: 'baseline-loader',
      description: `Validates baselines uploaded under ${BASELINES_PREFIX}, records the current one per repository, quarantines invalid ones`,
      memorySize: 512,
      timeout: Duration.seconds(60),
      failureQueue: this.functionFailures,
      // S3 invokes asynchronously: Lambda retries twice, then the failure queue.
      retryAttempts: 2,
      environment: names(['governanceCache']),
    });
    const baselineObjects = `arn:${this.partition}:s3:::${bucketName}/${BASELINES_PREFIX}*`;
    const quarantineObjects = `arn:${this.partition}:s3:::${bucketName}/${QUARANTINE_PREFIX}*`;
    // Reads the event's object version; an invalid one is copied (with its tags) to quarantine/ and that version deleted.
    this.allow(
      this.baselineLoader,
      'ReadAndRemoveBaselines',
      ['s3:GetObject', 's3:GetObjectVersion', 's3:GetObjectTagging', 's3:GetObjectVersionTagging', 's3:DeleteObject', 's3:DeleteObjectVersion'],
      [baselineObjects],
    );
    this.allow(this.baselineLoader, 'WriteQuarantine', ['s3:PutObject', 's3:PutObjectTagging'], [quarantineObjects]);
    this.allow(this.baselineLoader, 'BaselinesKey', [...KMS_ACTIONS.decrypt, ...KMS_ACTIONS.encrypt], [key.keyArn], {
      StringEquals: { 'kms:ViaService': `s3.${this.region}.amazonaws.com` },
    });
    acknowledgeWildcardResource(
      this.baselineLoader.role,
      baselineObjects,
      `The uploaded baselines: any object under ${BASELINES_PREFIX} (one key per repository and upload), nothing else in the bucket.`,
    );
    acknowledgeWildcardResource(
      this.baselineLoader.role,
      quarantineObjects,
      `Invalid baselines are copied under ${QUARANTINE_PREFIX} with their original key, nothing else in the bucket.`,
    );
    // The current baseline per repository (conditional PutItem) and the last quarantine.
    this.grantTable(this.baselineLoader, 'governanceCache', 'RecordBaselines', [...DYNAMODB_ACTIONS.read, ...DYNAMODB_ACTIONS.put], true);
    this.baselineNotification(bucketName);

    this.functions = [this.oracle, this.nonceRotation, this.epochSealer, this.baselineLoader];

    // ---- schedules -----------------------------------------------------------------
    this.nonceRotationSchedule = this.schedule('NonceRotationSchedule', this.nonceRotation, config.nonceRotationRate, 'Rotates the redaction nonce');
    this.epochSealingSchedule = this.schedule('EpochSealingSchedule', this.epochSealer, config.epochSealingRate, 'Seals complete ledger epochs');
  }

  /**
   * S3 `ObjectCreated` events under baselines/ invoke the loader. The bucket
   * is the stateful stack's, the function this stack's: CDK's notification
   * custom resource, here with the bucket imported by name, adds this
   * notification to the bucket without replacing others (and without a
   * dependency cycle between the stacks).
   */
  private baselineNotification(bucketName: string): void {
    const bucket = s3.Bucket.fromBucketAttributes(this, 'BaselinesBucketRef', { bucketName, bucketArn: `arn:${this.partition}:s3:::${bucketName}` });
    bucket.addEventNotification(s3.EventType.OBJECT_CREATED, new s3n.LambdaDestination(this.baselineLoader.function), { prefix: BASELINES_PREFIX });
    const handler = this.node.children.find((child) => child.node.id.startsWith('BucketNotificationsHandler'));
    if (handler === undefined) throw new Error('the S3 notification handler of aws-cdk-lib was not found');
    const handlerFunction = handler.node.findChild('Resource');
    const deployTimeOnly = 'aws-cdk-lib\'s BucketNotificationsHandler, the custom resource handler CloudFormation invokes synchronously at deploy time only';
    skipCheckov(handlerFunction, 'CKV_AWS_116', `${deployTimeOnly}: CloudFormation invokes it synchronously and reports its failures, there is no asynchronous event to dead-letter.`);
    skipCheckov(handlerFunction, 'CKV_AWS_117', `${deployTimeOnly}: it calls only the S3 API, a VPC would isolate nothing.`);
    skipCheckov(handlerFunction, 'CKV_AWS_115', `${deployTimeOnly}: one invocation per deployment, concurrency reservation would only take from the account pool.`);
    ignoreCfnLint(handlerFunction, 'W3005', 'aws-cdk-lib adds DependsOn on the execution role besides Fn::GetAtt of its ARN (redundant, harmless).');
    Validations.of(handler).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      reason: 'aws-cdk-lib\'s BucketNotificationsHandler (the custom resource that adds the notification to the imported bucket) writes only its own logs with this managed policy; it runs at deploy time only.',
    });
  }

  /** ARNs of the stage's SSM nonce path and of its numbered versions. */
  private nonceParameterArns(): { path: string[]; versions: string } {
    const arn = (name: string): string => this.formatArn({ service: 'ssm', resource: 'parameter', resourceName: name });
    return {
      // GetParametersByPath is authorized on the path itself, with or without its trailing slash.
      path: [arn(`guardian/${this.config.name}`), arn(`guardian/${this.config.name}/`)],
      versions: arn(`guardian/${this.config.name}/${NONCE_PARAMETER_PREFIX}*`),
    };
  }

  /** Project-key use through SSM, only for SecureStrings named like `parameterArn` (SSM's PARAMETER_ARN context). */
  private ssmKeyStatement(sid: string, actions: readonly string[], parameterArn: string): iam.PolicyStatement {
    return new iam.PolicyStatement({
      sid,
      actions: [...actions],
      resources: [this.key.keyArn],
      conditions: {
        StringEquals: { 'kms:ViaService': `ssm.${this.region}.amazonaws.com` },
        StringLike: { 'kms:EncryptionContext:PARAMETER_ARN': parameterArn },
      },
    });
  }

  private allow(fn: SecureFunction, sid: string, actions: readonly string[], resources: readonly string[], conditions?: Record<string, unknown>): void {
    fn.role.addToPrincipalPolicy(new iam.PolicyStatement({ sid, actions: [...actions], resources: [...resources], ...(conditions ? { conditions } : {}) }));
  }

  private tableArn(tableId: TableId): string {
    return this.formatArn({ service: 'dynamodb', resource: 'table', resourceName: tableName(this.config.name, TABLE_DEFINITIONS[tableId].suffix) });
  }

  /** `actions` on a table (and its indexes, if it has any), plus the project key through DynamoDB. */
  private grantTable(fn: SecureFunction, tableId: TableId, sid: string, actions: readonly string[], writes = false): void {
    const arn = this.tableArn(tableId);
    const indexes = TABLE_DEFINITIONS[tableId].globalSecondaryIndexes.length > 0 ? `${arn}/index/*` : undefined;
    this.allow(fn, sid, actions, indexes ? [arn, indexes] : [arn]);
    if (indexes) {
      acknowledgeWildcardResource(fn.role, indexes, `Queries by the global secondary indexes of ${tableId} (index names from the shared table definitions).`);
    }
    this.allow(fn, `${sid}Key`, [...KMS_ACTIONS.decrypt, ...KMS_ACTIONS.describe, ...(writes ? KMS_ACTIONS.encrypt : [])], [this.key.keyArn], {
      StringEquals: { 'kms:ViaService': `dynamodb.${this.region}.amazonaws.com` },
    });
  }

  /**
   * An EventBridge Scheduler schedule invoking `fn` at `rate`: 3 retries within
   * an hour, then the dead-letter queue; its own role may only invoke `fn` and
   * send to the dead-letter queue.
   */
  private schedule(id: string, fn: SecureFunction, rate: Duration, description: string): scheduler.Schedule {
    const role = new iam.Role(this, `${id}Role`, {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', { conditions: { StringEquals: { 'aws:SourceAccount': this.account } } }),
      description: `EventBridge Scheduler: ${description}`,
    });
    const schedule = new scheduler.Schedule(this, id, {
      description: `${description} (${fn.functionName})`,
      schedule: scheduler.ScheduleExpression.rate(rate),
      timeWindow: scheduler.TimeWindow.off(),
      target: new targets.LambdaInvoke(fn.function, {
        role,
        deadLetterQueue: this.scheduleDeadLetters,
        retryAttempts: 3,
        maxEventAge: Duration.hours(1),
      }),
    });
    acknowledgeWildcardResource(role, `${fn.function.functionArn}:*`, 'Added by the scheduler target (Function.grantInvoke): the function and its qualified versions, nothing else.');
    return schedule;
  }
}

/** Environment variable naming each table for the handlers. */
export const TABLE_ENV: Readonly<Record<TableId, string>> = {
  fpEvents: 'FP_EVENTS_TABLE',
  consent: 'CONSENT_TABLE',
  blockCounter: 'BLOCK_COUNTER_TABLE',
  fprHistory: 'FPR_HISTORY_TABLE',
  calibration: 'CALIBRATION_TABLE',
  ledger: 'LEDGER_TABLE',
  ledgerEpochs: 'LEDGER_EPOCHS_TABLE',
  governanceCache: 'GOVERNANCE_CACHE_TABLE',
};
