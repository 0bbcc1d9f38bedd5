/**
 * The runtime stack: the four functions (runtime, architecture, logs,
 * tracing, Powertools, dead letters), the schedules (rate, retries, DLQ), the
 * S3 event of the baseline loader, and each function's permissions — exactly
 * the actions its code performs, on the resources it touches.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { PROJECT_ROOT } from '../../lib/project-root';
import { actionsOf, logicalId, resourceNamed, resourcesOf, roleStatements, stageConfig, synthesize, type PolicyStatementJson, type SynthesizedStage } from './support';

const FUNCTIONS = [
  { id: 'Oracle', folder: 'oracle' },
  { id: 'NonceRotation', folder: 'nonce-rotation' },
  { id: 'EpochSealer', folder: 'epoch-sealer' },
  { id: 'BaselineLoader', folder: 'baseline-loader' },
] as const;

let staging: SynthesizedStage;
let prod: SynthesizedStage;
let template: Template;

beforeAll(() => {
  [staging, prod] = synthesize([stageConfig('staging'), stageConfig('prod', {}, 'prod')]);
  template = staging.templates.runtime;
});

/** `arn:aws:<service>:us-east-1:111111111111:<resource>` of the staging account. */
function arn(service: string, resource: string): string {
  return `arn:aws:${service}:us-east-1:111111111111:${resource}`;
}

const projectKey = { 'Fn::ImportValue': expect.stringMatching(/^phase-mirror-staging-stateful:.*ProjectKey/) as unknown };

/** Statements of a function's role, minus what every function gets (own logs, X-Ray, its dead-letter queue). */
function ownStatements(functionId: string): PolicyStatementJson[] {
  const statements = roleStatements(template, logicalId(template, 'AWS::IAM::Role', `${functionId}Role`));
  return statements.filter((statement) => {
    const actions = actionsOf(statement);
    return !(statement.Sid === 'WriteOwnLogGroup' || actions.every((action) => action.startsWith('xray:')) || actions.every((action) => action.startsWith('sqs:')));
  });
}

/** action → resources (JSON) over a role's statements, for comparisons. */
function grants(statements: PolicyStatementJson[], service: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const statement of statements) {
    for (const action of actionsOf(statement).filter((candidate) => candidate.startsWith(`${service}:`))) {
      const resources = (Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource]).map((resource) => (typeof resource === 'string' ? resource : JSON.stringify(resource)));
      out[action] = [...(out[action] ?? []), ...resources].sort();
    }
  }
  return out;
}

