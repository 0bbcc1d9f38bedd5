/**
 * Secure defaults, in one module (DESIGN §2, §9): every key, table, bucket,
 * queue, log group and function of the app is created here, so the stacks only
 * compose and every security property has a single place to read and test.
 * Each cdk-nag acknowledgment sits next to the construct it concerns.
 */
import path from 'node:path';
import { ArnFormat, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { TableDefinition } from '../packages/mirror-dissonance/src/store/aws/table-definitions';
import { ignoreCfnLint, skipCheckov } from './nag';
import { functionName } from './names';
import { PROJECT_ROOT } from './project-root';

/** The Lambda runtime, pinned: Node.js 22 (package.json engines allow 20-22; Lambda deprecated nodejs20.x on 2026-04-30). */
export const LAMBDA_RUNTIME = lambda.Runtime.NODEJS_22_X;
/** CloudWatch namespace of every metric the code emits (lambdas/shared/observability.ts). */
export const METRICS_NAMESPACE = 'PhaseMirror';

/** KMS actions, spelled out (no `*`), per use. */
export const KMS_ACTIONS = {
  /** Reading SSE-KMS data: DynamoDB items, S3 objects, SQS messages, SecureStrings. */
  decrypt: ['kms:Decrypt'],
  /** Writing SSE-KMS data (DynamoDB, S3, SQS use data keys; SSM SecureStrings use Encrypt). */
  encrypt: ['kms:Encrypt', 'kms:GenerateDataKey'],
  /** DynamoDB reads the key's metadata when a caller touches a CMK-encrypted table. */
  describe: ['kms:DescribeKey'],
} as const;

/** What CloudWatch Logs needs on a key that encrypts log groups (AWS's documented key policy, spelled out). */
export const LOGS_KMS_ACTIONS = [
  'kms:Encrypt',
  'kms:Decrypt',
  'kms:ReEncryptFrom',
  'kms:ReEncryptTo',
  'kms:GenerateDataKey',
  'kms:GenerateDataKeyWithoutPlaintext',
  'kms:DescribeKey',
] as const;

/** Retained unless the stage is ephemeral. */
export function removalPolicyFor(ephemeral: boolean): RemovalPolicy {
  return ephemeral ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN;
}

export interface ProjectKeyProps {
  alias: string;
  description: string;
  ephemeral: boolean;
  /** Log groups whose names start with this may be encrypted with the key (the stage's function logs). */
  logGroupNamePrefix: string;
}

/**
 * The symmetric project key: annual automatic rotation, alias, retained outside
 * ephemeral stages. Its policy lets CloudWatch alarms publish to topics
 * encrypted with it, lets SSM use it for SecureStrings of this account and
 * lets CloudWatch Logs encrypt the stage's function log groups (by name prefix).
 */
export function createProjectKey(scope: Construct, id: string, props: ProjectKeyProps): kms.Key {
  const key = new kms.Key(scope, id, {
    alias: props.alias,
    description: props.description,
    enableKeyRotation: true,
    rotationPeriod: Duration.days(365),
    pendingWindow: Duration.days(props.ephemeral ? 7 : 30),
    removalPolicy: removalPolicyFor(props.ephemeral),
  });
  const stack = Stack.of(scope);
  key.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'AllowCloudWatchAlarmsToPublishToEncryptedTopics',
      principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
      actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
      resources: ['*'],
    }),
  );
  key.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'AllowSsmParametersOfThisAccount',
      principals: [new iam.AccountRootPrincipal()],
      actions: ['kms:Encrypt', 'kms:Decrypt', 'kms:GenerateDataKey', 'kms:DescribeKey'],
      resources: ['*'],
      conditions: {
        StringEquals: { 'kms:ViaService': `ssm.${stack.region}.amazonaws.com`, 'kms:CallerAccount': stack.account },
      },
    }),
  );
  key.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'AllowCloudWatchLogsOfThisStage',
      principals: [new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
      actions: [...LOGS_KMS_ACTIONS],
      resources: ['*'],
      conditions: {
        ArnLike: {
          'kms:EncryptionContext:aws:logs:arn': stack.formatArn({
            service: 'logs',
            resource: 'log-group',
            resourceName: `${props.logGroupNamePrefix}*`,
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        },
      },
    }),
  );
  return key;
}

export interface SigningKeyProps {
  alias: string;
  description: string;
  keySpec: kms.KeySpec;
  ephemeral: boolean;
}

