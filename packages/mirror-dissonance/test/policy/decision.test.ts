import { applyDryRun, decide, emptyCounts, type SeverityCounts } from '../../src/policy/decision';
import { DEFAULT_SETTINGS } from '../../src/config/load-config';

const defaults = DEFAULT_SETTINGS.thresholds.default;
const strict = DEFAULT_SETTINGS.thresholds.strict;

function counts(partial: Partial<SeverityCounts>): SeverityCounts {
  return { ...emptyCounts(), ...partial };
}

describe('decide', () => {
  it('passes when nothing was found', () => {
    const decision = decide({ counts: emptyCounts(), nonBlockingFindings: 0, l0Failures: 0, thresholds: defaults, strict: false });
    expect(decision).toEqual({ outcome: 'pass', degraded: false, reason: 'no dissonance found' });
  });

  it.each([
    ['one critical', { critical: 1 }, 'block'],
    ['three high (not strictly greater than 3)', { high: 3 }, 'warn'],
    ['four high', { high: 4 }, 'block'],
    ['ten medium', { medium: 10 }, 'warn'],
    ['eleven medium', { medium: 11 }, 'block'],
    ['a thousand low (low never blocks)', { low: 1000 }, 'warn'],
  ] as const)('applies the default thresholds: %s ⇒ %s', (_label, partial, outcome) => {
    expect(decide({ counts: counts(partial), nonBlockingFindings: 0, l0Failures: 0, thresholds: defaults, strict: false }).outcome).toBe(outcome);
  });

  it.each([
    ['one high', { high: 1 }, 'block'],
    ['five medium', { medium: 5 }, 'warn'],
    ['six medium', { medium: 6 }, 'block'],
  ] as const)('applies the strict thresholds: %s ⇒ %s', (_label, partial, outcome) => {
    expect(decide({ counts: counts(partial), nonBlockingFindings: 0, l0Failures: 0, thresholds: strict, strict: true }).outcome).toBe(outcome);
  });

  it('names every exceeded threshold and the profile in the reason', () => {
    const decision = decide({ counts: counts({ critical: 2, high: 4 }), nonBlockingFindings: 0, l0Failures: 0, thresholds: defaults, strict: false });
    expect(decision.reason).toBe('2 critical > 0, 4 high > 3 (default thresholds)');
  });

  it('blocks on any L0 failure even with no findings counted', () => {
    const decision = decide({ counts: emptyCounts(), nonBlockingFindings: 0, l0Failures: 2, thresholds: defaults, strict: false });
    expect(decision).toEqual({ outcome: 'block', degraded: false, reason: '2 L0 invariants failed' });
  });

  it('warns on findings of demoted rules without blocking', () => {
    const decision = decide({ counts: emptyCounts(), nonBlockingFindings: 5, l0Failures: 0, thresholds: defaults, strict: false });
    expect(decision.outcome).toBe('warn');
    expect(decision.reason).toBe('5 findings within thresholds');
  });
});

describe('applyDryRun', () => {
  const block = { outcome: 'block' as const, degraded: false, reason: '1 critical > 0 (default thresholds)' };

  it('turns block into warn with a would-block reason', () => {
    expect(applyDryRun(block, true, 0)).toEqual({ outcome: 'warn', degraded: false, reason: 'dry run: would block: 1 critical > 0 (default thresholds)' });
  });

  it('leaves the decision alone without dry run', () => {
    expect(applyDryRun(block, false, 0)).toBe(block);
  });

  it('never softens an L0 block', () => {
    expect(applyDryRun(block, true, 1)).toBe(block);
  });

  it('does not touch pass or warn', () => {
    const warn = { outcome: 'warn' as const, degraded: false, reason: 'x' };
    expect(applyDryRun(warn, true, 0)).toBe(warn);
  });
});