describe('runtime stack: functions', () => {
  it.each(FUNCTIONS)('$id runs on pinned Node.js 20, ARM64, with X-Ray tracing and an explicit log group with retention', ({ id, folder }) => {
    const fn = resourceNamed(template, 'AWS::Lambda::Function', `${id}Function`);
    const logsId = logicalId(template, 'AWS::Logs::LogGroup', `${id}Logs`);
    expect(fn.Properties).toMatchObject({
      FunctionName: `phase-mirror-staging-${folder}`,
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
      TracingConfig: { Mode: 'Active' },
      LoggingConfig: { LogGroup: { Ref: logsId } },
    });
    expect(typeof fn.Properties.MemorySize).toBe('number');
    expect(typeof fn.Properties.Timeout).toBe('number');
    template.hasResourceProperties('AWS::Logs::LogGroup', { LogGroupName: `/aws/lambda/phase-mirror-staging-${folder}`, RetentionInDays: 30 });
    prod.templates.runtime.hasResourceProperties('AWS::Logs::LogGroup', { LogGroupName: `/aws/lambda/phase-mirror-prod-${folder}`, RetentionInDays: 365 });
  });

  it.each(FUNCTIONS)('$id has Powertools settings, source maps and the stage in its environment', ({ id, folder }) => {
    const variables = (resourceNamed(template, 'AWS::Lambda::Function', `${id}Function`).Properties.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(variables).toMatchObject({
      POWERTOOLS_SERVICE_NAME: folder,
      POWERTOOLS_METRICS_NAMESPACE: 'PhaseMirror',
      NODE_OPTIONS: '--enable-source-maps',
      PHASE_MIRROR_STAGE: 'staging',
    });
  });

  it.each(FUNCTIONS)("$id's service name is the SERVICE its handler gives Powertools (the alarms' `service` dimension)", ({ folder }) => {
    const source = readFileSync(path.join(PROJECT_ROOT, 'lambdas', folder, 'handler.ts'), 'utf8');
    expect(/const SERVICE = '([^']+)'/.exec(source)?.[1]).toBe(folder);
  });

  it.each(FUNCTIONS)('$id sends failed asynchronous invocations to the encrypted failure queue', ({ id }) => {
    const queueId = logicalId(template, 'AWS::SQS::Queue', 'FunctionFailures');
    const fn = resourceNamed(template, 'AWS::Lambda::Function', `${id}Function`);
    expect(fn.Properties.DeadLetterConfig).toEqual({ TargetArn: { 'Fn::GetAtt': [queueId, 'Arn'] } });
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: fn.id },
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [queueId, 'Arn'] } } },
    });
  });

  it('passes the table names and keys the handlers read', () => {
    const env = (id: string) => (resourceNamed(template, 'AWS::Lambda::Function', `${id}Function`).Properties.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(env('NonceRotation')).toMatchObject({ NONCE_KMS_KEY_ID: projectKey, NONCE_GRACE_SECONDS: '3600' });
    expect(env('EpochSealer')).toMatchObject({
      LEDGER_TABLE: 'phase-mirror-staging-ledger',
      LEDGER_EPOCHS_TABLE: 'phase-mirror-staging-ledger-epochs',
      EPOCH_SIGNING_KEY_ID: { 'Fn::ImportValue': expect.stringMatching(/EpochSigningKey/) },
    });
    expect(env('Oracle')).toMatchObject({
      FP_EVENTS_TABLE: 'phase-mirror-staging-fp-events',
      BLOCK_COUNTER_TABLE: 'phase-mirror-staging-block-counter',
      FPR_HISTORY_TABLE: 'phase-mirror-staging-fpr-history',
      LEDGER_TABLE: 'phase-mirror-staging-ledger',
      NONCE_GRACE_SECONDS: '3600',
    });
    expect(env('BaselineLoader')).toMatchObject({ GOVERNANCE_CACHE_TABLE: 'phase-mirror-staging-governance-cache' });
  });
});

describe('runtime stack: dead-letter queues', () => {
  it.each(['FunctionFailures', 'ScheduleDeadLetters'])('%s is encrypted, TLS-only and keeps messages 14 days', (queueName) => {
    const queue = resourceNamed(template, 'AWS::SQS::Queue', queueName);
    expect(queue.Properties).toMatchObject({ SqsManagedSseEnabled: true, MessageRetentionPeriod: 1209600 });
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [{ Ref: queue.id }],
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Action: 'sqs:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
  });
});

describe('runtime stack: schedules', () => {
  const schedule = (stage: SynthesizedStage, name: string) => resourceNamed(stage.templates.runtime, 'AWS::Scheduler::Schedule', name);

  it('rotates the nonce and seals epochs at the configured rates', () => {
    expect(schedule(staging, 'NonceRotationSchedule').Properties.ScheduleExpression).toBe('rate(12 hours)');
    expect(schedule(prod, 'NonceRotationSchedule').Properties.ScheduleExpression).toBe('rate(1 day)');
    expect(schedule(staging, 'EpochSealingSchedule').Properties.ScheduleExpression).toBe('rate(1 hour)');
  });

  it.each([
    ['NonceRotationSchedule', 'NonceRotation'],
    ['EpochSealingSchedule', 'EpochSealer'],
  ])('%s invokes its function with 3 retries within an hour, then the dead-letter queue', (name, functionId) => {
    const target = schedule(staging, name).Properties.Target as Record<string, unknown>;
    expect(target).toMatchObject({
      Arn: { 'Fn::GetAtt': [logicalId(template, 'AWS::Lambda::Function', `${functionId}Function`), 'Arn'] },
      RetryPolicy: { MaximumRetryAttempts: 3, MaximumEventAgeInSeconds: 3600 },
      DeadLetterConfig: { Arn: { 'Fn::GetAtt': [logicalId(template, 'AWS::SQS::Queue', 'ScheduleDeadLetters'), 'Arn'] } },
    });
    expect(schedule(staging, name).Properties.FlexibleTimeWindow).toEqual({ Mode: 'OFF' });
  });

  it.each([
    ['NonceRotationSchedule', 'NonceRotation'],
    ['EpochSealingSchedule', 'EpochSealer'],
  ])("%s's role is assumable by the scheduler of this account only and may only invoke its function and dead-letter", (name, functionId) => {
    const roleId = logicalId(template, 'AWS::IAM::Role', `${name}Role`);
    const role = resourcesOf(template, 'AWS::IAM::Role')[roleId]!;
    expect(role.Properties?.AssumeRolePolicyDocument).toEqual({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Principal: { Service: 'scheduler.amazonaws.com' }, Condition: { StringEquals: { 'aws:SourceAccount': '111111111111' } } }],
    });
    const fnArn = { 'Fn::GetAtt': [logicalId(template, 'AWS::Lambda::Function', `${functionId}Function`), 'Arn'] };
    expect(roleStatements(template, roleId).map((statement) => [actionsOf(statement), statement.Resource])).toEqual(
      expect.arrayContaining([
        [['lambda:InvokeFunction'], [fnArn, { 'Fn::Join': ['', [fnArn, ':*']] }]],
        [['sqs:SendMessage'], { 'Fn::GetAtt': [logicalId(template, 'AWS::SQS::Queue', 'ScheduleDeadLetters'), 'Arn'] }],
      ]),
    );
    expect(roleStatements(template, roleId)).toHaveLength(2);
  });
});

