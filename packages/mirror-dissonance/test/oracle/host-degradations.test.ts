import { DEFAULT_SETTINGS } from '../../src/config/load-config';
import { NonceLoader } from '../../src/nonce/loader';
import { verifyReportSnippets } from '../../src/nonce/verify-report';
import { runOracle, type OracleInput } from '../../src/oracle/pipeline';
import type { NonceKey } from '../../src/redaction/redactor';
import { validateReport } from '../../src/report/validate';
import type { FpStore } from '../../src/store/ports';
import type { EventContext } from '../../src/types';
import { ManualClock, MemoryNonceStore } from '../nonce/memory-store';
import { artifacts, event, NOW, ruleReporting, usePipelineState } from './pipeline-fixtures';

const MINUTE = 60_000;
const nonce: NonceKey = { version: 1, value: 'ab'.repeat(32), loadedAt: new Date(NOW.getTime() - 5 * MINUTE) };
const SSM_DETAILS =
  'SSM /guardian/prod/redaction_nonce_v* could not be read (connect ETIMEDOUT 10.0.0.1:443); using the nonce cached 300 s ago';

function input(overrides: Partial<EventContext> = {}): OracleInput {
  return { artifacts: artifacts(), event: event(overrides), settings: { ...DEFAULT_SETTINGS } };
}

const pipeline = usePipelineState('pm-host-degradations');
const deps: typeof pipeline.deps = (rules, overrides = {}) => pipeline.deps(rules, { nonce, ...overrides });

describe('runOracle hostDegradations', () => {
  it('reports an ssm_unreachable host degradation in meta.degraded and marks the decision degraded', async () => {
    // Prepare
    const hostDegradations = [{ reason: 'ssm_unreachable' as const, details: SSM_DETAILS }];

    // Act
    const { report } = await runOracle(input(), deps([ruleReporting('MD-901', 'low', 1)], { hostDegradations }));

    // Assess
    expect(report.meta.degraded).toEqual({ reason: 'ssm_unreachable', timestamp: NOW.toISOString(), details: SSM_DETAILS });
    expect(report.machine_decision).toEqual({ outcome: 'warn', degraded: true, reason: expect.any(String) });
    expect(() => validateReport(report)).not.toThrow();
  });

  it('keeps the outcome and reason the run would have without the degradation', async () => {
    // Prepare
    const rules = [ruleReporting('MD-901', 'critical', 1)];
    const plain = (await runOracle(input(), deps(rules))).report;

    // Act
    const degraded = (await runOracle(input(), deps(rules, { hostDegradations: [{ reason: 'ssm_unreachable', details: SSM_DETAILS }] }))).report;

    // Assess
    expect(plain.machine_decision.degraded).toBe(false);
    expect(degraded.machine_decision).toEqual({ ...plain.machine_decision, degraded: true });
    expect(degraded.items).toEqual(plain.items);
  });

  it('marks a passing run degraded too', async () => {
    // Prepare
    const hostDegradations = [{ reason: 'ssm_unreachable' as const, details: SSM_DETAILS }];

    // Act
    const { report } = await runOracle(input(), deps([ruleReporting('MD-901', 'high', 0)], { hostDegradations }));

    // Assess
    expect(report.machine_decision).toEqual({ outcome: 'pass', degraded: true, reason: 'no dissonance found' });
    expect(report.meta.degraded?.reason).toBe('ssm_unreachable');
    expect(() => validateReport(report)).not.toThrow();
  });

  it('reports the host degradation first and later ones in notes', async () => {
    // Prepare: the FP store is down as well.
    const failingFpStore: FpStore = new Proxy(pipeline.state.fpStore, {
      get(target, property, receiver) {
        if (property === 'ruleStats') return async (): Promise<never> => Promise.reject(new Error('database is locked'));
        const member = Reflect.get(target, property, receiver) as unknown;
        return typeof member === 'function' ? (member as (...args: unknown[]) => unknown).bind(target) : member;
      },
    });
    const hostDegradations = [
      { reason: 'ssm_unreachable' as const, details: SSM_DETAILS },
      { reason: 'nonce_cache_stale' as const, details: 'second host degradation' },
    ];

    // Act
    const { report } = await runOracle(input(), deps([ruleReporting('MD-901', 'low', 1)], { hostDegradations, fpStore: failingFpStore }));

    // Assess
    expect(report.meta.degraded).toEqual({ reason: 'ssm_unreachable', timestamp: NOW.toISOString(), details: SSM_DETAILS });
    expect(report.meta.notes).toEqual(
      expect.arrayContaining([
        'also degraded (nonce_cache_stale): second host degradation',
        expect.stringMatching(/^also degraded \(fp_store_unavailable\): .*database is locked/),
      ]),
    );
    expect(report.machine_decision.degraded).toBe(true);
    expect(() => validateReport(report)).not.toThrow();
  });

  it('reports nothing degraded for an empty list', async () => {
    // Act
    const { report } = await runOracle(input(), deps([ruleReporting('MD-901', 'low', 1)], { hostDegradations: [] }));

    // Assess
    expect(report.meta.degraded).toBeUndefined();
    expect(report.machine_decision.degraded).toBe(false);
  });

  it('runs on a cached nonce while SSM is unreachable and the report still verifies', async () => {
    // Prepare: the loader cached v1 56 minutes before the run; the store is now down.
    const clock = new ManualClock(NOW.getTime() - 56 * MINUTE);
    const store = new MemoryNonceStore(clock.now, 'prod');
    store.put(1, 'cd'.repeat(32), clock.now() - 24 * 60 * MINUTE);
    const loader = new NonceLoader({ store, clock: clock.now });
    await loader.keyring();
    clock.set(NOW.getTime());
    store.failNext(Infinity);
    const ring = await loader.keyring();

    // Act
    const { report } = await runOracle(
      input(),
      deps([ruleReporting('MD-901', 'low', 2)], { nonce: ring.signing, hostDegradations: ring.degraded ? [ring.degraded] : [] }),
    );
    const verification = await verifyReportSnippets(report, loader);

    // Assess
    expect(report.meta.degraded).toEqual({ reason: 'ssm_unreachable', timestamp: NOW.toISOString(), details: ring.degraded!.details });
    expect(report.meta.degraded!.details).toContain('SSM /guardian/prod/redaction_nonce_v*');
    expect(report.machine_decision.degraded).toBe(true);
    expect(report.items.map((item) => item.rule_id)).toEqual(['MD-901', 'MD-901']);
    expect(() => validateReport(report)).not.toThrow();
    expect(JSON.stringify(report)).not.toContain('cd'.repeat(32));
    expect(verification).toEqual({ checked: 2, failures: [], degraded: ring.degraded });
  });
});
