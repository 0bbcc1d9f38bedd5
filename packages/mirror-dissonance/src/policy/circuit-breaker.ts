import type { BlockCounter } from '../store/ports';
import type { Degraded, MachineDecision } from '../types';

export interface BreakerResult {
  decision: MachineDecision;
  degraded?: Degraded;
  /** Set when the counter failed and the breaker could not be applied. */
  note?: string;
  /** Blocks counted in the current hour, including this one, when counted. */
  count?: number;
  tripped: boolean;
}

/** `owner/repo#2026-11-23T16`: one counter per repository per UTC clock hour. */
export function breakerKey(repository: string, now: Date): string {
  return `${repository}#${now.toISOString().slice(0, 13)}`;
}

/**
 * Counts a block on the repository's hourly counter and downgrades it to warn
 * once the hour's blocks exceed the threshold (the 101st block of an hour with
 * threshold 100). A counter failure leaves the block standing: the breaker
 * protects throughput, never safety.
 */
export async function applyCircuitBreaker(
  decision: MachineDecision,
  options: { counter: BlockCounter; repository: string; threshold: number; now: Date; l0Failures: number },
): Promise<BreakerResult> {
  if (decision.outcome !== 'block' || options.l0Failures > 0) return { decision, tripped: false };
  const hourStart = Date.UTC(
    options.now.getUTCFullYear(),
    options.now.getUTCMonth(),
    options.now.getUTCDate(),
    options.now.getUTCHours(),
  );
  // Kept one extra hour so a clock-skewed reader still sees the hour's count.
  const expiresAt = new Date(hourStart + 2 * 3_600_000);
  let count: number;
  try {
    count = await options.counter.increment(breakerKey(options.repository, options.now), expiresAt);
  } catch (error) {
    return {
      decision,
      tripped: false,
      note: `block counter unavailable, circuit breaker not applied: ${(error as Error).message}`,
    };
  }
  if (count <= options.threshold) return { decision, count, tripped: false };
  return {
    decision: {
      outcome: 'warn',
      degraded: true,
      reason: `circuit breaker: ${count - 1} blocks this hour reached the threshold ${options.threshold}; would block: ${decision.reason}`,
    },
    degraded: {
      reason: 'circuit_breaker_triggered',
      timestamp: options.now.toISOString(),
      details: `${count - 1} blocks for ${options.repository} in the hour starting ${new Date(hourStart).toISOString()} (threshold ${options.threshold})`,
    },
    count,
    tripped: true,
  };
}
