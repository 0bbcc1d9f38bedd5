/**
 * Store ports (DESIGN §7). The embedded SQLite adapter implements them now;
 * the AWS adapters implement the same interfaces later and run the same
 * contract suite. Methods are async so both adapters share one shape.
 * Adapters throw typed errors (ConflictError, NotFoundError, DependencyError
 * with code STORE_FAILED); they never return empty results to hide a failure.
 */

/** One observation of a finding in one run. */
export interface FpEvent {
  eventId: string;
  ruleId: string;
  ruleVersion: string;
  /** The finding fingerprint (report item id). */
  findingId: string;
  repository: string;
  runId: string;
  /** First evidence path, for listing. */
  path: string;
  observedAt: string;
  /** Set once a reviewer marks the event a false positive. */
  falsePositive?: {
    reviewer: string;
    reason: string;
    ticket?: string;
    markedAt: string;
  };
}

export type NewFpEvent = Omit<FpEvent, 'falsePositive'>;

export interface FpRuleStats {
  ruleId: string;
  /** Events observed in the window. */
  total: number;
  /** Events a reviewer looked at. */
  reviewed: number;
  falsePositives: number;
  /** falsePositives / reviewed; 0 when nothing was reviewed. */
  fpr: number;
}

export interface FpStore {
  /** Records events; a duplicate event id throws ConflictError and records nothing. */
  recordEvents(events: readonly NewFpEvent[]): Promise<void>;
  /** Marks an event a false positive; unknown id throws NotFoundError. */
  markFalsePositive(
    eventId: string,
    mark: { reviewer: string; reason: string; ticket?: string; markedAt: string },
  ): Promise<FpEvent>;
  /** For each finding id that has at least one marked event, the earliest mark. */
  markedFindings(findingIds: readonly string[]): Promise<Map<string, FpEvent>>;
  /** Most recent first. */
  list(filter: { ruleId?: string; findingId?: string; markedOnly?: boolean; limit: number }): Promise<FpEvent[]>;
  /** Statistics over the last `window` events of a rule. */
  ruleStats(ruleId: string, window: number): Promise<FpRuleStats>;
}

/** Atomic counters with expiry, behind the circuit breaker. */
export interface BlockCounter {
  /** Adds one and returns the new value, atomically. */
  increment(key: string, expiresAt: Date): Promise<number>;
  /** Current value; 0 when absent or expired. */
  get(key: string): Promise<number>;
}

/** Last observed FPR per rule, so L0 can check that a decrease is witnessed. */
export interface FprHistory {
  last(ruleId: string): Promise<{ fpr: number; reviewed: number } | undefined>;
  record(ruleId: string, snapshot: { fpr: number; reviewed: number; at: string }): Promise<void>;
}
