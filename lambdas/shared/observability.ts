/**
 * Logging and metrics for every Lambda (DESIGN §9): Powertools structured
 * JSON logs and CloudWatch embedded-metric-format (EMF) lines in the
 * `PhaseMirror` namespace — the metrics the monitoring stack alarms on.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { MetricsSink } from '@phase-mirror/mirror-dissonance';

export const METRICS_NAMESPACE = 'PhaseMirror';

export function createLogger(serviceName: string): Logger {
  return new Logger({ serviceName });
}

export function createMetrics(serviceName: string): Metrics {
  return new Metrics({ namespace: METRICS_NAMESPACE, serviceName });
}

/**
 * The core's MetricsSink on Powertools: each count is emitted at once as its
 * own EMF document with its own dimensions (so a failure is recorded even if
 * the invocation then throws).
 */
export class PowertoolsMetricsSink implements MetricsSink {
  constructor(private readonly metrics: Metrics) {}

  count(name: string, value: number, dimensions: Readonly<Record<string, string>>): void {
    const single = this.metrics.singleMetric();
    for (const [key, dimension] of Object.entries(dimensions)) single.addDimension(key, dimension);
    single.addMetric(name, MetricUnit.Count, value);
  }
}
