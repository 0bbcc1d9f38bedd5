/**
 * AWS Backup of the tables (stage context `backup: true`): a vault encrypted
 * with the project key, daily/weekly/monthly rules kept 7/30/90 days, one
 * selection naming every table, a role only AWS Backup assumes, and no
 * unacknowledged cdk-nag finding.
 */
import { parseStageConfig, parseStages } from '../../lib/config';
import { BACKUP_RULES } from '../../lib/backup';
import { NAG_PACK_NAMES } from '../../lib/nag';
import { TABLE_DEFINITIONS } from '../../packages/mirror-dissonance/src/store/aws/table-definitions';
import { CDK_JSON, logicalId, rawStage, resourceNamed, resourcesOf, stageConfig, synthesize, type SynthesizedStage } from './support';

let staging: SynthesizedStage;
let prod: SynthesizedStage;
let sandbox: SynthesizedStage;

beforeAll(() => {
  // cdk.json's stages (prod enables backup, staging does not) and an ephemeral stage with it.
  [staging, prod, sandbox] = synthesize([...parseStages(CDK_JSON.context.stages), stageConfig('sandbox', { ephemeral: true, backup: true })]);
});

type Rule = { RuleName: string; ScheduleExpression: string; Lifecycle: Record<string, unknown>; TargetBackupVault: unknown; StartWindowMinutes: number; CompletionWindowMinutes: number };

const planRules = (stage: SynthesizedStage): Rule[] =>
  (resourceNamed(stage.templates.stateful, 'AWS::Backup::BackupPlan', 'BackupPlan').Properties.BackupPlan as { BackupPlanRule: Rule[] }).BackupPlanRule;

describe('backup: enablement', () => {
  it('backs up a stage whose context sets backup, inside its stateful stack', () => {
    expect(prod.stage.backup).toBeDefined();
    expect(Object.keys(resourcesOf(prod.templates.stateful, 'AWS::Backup::BackupPlan'))).toHaveLength(1);
  });

  it('creates no backup resource when the context leaves backup unset', () => {
    expect(rawStage('staging').backup).toBeUndefined();
    expect(staging.stage.backup).toBeUndefined();
    const types = Object.values(staging.templates.stateful.toJSON().Resources as Record<string, { Type: string }>).map((resource) => resource.Type);
    expect(types.filter((type) => type.startsWith('AWS::Backup::'))).toEqual([]);
  });

  it('rejects a non-boolean backup value, naming its context path', () => {
    expect(() => parseStageConfig('prod', { ...rawStage('prod'), backup: 1 })).toThrow(/stages\.prod\.backup: must be true or false/);
  });
});

describe('backup: vault', () => {
  it('is encrypted with the project key and named after the stage', () => {
    const vault = resourceNamed(prod.templates.stateful, 'AWS::Backup::BackupVault', 'BackupVault');
    expect(vault.Properties).toMatchObject({
      BackupVaultName: 'phase-mirror-prod-tables',
      EncryptionKeyArn: { 'Fn::GetAtt': [logicalId(prod.templates.stateful, 'AWS::KMS::Key', 'ProjectKey'), 'Arn'] },
    });
    expect(vault.DeletionPolicy).toBe('Retain');
  });

  it('denies deleting recovery points or shortening their lifecycle outside ephemeral stages', () => {
    const vault = resourceNamed(prod.templates.stateful, 'AWS::Backup::BackupVault', 'BackupVault');
    expect(vault.Properties.AccessPolicy).toEqual({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Deny', Principal: { AWS: '*' }, Action: ['backup:DeleteRecoveryPoint', 'backup:UpdateRecoveryPointLifecycle'], Resource: '*' }],
    });
  });

  it('lets an ephemeral stage delete its recovery points and vault', () => {
    const vault = resourceNamed(sandbox.templates.stateful, 'AWS::Backup::BackupVault', 'BackupVault');
    expect(vault.Properties.AccessPolicy).toBeUndefined();
    expect(vault.DeletionPolicy).toBe('Delete');
    // Still encrypted with the project key.
    expect(vault.Properties.EncryptionKeyArn).toEqual({ 'Fn::GetAtt': [logicalId(sandbox.templates.stateful, 'AWS::KMS::Key', 'ProjectKey'), 'Arn'] });
  });
});