/** An asymmetric SIGN_VERIFY key (epoch signatures). */
export function createSigningKey(scope: Construct, id: string, props: SigningKeyProps): kms.Key {
  // No rotation: KMS rotates symmetric keys only (AwsSolutions-KMS5 does not apply to SIGN_VERIFY keys).
  return new kms.Key(scope, id, {
    alias: props.alias,
    description: props.description,
    keySpec: props.keySpec,
    keyUsage: kms.KeyUsage.SIGN_VERIFY,
    pendingWindow: Duration.days(props.ephemeral ? 7 : 30),
    removalPolicy: removalPolicyFor(props.ephemeral),
  });
}

export interface SecureTableProps {
  definition: TableDefinition;
  tableName: string;
  key: kms.IKey;
  ephemeral: boolean;
}

/**
 * A DynamoDB table from the shared definition: on-demand, encrypted with the
 * project key, point-in-time recovery, TTL where records expire, deletion
 * protection and RETAIN outside ephemeral stages.
 */
export function createTable(scope: Construct, id: string, props: SecureTableProps): dynamodb.Table {
  const { definition } = props;
  const table = new dynamodb.Table(scope, id, {
    tableName: props.tableName,
    partitionKey: attribute(definition.partitionKey),
    ...(definition.sortKey ? { sortKey: attribute(definition.sortKey) } : {}),
    billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
    encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
    encryptionKey: props.key,
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    ...(definition.timeToLiveAttribute ? { timeToLiveAttribute: definition.timeToLiveAttribute } : {}),
    deletionProtection: !props.ephemeral,
    removalPolicy: removalPolicyFor(props.ephemeral),
  });
  for (const index of definition.globalSecondaryIndexes) {
    table.addGlobalSecondaryIndex({
      indexName: index.indexName,
      partitionKey: attribute(index.partitionKey),
      ...(index.sortKey ? { sortKey: attribute(index.sortKey) } : {}),
      projectionType: index.projection === 'ALL' ? dynamodb.ProjectionType.ALL : dynamodb.ProjectionType.KEYS_ONLY,
    });
  }
  return table;
}

function attribute(definition: { name: string; type: 'S' | 'N' }): dynamodb.Attribute {
  return { name: definition.name, type: definition.type === 'S' ? dynamodb.AttributeType.STRING : dynamodb.AttributeType.NUMBER };
}

/**
 * The bucket that receives S3 server access logs: SSE-S3 (the only encryption
 * the log delivery supports), TLS-only, no public access, expiring logs.
 */
export function createAccessLogsBucket(scope: Construct, id: string, props: { bucketName: string; ephemeral: boolean; retention: Duration }): s3.Bucket {
  const bucket = new s3.Bucket(scope, id, {
    bucketName: props.bucketName,
    encryption: s3.BucketEncryption.S3_MANAGED,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    enforceSSL: true,
    minimumTLSVersion: 1.2,
    objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
    versioned: false,
    lifecycleRules: [{ id: 'expire-access-logs', expiration: props.retention, abortIncompleteMultipartUploadAfter: Duration.days(1) }],
    removalPolicy: removalPolicyFor(props.ephemeral),
  });
  skipCheckov(bucket, 'CKV_AWS_18', 'This is the access-log bucket itself: logging its own access would log into itself (cdk-nag AwsSolutions-S1 exempts log destination buckets for the same reason).');
  skipCheckov(bucket, 'CKV_AWS_21', 'Server access logs are written once by S3 log delivery and expire after the retention period; versions would only keep expired logs.');
  return bucket;
}

export interface SecureBucketProps {
  bucketName: string;
  key: kms.IKey;
  ephemeral: boolean;
  accessLogs: s3.IBucket;
  accessLogsPrefix: string;
  noncurrentVersionExpiration: Duration;
}

/** Versioned, SSE-KMS with the project key, TLS-only, no public access, access-logged. */
export function createSecureBucket(scope: Construct, id: string, props: SecureBucketProps): s3.Bucket {
  return new s3.Bucket(scope, id, {
    bucketName: props.bucketName,
    encryption: s3.BucketEncryption.KMS,
    encryptionKey: props.key,
    bucketKeyEnabled: true,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    enforceSSL: true,
    minimumTLSVersion: 1.2,
    objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
    versioned: true,
    serverAccessLogsBucket: props.accessLogs,
    serverAccessLogsPrefix: props.accessLogsPrefix,
    lifecycleRules: [
      {
        id: 'expire-noncurrent-versions',
        noncurrentVersionExpiration: props.noncurrentVersionExpiration,
        abortIncompleteMultipartUploadAfter: Duration.days(7),
      },
    ],
    removalPolicy: removalPolicyFor(props.ephemeral),
  });
}

