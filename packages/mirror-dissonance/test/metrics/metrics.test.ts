import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JsonLinesMetricsSink, MemoryMetricsSink } from '../../src/metrics/metrics';

describe('JsonLinesMetricsSink', () => {
  it('appends one JSON line per metric, readable only by the owner', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'pm-metrics-')), 'metrics.jsonl');
    const sink = new JsonLinesMetricsSink(file, () => new Date('2026-11-23T00:00:00.000Z'));
    sink.count('Block', 1, { repository: 'acme/api' });
    sink.count('CircuitBreakerTriggered', 1, { repository: 'acme/api' });
    const lines = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { name: string });
    expect(lines).toEqual([
      { timestamp: '2026-11-23T00:00:00.000Z', name: 'Block', value: 1, dimensions: { repository: 'acme/api' } },
      { timestamp: '2026-11-23T00:00:00.000Z', name: 'CircuitBreakerTriggered', value: 1, dimensions: { repository: 'acme/api' } },
    ]);
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });
});

describe('MemoryMetricsSink', () => {
  it('keeps metrics in order', () => {
    const sink = new MemoryMetricsSink();
    sink.count('A', 2, {});
    expect(sink.entries).toEqual([{ name: 'A', value: 2, dimensions: {} }]);
  });
});
