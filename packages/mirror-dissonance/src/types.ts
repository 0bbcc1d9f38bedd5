/**
 * Shared vocabulary of the oracle: the event, the collected artifacts, rules,
 * findings and the report contract (DESIGN §3–§5). Modules depend on these
 * types, not on each other.
 */
import type { WorkflowFile } from './artifacts/workflow';
import type { CodeownersFile } from './artifacts/codeowners';
import type { IntegrityBaseline } from './baseline/baseline';
import type { OrgManifest } from './org/manifest';
import type { OrgScan } from './org/state';

export type Severity = 'critical' | 'high' | 'medium' | 'low';
/** Highest first; also the order findings are sorted in. */
export const SEVERITIES: readonly Severity[] = ['critical', 'high', 'medium', 'low'];

export type Mode = 'pull_request' | 'merge_group' | 'drift' | 'calibration';
export const MODES: readonly Mode[] = ['pull_request', 'merge_group', 'drift', 'calibration'];

export type Outcome = 'pass' | 'warn' | 'block';

/** What happened around the repository: who changed what, on which event. */
export interface EventContext {
  mode: Mode;
  /**
   * The GitHub event name that triggered the run (`pull_request`,
   * `pull_request_target`, `merge_group`, `schedule`, `push`...). Locally it
   * is derived from the mode. Rules use it to decide which workflows run.
   */
  eventName: string;
  repository: string;
  prNumber?: number;
  commitSha?: string;
  headRef?: string;
  baseRef?: string;
  author?: string;
  /** Repository-relative POSIX paths; undefined when no base is known. */
  changedFiles?: readonly string[];
  strict: boolean;
  dryRun: boolean;
}

/** A text file read from the repository. Paths are POSIX and relative to the root. */
export interface RepoFile {
  path: string;
  text: string;
  size: number;
}

export type SkipReason = 'too_large' | 'binary' | 'unreadable' | 'symlink_outside_root' | 'symlink_loop';

/** A file the collector did not read, reported in `meta.skipped_files`. */
export interface SkippedFile {
  path: string;
  reason: SkipReason;
  detail: string;
}

/** The integrity-baseline policy: which files are pinned and how much drift is tolerated. */
export interface BaselinePolicy {
  /** Repository-relative path of the committed baseline file. */
  path: string;
  globs: readonly string[];
  /** MD-005 reports drift when changed / declared is strictly above this. */
  threshold: number;
}

/** What the repository declares it requires (`policy:` in `.phase-mirror.yml` or the policy file). */
export interface Policy {
  /** Where it was read from, for evidence; undefined when built from defaults only. */
  source?: string;
  requiredStatusChecks: readonly LocatedString[];
  criticalPaths: readonly LocatedString[];
  /** Paths (globs) whose changes need accountable human review (MD-002). */
  protectedPaths: readonly LocatedString[];
  baseline: BaselinePolicy;
  /** The merge-queue trust chain the repository declares (MD-102); undefined when not declared. */
  mergeQueue?: MergeQueuePolicy;
  /** Identities and branches that are automation, not people (MD-002). */
  automation: AutomationPolicy;
  /** Probabilistic components and the evaluation jobs that must gate them (MD-003); undefined when not declared. */
  probabilistic?: ProbabilisticPolicy;
}

export interface MergeQueuePolicy {
  /** Line of the `mergeQueue:` key, for evidence. */
  path: string;
  line: number;
  requiredForDefaultBranch: boolean;
  allowBypassForAdmins: boolean;
  requireLinearHistory: boolean;
  allowDirectPushes: boolean;
}

export interface AutomationPolicy {
  /** Logins (exact, or globs such as `*[bot]`). */
  authors: readonly LocatedString[];
  /** Head-branch prefixes such as `agent/` or `dependabot/`. */
  branchPrefixes: readonly LocatedString[];
}

export interface ProbabilisticPolicy {
  /** Globs of probabilistic components (models, prompts, ML pipelines). */
  paths: readonly LocatedString[];
  /** Job names or keys (globs) that evaluate them. */
  evaluationJobs: readonly LocatedString[];
}

