/** Inputs and dependencies for runOracle tests: a fixed clock, a temporary SQLite state, rules that report on demand. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryMetricsSink } from '../../src/metrics/metrics';
import type { OracleDependencies } from '../../src/oracle/pipeline';
import type { NonceKey } from '../../src/redaction/redactor';
import { loadReportSchema } from '../../src/report/schema';
import { openStateDatabase, type StateDatabase } from '../../src/store/sqlite';
import type { Artifacts, EventContext, Rule, RuleFinding, Severity } from '../../src/types';
import { NO_GOVERNANCE } from '../rules/builders';

export const NOW = new Date('2026-11-23T16:30:00.000Z');
export const TEST_NONCE: NonceKey = { version: 1, value: 'ab'.repeat(32), loadedAt: new Date(NOW.getTime() - 60_000) };

export function artifacts(overrides: Partial<Artifacts> = {}): Artifacts {
  return {
    root: '/repo',
    fileList: ['src/a.ts'],
    workflows: [],
    manifests: [],
    policy: { requiredStatusChecks: [], criticalPaths: [], ...NO_GOVERNANCE, baseline: { path: '.github/phase-mirror/baseline.json', globs: [], threshold: 0.15 } },
    baselineCurrent: new Map(),
    skipped: [],
    ...overrides,
  };
}

export function event(overrides: Partial<EventContext> = {}): EventContext {
  return { mode: 'pull_request', eventName: 'pull_request', repository: 'acme/api', strict: false, dryRun: false, ...overrides };
}

/** A rule that reports `count` findings of one severity, each at its own line with a secret-bearing snippet. */
export function ruleReporting(id: string, severity: Severity, count: number, window = 20): Rule {
  return {
    id,
    version: '1.0.0',
    title: `${id} test rule`,
    description: 'reports what the test asks for',
    severity,
    fpTolerance: { ceiling: 0.1, window },
    evaluate: (): RuleFinding[] =>
      Array.from({ length: count }, (_, i) => ({
        key: `finding-${i}`,
        title: `${id} finding ${i}`,
        evidence: [{ path: `src/${id}.ts`, line: i + 1, snippet: `line ${i + 1} password = "hunter2hunter2"` }],
      })),
  };
}

/**
 * A fresh SQLite state per test (opened in beforeEach, closed in afterEach)
 * whose clock is the pipeline's, so expiry never depends on when the suite runs.
 */
export function usePipelineState(prefix: string): { readonly state: StateDatabase; deps(rules: Rule[], overrides?: Partial<OracleDependencies>): OracleDependencies } {
  let state: StateDatabase | undefined;
  const schema = loadReportSchema();
  beforeEach(() => {
    state = openStateDatabase(mkdtempSync(join(tmpdir(), `${prefix}-`)), { now: () => NOW.getTime() });
  });
  afterEach(() => state?.close());
  const current = (): StateDatabase => {
    if (state === undefined) throw new Error('pipeline state is only open inside a test');
    return state;
  };
  return {
    get state() {
      return current();
    },
    deps: (rules, overrides = {}) => ({
      fpStore: current().fpStore,
      blockCounter: current().blockCounter,
      fprHistory: current().fprHistory,
      nonce: TEST_NONCE,
      rules,
      schema: { actualSha256: schema.sha256, expectedPrefix: schema.sha256.slice(0, 16) },
      metrics: new MemoryMetricsSink(),
      toolVersion: '0.0.0-test',
      clock: () => NOW,
      ...overrides,
    }),
  };
}
