import type { IntegrityBaseline } from '../../src/baseline/baseline';
import { driftEvidence, driftMagnitude, md005 } from '../../src/rules/md-005-baseline-drift';
import type { Artifacts, EventContext, RuleContext } from '../../src/types';
import { NO_GOVERNANCE, NO_OPTIONS } from './builders';

const H = (char: string): string => char.repeat(64);

const EVENT: EventContext = { mode: 'pull_request', eventName: 'pull_request', repository: 'acme/widgets', strict: false, dryRun: false };

/** Ten pinned files src/f0.ts … src/f9.ts with hashes '0'… '9'. */
const BASELINE: IntegrityBaseline = {
  version: 1,
  createdAt: '2030-01-01T00:00:00.000Z',
  globs: ['src/**'],
  files: Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`src/f${i}.ts`, H(String(i))])),
};

function context(options: { baseline?: IntegrityBaseline; current?: Map<string, string>; threshold: number }): RuleContext {
  const artifacts: Artifacts = {
    root: '/repo',
    fileList: [...(options.current?.keys() ?? [])].sort(),
    workflows: [],
    manifests: [],
    policy: {
      requiredStatusChecks: [],
      criticalPaths: [],
      ...NO_GOVERNANCE,
      baseline: { path: '.github/phase-mirror/baseline.json', globs: ['src/**'], threshold: options.threshold },
    },
    ...(options.baseline ? { baseline: options.baseline } : {}),
    baselineCurrent: options.current ?? new Map(),
    skipped: [],
  };
  return { artifacts, event: EVENT, options: NO_OPTIONS };
}

/** Current hashes equal to the baseline, with `changes` applied (undefined value = file removed). */
function currentWith(changes: Record<string, string | undefined>): Map<string, string> {
  const current = new Map(Object.entries(BASELINE.files));
  for (const [file, hash] of Object.entries(changes)) {
    if (hash === undefined) current.delete(file);
    else current.set(file, hash);
  }
  return current;
}

describe('md005', () => {
  it('declares its identity, severity and FP tolerance', () => {
    expect(md005).toMatchObject({ id: 'MD-005', version: '1.0.0', severity: 'high', fpTolerance: { ceiling: 0.1, window: 20 } });
    expect(md005.title.length).toBeGreaterThan(0);
    expect(md005.description.length).toBeGreaterThan(0);
  });

  it('reports nothing when the repository has no baseline', () => {
    const findings = md005.evaluate(context({ current: new Map([['src/a.ts', H('a')]]), threshold: 0 }));
    expect(findings).toEqual([]);
  });

  it('reports nothing when the drift is exactly at the threshold', () => {
    // Prepare: 1 of 10 pinned files modified ⇒ magnitude 0.1
    const ctx = context({ baseline: BASELINE, current: currentWith({ 'src/f3.ts': H('a') }), threshold: 0.1 });

    // Act / Assess
    expect(driftMagnitude(ctx.artifacts)).toBe(0.1);
    expect(md005.evaluate(ctx)).toEqual([]);
  });

  it('reports nothing below the threshold', () => {
    const ctx = context({ baseline: BASELINE, current: currentWith({ 'src/f3.ts': H('a') }), threshold: 0.2 });
    expect(md005.evaluate(ctx)).toEqual([]);
  });

  it('reports nothing when nothing changed, even with a zero threshold', () => {
    const ctx = context({ baseline: BASELINE, current: currentWith({}), threshold: 0 });
    expect(md005.evaluate(ctx)).toEqual([]);
  });

  it('reports one drift finding listing every changed path when strictly above the threshold', () => {
    // Prepare: 1 modified, 1 removed, 1 added ⇒ 3 / 10 = 0.3
    const ctx = context({
      baseline: BASELINE,
      current: currentWith({ 'src/f3.ts': H('a'), 'src/f7.ts': undefined, 'src/new.ts': H('b') }),
      threshold: 0.25,
    });

    // Act
    const findings = md005.evaluate(ctx);

    // Assess
    expect(findings).toHaveLength(1);
    expect(findings[0].key).toBe('drift');
    expect(findings[0].severity).toBeUndefined();
    expect(findings[0].title).toBe(
      'Integrity baseline drift 0.3 exceeds threshold 0.25: 3 changes against 10 pinned files (1 added, 1 removed, 1 modified)',
    );
    expect(findings[0].evidence).toEqual([
      { path: 'src/f3.ts', line: 1, snippet: `modified: sha256 ${'3'.repeat(12)}… → ${'a'.repeat(12)}…` },
      { path: 'src/f7.ts', line: 0, snippet: `removed: was sha256 ${'7'.repeat(12)}…` },
      { path: 'src/new.ts', line: 1, snippet: `added: sha256 ${'b'.repeat(12)}…` },
    ]);
  });

  it('reports just above the threshold (strictly greater)', () => {
    const ctx = context({ baseline: BASELINE, current: currentWith({ 'src/f3.ts': H('a') }), threshold: 0.0999 });
    expect(md005.evaluate(ctx)).toHaveLength(1);
  });

  it('ignores added files outside the baseline globs', () => {
    const ctx = context({ baseline: BASELINE, current: currentWith({ 'docs/readme.md': H('c') }), threshold: 0 });
    expect(driftMagnitude(ctx.artifacts)).toBe(0);
    expect(md005.evaluate(ctx)).toEqual([]);
  });
});

describe('driftMagnitude', () => {
  it('is undefined without a baseline', () => {
    expect(driftMagnitude(context({ threshold: 0.1 }).artifacts)).toBeUndefined();
  });

  it('counts changes against an empty baseline', () => {
    const empty: IntegrityBaseline = { ...BASELINE, files: {} };
    const ctx = context({ baseline: empty, current: new Map([['src/a.ts', H('a')]]), threshold: 0.5 });
    expect(driftMagnitude(ctx.artifacts)).toBe(1);
    expect(md005.evaluate(ctx)[0].title).toContain('drift 1 exceeds threshold 0.5: 1 change against 0 pinned files');
  });
});

describe('driftEvidence', () => {
  it('sorts evidence by path across kinds of change', () => {
    const drift = { added: ['a.ts'], removed: ['c.ts'], modified: [{ path: 'b.ts', oldHash: H('1'), newHash: H('2') }], declared: 2, magnitude: 1.5 };
    const baseline: IntegrityBaseline = { ...BASELINE, files: { 'b.ts': H('1'), 'c.ts': H('3') } };
    const evidence = driftEvidence(drift, baseline, new Map([['a.ts', H('4')], ['b.ts', H('2')]]));
    expect(evidence.map((e) => [e.path, e.line])).toEqual([
      ['a.ts', 1],
      ['b.ts', 1],
      ['c.ts', 0],
    ]);
  });
});