export interface LocatedString {
  value: string;
  /** File the value was declared in and its 1-based line. */
  path: string;
  line: number;
}

/**
 * The protection in force on the base branch, from a branch-protection JSON
 * (`--branch-protection FILE`, GitHub REST shape) or the GitHub API (classic
 * protection merged with the active rulesets that target the branch).
 */
export interface BranchProtection {
  /** The file it was read from, or the API request (e.g. `GET /repos/o/r/branches/main/protection`). */
  path: string;
  source: 'file' | 'api';
  branch?: string;
  /** False when no protection and no active ruleset applies to the branch. */
  enabled: boolean;
  requiredContexts: readonly LocatedString[];
  /** Branches must be up to date before merging. */
  strictStatusChecks: boolean;
  requirePullRequest: boolean;
  requiredApprovingReviewCount: number;
  requireCodeOwnerReviews: boolean;
  dismissStaleReviews: boolean;
  /** Admins are bound by the rules (classic `enforce_admins`, or rulesets without an admin bypass). */
  enforceAdmins: boolean;
  requireLinearHistory: boolean;
  allowForcePushes: boolean;
  /** A ruleset requires the merge queue for this branch. */
  mergeQueueRequired: boolean;
  /** Pushes are restricted to listed actors (classic restrictions, ruleset update rule). */
  pushRestricted: boolean;
}

export type ReviewState = 'APPROVED' | 'CHANGES_REQUESTED' | 'COMMENTED' | 'DISMISSED' | 'PENDING';

/** What is known about the pull request under review, from the event payload or the API. */
export interface PullRequestFacts {
  number: number;
  author: string;
  headRef: string;
  labels: readonly string[];
  /** Reviews, latest last; undefined when they were not fetched (no token). */
  reviews?: readonly { user: string; state: ReviewState; submittedAt?: string }[];
  /** Where the facts came from: `GITHUB_EVENT_PATH` or `GET /repos/o/r/pulls/N`. */
  source: string;
}

/** Everything the rules may read. Built once per run by the collector; never mutated. */
export interface Artifacts {
  /** Absolute, real path of the repository root. */
  root: string;
  /** Every non-ignored regular file below the root, POSIX relative, sorted. */
  fileList: readonly string[];
  workflows: readonly WorkflowFile[];
  codeowners?: CodeownersFile;
  /** Package manifests (package.json, go.mod, requirements*.txt, Cargo.toml, pom.xml...). */
  manifests: readonly RepoFile[];
  policy: Policy;
  branchProtection?: BranchProtection;
  pullRequest?: PullRequestFacts;
  /** Organisation governance inputs for MD-101 (`--org-manifest` with org-scan states). */
  organization?: OrganizationInputs;
  /** The committed baseline, when the file exists. */
  baseline?: IntegrityBaseline;
  /** SHA-256 of every current file matching the baseline globs. */
  baselineCurrent: ReadonlyMap<string, string>;
  skipped: readonly SkippedFile[];
}

/** Tunables of the pipeline, resolved from config and flags. */
export interface OracleSettings {
  thresholds: { default: SeverityThresholds; strict: SeverityThresholds };
  circuitBreaker: { threshold: number; strictThreshold: number };
  l0: { driftBound: number; contractionWitnessMin: number };
  /** Rule ids switched off by configuration. */
  disabledRules: readonly string[];
  ruleOptions: RuleOptions;
}

/** Block when the count of a severity is strictly greater than its threshold. Low never blocks. */
export interface SeverityThresholds {
  critical: number;
  high: number;
  medium: number;
}

export interface RuleContext {
  artifacts: Artifacts;
  event: EventContext;
  /** Rule options from configuration (`rules.options`), defaults applied. */
  options: RuleOptions;
}

/** Per-rule options, resolved from `.phase-mirror.yml` `rules.options`. */
export interface RuleOptions {
  /** MD-100: what each job intent must do, by intent name (test, lint, security, build, deploy...). */
  jobIntents: Readonly<Record<string, JobIntent>>;
}

