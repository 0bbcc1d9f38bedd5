/**
 * The optional audit stack of a stage (`"audit": true` in the stage context):
 * a multi-region CloudTrail trail of management events with log file
 * validation, delivered to a versioned, SSE-KMS, TLS-only, access-logged
 * bucket and to a KMS-encrypted CloudWatch log group, under an audit key of its
 * own (readers of the trail need not be able to decrypt the tables).
 */
import { ArnFormat, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import * as cloudtrail from 'aws-cdk-lib/aws-cloudtrail';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import type { StageConfig } from './config';
import { ignoreCfnLint } from './nag';
import { auditAccessLogsBucketName, auditBucketName, resourceName } from './names';
import { createAccessLogsBucket, createSecureBucket, LOGS_KMS_ACTIONS, removalPolicyFor } from './secure-defaults';

export interface AuditStackProps extends StackProps {
  config: StageConfig;
}

/** How long the trail's CloudWatch copy is kept; the S3 copy is kept (only noncurrent versions expire). */
export const AUDIT_LOG_RETENTION = logs.RetentionDays.ONE_YEAR;
/** Access logs of the trail bucket are kept as long as the CloudWatch copy of the trail. */
const ACCESS_LOG_RETENTION = Duration.days(365);

export class AuditStack extends Stack {
  readonly key: kms.Key;
  readonly bucket: s3.Bucket;
  readonly accessLogsBucket: s3.Bucket;
  readonly logGroup: logs.LogGroup;
  readonly trail: cloudtrail.Trail;
  readonly trailName: string;

  constructor(scope: Construct, id: string, props: AuditStackProps) {
    super(scope, id, props);
    const { config } = props;
    const ephemeral = config.ephemeral;
    this.trailName = resourceName(config.name, 'audit');
    const logGroupName = `/aws/cloudtrail/${this.trailName}`;
    // Literal ARN of the trail: the key policy cannot reference the trail, which references the key.
    const trailArn = this.formatArn({ service: 'cloudtrail', resource: 'trail', resourceName: this.trailName });

    // Its own key, with the project key's defaults (yearly rotation, alias, retained outside ephemeral stages).
    this.key = new kms.Key(this, 'AuditKey', {
      alias: `alias/phase-mirror-${config.name}-audit`,
      description: `Phase Mirror ${config.name}: CloudTrail log files and the trail's log group`,
      enableKeyRotation: true,
      rotationPeriod: Duration.days(365),
      pendingWindow: Duration.days(ephemeral ? 7 : 30),
      removalPolicy: removalPolicyFor(ephemeral),
    });
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchLogsOfTheTrail',
        principals: [new iam.ServicePrincipal(`logs.${this.region}.amazonaws.com`)],
        actions: [...LOGS_KMS_ACTIONS],
        resources: ['*'],
        conditions: {
          ArnEquals: {
            'kms:EncryptionContext:aws:logs:arn': this.formatArn({ service: 'logs', resource: 'log-group', resourceName: logGroupName, arnFormat: ArnFormat.COLON_RESOURCE_NAME }),
          },
        },
      }),
    );
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudTrailToEncryptThisTrail',
        principals: [new iam.ServicePrincipal('cloudtrail.amazonaws.com')],
        actions: ['kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: {
          StringEquals: { 'aws:SourceArn': trailArn },
          StringLike: { 'kms:EncryptionContext:aws:cloudtrail:arn': this.formatArn({ service: 'cloudtrail', region: '*', resource: 'trail', resourceName: '*' }) },
        },
      }),
    );
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudTrailToDescribeTheKey',
        principals: [new iam.ServicePrincipal('cloudtrail.amazonaws.com')],
        actions: ['kms:DescribeKey'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceArn': trailArn } },
      }),
    );

    this.accessLogsBucket = createAccessLogsBucket(this, 'AccessLogsBucket', { bucketName: auditAccessLogsBucketName(config), ephemeral, retention: ACCESS_LOG_RETENTION });
    this.bucket = createSecureBucket(this, 'TrailBucket', {
      bucketName: auditBucketName(config),
      key: this.key,
      ephemeral,
      accessLogs: this.accessLogsBucket,
      accessLogsPrefix: 'trail-bucket/',
      noncurrentVersionExpiration: Duration.days(365),
    });

    this.logGroup = new logs.LogGroup(this, 'TrailLogs', {
      logGroupName,
      retention: AUDIT_LOG_RETENTION,
      encryptionKey: this.key,
      removalPolicy: removalPolicyFor(ephemeral),
    });

    this.trail = new cloudtrail.Trail(this, 'Trail', {
      trailName: this.trailName,
      bucket: this.bucket,
      encryptionKey: this.key,
      enableFileValidation: true,
      isMultiRegionTrail: true,
      includeGlobalServiceEvents: true,
      managementEvents: cloudtrail.ReadWriteType.ALL,
      sendToCloudWatchLogs: true,
      cloudWatchLogGroup: this.logGroup,
    });
    // The trail's bucket statements (added by CDK) name no source: restrict delivery to this trail (confused deputy).
    this.bucket.policy?.document.addStatements(
      new iam.PolicyStatement({
        sid: 'DenyCloudTrailDeliveryFromOtherTrails',
        effect: iam.Effect.DENY,
        principals: [new iam.ServicePrincipal('cloudtrail.amazonaws.com')],
        actions: ['s3:PutObject'],
        resources: [this.bucket.arnForObjects('*')],
        conditions: { StringNotEquals: { 'aws:SourceArn': trailArn } },
      }),
    );
    ignoreCfnLint(this.trail, 'W3005', 'aws-cdk-lib adds DependsOn on the CloudWatch Logs role besides Fn::GetAtt of its ARN (redundant, harmless).');
  }
}

