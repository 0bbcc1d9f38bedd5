import { DEFAULT_SETTINGS } from '../../src/config/load-config';
import { MemoryMetricsSink } from '../../src/metrics/metrics';
import { runOracle } from '../../src/oracle/pipeline';
import type { NonceKey } from '../../src/redaction/redactor';
import { loadReportSchema } from '../../src/report/schema';
import { validateReport } from '../../src/report/validate';
import type { BlockCounter, FpStore } from '../../src/store/ports';
import type { OracleSettings, Rule } from '../../src/types';
import { artifacts, event, NOW, ruleReporting, TEST_NONCE as nonce, usePipelineState } from './pipeline-fixtures';

const throwingRule: Rule = {
  ...ruleReporting('MD-900', 'low', 0),
  evaluate: () => {
    throw new Error('cannot read property of undefined');
  },
};

const schema = loadReportSchema();
const pipeline = usePipelineState('pm-pipeline');
const deps = pipeline.deps;

function settings(overrides: Partial<OracleSettings> = {}): OracleSettings {
  return { ...DEFAULT_SETTINGS, ...overrides };
}

describe('runOracle', () => {
  it('passes with no findings and produces a schema-valid report', async () => {
    const { report } = await runOracle({ artifacts: artifacts(), event: event(), settings: settings() }, deps([ruleReporting('MD-901', 'high', 0)]));
    expect(() => validateReport(report)).not.toThrow();
    expect(report.machine_decision).toEqual({ outcome: 'pass', degraded: false, reason: 'no dissonance found' });
    expect(report.summary).toEqual({ total: 0, by_severity: { critical: 0, high: 0, medium: 0, low: 0 } });
    expect(report.meta.notes).toEqual(['integrity baseline .github/phase-mirror/baseline.json not found: drift check (MD-005) skipped']);
  });

  it('warns within thresholds and blocks above them', async () => {
    const warn = await runOracle({ artifacts: artifacts(), event: event(), settings: settings() }, deps([ruleReporting('MD-901', 'high', 3)]));
    expect(warn.report.machine_decision.outcome).toBe('warn');
    const block = await runOracle({ artifacts: artifacts(), event: event(), settings: settings() }, deps([ruleReporting('MD-901', 'high', 4)]));
    expect(block.report.machine_decision.outcome).toBe('block');
    expect(block.report.machine_decision.reason).toBe('4 high > 3 (default thresholds)');
  });

  it('uses the strict thresholds in strict mode', async () => {
    const { report } = await runOracle({ artifacts: artifacts(), event: event({ strict: true }), settings: settings() }, deps([ruleReporting('MD-901', 'high', 1)]));
    expect(report.machine_decision.outcome).toBe('block');
    expect(report.machine_decision.reason).toContain('strict thresholds');
  });

  it('turns block into warn in dry run without counting a block', async () => {
    const { report } = await runOracle({ artifacts: artifacts(), event: event({ dryRun: true }), settings: settings() }, deps([ruleReporting('MD-901', 'critical', 1)]));
    expect(report.machine_decision.outcome).toBe('warn');
    expect(report.machine_decision.reason).toBe('dry run: would block: 1 critical > 0 (default thresholds)');
    expect(await pipeline.state.blockCounter.get('acme/api#2026-11-23T16')).toBe(0);
  });

  it('records a rule that throws as a critical finding and an evaluation error', async () => {
    const { report } = await runOracle({ artifacts: artifacts(), event: event(), settings: settings() }, deps([throwingRule]));
    expect(report.machine_decision.outcome).toBe('block');
    expect(report.meta.evaluationErrors).toEqual([
      { ruleId: 'MD-900', ruleVersion: '1.0.0', phase: 'evaluate', message: 'cannot read property of undefined' },
    ]);
    expect(report.items).toEqual([expect.objectContaining({ rule_id: 'MD-900', severity: 'critical', evidence: [] })]);
  });

  it('redacts evidence and binds it to the nonce', async () => {
    const { report } = await runOracle({ artifacts: artifacts(), event: event(), settings: settings() }, deps([ruleReporting('MD-901', 'low', 1)]));
    const snippet = report.items[0]!.evidence[0]!.snippet;
    expect(snippet.value).not.toContain('hunter2hunter2');
    expect(snippet.value).toContain('[REDACTED:');
    expect(snippet.nonce_version).toBe(1);
    expect(snippet.__brand).toMatch(/^[0-9a-f]{64}$/);
  });

  it('is deterministic apart from run_id and timestamp', async () => {
    const rules = [ruleReporting('MD-901', 'medium', 2), ruleReporting('MD-902', 'low', 1)];
    const first = (await runOracle({ artifacts: artifacts(), event: event(), settings: settings() }, deps(rules, { newRunId: () => 'run-1' }))).report;
    const second = (await runOracle({ artifacts: artifacts(), event: event(), settings: settings() }, deps(rules, { newRunId: () => 'run-2' }))).report;
    expect({ ...second, meta: { ...second.meta, run_id: 'x' } }).toEqual({ ...first, meta: { ...first.meta, run_id: 'x' } });
  });

  it('suppresses a finding once a reviewer marks one of its events', async () => {
    // Prepare
    const rules = [ruleReporting('MD-901', 'critical', 2)];
    const first = await runOracle({ artifacts: artifacts(), event: event(), settings: settings() }, deps(rules));
    const marked = first.events[0]!;
    await pipeline.state.fpStore.markFalsePositive(marked.eventId, { reviewer: 'alice', reason: 'generated code', markedAt: NOW.toISOString() });
    // Act
    const second = await runOracle({ artifacts: artifacts(), event: event(), settings: settings() }, deps(rules));
    // Assess
    expect(second.report.items.map((i) => i.id)).not.toContain(marked.findingId);
    expect(second.report.items).toHaveLength(1);
    expect(second.report.meta.suppressions).toEqual([
      { finding_id: marked.findingId, rule_id: 'MD-901', event_id: marked.eventId, reviewer: 'alice', reason: 'generated code', marked_at: NOW.toISOString() },
    ]);
  });

  it('degrades blocks to warn once the hour reaches the breaker threshold', async () => {
    const rules = [ruleReporting('MD-901', 'critical', 1)];
    const metrics = new MemoryMetricsSink();
    const input = { artifacts: artifacts(), event: event(), settings: settings({ circuitBreaker: { threshold: 2, strictThreshold: 1 } }) };
    const outcomes = [];
    for (let i = 0; i < 3; i++) outcomes.push((await runOracle(input, deps(rules, { metrics }))).report);
    expect(outcomes.map((r) => r.machine_decision.outcome)).toEqual(['block', 'block', 'warn']);
    const tripped = outcomes[2]!;
    expect(tripped.machine_decision.degraded).toBe(true);
    expect(tripped.meta.degraded?.reason).toBe('circuit_breaker_triggered');
    expect(metrics.entries.map((e) => e.name)).toContain('CircuitBreakerTriggered');
  });

  it('blocks on an L0 failure whatever the rules say, and dry run does not soften it', async () => {
    const { report } = await runOracle(
      { artifacts: artifacts(), event: event({ dryRun: true }), settings: settings() },
      deps([], { schema: { actualSha256: schema.sha256, expectedPrefix: 'f'.repeat(16) } }),
    );
    expect(report.machine_decision.outcome).toBe('block');
    expect(report.items).toEqual([expect.objectContaining({ rule_id: 'L0-schema_hash', severity: 'critical' })]);
  });

  it('blocks when the schema stamp is missing', async () => {
    const { report } = await runOracle(
      { artifacts: artifacts(), event: event(), settings: settings() },
      deps([], { schema: { actualSha256: schema.sha256, expectedPrefix: undefined } }),
    );
    expect(report.items.map((i) => i.rule_id)).toEqual(['L0-schema_hash']);
  });

  it('blocks on a stale nonce', async () => {
    const stale: NonceKey = { ...nonce, loadedAt: new Date(NOW.getTime() - 3_600_000) };
    const { report } = await runOracle({ artifacts: artifacts(), event: event(), settings: settings() }, deps([], { nonce: stale }));
    expect(report.items.map((i) => i.rule_id)).toEqual(['L0-nonce_freshness']);
  });

  it('demotes a rule whose observed FPR exceeds its ceiling so it cannot block', async () => {
    // Prepare: two runs of a rule with a window of 2, both findings marked false positives.
    const base = ruleReporting('MD-901', 'critical', 1, 2);
    const input = { artifacts: artifacts(), event: event({ dryRun: true }), settings: settings() };
    for (let i = 0; i < 2; i++) {
      const distinct: Rule = { ...base, evaluate: () => [{ key: `noisy-${i}`, title: 'noisy', evidence: [] }] };
      const run = await runOracle(input, deps([distinct], { newRunId: () => `run-${i}` }));
      const eventId = run.events[0]?.eventId;
      if (eventId) await pipeline.state.fpStore.markFalsePositive(eventId, { reviewer: 'bob', reason: 'noise', markedAt: NOW.toISOString() });
    }
    // A new finding key of the same rule is not suppressed, but the rule is demoted.
    const fresh: Rule = { ...base, evaluate: () => [{ key: 'new', title: 'new', evidence: [] }] };
    const { report } = await runOracle({ ...input, event: event() }, deps([fresh]));
    expect(report.meta.demotions).toEqual([
      expect.objectContaining({ ruleId: 'MD-901', fromStatus: 'blocking', toStatus: 'warn', observedFPR: 1, threshold: 0.1 }),
    ]);
    expect(report.machine_decision.outcome).toBe('warn');
  });

  it('degrades to fp_store_unavailable and applies no suppression when the FP store fails', async () => {
    const broken: FpStore = {
      ...pipeline.state.fpStore,
      ruleStats: async () => {
        throw new Error('disk I/O error');
      },
      markedFindings: async () => {
        throw new Error('disk I/O error');
      },
      recordEvents: async () => {
        throw new Error('disk I/O error');
      },
      markFalsePositive: pipeline.state.fpStore.markFalsePositive.bind(pipeline.state.fpStore),
      list: pipeline.state.fpStore.list.bind(pipeline.state.fpStore),
    };
    const { report, events } = await runOracle({ artifacts: artifacts(), event: event(), settings: settings() }, deps([ruleReporting('MD-901', 'low', 1)], { fpStore: broken }));
    expect(report.machine_decision.degraded).toBe(true);
    expect(report.meta.degraded?.reason).toBe('fp_store_unavailable');
    expect(report.items).toHaveLength(1);
    expect(events).toEqual([]);
  });

  it('keeps the block and notes it when the block counter fails', async () => {
    const brokenCounter: BlockCounter = {
      increment: async () => {
        throw new Error('database is locked');
      },
      get: async () => 0,
    };
    const { report } = await runOracle({ artifacts: artifacts(), event: event(), settings: settings() }, deps([ruleReporting('MD-901', 'critical', 1)], { blockCounter: brokenCounter }));
    expect(report.machine_decision.outcome).toBe('block');
    expect(report.meta.notes).toEqual(expect.arrayContaining([expect.stringContaining('circuit breaker not applied: database is locked')]));
  });

  it('fails L0 permission_bits on a permission scope the oracle does not model, with the scope as evidence', async () => {
    const workflow = {
      path: '.github/workflows/ci.yml',
      text: '',
      triggers: [{ event: 'push', line: 2 }],
      permissions: { line: 4, scopes: [{ name: 'teleport', level: 'write', line: 5 }] },
      jobs: [],
      env: {},
    };
    const { report } = await runOracle({ artifacts: artifacts({ workflows: [workflow] }), event: event(), settings: settings() }, deps([]));
    expect(report.items).toEqual([
      expect.objectContaining({
        rule_id: 'L0-permission_bits',
        evidence: [expect.objectContaining({ path: '.github/workflows/ci.yml', line: 5 })],
      }),
    ]);
  });
});
