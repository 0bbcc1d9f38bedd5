/**
 * The stateful stack: the project key, one DynamoDB table per shared table
 * definition, the baselines bucket and the epoch-signing keys — every
 * security property on the synthesized template.
 */
import { Match } from 'aws-cdk-lib/assertions';
import { defaultTableNames, TABLE_DEFINITIONS } from '../../packages/mirror-dissonance/src/store/aws/table-definitions';
import { logicalId, resourceNamed, resourcesOf, stageConfig, synthesize, type SynthesizedStage } from './support';

const definitions = Object.values(TABLE_DEFINITIONS);
let kept: SynthesizedStage;
let ephemeral: SynthesizedStage;

beforeAll(() => {
  [kept, ephemeral] = synthesize([stageConfig('prod', {}, 'prod'), stageConfig('sandbox', { ephemeral: true, mlDsaEpochSigning: true })]);
});

describe('stateful stack: project key', () => {
  it('rotates yearly, has the stage alias and is retained', () => {
    const key = resourceNamed(kept.templates.stateful, 'AWS::KMS::Key', 'ProjectKey');
    expect(key.Properties).toMatchObject({ EnableKeyRotation: true, RotationPeriodInDays: 365, PendingWindowInDays: 30 });
    expect(key.DeletionPolicy).toBe('Retain');
    kept.templates.stateful.hasResourceProperties('AWS::KMS::Alias', { AliasName: 'alias/phase-mirror-prod', TargetKeyId: { 'Fn::GetAtt': [key.id, 'Arn'] } });
  });

  it('lets CloudWatch use it for encrypted alarm topics and SSM for SecureStrings of this account only', () => {
    const statements = (resourceNamed(kept.templates.stateful, 'AWS::KMS::Key', 'ProjectKey').Properties.KeyPolicy as { Statement: Record<string, unknown>[] }).Statement;
    expect(statements).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          Sid: 'AllowCloudWatchAlarmsToPublishToEncryptedTopics',
          Effect: 'Allow',
          Principal: { Service: 'cloudwatch.amazonaws.com' },
          Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
        }),
        expect.objectContaining({
          Sid: 'AllowSsmParametersOfThisAccount',
          Effect: 'Allow',
          Condition: { StringEquals: { 'kms:ViaService': 'ssm.us-east-1.amazonaws.com', 'kms:CallerAccount': '222222222222' } },
        }),
      ]),
    );
  });

  it('is deleted with an ephemeral stage', () => {
    const key = resourceNamed(ephemeral.templates.stateful, 'AWS::KMS::Key', 'ProjectKey');
    expect(key.DeletionPolicy).toBe('Delete');
    expect(key.Properties.PendingWindowInDays).toBe(7);
  });
});

describe('stateful stack: tables', () => {
  it('creates exactly one table per shared table definition, with its default name', () => {
    const tables = Object.values(resourcesOf(kept.templates.stateful, 'AWS::DynamoDB::Table'));
    const names = defaultTableNames('prod');
    expect(tables.map((table) => table.Properties?.TableName).sort()).toEqual(definitions.map((definition) => names[definition.id]).sort());
    expect(resourcesOf(kept.templates.stateful, 'AWS::DynamoDB::GlobalTable')).toEqual({});
  });

  it.each(definitions.map((definition) => [definition.id, definition] as const))('%s has the key schema, indexes and TTL of its definition', (_id, definition) => {
    const table = resourceNamed(kept.templates.stateful, 'AWS::DynamoDB::Table', `${definition.id.charAt(0).toUpperCase()}${definition.id.slice(1)}Table`);
    const keySchema = [{ AttributeName: definition.partitionKey.name, KeyType: 'HASH' }, ...(definition.sortKey ? [{ AttributeName: definition.sortKey.name, KeyType: 'RANGE' }] : [])];
    expect(table.Properties.KeySchema).toEqual(keySchema);
    const indexes = (table.Properties.GlobalSecondaryIndexes as { IndexName: string; KeySchema: unknown; Projection: unknown }[] | undefined) ?? [];
    expect(indexes.map((index) => index.IndexName)).toEqual(definition.globalSecondaryIndexes.map((index) => index.indexName));
    for (const index of definition.globalSecondaryIndexes) {
      expect(indexes.find((candidate) => candidate.IndexName === index.indexName)).toMatchObject({
        KeySchema: [{ AttributeName: index.partitionKey.name, KeyType: 'HASH' }, ...(index.sortKey ? [{ AttributeName: index.sortKey.name, KeyType: 'RANGE' }] : [])],
        Projection: { ProjectionType: index.projection },
      });
    }
    if (definition.timeToLiveAttribute) {
      expect(table.Properties.TimeToLiveSpecification).toEqual({ AttributeName: 'expiresAt', Enabled: true });
    } else {
      expect(table.Properties.TimeToLiveSpecification).toBeUndefined();
    }
  });

  it('puts the FP events FindingIndex on findingId, as the adapter queries it', () => {
    const table = resourceNamed(kept.templates.stateful, 'AWS::DynamoDB::Table', 'FpEventsTable');
    expect(table.Properties.GlobalSecondaryIndexes).toEqual(
      expect.arrayContaining([expect.objectContaining({ IndexName: 'FindingIndex', KeySchema: expect.arrayContaining([{ AttributeName: 'findingId', KeyType: 'HASH' }]) })]),
    );
  });

  it('encrypts every table with the project key, on demand, with point-in-time recovery', () => {
    const keyId = logicalId(kept.templates.stateful, 'AWS::KMS::Key', 'ProjectKey');
    for (const table of Object.values(resourcesOf(kept.templates.stateful, 'AWS::DynamoDB::Table'))) {
      expect(table.Properties).toMatchObject({
        BillingMode: 'PAY_PER_REQUEST',
        SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] } },
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      });
    }
  });

  it('protects every table from deletion outside ephemeral stages', () => {
    for (const table of Object.values(resourcesOf(kept.templates.stateful, 'AWS::DynamoDB::Table'))) {
      expect(table.Properties?.DeletionProtectionEnabled).toBe(true);
      expect(table.DeletionPolicy).toBe('Retain');
      expect(table.UpdateReplacePolicy).toBe('Retain');
    }
    expect(kept.stage.stateful.terminationProtection).toBe(true);
  });

  it('lets an ephemeral stage delete its tables', () => {
    for (const table of Object.values(resourcesOf(ephemeral.templates.stateful, 'AWS::DynamoDB::Table'))) {
      expect(table.Properties?.DeletionProtectionEnabled).toBe(false);
      expect(table.DeletionPolicy).toBe('Delete');
      // Still encrypted and recoverable while it exists.
      expect(table.Properties?.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
    }
    expect(ephemeral.stage.stateful.terminationProtection).toBe(false);
  });
});

