/**
 * The optional audit stack: a CloudTrail trail with log file validation into a
 * KMS-encrypted, versioned, TLS-only, private and access-logged bucket, built
 * only for stages whose context sets `audit: true`, with zero unacknowledged
 * cdk-nag findings.
 */
import { Match, Template } from 'aws-cdk-lib/assertions';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { parseStageConfig, parseStages } from '../../lib/config';
import { NAG_PACK_NAMES } from '../../lib/nag';
import { CDK_JSON, logicalId, rawStage, resourceNamed, resourcesOf, stageConfig, synthesize, type SynthesizedStage } from './support';

let staging: SynthesizedStage;
let prod: SynthesizedStage;
let sandbox: SynthesizedStage;
let audit: Template;

beforeAll(() => {
  // Both stages of cdk.json (prod enables the audit stack, staging does not) and an ephemeral stage with it.
  [staging, prod, sandbox] = synthesize([...parseStages(CDK_JSON.context.stages), stageConfig('sandbox', { ephemeral: true, audit: true })]);
  audit = Template.fromStack(prod.stage.audit!);
});

describe('audit stack: enablement', () => {
  it('is built for a stage whose context sets audit, named phase-mirror-<stage>-audit', () => {
    // Assess
    expect(prod.stage.audit?.stackName).toBe('phase-mirror-prod-audit');
    expect(prod.stage.audit?.account).toBe('222222222222');
    expect(prod.stage.audit?.terminationProtection).toBe(true);
  });

  it('is not built when the context leaves audit unset', () => {
    expect(rawStage('staging').audit).toBeUndefined();
    expect(staging.stage.audit).toBeUndefined();
    expect(staging.stage.node.tryFindChild('Audit')).toBeUndefined();
  });

  it('rejects a non-boolean audit value, naming its context path', () => {
    expect(() => parseStageConfig('prod', { ...rawStage('prod'), audit: 'yes' })).toThrow(/stages\.prod\.audit: must be true or false/);
  });
});

describe('audit stack: trail', () => {
  it('validates log files and records all management events of every region', () => {
    const trail = resourceNamed(audit, 'AWS::CloudTrail::Trail', 'Trail');
    expect(trail.Properties).toMatchObject({
      TrailName: 'phase-mirror-prod-audit',
      EnableLogFileValidation: true,
      IsMultiRegionTrail: true,
      IncludeGlobalServiceEvents: true,
      IsLogging: true,
      EventSelectors: [{ IncludeManagementEvents: true, ReadWriteType: 'All' }],
    });
  });

  it('encrypts log files with the audit key and delivers them to the trail bucket', () => {
    const trail = resourceNamed(audit, 'AWS::CloudTrail::Trail', 'Trail');
    const keyId = logicalId(audit, 'AWS::KMS::Key', 'AuditKey');
    expect(trail.Properties.KMSKeyId).toEqual({ 'Fn::GetAtt': [keyId, 'Arn'] });
    expect(trail.Properties.S3BucketName).toEqual({ Ref: logicalId(audit, 'AWS::S3::Bucket', 'TrailBucket') });
  });

  it('copies events to a log group encrypted with the audit key and kept one year', () => {
    const trail = resourceNamed(audit, 'AWS::CloudTrail::Trail', 'Trail');
    const logGroup = resourceNamed(audit, 'AWS::Logs::LogGroup', 'TrailLogs');
    expect(trail.Properties.CloudWatchLogsLogGroupArn).toEqual({ 'Fn::GetAtt': [logGroup.id, 'Arn'] });
    expect(logGroup.Properties).toMatchObject({
      LogGroupName: '/aws/cloudtrail/phase-mirror-prod-audit',
      RetentionInDays: 365,
      KmsKeyId: { 'Fn::GetAtt': [logicalId(audit, 'AWS::KMS::Key', 'AuditKey'), 'Arn'] },
    });
    expect(logGroup.DeletionPolicy).toBe('Retain');
  });
});

