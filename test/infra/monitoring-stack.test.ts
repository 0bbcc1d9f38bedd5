/**
 * The monitoring stack: every alarm's metric (name, namespace, dimensions,
 * statistic, period), threshold and action, the rotation heartbeat, the
 * encrypted alarm topic, and that each custom metric is one the code emits.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Template } from 'aws-cdk-lib/assertions';
import { EMITTED_METRICS } from '../../lib/monitoring-stack';
import { PROJECT_ROOT } from '../../lib/project-root';
import { TABLE_DEFINITIONS } from '../../packages/mirror-dissonance/src/store/aws/table-definitions';
import { logicalId, resourceNamed, resourcesOf, stageConfig, synthesize, type SynthesizedStage } from './support';

interface AlarmProperties {
  AlarmName: string;
  AlarmActions: unknown[];
  MetricName?: string;
  Namespace?: string;
  Dimensions?: { Name: string; Value: unknown }[];
  Statistic?: string;
  Period?: number;
  Threshold: number;
  ComparisonOperator: string;
  TreatMissingData: string;
  EvaluationPeriods: number;
  Metrics?: { Id: string; Expression?: string; MetricStat?: { Metric: { MetricName: string; Namespace: string; Dimensions: { Name: string; Value: unknown }[] }; Stat: string; Period: number } }[];
}

let staging: SynthesizedStage;
let prod: SynthesizedStage;

beforeAll(() => {
  [staging, prod] = synthesize([stageConfig('staging'), stageConfig('prod', {}, 'prod')]);
});

function alarms(template: Template): Record<string, AlarmProperties> {
  return Object.fromEntries(Object.entries(resourcesOf(template, 'AWS::CloudWatch::Alarm')).map(([id, resource]) => [id, resource.Properties as unknown as AlarmProperties]));
}

function alarm(template: Template, name: string): AlarmProperties {
  return resourceNamed(template, 'AWS::CloudWatch::Alarm', name).Properties as unknown as AlarmProperties;
}

function dimensions(properties: { Dimensions?: { Name: string; Value: unknown }[] }): Record<string, unknown> {
  return Object.fromEntries((properties.Dimensions ?? []).map((dimension) => [dimension.Name, dimension.Value]));
}

/** Every .ts source of the Lambdas and the core (not tests). */
function sources(): string {
  const files: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir)) {
      const file = path.join(dir, entry);
      if (statSync(file).isDirectory()) walk(file);
      else if (file.endsWith('.ts') && !file.endsWith('.test.ts')) files.push(file);
    }
  };
  walk(path.join(PROJECT_ROOT, 'lambdas'));
  walk(path.join(PROJECT_ROOT, 'packages', 'mirror-dissonance', 'src'));
  return files.map((file) => readFileSync(file, 'utf8')).join('\n');
}

describe('monitoring stack: alarm topic', () => {
  it('is encrypted with the project key and accepts only TLS', () => {
    const topic = resourceNamed(staging.templates.monitoring, 'AWS::SNS::Topic', 'AlarmTopic');
    expect(topic.Properties.KmsMasterKeyId).toEqual({ 'Fn::ImportValue': expect.stringMatching(/^phase-mirror-staging-stateful:.*ProjectKey/) });
    const statements = (resourceNamed(staging.templates.monitoring, 'AWS::SNS::TopicPolicy', 'AlarmTopicPolicy').Properties.PolicyDocument as { Statement: Record<string, unknown>[] }).Statement;
    expect(statements).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        expect.objectContaining({
          Effect: 'Allow',
          Principal: { Service: 'cloudwatch.amazonaws.com' },
          Action: 'sns:Publish',
          Condition: { StringEquals: { 'aws:SourceAccount': '111111111111' }, ArnLike: { 'aws:SourceArn': 'arn:aws:cloudwatch:us-east-1:111111111111:alarm:*' } },
        }),
      ]),
    );
  });

  it('mails the configured address, dead-lettering undeliverable notifications', () => {
    staging.templates.monitoring.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'phase-mirror-staging@example.com',
      RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [logicalId(staging.templates.monitoring, 'AWS::SQS::Queue', 'AlarmDeliveryFailures'), 'Arn'] } },
    });
  });

  it('is the single action of every alarm', () => {
    const topicId = logicalId(staging.templates.monitoring, 'AWS::SNS::Topic', 'AlarmTopic');
    const all = Object.values(alarms(staging.templates.monitoring));
    expect(all.length).toBeGreaterThan(20);
    for (const properties of all) expect(properties.AlarmActions).toEqual([{ Ref: topicId }]);
  });
});