describe('stateful stack: baselines bucket', () => {
  const baselines = (stage: SynthesizedStage) => resourceNamed(stage.templates.stateful, 'AWS::S3::Bucket', 'BaselinesBucket');

  it('is versioned, SSE-KMS with the project key, and blocks all public access', () => {
    const keyId = logicalId(kept.templates.stateful, 'AWS::KMS::Key', 'ProjectKey');
    const bucket = baselines(kept);
    expect(bucket.Properties).toMatchObject({
      BucketName: 'phase-mirror-prod-baselines-222222222222-us-east-1',
      VersioningConfiguration: { Status: 'Enabled' },
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          { BucketKeyEnabled: true, ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: { 'Fn::GetAtt': [keyId, 'Arn'] } } },
        ],
      },
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
    });
    expect(bucket.DeletionPolicy).toBe('Retain');
  });

  it('denies every request without TLS (and below TLS 1.2)', () => {
    const bucketId = baselines(kept).id;
    kept.templates.stateful.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: bucketId },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Action: 's3:*', Principal: { AWS: '*' }, Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          Match.objectLike({ Effect: 'Deny', Action: 's3:*', Condition: { NumericLessThan: { 's3:TlsVersion': 1.2 } } }),
        ]),
      },
    });
  });

  it('expires noncurrent versions and logs accesses to the access-log bucket', () => {
    const bucket = baselines(kept);
    expect(bucket.Properties.LifecycleConfiguration).toEqual({
      Rules: [expect.objectContaining({ Status: 'Enabled', NoncurrentVersionExpiration: { NoncurrentDays: 90 }, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 } })],
    });
    const logsId = logicalId(kept.templates.stateful, 'AWS::S3::Bucket', 'AccessLogsBucket');
    expect(bucket.Properties.LoggingConfiguration).toEqual({ DestinationBucketName: { Ref: logsId }, LogFilePrefix: 'baselines-bucket/' });
  });

  it('keeps the access-log bucket private, TLS-only and encrypted', () => {
    const logs = resourceNamed(kept.templates.stateful, 'AWS::S3::Bucket', 'AccessLogsBucket');
    expect(logs.Properties).toMatchObject({
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
    });
    kept.templates.stateful.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: logs.id },
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
  });
});

describe('stateful stack: epoch signing keys', () => {
  it('creates an ECC_NIST_P256 SIGN_VERIFY key with its alias', () => {
    const key = resourceNamed(kept.templates.stateful, 'AWS::KMS::Key', 'EpochSigningKey');
    expect(key.Properties).toMatchObject({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' });
    expect(key.DeletionPolicy).toBe('Retain');
    kept.templates.stateful.hasResourceProperties('AWS::KMS::Alias', { AliasName: 'alias/phase-mirror-prod-epoch-signing' });
  });

  it('adds an ML-DSA-44 key only when the stage asks for it', () => {
    expect(Object.keys(resourcesOf(kept.templates.stateful, 'AWS::KMS::Key')).filter((id) => id.startsWith('EpochMlDsaKey'))).toEqual([]);
    const key = resourceNamed(ephemeral.templates.stateful, 'AWS::KMS::Key', 'EpochMlDsaKey');
    expect(key.Properties).toMatchObject({ KeySpec: 'ML_DSA_44', KeyUsage: 'SIGN_VERIFY' });
  });
});
