/**
 * Alarms of one stage, on metrics the code really emits (PhaseMirror
 * namespace, lambdas/shared/observability.ts: every EMF metric carries the
 * Powertools `service` dimension), on the functions, tables and dead-letter
 * queues; all to one SNS topic encrypted with the project key (whose policy
 * lets CloudWatch use it), and one dashboard.
 */
import { Duration, Stack, type StackProps } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import type { StageConfig } from './config';
import type { RuntimeStack } from './runtime-stack';
import { acknowledgeDeadLetterQueue, createDeadLetterQueue, METRICS_NAMESPACE } from './secure-defaults';
import { TABLE_DEFINITIONS } from '../packages/mirror-dissonance/src/store/aws/table-definitions';
import { tableName } from './names';
import { tableConstructId, type StatefulStack } from './stateful-stack';

export interface MonitoringStackProps extends StackProps {
  config: StageConfig;
  stateful: StatefulStack;
  runtime: RuntimeStack;
}

/**
 * Metric names emitted by the code, each with the Powertools `service`
 * dimension of its function (test/infra checks every name against the sources).
 */
export const EMITTED_METRICS = {
  /** packages/mirror-dissonance/src/nonce/rotation.ts ROTATION_METRIC, dimension outcome success|failure. */
  nonceRotation: 'NonceRotation',
  /** lambdas/epoch-sealer/handler.ts, once per run (count may be 0). */
  epochsSealed: 'EpochsSealed',
  /** lambdas/epoch-sealer/handler.ts, on failure. */
  epochSealFailure: 'EpochSealFailure',
  /** packages/mirror-dissonance/src/oracle/pipeline.ts, dimension repository (oracle function). */
  circuitBreakerTriggered: 'CircuitBreakerTriggered',
  /** lambdas/oracle/handler.ts: no valid nonce, the oracle does not decide (fails closed). */
  nonceLoadFailure: 'NonceLoadFailure',
  /** lambdas/oracle/handler.ts: SSM unreachable, a cached nonce was used (report degraded). */
  nonceLoadDegraded: 'NonceLoadDegraded',
  /** lambdas/oracle/handler.ts: the ledger refused the decision (height conflict or hash mismatch). */
  ledgerAppendFailure: 'LedgerAppendFailure',
  /** lambdas/baseline-loader/handler.ts: an invalid baseline was quarantined. */
  baselineQuarantined: 'BaselineQuarantined',
  /** lambdas/baseline-loader/handler.ts: S3 or DynamoDB failed while handling a baseline. */
  baselineLoadFailure: 'BaselineLoadFailure',
} as const;

const FIVE_MINUTES = Duration.minutes(5);

export class MonitoringStack extends Stack {
  readonly topic: sns.Topic;
  readonly alarms: cloudwatch.Alarm[] = [];
  readonly dashboard: cloudwatch.Dashboard;
  readonly alarmDeliveryFailures: sqs.Queue;