describe('monitoring stack: functions and tables', () => {
  it.each(['Oracle', 'NonceRotation', 'EpochSealer', 'BaselineLoader'])('alarms on Errors and Throttles of %s', (id) => {
    const folder = id.replace(/([a-z])([A-Z])/g, '$1-$2').toLowerCase();
    for (const metricName of ['Errors', 'Throttles']) {
      const properties = alarm(staging.templates.monitoring, `${id}${metricName}`);
      expect(properties).toMatchObject({ Namespace: 'AWS/Lambda', MetricName: metricName, Statistic: 'Sum', Period: 300, Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold' });
      expect(dimensions(properties)).toEqual({ FunctionName: `phase-mirror-staging-${folder}` });
    }
  });

  it.each(Object.values(TABLE_DEFINITIONS).map((definition) => [definition.id, definition.suffix]))('alarms on throttled reads and writes of the %s table', (id, suffix) => {
    const properties = alarm(staging.templates.monitoring, `${id.charAt(0).toUpperCase()}${id.slice(1)}TableThrottles`);
    expect(properties.Metrics?.find((metric) => metric.Expression !== undefined)?.Expression).toBe('reads + writes');
    const stats = (properties.Metrics ?? []).filter((metric) => metric.MetricStat !== undefined).map((metric) => metric.MetricStat!);
    expect(stats.map((stat) => stat.Metric.MetricName).sort()).toEqual(['ReadThrottleEvents', 'WriteThrottleEvents']);
    for (const stat of stats) {
      expect(stat).toMatchObject({ Stat: 'Sum', Period: 300, Metric: { Namespace: 'AWS/DynamoDB' } });
      expect(dimensions(stat.Metric)).toEqual({ TableName: `phase-mirror-staging-${suffix}` });
    }
  });

  it('takes thresholds from the stage configuration', () => {
    expect(alarm(prod.templates.monitoring, 'LedgerTableThrottles').Threshold).toBe(5);
    expect(alarm(staging.templates.monitoring, 'LedgerTableThrottles').Threshold).toBe(1);
  });

  it.each(['FunctionFailures', 'ScheduleDeadLetters', 'AlarmDeliveryFailures'])('alarms when the %s dead-letter queue holds messages', (queue) => {
    const properties = alarm(staging.templates.monitoring, `${queue}NotEmpty`);
    expect(properties).toMatchObject({ Namespace: 'AWS/SQS', MetricName: 'ApproximateNumberOfMessagesVisible', Statistic: 'Maximum', Threshold: 1 });
    expect(Object.keys(dimensions(properties))).toEqual(['QueueName']);
  });
});

describe('monitoring stack: rotation heartbeat', () => {
  it('alarms when no successful rotation happened within two rotation periods, missing data breaching', () => {
    for (const [stage, period] of [
      [staging, 2 * 12 * 3600],
      [prod, 2 * 24 * 3600],
    ] as const) {
      const properties = alarm(stage.templates.monitoring, 'NonceRotationHeartbeat');
      expect(properties).toMatchObject({
        Namespace: 'PhaseMirror',
        MetricName: 'NonceRotation',
        Statistic: 'Sum',
        Period: period,
        EvaluationPeriods: 1,
        Threshold: 1,
        ComparisonOperator: 'LessThanThreshold',
        TreatMissingData: 'breaching',
      });
      expect(dimensions(properties)).toEqual({ service: 'nonce-rotation', outcome: 'success' });
    }
  });

  it('alarms on a failed rotation', () => {
    const properties = alarm(staging.templates.monitoring, 'NonceRotationFailures');
    expect(properties).toMatchObject({ MetricName: 'NonceRotation', Threshold: 1, TreatMissingData: 'notBreaching' });
    expect(dimensions(properties)).toEqual({ service: 'nonce-rotation', outcome: 'failure' });
  });
});

describe('monitoring stack: application metrics', () => {
  it.each([
    ['EpochSealFailures', 'EpochSealFailure', 'epoch-sealer'],
    ['NonceLoadFailures', 'NonceLoadFailure', 'oracle'],
    ['NonceServedFromCache', 'NonceLoadDegraded', 'oracle'],
    ['LedgerAppendFailures', 'LedgerAppendFailure', 'oracle'],
    ['BaselineQuarantines', 'BaselineQuarantined', 'baseline-loader'],
    ['BaselineLoadFailures', 'BaselineLoadFailure', 'baseline-loader'],
  ])('%s alarms on any %s of the %s function', (id, metricName, service) => {
    const properties = alarm(staging.templates.monitoring, id);
    expect(properties).toMatchObject({ Namespace: 'PhaseMirror', MetricName: metricName, Statistic: 'Sum', Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold' });
    expect(dimensions(properties)).toEqual({ service });
  });

  it('alarms when the epoch sealer did not run within two sealing periods', () => {
    const properties = alarm(staging.templates.monitoring, 'EpochSealerHeartbeat');
    expect(properties).toMatchObject({ MetricName: 'EpochsSealed', Statistic: 'SampleCount', Period: 7200, ComparisonOperator: 'LessThanThreshold', TreatMissingData: 'breaching' });
    expect(dimensions(properties)).toEqual({ service: 'epoch-sealer' });
  });

  it('sums circuit-breaker trips of every repository with Metrics Insights', () => {
    const properties = alarm(staging.templates.monitoring, 'CircuitBreakerTrips');
    expect(properties.Metrics).toEqual([
      expect.objectContaining({
        Expression: `SELECT SUM(CircuitBreakerTriggered) FROM SCHEMA("PhaseMirror", repository, service) WHERE service = 'oracle'`,
        Period: 3600,
        ReturnData: true,
      }),
    ]);
    expect(properties.Threshold).toBe(1);
  });

  it('alarms only on PhaseMirror metrics the code emits, with the dimensions it sets', () => {
    const code = sources();
    const used = Object.values(alarms(staging.templates.monitoring)).flatMap((properties) => {
      if (properties.Namespace === 'PhaseMirror') return [properties.MetricName!];
      return (properties.Metrics ?? []).flatMap((metric) => /SUM\((\w+)\)/.exec(metric.Expression ?? '')?.[1] ?? []);
    });
    expect(new Set(used)).toEqual(new Set(Object.values(EMITTED_METRICS)));
    for (const name of new Set(used)) expect(code).toMatch(new RegExp(`['"\`]${name}['"\`]|_METRIC = '${name}'`));
    expect(code).toMatch(/count\(ROTATION_METRIC, 1, \{ outcome: 'success' \}\)/);
    expect(code).toMatch(/CircuitBreakerTriggered', 1, \{ repository: /);
  });

  it('puts every alarm on the one dashboard', () => {
    const dashboards = resourcesOf(staging.templates.monitoring, 'AWS::CloudWatch::Dashboard');
    expect(Object.keys(dashboards)).toHaveLength(1);
    const body = JSON.stringify(Object.values(dashboards)[0]!.Properties!.DashboardBody);
    for (const id of Object.keys(alarms(staging.templates.monitoring))) expect(body).toContain(id);
  });
});