describe('backup: plan', () => {
  it('runs daily kept 7 days, weekly kept 30 days and monthly kept 90 days', () => {
    const rules = planRules(prod);
    expect(rules.map((rule) => [rule.RuleName, rule.ScheduleExpression, rule.Lifecycle])).toEqual([
      ['daily', 'cron(0 3 * * ? *)', { DeleteAfterDays: 7 }],
      ['weekly', 'cron(0 4 ? * SUN *)', { DeleteAfterDays: 30 }],
      ['monthly', 'cron(0 5 1 * ? *)', { DeleteAfterDays: 90 }],
    ]);
    expect(BACKUP_RULES.map((rule) => rule.retention.toDays())).toEqual([7, 30, 90]);
  });

  it('stores every rule in the stage vault, starting within an hour and completing within 8 hours', () => {
    const vaultId = logicalId(prod.templates.stateful, 'AWS::Backup::BackupVault', 'BackupVault');
    for (const rule of planRules(prod)) {
      expect(rule.TargetBackupVault).toEqual({ 'Fn::GetAtt': [vaultId, 'BackupVaultName'] });
      expect(rule).toMatchObject({ StartWindowMinutes: 60, CompletionWindowMinutes: 480 });
      // Nothing moves to cold storage (DynamoDB cold storage needs 90 days past the move).
      expect(rule.Lifecycle.MoveToColdStorageAfterDays).toBeUndefined();
    }
  });

  it('selects every table of the stage, and nothing else', () => {
    const selection = resourceNamed(prod.templates.stateful, 'AWS::Backup::BackupSelection', 'BackupPlanTables');
    const body = selection.Properties.BackupSelection as { Resources: unknown[]; ListOfTags?: unknown; Conditions?: unknown; SelectionName: string };
    const tableIds = Object.keys(resourcesOf(prod.templates.stateful, 'AWS::DynamoDB::Table'));
    expect(tableIds).toHaveLength(Object.keys(TABLE_DEFINITIONS).length);
    expect(body.Resources).toHaveLength(tableIds.length);
    expect(body.Resources).toEqual(expect.arrayContaining(tableIds.map((id) => ({ 'Fn::GetAtt': [id, 'Arn'] }))));
    expect(body.ListOfTags).toBeUndefined();
    expect(body.SelectionName).toBe('phase-mirror-prod-tables');
    expect(selection.Properties.BackupPlanId).toEqual({ 'Fn::GetAtt': [logicalId(prod.templates.stateful, 'AWS::Backup::BackupPlan', 'BackupPlan'), 'BackupPlanId'] });
  });
});

describe('backup: role', () => {
  it('is assumable only by AWS Backup and has only the AWS Backup service policy', () => {
    const selection = resourceNamed(prod.templates.stateful, 'AWS::Backup::BackupSelection', 'BackupPlanTables');
    const roleId = ((selection.Properties.BackupSelection as { IamRoleArn: { 'Fn::GetAtt': [string, string] } }).IamRoleArn)['Fn::GetAtt'][0];
    const role = resourcesOf(prod.templates.stateful, 'AWS::IAM::Role')[roleId]!;
    expect(role.Properties?.AssumeRolePolicyDocument).toEqual({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Principal: { Service: 'backup.amazonaws.com' } }],
    });
    expect(JSON.stringify(role.Properties?.ManagedPolicyArns)).toBe(
      JSON.stringify([{ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup']] }]),
    );
    expect(role.Properties?.Policies).toBeUndefined();
    const attached = Object.values(resourcesOf(prod.templates.stateful, 'AWS::IAM::Policy')).filter((policy) => JSON.stringify(policy.Properties?.Roles).includes(roleId));
    expect(attached).toEqual([]);
  });
});

describe('backup: cdk-nag', () => {
  it('has no unacknowledged AwsSolutions or Serverless finding', () => {
    const findings = prod.report.pluginReports
      .filter((plugin) => (NAG_PACK_NAMES as readonly string[]).includes(plugin.pluginName))
      .flatMap((plugin) => plugin.violations.map((violation) => `${violation.ruleName} at ${violation.violatingConstructs.map((c) => c.constructPath).join(', ')}`));
    expect(findings).toEqual([]);
  });
});
