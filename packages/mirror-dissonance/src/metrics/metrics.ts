import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

/** Where the oracle reports operational metrics (breaker trips, suppressions...). */
export interface MetricsSink {
  count(name: string, value: number, dimensions: Readonly<Record<string, string>>): void;
}

/**
 * Embedded sink: one JSON line per metric in `<stateDir>/metrics.jsonl`, the
 * local counterpart of the CloudWatch EMF lines the Lambda host writes.
 */
export class JsonLinesMetricsSink implements MetricsSink {
  constructor(private readonly file: string, private readonly clock: () => Date = () => new Date()) {}

  count(name: string, value: number, dimensions: Readonly<Record<string, string>>): void {
    // In AWS mode nothing else creates the state folder.
    mkdirSync(dirname(this.file), { recursive: true, mode: 0o700 });
    appendFileSync(this.file, `${JSON.stringify({ timestamp: this.clock().toISOString(), name, value, dimensions })}\n`, { mode: 0o600 });
  }
}

/** Collects metrics in memory; for tests and for hosts that flush once per invocation. */
export class MemoryMetricsSink implements MetricsSink {
  readonly entries: { name: string; value: number; dimensions: Readonly<Record<string, string>> }[] = [];

  count(name: string, value: number, dimensions: Readonly<Record<string, string>>): void {
    this.entries.push({ name, value, dimensions });
  }
}
