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
  /** The last `count` events of a rule, most recent first. */
  windowByCount(ruleId: string, count: number): Promise<FpEvent[]>;
  /**
   * Every event of a rule observed in [since, until), oldest first. Adapters
   * read every page (DynamoDB returns at most 1 MB per query): never a silent
   * truncation.
   */
  windowByTime(ruleId: string, since: Date, until: Date): Promise<FpEvent[]>;
  /** Rule ids with at least one unexpired event, sorted. */
  ruleIds(): Promise<string[]>;
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

/* ---------- Consent (DESIGN §7) ---------- */

export const CONSENT_RESOURCES = [
  'fp_patterns',
  'fp_metrics',
  'cross_org_benchmarks',
  'rule_calibration',
  'audit_logs',
  'drift_baselines',
] as const;
export type ConsentResource = (typeof CONSENT_RESOURCES)[number];

export type ConsentState = 'granted' | 'expired' | 'revoked' | 'not_requested';

/** Who may use what: org-wide (`repository` undefined) or for one repository (`owner/name`). */
export interface ConsentScope {
  orgId: string;
  repository?: string;
  resource: ConsentResource;
}

/** The current record of a scope. */
export interface ConsentRecord extends ConsentScope {
  grantedBy: string;
  grantedAt: string;
  /** ISO time after which the grant no longer holds; undefined = no expiry. */
  expiresAt?: string;
  revokedBy?: string;
  revokedAt?: string;
}

/** One change in a scope's history, oldest first. */
export interface ConsentHistoryEntry extends ConsentScope {
  action: 'grant' | 'revoke';
  actor: string;
  at: string;
  expiresAt?: string;
}

export interface ConsentStore {
  /** Grants (or re-grants, replacing expiry and clearing a revocation) a scope; appends to history. */
  grant(scope: ConsentScope, grant: { grantedBy: string; grantedAt: string; expiresAt?: string }): Promise<ConsentRecord>;
  /** Revokes the scope's grant; NotFoundError when the scope was never granted. Appends to history. */
  revoke(scope: ConsentScope, revocation: { revokedBy: string; revokedAt: string }): Promise<ConsentRecord>;
  /**
   * The state of a scope at a time. A repository-scoped record, when one
   * exists, decides; otherwise the org-wide record; neither ⇒ not_requested.
   * Throws on store failure: callers deny (see `consentAllows`).
   */
  check(scope: ConsentScope, at: Date): Promise<ConsentState>;
  /** Current records of an organisation, sorted by resource then repository. */
  list(orgId: string): Promise<ConsentRecord[]>;
  /** Every grant and revocation of an organisation, oldest first. */
  history(orgId: string): Promise<ConsentHistoryEntry[]>;
}

/* ---------- Calibration (DESIGN §7) ---------- */

/** One anonymized false-positive outcome: no org id, no repository, an hour bucket. */
export interface CalibrationRecord {
  ruleId: string;
  /** HMAC-SHA256(salt, orgId), 64 hex. */
  orgHash: string;
  /** Start of the UTC hour the outcome was observed in (ISO). */
  bucket: string;
  falsePositive: boolean;
}

export interface CalibrationCounts {
  ruleId: string;
  distinctOrgs: number;
  outcomes: number;
  falsePositives: number;
}

export interface CalibrationStore {
  ingest(record: CalibrationRecord): Promise<void>;
  /** Raw counts over every stored record of a rule (release is decided by k-anonymity upstream). */
  counts(ruleId: string): Promise<CalibrationCounts>;
  /** Rule ids with records, sorted. */
  ruleIds(): Promise<string[]>;
}