describe('runtime stack: baseline loader trigger', () => {
  it('receives ObjectCreated events of the baselines bucket under baselines/ only', () => {
    const loader = logicalId(template, 'AWS::Lambda::Function', 'BaselineLoaderFunction');
    template.hasResourceProperties('Custom::S3BucketNotifications', {
      BucketName: 'phase-mirror-staging-baselines-111111111111-us-east-1',
      Managed: false,
      NotificationConfiguration: {
        LambdaFunctionConfigurations: [
          { Events: ['s3:ObjectCreated:*'], Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: 'baselines/' }] } }, LambdaFunctionArn: { 'Fn::GetAtt': [loader, 'Arn'] } },
        ],
      },
    });
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      FunctionName: { 'Fn::GetAtt': [loader, 'Arn'] },
      Principal: 's3.amazonaws.com',
      SourceAccount: '111111111111',
      SourceArn: Match.anyValue(),
    });
  });
});

describe('runtime stack: least privilege', () => {
  it('lets nonce rotation list, create and delete nonce versions of its stage, and encrypt them only through SSM', () => {
    const statements = ownStatements('NonceRotation');
    const versions = arn('ssm', 'parameter/guardian/staging/redaction_nonce_v*');
    expect(grants(statements, 'ssm')).toEqual({
      'ssm:GetParametersByPath': [arn('ssm', 'parameter/guardian/staging'), arn('ssm', 'parameter/guardian/staging/')],
      'ssm:PutParameter': [versions],
      'ssm:DeleteParameter': [versions],
    });
    const kms = statements.filter((statement) => actionsOf(statement).some((action) => action.startsWith('kms:')));
    expect(kms).toEqual([
      expect.objectContaining({
        Action: ['kms:Encrypt', 'kms:GenerateDataKey'],
        Resource: projectKey,
        Condition: { StringEquals: { 'kms:ViaService': 'ssm.us-east-1.amazonaws.com' }, StringLike: { 'kms:EncryptionContext:PARAMETER_ARN': versions } },
      }),
    ]);
    expect(statements.flatMap(actionsOf).filter((action) => !action.startsWith('ssm:') && !action.startsWith('kms:'))).toEqual([]);
  });

  it('lets the epoch sealer read the ledger, pin only ledger settings, write epochs and sign with the epoch key', () => {
    const statements = ownStatements('EpochSealer');
    const ledger = arn('dynamodb', 'table/phase-mirror-staging-ledger');
    const epochs = arn('dynamodb', 'table/phase-mirror-staging-ledger-epochs');
    const dynamo = grants(statements, 'dynamodb');
    expect(dynamo['dynamodb:PutItem']).toEqual([ledger, epochs].sort());
    expect(dynamo['dynamodb:Query']).toEqual([ledger, epochs].sort());
    expect(Object.keys(dynamo).filter((action) => /Delete|Update|BatchWrite|Scan/.test(action))).toEqual([]);
    expect(statements.find((statement) => statement.Sid === 'PinLedgerSettings')).toMatchObject({
      Action: 'dynamodb:PutItem',
      Resource: ledger,
      Condition: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': ['ledger#settings'] } },
    });
    expect(statements.find((statement) => statement.Sid === 'SignEpochs')).toMatchObject({
      Action: ['kms:DescribeKey', 'kms:GetPublicKey', 'kms:Sign'],
      Resource: { 'Fn::ImportValue': expect.stringMatching(/EpochSigningKey/) },
    });
    expect(statements.flatMap(actionsOf).filter((action) => action.startsWith('ssm:') || action.startsWith('s3:'))).toEqual([]);
  });

  it('lets the oracle use its four tables and read (never write) the nonce', () => {
    const statements = ownStatements('Oracle');
    const table = (suffix: string) => arn('dynamodb', `table/phase-mirror-staging-${suffix}`);
    const dynamo = grants(statements, 'dynamodb');
    const touched = new Set(Object.values(dynamo).flat());
    expect([...touched].sort()).toEqual(
      [table('fp-events'), `${table('fp-events')}/index/*`, table('block-counter'), table('fpr-history'), table('ledger')].sort(),
    );
    expect(dynamo['dynamodb:UpdateItem']).toEqual([table('block-counter')]);
    expect(dynamo['dynamodb:DeleteItem']).toEqual([table('fp-events'), `${table('fp-events')}/index/*`]);
    expect(dynamo['dynamodb:Scan']).toBeUndefined();
    const versions = arn('ssm', 'parameter/guardian/staging/redaction_nonce_v*');
    expect(grants(statements, 'ssm')).toEqual({
      'ssm:GetParametersByPath': [arn('ssm', 'parameter/guardian/staging'), arn('ssm', 'parameter/guardian/staging/')],
      'ssm:GetParameter': [versions],
    });
    expect(statements.find((statement) => statement.Sid === 'DecryptNonceVersions')).toMatchObject({
      Action: 'kms:Decrypt',
      Condition: { StringEquals: { 'kms:ViaService': 'ssm.us-east-1.amazonaws.com' }, StringLike: { 'kms:EncryptionContext:PARAMETER_ARN': versions } },
    });
    expect(statements.flatMap(actionsOf).filter((action) => action.startsWith('s3:') || action === 'kms:Sign')).toEqual([]);
  });

  it('lets the baseline loader read and remove uploads, write quarantine copies and record them in the governance cache', () => {
    const statements = ownStatements('BaselineLoader');
    const bucket = 'arn:aws:s3:::phase-mirror-staging-baselines-111111111111-us-east-1';
    const s3 = grants(statements, 's3');
    expect(s3['s3:GetObject']).toEqual([`${bucket}/baselines/*`]);
    expect(s3['s3:DeleteObjectVersion']).toEqual([`${bucket}/baselines/*`]);
    expect(s3['s3:PutObject']).toEqual([`${bucket}/quarantine/*`]);
    expect(Object.values(s3).flat().every((resource) => resource.startsWith(`${bucket}/baselines/`) || resource.startsWith(`${bucket}/quarantine/`))).toBe(true);
    const dynamo = grants(statements, 'dynamodb');
    expect([...new Set(Object.values(dynamo).flat())]).toEqual([arn('dynamodb', 'table/phase-mirror-staging-governance-cache')]);
    expect(Object.keys(dynamo)).toEqual(expect.arrayContaining(['dynamodb:GetItem', 'dynamodb:PutItem']));
    expect(statements.flatMap(actionsOf).filter((action) => action.startsWith('ssm:'))).toEqual([]);
  });

  it('conditions every project-key grant on the service that uses it', () => {
    for (const { id } of FUNCTIONS) {
      for (const statement of ownStatements(id)) {
        const isProjectKey = JSON.stringify(statement.Resource).includes('ProjectKey');
        if (!isProjectKey) continue;
        expect(statement.Condition?.StringEquals?.['kms:ViaService']).toMatch(/^(ssm|dynamodb|s3)\.us-east-1\.amazonaws\.com$/);
      }
    }
  });

  it('grants no wildcard action to any role of the stage', () => {
    const wildcards = staging.json.flatMap((stack) =>
      Object.values((stack as { Resources: Record<string, { Type: string; Properties?: { PolicyDocument?: { Statement: PolicyStatementJson[] } } }> }).Resources)
        .filter((resource) => resource.Type === 'AWS::IAM::Policy')
        .flatMap((resource) => resource.Properties!.PolicyDocument!.Statement.flatMap(actionsOf))
        .filter((action) => action.includes('*')),
    );
    expect(wildcards).toEqual([]);
  });
});