export interface JobIntent {
  /** Words in a job key or name that claim the intent (matched as whole words, case-insensitive). */
  keywords: readonly string[];
  /** `uses:` actions (owner/name, without @ref; globs allowed) that fulfil it. */
  actions: readonly string[];
  /** Regular expressions (source) matched against `run:` scripts that fulfil it. */
  commands: readonly string[];
}

/** MD-101 inputs: the organisation's manifest and the governance state of its repositories. */
export interface OrganizationInputs {
  manifest: OrgManifest;
  states: OrgScan;
}

/** One piece of evidence before redaction. */
export interface EvidenceInput {
  path: string;
  /** 1-based line; 0 when the evidence is about a whole file that has no line (e.g. a removed file). */
  line: number;
  snippet: string;
}

/** What a rule returns. The pipeline adds the fingerprint, redaction and hashes. */
export interface RuleFinding {
  /**
   * Stable discriminator of this problem within the rule, independent of line
   * numbers (e.g. `workflow.yml#job:build#unpinned:actions/checkout`), so the
   * fingerprint survives unrelated edits.
   */
  key: string;
  title: string;
  /** Overrides the rule's default severity (e.g. escalation in merge_group). */
  severity?: Severity;
  evidence: readonly EvidenceInput[];
}

export interface FpTolerance {
  /** Observed FPR above this demotes the rule (it cannot block). */
  ceiling: number;
  /** Minimum number of reviewed events before the ceiling applies. */
  window: number;
}

/** A rule is data plus a pure function of the context. */
export interface Rule {
  id: string;
  version: string;
  title: string;
  description: string;
  severity: Severity;
  fpTolerance: FpTolerance;
  evaluate(context: RuleContext): readonly RuleFinding[];
}

/* ---------- Report contract (schema_version 2.0.0) ---------- */

/** A snippet after redaction, bound to the nonce by an HMAC brand and MAC. */
export interface RedactedText {
  __brand: string;
  __mac: string;
  value: string;
  nonce_version: number;
}

export interface ReportEvidence {
  path: string;
  line: number;
  snippet: RedactedText;
  /** SHA-256 of `path:line:redacted value`. */
  hash: string;
}

export interface ReportItem {
  /** Stable fingerprint: SHA-256 of rule id and the finding key. */
  id: string;
  rule_id: string;
  rule_version: string;
  severity: Severity;
  title: string;
  evidence: ReportEvidence[];
}

export type DegradedReason =
  | 'ssm_unreachable'
  | 'circuit_breaker_triggered'
  | 'fp_store_unavailable'
  | 'nonce_cache_stale';

export interface Degraded {
  reason: DegradedReason;
  timestamp: string;
  details: string;
}

export interface Demotion {
  ruleId: string;
  fromStatus: 'blocking' | 'warn';
  toStatus: 'warn' | 'disabled';
  reason: string;
  observedFPR: number;
  threshold: number;
}

export interface EvaluationError {
  ruleId: string;
  ruleVersion: string;
  phase: 'init' | 'evaluate' | 'evidence' | 'post';
  message: string;
}

export interface Suppression {
  finding_id: string;
  rule_id: string;
  event_id: string;
  reviewer: string;
  reason: string;
  marked_at: string;
}

export interface ReportMeta {
  schema_version: '2.0.0';
  run_id: string;
  timestamp: string;
  rules_hash: string;
  degraded?: Degraded;
  demotions?: Demotion[];
  evaluationErrors?: EvaluationError[];
  /** Extras (allowed by the schema under meta). */
  tool?: { name: string; version: string };
  schema_hash?: string;
  mode?: Mode;
  event?: {
    name: string;
    repository: string;
    pr_number?: number;
    commit_sha?: string;
    head_ref?: string;
    base_ref?: string;
    author?: string;
    changed_files?: number;
    strict: boolean;
    dry_run: boolean;
  };
  skipped_files?: SkippedFile[];
  suppressions?: Suppression[];
  notes?: string[];
  ledger?: { height: number; hash: string };
}

export interface MachineDecision {
  outcome: Outcome;
  degraded: boolean;
  reason: string;
}

export interface DissonanceReport {
  meta: ReportMeta;
  items: ReportItem[];
  summary: { total: number; by_severity: Record<Severity, number> };
  machine_decision: MachineDecision;
}
