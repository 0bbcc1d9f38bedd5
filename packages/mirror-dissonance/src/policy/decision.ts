import type { MachineDecision, Severity, SeverityThresholds } from '../types';

export type SeverityCounts = Record<Severity, number>;

export function emptyCounts(): SeverityCounts {
  return { critical: 0, high: 0, medium: 0, low: 0 };
}

/** Inputs of the decision, already filtered: suppressed and demoted findings are not counted. */
export interface DecisionInput {
  /** Findings that may block, by severity. */
  counts: SeverityCounts;
  /** Findings that are reported but may not block (demoted rules). */
  nonBlockingFindings: number;
  /** Number of failed L0 invariants. */
  l0Failures: number;
  thresholds: SeverityThresholds;
  strict: boolean;
}

const BLOCKING_ORDER = ['critical', 'high', 'medium'] as const;

/**
 * The policy decision of DESIGN §5: L0 failures block; otherwise block when a
 * severity count is strictly greater than its threshold; low never blocks;
 * any other finding warns; nothing found passes.
 */
export function decide(input: DecisionInput): MachineDecision {
  if (input.l0Failures > 0) {
    return {
      outcome: 'block',
      degraded: false,
      reason: `${input.l0Failures} L0 invariant${input.l0Failures === 1 ? '' : 's'} failed`,
    };
  }
  const exceeded = BLOCKING_ORDER.filter((severity) => input.counts[severity] > input.thresholds[severity]);
  if (exceeded.length > 0) {
    const profile = input.strict ? 'strict' : 'default';
    const parts = exceeded.map((s) => `${input.counts[s]} ${s} > ${input.thresholds[s]}`);
    return { outcome: 'block', degraded: false, reason: `${parts.join(', ')} (${profile} thresholds)` };
  }
  const total = input.counts.critical + input.counts.high + input.counts.medium + input.counts.low + input.nonBlockingFindings;
  if (total > 0) {
    return { outcome: 'warn', degraded: false, reason: `${total} finding${total === 1 ? '' : 's'} within thresholds` };
  }
  return { outcome: 'pass', degraded: false, reason: 'no dissonance found' };
}

/** Dry-run reports what would have blocked without blocking. L0 failures are never softened. */
export function applyDryRun(decision: MachineDecision, dryRun: boolean, l0Failures: number): MachineDecision {
  if (!dryRun || decision.outcome !== 'block' || l0Failures > 0) return decision;
  return { ...decision, outcome: 'warn', reason: `dry run: would block: ${decision.reason}` };
}