describe('audit stack: key', () => {
  const statements = () => (resourceNamed(audit, 'AWS::KMS::Key', 'AuditKey').Properties.KeyPolicy as { Statement: Record<string, unknown>[] }).Statement;

  it('rotates yearly, has the audit alias and is retained', () => {
    const key = resourceNamed(audit, 'AWS::KMS::Key', 'AuditKey');
    expect(key.Properties).toMatchObject({ EnableKeyRotation: true, RotationPeriodInDays: 365, PendingWindowInDays: 30 });
    expect(key.DeletionPolicy).toBe('Retain');
    audit.hasResourceProperties('AWS::KMS::Alias', { AliasName: 'alias/phase-mirror-prod-audit', TargetKeyId: { 'Fn::GetAtt': [key.id, 'Arn'] } });
  });

  it('lets CloudTrail generate data keys only for this trail', () => {
    expect(statements()).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          Sid: 'AllowCloudTrailToEncryptThisTrail',
          Principal: { Service: 'cloudtrail.amazonaws.com' },
          Action: 'kms:GenerateDataKey*',
          Condition: {
            StringEquals: { 'aws:SourceArn': 'arn:aws:cloudtrail:us-east-1:222222222222:trail/phase-mirror-prod-audit' },
            StringLike: { 'kms:EncryptionContext:aws:cloudtrail:arn': 'arn:aws:cloudtrail:*:222222222222:trail/*' },
          },
        }),
      ]),
    );
  });

  it('lets CloudWatch Logs use it only for the trail log group', () => {
    const logs = statements().find((statement) => statement.Sid === 'AllowCloudWatchLogsOfTheTrail');
    expect(logs).toMatchObject({
      Principal: { Service: 'logs.us-east-1.amazonaws.com' },
      Condition: { ArnEquals: { 'kms:EncryptionContext:aws:logs:arn': 'arn:aws:logs:us-east-1:222222222222:log-group:/aws/cloudtrail/phase-mirror-prod-audit' } },
    });
  });

  it('gives no service principal kms:Decrypt on trail data (readers are account principals)', () => {
    const decrypting = statements().filter((statement) => {
      const actions = ([] as unknown[]).concat(statement.Action);
      return actions.includes('kms:Decrypt') && JSON.stringify(statement.Principal).includes('cloudtrail');
    });
    expect(decrypting).toEqual([]);
  });
});

describe('audit stack: trail bucket', () => {
  const bucket = () => resourceNamed(audit, 'AWS::S3::Bucket', 'TrailBucket');
  const policy = () =>
    Object.values(resourcesOf(audit, 'AWS::S3::BucketPolicy')).find((candidate) => JSON.stringify(candidate.Properties?.Bucket) === JSON.stringify({ Ref: bucket().id }))!;

  it('is versioned, SSE-KMS with the audit key, private and retained', () => {
    expect(bucket().Properties).toMatchObject({
      BucketName: 'phase-mirror-prod-audit-222222222222-us-east-1',
      VersioningConfiguration: { Status: 'Enabled' },
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          { BucketKeyEnabled: true, ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: { 'Fn::GetAtt': [logicalId(audit, 'AWS::KMS::Key', 'AuditKey'), 'Arn'] } } },
        ],
      },
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
    });
    expect(bucket().DeletionPolicy).toBe('Retain');
  });

  it('never expires current log files, only noncurrent versions', () => {
    const rules = (bucket().Properties.LifecycleConfiguration as { Rules: Record<string, unknown>[] }).Rules;
    expect(rules.map((rule) => rule.ExpirationInDays)).toEqual([undefined]);
    expect(rules[0]).toMatchObject({ NoncurrentVersionExpiration: { NoncurrentDays: 365 } });
  });

  it('denies every request without TLS and below TLS 1.2', () => {
    expect(policy().Properties?.PolicyDocument).toEqual(
      expect.objectContaining({
        Statement: expect.arrayContaining([
          expect.objectContaining({ Effect: 'Deny', Action: 's3:*', Principal: { AWS: '*' }, Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          expect.objectContaining({ Effect: 'Deny', Action: 's3:*', Principal: { AWS: '*' }, Condition: { NumericLessThan: { 's3:TlsVersion': 1.2 } } }),
        ]),
      }),
    );
  });

  it('lets CloudTrail write only under AWSLogs/<account>/ and only for this trail', () => {
    const statements = (policy().Properties?.PolicyDocument as { Statement: Record<string, unknown>[] }).Statement;
    const allowPut = statements.filter((statement) => statement.Effect === 'Allow' && statement.Action === 's3:PutObject');
    expect(allowPut).toHaveLength(1);
    expect(JSON.stringify(allowPut[0]!.Resource)).toContain('/AWSLogs/222222222222/*');
    expect(statements).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          Sid: 'DenyCloudTrailDeliveryFromOtherTrails',
          Effect: 'Deny',
          Principal: { Service: 'cloudtrail.amazonaws.com' },
          Condition: { StringNotEquals: { 'aws:SourceArn': 'arn:aws:cloudtrail:us-east-1:222222222222:trail/phase-mirror-prod-audit' } },
        }),
      ]),
    );
  });

  it('logs its accesses to a private, TLS-only access-log bucket of the audit stack', () => {
    const logs = resourceNamed(audit, 'AWS::S3::Bucket', 'AccessLogsBucket');
    expect(bucket().Properties.LoggingConfiguration).toEqual({ DestinationBucketName: { Ref: logs.id }, LogFilePrefix: 'trail-bucket/' });
    expect(logs.Properties).toMatchObject({
      BucketName: 'phase-mirror-prod-audit-logs-222222222222-us-east-1',
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
    });
    audit.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: logs.id },
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
  });
});