  constructor(scope: Construct, id: string, props: MonitoringStackProps) {
    super(scope, id, props);
    const { config, stateful, runtime } = props;
    const thresholds = config.thresholds;
    this.addStackDependency(runtime);

    this.topic = new sns.Topic(this, 'AlarmTopic', {
      topicName: `phase-mirror-${config.name}-alarms`,
      displayName: `Phase Mirror ${config.name} alarms`,
      masterKey: stateful.key,
      enforceSSL: true,
    });
    this.topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchAlarmsOfThisAccount',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: {
          StringEquals: { 'aws:SourceAccount': this.account },
          ArnLike: { 'aws:SourceArn': `arn:${this.partition}:cloudwatch:${this.region}:${this.account}:alarm:*` },
        },
      }),
    );
    this.alarmDeliveryFailures = createDeadLetterQueue(this, 'AlarmDeliveryFailures', { reason: 'alarm notifications SNS could not deliver' });
    acknowledgeDeadLetterQueue(this.alarmDeliveryFailures, 'the e-mail subscription of the alarm topic (RedrivePolicy)');
    this.topic.addSubscription(new subscriptions.EmailSubscription(config.alarmEmail, { deadLetterQueue: this.alarmDeliveryFailures }));
    const action = new actions.SnsAction(this.topic);
    const alarm = (alarmId: string, metric: cloudwatch.Metric | cloudwatch.MathExpression, options: Omit<cloudwatch.CreateAlarmOptions, 'evaluationPeriods'> & { evaluationPeriods?: number }): cloudwatch.Alarm => {
      const created = metric.createAlarm(this, alarmId, {
        alarmName: `phase-mirror-${config.name}-${kebab(alarmId)}`,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        ...options,
      });
      created.addAlarmAction(action);
      this.alarms.push(created);
      return created;
    };

    // ---- functions ---------------------------------------------------------------
    for (const fn of runtime.functions) {
      const id = pascal(fn.node.id);
      const dimensionsMap = { FunctionName: fn.functionName };
      alarm(`${id}Errors`, new cloudwatch.Metric({ namespace: 'AWS/Lambda', metricName: 'Errors', dimensionsMap, statistic: 'Sum', period: FIVE_MINUTES }), {
        threshold: thresholds.functionErrors,
        alarmDescription: `${fn.functionName} returned errors`,
      });
      alarm(`${id}Throttles`, new cloudwatch.Metric({ namespace: 'AWS/Lambda', metricName: 'Throttles', dimensionsMap, statistic: 'Sum', period: FIVE_MINUTES }), {
        threshold: thresholds.functionThrottles,
        alarmDescription: `${fn.functionName} was throttled`,
      });
    }

    // ---- tables --------------------------------------------------------------------
    for (const definition of Object.values(TABLE_DEFINITIONS)) {
      const tableId = definition.id;
      const dimensionsMap = { TableName: tableName(config.name, definition.suffix) };
      const throttles = new cloudwatch.MathExpression({
        expression: 'reads + writes',
        label: `${tableId} throttled events`,
        period: FIVE_MINUTES,
        usingMetrics: {
          reads: new cloudwatch.Metric({ namespace: 'AWS/DynamoDB', metricName: 'ReadThrottleEvents', dimensionsMap, statistic: 'Sum', period: FIVE_MINUTES }),
          writes: new cloudwatch.Metric({ namespace: 'AWS/DynamoDB', metricName: 'WriteThrottleEvents', dimensionsMap, statistic: 'Sum', period: FIVE_MINUTES }),
        },
      });
      alarm(`${tableConstructId(tableId)}Throttles`, throttles, {
        threshold: thresholds.tableThrottles,
        alarmDescription: `DynamoDB throttled reads or writes on ${tableId}`,
      });
    }

    // ---- nonce rotation (DESIGN §8) --------------------------------------------------
    const rotations = (outcome: 'success' | 'failure', period: Duration): cloudwatch.Metric =>
      new cloudwatch.Metric({
        namespace: METRICS_NAMESPACE,
        metricName: EMITTED_METRICS.nonceRotation,
        dimensionsMap: { service: runtime.nonceRotation.serviceName, outcome },
        statistic: 'Sum',
        period,
      });
    const heartbeat = config.nonceRotationRate.toSeconds() * 2;
    alarm('NonceRotationHeartbeat', rotations('success', Duration.seconds(heartbeat)), {
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
      alarmDescription: `No successful nonce rotation within two rotation periods (${heartbeat / 3600} h): the current nonce is not being replaced`,
    });
    alarm('NonceRotationFailures', rotations('failure', FIVE_MINUTES), {
      threshold: 1,
      alarmDescription: 'A nonce rotation failed (the scheduler retries, then dead-letters)',
    });

    // ---- epoch sealing (issue 6) -----------------------------------------------------
    const sealerDimensions = { service: runtime.epochSealer.serviceName };
    alarm(
      'EpochSealFailures',
      new cloudwatch.Metric({ namespace: METRICS_NAMESPACE, metricName: EMITTED_METRICS.epochSealFailure, dimensionsMap: sealerDimensions, statistic: 'Sum', period: FIVE_MINUTES }),
      { threshold: 1, alarmDescription: 'Sealing ledger epochs failed' },
    );
    const sealerHeartbeat = config.epochSealingRate.toSeconds() * 2;
    alarm(
      'EpochSealerHeartbeat',
      new cloudwatch.Metric({
        namespace: METRICS_NAMESPACE,
        metricName: EMITTED_METRICS.epochsSealed,
        dimensionsMap: sealerDimensions,
        statistic: 'SampleCount',
        period: Duration.seconds(sealerHeartbeat),
      }),
      {
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.BREACHING,
        alarmDescription: `The epoch sealer did not complete a run within two sealing periods (${sealerHeartbeat / 60} min)`,
      },
    );

    // ---- oracle (DESIGN §5, §6) -----------------------------------------------------
    alarm(
      'CircuitBreakerTrips',
      new cloudwatch.MathExpression({
        // Per repository in the code: Metrics Insights sums every repository's series.
        expression: `SELECT SUM(${EMITTED_METRICS.circuitBreakerTriggered}) FROM SCHEMA("${METRICS_NAMESPACE}", repository, service) WHERE service = '${runtime.oracle.serviceName}'`,
        label: 'circuit-breaker trips (all repositories)',
        period: Duration.hours(1),
        usingMetrics: {},
      }),
      { threshold: thresholds.circuitBreakerTrips, alarmDescription: 'The circuit breaker downgraded blocks to warnings: a rule may be misfiring at scale' },
    );
    const oracleMetric = (metricName: string): cloudwatch.Metric =>
      new cloudwatch.Metric({ namespace: METRICS_NAMESPACE, metricName, dimensionsMap: { service: runtime.oracle.serviceName }, statistic: 'Sum', period: FIVE_MINUTES });
    alarm('NonceLoadFailures', oracleMetric(EMITTED_METRICS.nonceLoadFailure), {
      threshold: 1,
      alarmDescription: 'The oracle could not load a valid redaction nonce and refused to decide (fail closed)',
    });
    alarm('NonceServedFromCache', oracleMetric(EMITTED_METRICS.nonceLoadDegraded), {
      threshold: 1,
      alarmDescription: 'SSM was unreachable: the oracle used its cached nonce and reported degraded decisions',
    });
    alarm('LedgerAppendFailures', oracleMetric(EMITTED_METRICS.ledgerAppendFailure), {
      threshold: 1,
      alarmDescription: 'The ledger refused a decision (height conflict or hash mismatch): investigate before trusting new entries',
    });

    // ---- baselines -------------------------------------------------------------------
    const loaderMetric = (metricName: string): cloudwatch.Metric =>
      new cloudwatch.Metric({ namespace: METRICS_NAMESPACE, metricName, dimensionsMap: { service: runtime.baselineLoader.serviceName }, statistic: 'Sum', period: FIVE_MINUTES });
    alarm('BaselineQuarantines', loaderMetric(EMITTED_METRICS.baselineQuarantined), {
      threshold: 1,
      alarmDescription: 'An uploaded baseline was invalid and moved to quarantine/: drift checks keep the previous baseline',
    });
    alarm('BaselineLoadFailures', loaderMetric(EMITTED_METRICS.baselineLoadFailure), {
      threshold: 1,
      alarmDescription: 'The baseline loader could not read or record a baseline (S3 or DynamoDB failure)',
    });

    // ---- dead-letter queues ------------------------------------------------------------
    const queues: [string, sqs.IQueue][] = [
      ['FunctionFailures', runtime.functionFailures],
      ['ScheduleDeadLetters', runtime.scheduleDeadLetters],
      ['AlarmDeliveryFailures', this.alarmDeliveryFailures],
    ];
    for (const [queueId, queue] of queues) {
      alarm(`${queueId}NotEmpty`, queue.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', period: FIVE_MINUTES }), {
        threshold: thresholds.deadLetters,
        alarmDescription: `Messages are waiting in the ${queueId} dead-letter queue`,
      });
    }

    // ---- dashboard ---------------------------------------------------------------------
    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: `phase-mirror-${config.name}`,
      defaultInterval: Duration.days(1),
    });
    this.dashboard.addWidgets(new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: this.alarms, width: 24 }));
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Nonce rotations',
        left: [rotations('success', Duration.hours(1)), rotations('failure', Duration.hours(1))],
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'Epoch sealing',
        left: [
          new cloudwatch.Metric({ namespace: METRICS_NAMESPACE, metricName: EMITTED_METRICS.epochsSealed, dimensionsMap: sealerDimensions, statistic: 'Sum', period: Duration.hours(1) }),
          new cloudwatch.Metric({ namespace: METRICS_NAMESPACE, metricName: EMITTED_METRICS.epochSealFailure, dimensionsMap: sealerDimensions, statistic: 'Sum', period: Duration.hours(1) }),
        ],
        width: 12,
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Function errors',
        left: runtime.functions.map((fn) => new cloudwatch.Metric({ namespace: 'AWS/Lambda', metricName: 'Errors', dimensionsMap: { FunctionName: fn.functionName }, statistic: 'Sum', period: FIVE_MINUTES, label: fn.node.id })),
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'Oracle: nonce and ledger',
        left: [oracleMetric(EMITTED_METRICS.nonceLoadFailure), oracleMetric(EMITTED_METRICS.nonceLoadDegraded), oracleMetric(EMITTED_METRICS.ledgerAppendFailure)],
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'Baselines',
        left: [loaderMetric(EMITTED_METRICS.baselineQuarantined), loaderMetric(EMITTED_METRICS.baselineLoadFailure)],
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'Oracle duration (p99)',
        left: [new cloudwatch.Metric({ namespace: 'AWS/Lambda', metricName: 'Duration', dimensionsMap: { FunctionName: runtime.oracle.functionName }, statistic: 'p99', period: FIVE_MINUTES })],
        width: 12,
      }),
    );
  }
}

/** `NonceRotation` → `NonceRotation`; `nonce-rotation` → `NonceRotation`. */
function pascal(id: string): string {
  return id.replace(/(^|[-_])([a-z])/g, (_match, _sep: string, letter: string) => letter.toUpperCase());
}

/** `NonceRotationHeartbeat` → `nonce-rotation-heartbeat`. */
function kebab(id: string): string {
  return id.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase();
}
