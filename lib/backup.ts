/**
 * AWS Backup of a stage's DynamoDB tables (`"backup": true` in the stage
 * context): one vault encrypted with the project key, one plan with daily
 * (kept 7 days), weekly (30 days) and monthly (90 days) rules, and one
 * selection naming every table. Complements the tables' point-in-time
 * recovery (35 days, per second) with copies that survive a deleted table.
 * Built inside the stateful stack (stage.ts), next to the tables and the key.
 */
import { Duration, Validations } from 'aws-cdk-lib';
import * as backup from 'aws-cdk-lib/aws-backup';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { resourceName } from './names';
import { removalPolicyFor } from './secure-defaults';

/** One rule of the plan: name, UTC schedule and retention. */
export interface BackupRuleSpec {
  ruleName: string;
  schedule: events.CronOptions;
  retention: Duration;
}

/** The retention policy of issue 7: daily 7 d, weekly 30 d, monthly 90 d (times in UTC). */
export const BACKUP_RULES: readonly BackupRuleSpec[] = [
  { ruleName: 'daily', schedule: { minute: '0', hour: '3' }, retention: Duration.days(7) },
  { ruleName: 'weekly', schedule: { minute: '0', hour: '4', weekDay: 'SUN' }, retention: Duration.days(30) },
  { ruleName: 'monthly', schedule: { minute: '0', hour: '5', day: '1' }, retention: Duration.days(90) },
];

/** The AWS-managed policy of the backup role (what AWS Backup's default role has). */
export const BACKUP_SERVICE_POLICY = 'service-role/AWSBackupServiceRolePolicyForBackup';

export interface TableBackupProps {
  stage: string;
  tables: readonly dynamodb.ITable[];
  /** Encrypts the vault (the project key). */
  key: kms.IKey;
  ephemeral: boolean;
}

export class TableBackup extends Construct {
  readonly vault: backup.BackupVault;
  readonly plan: backup.BackupPlan;
  readonly role: iam.Role;
  readonly selection: backup.BackupSelection;

  constructor(scope: Construct, id: string, props: TableBackupProps) {
    super(scope, id);
    if (props.tables.length === 0) throw new Error('TableBackup needs at least one table');
    const name = resourceName(props.stage, 'tables');
    this.vault = new backup.BackupVault(this, 'Vault', {
      backupVaultName: name,
      encryptionKey: props.key,
      // Outside ephemeral stages nobody (not even an administrator's stolen session) deletes a recovery point before its retention ends.
      blockRecoveryPointDeletion: !props.ephemeral,
      removalPolicy: removalPolicyFor(props.ephemeral),
    });
    this.plan = new backup.BackupPlan(this, 'Plan', {
      backupPlanName: name,
      backupVault: this.vault,
      backupPlanRules: BACKUP_RULES.map(
        (rule) =>
          new backup.BackupPlanRule({
            ruleName: rule.ruleName,
            scheduleExpression: events.Schedule.cron(rule.schedule),
            deleteAfter: rule.retention,
            startWindow: Duration.hours(1),
            completionWindow: Duration.hours(8),
          }),
      ),
    });
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('backup.amazonaws.com'),
      description: `AWS Backup role of the ${name} plan`,
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName(BACKUP_SERVICE_POLICY)],
    });
    Validations.of(this.role).acknowledge({
      id: `AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/${BACKUP_SERVICE_POLICY}]`,
      reason:
        'AWS Backup documents this managed policy as the backup role policy; AWS maintains it as Backup adds resource types. The role is assumable only by backup.amazonaws.com and the selection names only this stage\'s tables.',
    });
    this.selection = this.plan.addSelection('Tables', {
      backupSelectionName: name,
      role: this.role,
      resources: props.tables.map((table) => backup.BackupResource.fromDynamoDbTable(table)),
    });
  }
}