describe('audit stack: ephemeral stage', () => {
  it('deletes its key, buckets and log group with the stack and has no termination protection', () => {
    const template = Template.fromStack(sandbox.stage.audit!);
    expect(resourceNamed(template, 'AWS::KMS::Key', 'AuditKey')).toMatchObject({ DeletionPolicy: 'Delete', Properties: { PendingWindowInDays: 7 } });
    expect(resourceNamed(template, 'AWS::S3::Bucket', 'TrailBucket').DeletionPolicy).toBe('Delete');
    expect(resourceNamed(template, 'AWS::Logs::LogGroup', 'TrailLogs').DeletionPolicy).toBe('Delete');
    expect(sandbox.stage.audit!.terminationProtection).toBe(false);
    // Still validated and encrypted.
    expect(resourceNamed(template, 'AWS::CloudTrail::Trail', 'Trail').Properties).toMatchObject({ EnableLogFileValidation: true, KMSKeyId: expect.anything() });
  });
});

describe('audit stack: cdk-nag', () => {
  it('has no unacknowledged AwsSolutions or Serverless finding', () => {
    const findings = prod.report.pluginReports
      .filter((plugin) => (NAG_PACK_NAMES as readonly string[]).includes(plugin.pluginName))
      .flatMap((plugin) => plugin.violations.map((violation) => `${violation.ruleName} at ${violation.violatingConstructs.map((c) => c.constructPath).join(', ')}`));
    expect(findings).toEqual([]);
  });

  it('checks the audit stack (an unrotated key and an unlogged bucket fail synthesis)', () => {
    // Prepare: the prod stage with key rotation and access logging removed from the CloudFormation resources.
    // (AwsSolutions has no CloudTrail rule: trail validation and encryption are asserted above.)
    let message = '';

    // Act
    try {
      synthesize([stageConfig('prod', {}, 'prod')], {
        extend: (_app, stages) => {
          (stages[0]!.audit!.key.node.defaultChild as kms.CfnKey).enableKeyRotation = false;
          (stages[0]!.audit!.bucket.node.defaultChild as s3.CfnBucket).loggingConfiguration = undefined;
        },
      });
    } catch (error) {
      message = (error as Error).message;
    }

    // Assess
    expect(message).toMatch(/AwsSolutions-KMS5/);
    expect(message).toMatch(/AwsSolutions-S1/);
    expect(message).toContain('prod/Audit/AuditKey');
    expect(message).toContain('prod/Audit/TrailBucket');
  });
});
