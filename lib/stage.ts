/**
 * One deployment stage (`staging`, `prod`, …): its four stacks, composed from
 * the typed stage configuration, plus what the stage context enables: the
 * audit stack (`audit`) and the AWS Backup plan of the tables, built inside the
 * stateful stack (`backup`). Stack names are `phase-mirror-<stage>-<part>`.
 */
import { Stage, type StageProps, Tags } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { AuditStack } from './audit-stack';
import { TableBackup } from './backup';
import type { StageConfig } from './config';
import { IdentityStack } from './identity-stack';
import { MonitoringStack } from './monitoring-stack';
import { RuntimeStack } from './runtime-stack';
import { StatefulStack } from './stateful-stack';

export interface PhaseMirrorStageProps extends StageProps {
  config: StageConfig;
}

export class PhaseMirrorStage extends Stage {
  readonly stateful: StatefulStack;
  readonly runtime: RuntimeStack;
  readonly monitoring: MonitoringStack;
  readonly identity: IdentityStack;
  /** Present when the stage context sets `audit: true`. */
  readonly audit?: AuditStack;
  /** Present when the stage context sets `backup: true` (in the stateful stack). */
  readonly backup?: TableBackup;

  constructor(scope: Construct, id: string, props: PhaseMirrorStageProps) {
    const { config } = props;
    super(scope, id, { ...props, env: { account: config.account, region: config.region } });
    const name = (part: string): string => `phase-mirror-${config.name}-${part}`;
    this.stateful = new StatefulStack(this, 'Stateful', {
      stackName: name('stateful'),
      description: `Phase Mirror ${config.name}: keys, tables and the baselines bucket`,
      terminationProtection: !config.ephemeral,
      config,
    });
    this.runtime = new RuntimeStack(this, 'Runtime', {
      stackName: name('runtime'),
      description: `Phase Mirror ${config.name}: Lambdas, schedules and S3 events`,
      config,
      stateful: this.stateful,
    });
    this.monitoring = new MonitoringStack(this, 'Monitoring', {
      stackName: name('monitoring'),
      description: `Phase Mirror ${config.name}: alarms, alarm topic and dashboard`,
      config,
      stateful: this.stateful,
      runtime: this.runtime,
    });
    this.identity = new IdentityStack(this, 'Identity', {
      stackName: name('identity'),
      description: `Phase Mirror ${config.name}: GitHub OIDC deploy and pull-request roles`,
      config,
      oracle: this.runtime.oracle,
      runtime: this.runtime,
    });
    if (config.backup) {
      this.backup = new TableBackup(this.stateful, 'Backup', {
        stage: config.name,
        tables: Object.values(this.stateful.tables),
        key: this.stateful.key,
        ephemeral: config.ephemeral,
      });
    }
    if (config.audit) {
      this.audit = new AuditStack(this, 'Audit', {
        stackName: name('audit'),
        description: `Phase Mirror ${config.name}: CloudTrail trail with log file validation and its encrypted bucket`,
        terminationProtection: !config.ephemeral,
        config,
      });
    }
    Tags.of(this).add('project', 'phase-mirror');
    Tags.of(this).add('stage', config.name);
  }
}
