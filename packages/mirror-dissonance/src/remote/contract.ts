/**
 * The remote analysis contract (DESIGN §3, "two hosts"): what
 * `phase-mirror analyze --remote <function>` sends to the oracle Lambda and
 * what it answers. Plain JSON both ways, version 1.
 *
 * The request carries the collected artifacts in a JSON-safe form: sources
 * that have a parser travel as text and are parsed again by the function
 * (workflows, CODEOWNERS rules), so the function never trusts a parse it did
 * not make; Maps become arrays of pairs. The caller needs only
 * `lambda:InvokeFunction`: the function owns the tables, the nonce and the
 * ledger, signs the evidence and verifies it before answering.
 */
import type { CodeownersError, CodeownersRule } from '../artifacts/codeowners';
import type { IntegrityBaseline } from '../baseline/baseline';
import type { OrgManifest } from '../org/manifest';
import type { OrgScan } from '../org/state';
import type {
  BranchProtection,
  DissonanceReport,
  EventContext,
  OracleSettings,
  Policy,
  PullRequestFacts,
  RepoFile,
  SkippedFile,
} from '../types';

export const REMOTE_PROTOCOL_VERSION = 1 as const;

/**
 * Largest request the CLI sends: 5 MB (DESIGN §3). A synchronous Lambda
 * invocation accepts 6 MB; the margin keeps room for the envelope.
 */
export const MAX_REMOTE_PAYLOAD_BYTES = 5 * 1024 * 1024;

/** The artifacts of src/types.ts `Artifacts`, JSON-safe. */
export interface SerializedArtifacts {
  /** The caller's repository root (informational: the function reads no files). */
  root: string;
  fileList: string[];
  /** Parsed again by the function with `parseWorkflow`. */
  workflows: { path: string; text: string }[];
  /** The CODEOWNERS file in force: its rules (rebuilt and re-parsed by the function) and rejected lines. */
  codeowners?: { path: string; rules: CodeownersRule[]; errors: CodeownersError[] };
  manifests: RepoFile[];
  policy: Policy;
  branchProtection?: BranchProtection;
  pullRequest?: PullRequestFacts;
  organization?: { manifest: OrgManifest; states: OrgScan };
  /** Checked again by the function with `parseBaseline`. */
  baseline?: IntegrityBaseline;
  /** `Artifacts.baselineCurrent` as `[path, sha256]` pairs, in the collector's order. */
  baselineCurrent: [string, string][];
  skipped: SkippedFile[];
}

export interface RemoteAnalyzeRequest {
  version: typeof REMOTE_PROTOCOL_VERSION;
  artifacts: SerializedArtifacts;
  event: EventContext;
  /** The caller's resolved settings (thresholds, breaker, L0 bounds, disabled rules, rule options). */
  settings: OracleSettings;
  /** Who sent it, for the function's logs. */
  client?: { name: string; version: string };
}

/** An FP event recorded for a reported finding (the id `fp mark` takes). */
export interface RemoteFpEvent {
  eventId: string;
  ruleId: string;
  findingId: string;
  path: string;
}

export interface RemoteLedgerEntry {
  height: number;
  hash: string;
}

/** The function decided: the report (with `meta.ledger`) and the ledger block that holds it. */
export interface RemoteAnalyzeResponse {
  version: typeof REMOTE_PROTOCOL_VERSION;
  ok: true;
  report: DissonanceReport;
  ledger: RemoteLedgerEntry;
  events: RemoteFpEvent[];
}

/**
 * The function refused the request as invalid (exit 3 for the caller).
 * Failures of the function itself (nonce, tables, ledger) are not answered
 * this way: the invocation fails (a Lambda function error), exit 2.
 */
export interface RemoteAnalyzeRejection {
  version: typeof REMOTE_PROTOCOL_VERSION;
  ok: false;
  error: { type: 'InputError' | 'UsageError'; code: string; message: string; field?: string };
}

export type RemoteAnalyzeAnswer = RemoteAnalyzeResponse | RemoteAnalyzeRejection;
