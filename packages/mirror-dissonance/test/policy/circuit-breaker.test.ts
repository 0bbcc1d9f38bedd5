import { applyCircuitBreaker, breakerKey } from '../../src/policy/circuit-breaker';
import type { BlockCounter } from '../../src/store/ports';

class MemoryCounter implements BlockCounter {
  readonly values = new Map<string, number>();
  readonly expiries = new Map<string, Date>();
  async increment(key: string, expiresAt: Date): Promise<number> {
    const next = (this.values.get(key) ?? 0) + 1;
    this.values.set(key, next);
    this.expiries.set(key, expiresAt);
    return next;
  }
  async get(key: string): Promise<number> {
    return this.values.get(key) ?? 0;
  }
}

class BrokenCounter implements BlockCounter {
  async increment(): Promise<number> {
    throw new Error('database is locked');
  }
  async get(): Promise<number> {
    throw new Error('database is locked');
  }
}

const block = { outcome: 'block' as const, degraded: false, reason: '1 critical > 0 (default thresholds)' };
const now = new Date('2026-11-23T16:42:10.000Z');

describe('breakerKey', () => {
  it('keys the counter by repository and UTC clock hour', () => {
    expect(breakerKey('acme/api', now)).toBe('acme/api#2026-11-23T16');
  });
});

describe('applyCircuitBreaker', () => {
  it('counts blocks up to the threshold and degrades the next one to warn', async () => {
    // Prepare
    const counter = new MemoryCounter();
    const options = { counter, repository: 'acme/api', threshold: 3, now, l0Failures: 0 };
    // Act
    const results = [];
    for (let i = 0; i < 4; i++) results.push(await applyCircuitBreaker(block, options));
    // Assess
    expect(results.slice(0, 3).map((r) => r.decision.outcome)).toEqual(['block', 'block', 'block']);
    const tripped = results[3]!;
    expect(tripped.tripped).toBe(true);
    expect(tripped.decision.outcome).toBe('warn');
    expect(tripped.decision.degraded).toBe(true);
    expect(tripped.degraded?.reason).toBe('circuit_breaker_triggered');
    expect(tripped.decision.reason).toContain('would block: 1 critical > 0');
    expect(counter.expiries.get('acme/api#2026-11-23T16')?.toISOString()).toBe('2026-11-23T18:00:00.000Z');
  });

  it('does not count pass or warn decisions', async () => {
    const counter = new MemoryCounter();
    const result = await applyCircuitBreaker({ outcome: 'warn', degraded: false, reason: 'x' }, { counter, repository: 'r', threshold: 1, now, l0Failures: 0 });
    expect(result.tripped).toBe(false);
    expect(counter.values.size).toBe(0);
  });

  it('never downgrades an L0 block', async () => {
    const counter = new MemoryCounter();
    counter.values.set(breakerKey('r', now), 500);
    const result = await applyCircuitBreaker(block, { counter, repository: 'r', threshold: 1, now, l0Failures: 1 });
    expect(result.decision).toBe(block);
  });

  it('keeps the block and notes it when the counter fails', async () => {
    const result = await applyCircuitBreaker(block, { counter: new BrokenCounter(), repository: 'r', threshold: 1, now, l0Failures: 0 });
    expect(result.decision).toBe(block);
    expect(result.note).toContain('circuit breaker not applied: database is locked');
  });

  it('starts a fresh count in the next hour', async () => {
    const counter = new MemoryCounter();
    const options = { counter, repository: 'r', threshold: 1, l0Failures: 0 };
    await applyCircuitBreaker(block, { ...options, now });
    const nextHour = await applyCircuitBreaker(block, { ...options, now: new Date('2026-11-23T17:00:00.000Z') });
    expect(nextHour.decision.outcome).toBe('block');
  });
});