/**
 * A dead-letter queue: SQS-managed server-side encryption, TLS-only, 14 days
 * retention. Not the project key on purpose: CDK's grants for senders to a
 * KMS-encrypted queue (Function deadLetterQueue/onFailure) give unconditioned
 * kms:Decrypt, Encrypt, ReEncrypt* and GenerateDataKey* on the key, which would
 * undo the per-service conditions on every project-key grant. Dead letters
 * hold event envelopes (schedule ids, S3 keys), never secrets.
 * AwsSolutions-SQS3 only recognizes queues named as a DLQ in a template
 * (a Lambda DeadLetterConfig, a redrive policy): see `acknowledgeDeadLetterQueue`.
 */
export function createDeadLetterQueue(scope: Construct, id: string, props: { reason: string }): sqs.Queue {
  const queue = new sqs.Queue(scope, id, {
    encryption: sqs.QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    retentionPeriod: Duration.days(14),
  });
  skipCheckov(
    queue,
    'CKV_AWS_27',
    'Encrypted at rest with SQS-managed SSE (SqsManagedSseEnabled); the check only recognizes KmsMasterKeyId. Not the project key on purpose: see createDeadLetterQueue in lib/secure-defaults.ts.',
  );
  Validations.of(queue).acknowledge({
    id: 'Serverless-SQSRedrivePolicy',
    reason: `This queue is itself a dead-letter queue (${props.reason}); nothing consumes it automatically, an alarm watches its depth.`,
  });
  return queue;
}

/** For a dead-letter queue that only a service's own configuration (Scheduler, SNS) names as such. */
export function acknowledgeDeadLetterQueue(queue: sqs.Queue, usedBy: string): void {
  Validations.of(queue).acknowledge({
    id: 'AwsSolutions-SQS3',
    reason: `This queue is itself the dead-letter queue of ${usedBy}, which cdk-nag cannot see; it needs no DLQ of its own.`,
  });
}

export interface SecureFunctionProps {
  /** Folder under lambdas/ holding handler.ts, and the Powertools service name. */
  name: string;
  stage: string;
  description: string;
  memorySize: number;
  timeout: Duration;
  logRetention: logs.RetentionDays;
  /** Encrypts the log group (the project key, whose policy admits this stage's function log groups). */
  logKey: kms.IKey;
  ephemeral: boolean;
  /** Receives failed asynchronous invocations (DLQ and on-failure destination). */
  failureQueue: sqs.IQueue;
  environment?: Record<string, string>;
  /**
   * Files of the core package (relative to packages/mirror-dissonance) copied
   * next to the bundle; `package.json` always is, because the core resolves
   * its own folder through it.
   */
  coreFiles?: string[];
  /** Asynchronous retries by Lambda itself (schedules and S3 events). */
  retryAttempts?: number;
}

/**
 * A Lambda function: bundled with the local esbuild (never Docker), pinned
 * Node runtime on ARM64, source maps, an explicit KMS-encrypted log group with retention,
 * its own role with only its log group, X-Ray tracing, Powertools logger and
 * EMF metrics in the PhaseMirror namespace, and a dead-letter queue.
 */
export class SecureFunction extends Construct {
  readonly function: nodejs.NodejsFunction;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;
  readonly functionName: string;
  /** The Powertools `service` dimension of its metrics (the handler's SERVICE, the folder name). */
  readonly serviceName: string;

  constructor(scope: Construct, id: string, props: SecureFunctionProps) {
    super(scope, id);
    this.serviceName = props.name;
    this.functionName = functionName(props.stage, props.name);
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      logGroupName: `/aws/lambda/${this.functionName}`,
      retention: props.logRetention,
      encryptionKey: props.logKey,
      removalPolicy: removalPolicyFor(props.ephemeral),
    });
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Execution role of ${this.functionName}`,
    });
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'WriteOwnLogGroup',
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [this.logGroup.logGroupArn],
      }),
    );
    const coreFiles = ['package.json', ...(props.coreFiles ?? [])];
    this.function = new nodejs.NodejsFunction(this, 'Function', {
      functionName: this.functionName,
      description: props.description,
      entry: path.join(PROJECT_ROOT, 'lambdas', props.name, 'handler.ts'),
      handler: 'handler',
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: path.join(PROJECT_ROOT, 'package-lock.json'),
      runtime: LAMBDA_RUNTIME,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize,
      timeout: props.timeout,
      role: this.role,
      logGroup: this.logGroup,
      tracing: lambda.Tracing.ACTIVE,
      deadLetterQueue: props.failureQueue,
      onFailure: new SqsDestination(props.failureQueue),
      retryAttempts: props.retryAttempts ?? 2,
      environment: {
        NODE_OPTIONS: '--enable-source-maps',
        POWERTOOLS_SERVICE_NAME: props.name,
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
        POWERTOOLS_LOG_LEVEL: 'INFO',
        PHASE_MIRROR_STAGE: props.stage,
        ...props.environment,
      },
      bundling: {
        forceDockerBundling: false,
        format: nodejs.OutputFormat.CJS,
        target: 'node22',
        minify: true,
        sourceMap: true,
        sourcesContent: false,
        // The AWS SDK v3 comes with the Node.js runtime (CDK's default): bundling it would more than double
        // every bundle (the oracle's to ~1.3 MB, over the 1 MB budget of issue 7).
        externalModules: ['@aws-sdk/*'],
        // The root tsconfig maps @phase-mirror/mirror-dissonance to its sources.
        tsconfig: path.join(PROJECT_ROOT, 'tsconfig.json'),
        logLevel: nodejs.LogLevel.ERROR,
        commandHooks: {
          beforeBundling: () => [],
          beforeInstall: () => [],
          afterBundling: (inputDir: string, outputDir: string) => copyCoreFiles(inputDir, outputDir, coreFiles),
        },
      },
    });
    Validations.of(this.function).acknowledge({
      id: 'AwsSolutions-L1',
      reason: 'The runtime is pinned to Node.js 22 on purpose: the core package is tested on Node 20 and 22 (package.json engines <23); moving to a newer runtime is a reviewed change.',
    });
    Validations.of(this.function).acknowledge({
      id: 'Serverless-LambdaLatestVersion',
      reason: 'The runtime is pinned to Node.js 22 on purpose: the core package is tested on Node 20 and 22 (package.json engines <23); moving to a newer runtime is a reviewed change.',
    });
    skipCheckov(this.function, 'CKV_AWS_117', 'The functions call only AWS APIs (DynamoDB, SSM, KMS, S3, CloudWatch) over TLS and reach no private resource: a VPC would add NAT gateways or endpoints and nothing to isolate.');
    skipCheckov(
      this.function,
      'CKV_AWS_115',
      'No reserved concurrency: new accounts have a concurrency quota of 10 on which a reservation fails to deploy; schedules invoke one at a time and the oracle scales with pull requests, each alarmed on throttles.',
    );
    skipCheckov(
      this.function,
      'CKV_AWS_173',
      'The environment holds only names, ARNs and settings (no secrets: the nonces stay in encrypted SSM parameters), encrypted at rest by Lambda with its AWS-managed key.',
    );
    // CDK adds an explicit DependsOn on the execution role next to the GetAtt of its ARN: redundant, harmless.
    ignoreCfnLint(this.function, 'W3005', 'aws-cdk-lib adds DependsOn on the execution role besides Fn::GetAtt of its ARN (redundant, harmless).');
    Validations.of(this.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'X-Ray tracing: xray:PutTraceSegments and xray:PutTelemetryRecords do not support resource-level permissions.',
    });
  }
}

/** Shell commands (run by the local bundler) that copy core files into the asset's node_modules. */
function copyCoreFiles(inputDir: string, outputDir: string, files: readonly string[]): string[] {
  const target = path.join(outputDir, 'node_modules', '@phase-mirror', 'mirror-dissonance');
  return files.map((file) => {
    const source = path.join(inputDir, 'packages', 'mirror-dissonance', file);
    const destination = path.dirname(path.join(target, file));
    return `test -e "${source}" || { echo "missing ${source}: run npm run build first" >&2; exit 1; }; mkdir -p "${destination}" && cp -R "${source}" "${destination}/"`;
  });
}
