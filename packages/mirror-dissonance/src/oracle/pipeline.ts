import { randomUUID } from 'node:crypto';
import { canonicalJson, compareCodePoints, sha256Hex } from '../hashing';
import { encodePermissionMask, workflowPermissionSpecs } from '../l0/permission-mask';
import { runL0, type L0Failure as L0CheckFailure } from '../l0/invariants';
import type { MetricsSink } from '../metrics/metrics';
import { applyCircuitBreaker } from '../policy/circuit-breaker';
import { applyDryRun, decide, emptyCounts } from '../policy/decision';
import { Redactor, verifyRedactedText, type NonceKey } from '../redaction/redactor';
import { validateReport } from '../report/validate';
import { driftMagnitude } from '../rules/md-005-baseline-drift';
import { rulesHash } from '../rules/registry';
import type { BlockCounter, FpRuleStats, FpStore, FprHistory, NewFpEvent } from '../store/ports';
import type {
  Artifacts,
  Degraded,
  Demotion,
  DissonanceReport,
  EvaluationError,
  EventContext,
  EvidenceInput,
  OracleSettings,
  ReportEvidence,
  ReportItem,
  ReportMeta,
  Rule,
  Severity,
  Suppression,
} from '../types';
import { SEVERITIES } from '../types';

export const SCHEMA_VERSION = '2.0.0' as const;
const L0_RULE_VERSION = '1.0.0';

/** Everything the pipeline needs from its host (CLI in-process, or the Lambda). */
export interface OracleDependencies {
  fpStore: FpStore;
  blockCounter: BlockCounter;
  fprHistory: FprHistory;
  /** Signing key for redacted evidence (newest nonce version). */
  nonce: NonceKey;
  /**
   * Degradations the host observed before the run (e.g. the nonce came from a
   * cache because SSM was unreachable); reported in `meta.degraded`.
   */
  hostDegradations?: readonly { reason: Degraded['reason']; details: string }[];
  /** The enabled rules. */
  rules: readonly Rule[];
  /** The report schema in use and the stamp recorded when the package was built. */
  schema: { actualSha256: string; expectedPrefix: string | undefined };
  metrics: MetricsSink;
  toolVersion: string;
  clock?: () => Date;
  newRunId?: () => string;
}

export interface OracleInput {
  artifacts: Artifacts;
  event: EventContext;
  settings: OracleSettings;
}

export interface OracleResult {
  report: DissonanceReport;
  /** FP events recorded for this run, one per reported finding (event id ↔ finding id). */
  events: readonly NewFpEvent[];
}

interface DraftItem {
  item: ReportItem;
  /** L0 and evaluation-error findings are never suppressed or demoted. */
  protectedFinding: boolean;
}

/**
 * The oracle pipeline (DESIGN §3): L0 invariants, rules, FP filter, demotion,
 * decision, circuit breaker, redaction and a schema-valid, verified report.
 * Deterministic: the same input and state give the same report except
 * `run_id` and `timestamp`.
 */
export async function runOracle(input: OracleInput, deps: OracleDependencies): Promise<OracleResult> {
  const { artifacts, event, settings } = input;
  const now = (deps.clock ?? (() => new Date()))();
  const runId = (deps.newRunId ?? randomUUID)();
  const redactor = new Redactor(deps.nonce);
  const notes: string[] = [];
  let degraded: Degraded | undefined;
  const markDegraded = (reason: Degraded['reason'], details: string): void => {
    // The first degradation is the one reported; later ones go to notes.
    if (degraded === undefined) degraded = { reason, timestamp: now.toISOString(), details };
    else notes.push(`also degraded (${reason}): ${details}`);
  };
  for (const degradation of deps.hostDegradations ?? []) markDegraded(degradation.reason, degradation.details);

  // FP statistics drive both demotion and the L0 contraction witness.
  const stats = new Map<string, FpRuleStats>();
  let fpStoreUp = true;
  try {
    for (const rule of deps.rules) stats.set(rule.id, await deps.fpStore.ruleStats(rule.id, rule.fpTolerance.window));
  } catch (error) {
    fpStoreUp = false;
    markDegraded('fp_store_unavailable', `FP statistics unavailable, no suppression or demotion applied: ${(error as Error).message}`);
  }

  // ---- L0 invariants
  const l0Failures = await evaluateL0(artifacts, settings, deps, stats, now);

  // ---- Rules
  const evaluationErrors: EvaluationError[] = [];
  const drafts: DraftItem[] = l0Failures.map((failure) => ({
    item: buildItem(`L0-${failure.result.check}`, L0_RULE_VERSION, 'critical', `L0 invariant ${failure.result.check} failed: ${failure.result.message}`, `l0:${failure.result.check}`, failure.evidence, redactor),
    protectedFinding: true,
  }));
  for (const rule of deps.rules) {
    let findings;
    try {
      findings = rule.evaluate({ artifacts, event, options: settings.ruleOptions });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      evaluationErrors.push({ ruleId: rule.id, ruleVersion: rule.version, phase: 'evaluate', message });
      drafts.push({
        item: buildItem(rule.id, rule.version, 'critical', `Rule ${rule.id} failed to evaluate: ${message}`, 'evaluation-error', [], redactor),
        protectedFinding: true,
      });
      continue;
    }
    for (const finding of findings) {
      drafts.push({
        item: buildItem(rule.id, rule.version, finding.severity ?? rule.severity, finding.title, finding.key, finding.evidence, redactor),
        protectedFinding: false,
      });
    }
  }
  const uniqueDrafts = dedupeById(drafts);

  // ---- FP filter: findings a reviewer marked as false positives are suppressed.
  const suppressions: Suppression[] = [];
  let kept = uniqueDrafts;
  if (fpStoreUp) {
    const candidates = uniqueDrafts.filter((d) => !d.protectedFinding).map((d) => d.item.id);
    try {
      const marked = candidates.length ? await deps.fpStore.markedFindings(candidates) : new Map();
      kept = uniqueDrafts.filter((d) => d.protectedFinding || !marked.has(d.item.id));
      for (const draft of uniqueDrafts) {
        const mark = marked.get(draft.item.id);
        if (mark?.falsePositive === undefined || draft.protectedFinding) continue;
        suppressions.push({
          finding_id: draft.item.id,
          rule_id: draft.item.rule_id,
          event_id: mark.eventId,
          reviewer: mark.falsePositive.reviewer,
          reason: mark.falsePositive.reason,
          marked_at: mark.falsePositive.markedAt,
        });
      }
    } catch (error) {
      fpStoreUp = false;
      markDegraded('fp_store_unavailable', `FP store unavailable, no suppression applied: ${(error as Error).message}`);
    }
  }
  if (suppressions.length) deps.metrics.count('FindingsSuppressed', suppressions.length, { repository: event.repository });

  // ---- Demotion: a rule whose observed FPR exceeds its ceiling cannot block.
  const demotions: Demotion[] = [];
  const demoted = new Set<string>();
  for (const rule of deps.rules) {
    const ruleStats = stats.get(rule.id);
    if (ruleStats === undefined || ruleStats.reviewed < rule.fpTolerance.window) continue;
    if (ruleStats.fpr > rule.fpTolerance.ceiling) {
      demoted.add(rule.id);
      demotions.push({
        ruleId: rule.id,
        fromStatus: 'blocking',
        toStatus: 'warn',
        reason: `observed FPR ${ruleStats.fpr.toFixed(3)} over ${ruleStats.reviewed} reviewed events exceeds the ceiling`,
        observedFPR: ruleStats.fpr,
        threshold: rule.fpTolerance.ceiling,
      });
    }
  }

  // ---- Decision
  const items = kept.map((d) => d.item).sort(compareItems);
  const counts = emptyCounts();
  let nonBlockingFindings = 0;
  for (const draft of kept) {
    if (!draft.protectedFinding && demoted.has(draft.item.rule_id)) nonBlockingFindings++;
    else counts[draft.item.severity]++;
  }
  const thresholds = event.strict ? settings.thresholds.strict : settings.thresholds.default;
  let decision = decide({ counts, nonBlockingFindings, l0Failures: l0Failures.length, thresholds, strict: event.strict });

  if (!event.dryRun) {
    const breaker = await applyCircuitBreaker(decision, {
      counter: deps.blockCounter,
      repository: event.repository,
      threshold: event.strict ? settings.circuitBreaker.strictThreshold : settings.circuitBreaker.threshold,
      now,
      l0Failures: l0Failures.length,
    });
    decision = breaker.decision;
    if (breaker.note !== undefined) notes.push(breaker.note);
    if (breaker.degraded !== undefined) {
      if (degraded === undefined) degraded = breaker.degraded;
      else notes.push(`also degraded (circuit_breaker_triggered): ${breaker.degraded.details}`);
      deps.metrics.count('CircuitBreakerTriggered', 1, { repository: event.repository });
    }
  }
  decision = applyDryRun(decision, event.dryRun, l0Failures.length);
  if (degraded !== undefined) decision = { ...decision, degraded: true };
  if (decision.outcome === 'block') deps.metrics.count('Block', 1, { repository: event.repository });

  if (artifacts.baseline === undefined) notes.push(`integrity baseline ${artifacts.policy.baseline.path} not found: drift check (MD-005) skipped`);

  // ---- Report
  const meta: ReportMeta = {
    schema_version: SCHEMA_VERSION,
    run_id: runId,
    timestamp: now.toISOString(),
    rules_hash: rulesHash(deps.rules, settings),
    ...(degraded ? { degraded } : {}),
    ...(demotions.length ? { demotions } : {}),
    ...(evaluationErrors.length ? { evaluationErrors } : {}),
    tool: { name: 'phase-mirror', version: deps.toolVersion },
    schema_hash: deps.schema.actualSha256.slice(0, 16),
    mode: event.mode,
    event: {
      name: event.eventName,
      repository: event.repository,
      ...(event.prNumber !== undefined ? { pr_number: event.prNumber } : {}),
      ...(event.commitSha !== undefined ? { commit_sha: event.commitSha } : {}),
      ...(event.headRef !== undefined ? { head_ref: event.headRef } : {}),
      ...(event.baseRef !== undefined ? { base_ref: event.baseRef } : {}),
      ...(event.author !== undefined ? { author: event.author } : {}),
      ...(event.changedFiles !== undefined ? { changed_files: event.changedFiles.length } : {}),
      strict: event.strict,
      dry_run: event.dryRun,
    },
    ...(artifacts.skipped.length ? { skipped_files: [...artifacts.skipped] } : {}),
    ...(suppressions.length ? { suppressions: suppressions.sort((a, b) => compareCodePoints(a.finding_id, b.finding_id)) } : {}),
    ...(notes.length ? { notes } : {}),
  };
  const bySeverity = emptyCounts();
  for (const item of items) bySeverity[item.severity]++;
  const report: DissonanceReport = {
    meta,
    items,
    summary: { total: items.length, by_severity: bySeverity },
    machine_decision: decision,
  };
  validateReport(report);
  verifyReportRedactions(report, [deps.nonce]);

  // ---- State updates, only for a report that validated.
  const events: NewFpEvent[] = kept
    .filter((d) => !d.protectedFinding)
    .map((d) => ({
      eventId: sha256Hex(`${runId}\n${d.item.id}`).slice(0, 32),
      ruleId: d.item.rule_id,
      ruleVersion: d.item.rule_version,
      findingId: d.item.id,
      repository: event.repository,
      runId,
      // Findings without evidence (e.g. a rule-level problem) still need a listable path.
      path: d.item.evidence[0]?.path ?? '(no evidence)',
      observedAt: now.toISOString(),
    }));
  if (fpStoreUp) {
    try {
      if (events.length) await deps.fpStore.recordEvents(events);
      for (const [ruleId, ruleStats] of stats) {
        if (ruleStats.reviewed > 0) await deps.fprHistory.record(ruleId, { fpr: ruleStats.fpr, reviewed: ruleStats.reviewed, at: now.toISOString() });
      }
    } catch (error) {
      // The decision stands; the report says the observations were not recorded.
      report.meta.notes = [...(report.meta.notes ?? []), `FP events not recorded: ${(error as Error).message}`];
      return { report, events: [] };
    }
  }
  return { report, events: fpStoreUp ? events : [] };
}

/** Verifies every redacted snippet of a report under the given nonce versions. */
export function verifyReportRedactions(report: DissonanceReport, keys: readonly NonceKey[]): void {
  for (const item of report.items) for (const evidence of item.evidence) verifyRedactedText(evidence.snippet, keys);
}

interface L0Finding {
  result: L0CheckFailure;
  evidence: EvidenceInput[];
}

async function evaluateL0(
  artifacts: Artifacts,
  settings: OracleSettings,
  deps: OracleDependencies,
  stats: ReadonlyMap<string, FpRuleStats>,
  now: Date,
): Promise<L0Finding[]> {
  const permissions = encodePermissionMask(workflowPermissionSpecs(artifacts.workflows));
  const contractions = [];
  for (const rule of deps.rules) {
    const current = stats.get(rule.id);
    // No reviewed events means no measured FPR: nothing contracted.
    if (current === undefined || current.reviewed === 0) continue;
    const previous = await deps.fprHistory.last(rule.id);
    contractions.push({
      ruleId: rule.id,
      previousFpr: previous?.fpr,
      currentFpr: current.fpr,
      reviewedFalsePositives: current.falsePositives,
    });
  }
  const failures = runL0({
    schema: { actualSha256: deps.schema.actualSha256, expectedPrefix: deps.schema.expectedPrefix ?? '' },
    permissionMask: permissions.mask,
    drift: { magnitude: driftMagnitude(artifacts) ?? 0, bound: settings.l0.driftBound },
    nonce: { value: deps.nonce.value, loadedAtMs: deps.nonce.loadedAt.getTime(), nowMs: now.getTime() },
    contractions,
    contractionWitnessMin: settings.l0.contractionWitnessMin,
  });
  return failures.map((failure) => {
    const evidence: EvidenceInput[] =
      failure.check === 'permission_bits'
        ? permissions.unknownScopes.map((scope) => ({ path: scope.path, line: scope.line, snippet: `${scope.name}: ${scope.level}` }))
        : [];
    return { result: failure, evidence };
  });
}

function buildItem(
  ruleId: string,
  ruleVersion: string,
  severity: Severity,
  title: string,
  key: string,
  evidence: readonly EvidenceInput[],
  redactor: Redactor,
): ReportItem {
  const reportEvidence: ReportEvidence[] = evidence.map((e) => {
    const snippet = redactor.redact(e.snippet);
    return { path: e.path, line: e.line, snippet, hash: sha256Hex(`${e.path}:${e.line}:${snippet.value}`) };
  });
  reportEvidence.sort((a, b) => compareCodePoints(a.path, b.path) || a.line - b.line || compareCodePoints(a.hash, b.hash));
  return {
    id: sha256Hex(canonicalJson({ rule: ruleId, key })),
    rule_id: ruleId,
    rule_version: ruleVersion,
    severity,
    title,
    evidence: reportEvidence,
  };
}

function dedupeById(drafts: DraftItem[]): DraftItem[] {
  const seen = new Set<string>();
  return drafts.filter((d) => (seen.has(d.item.id) ? false : (seen.add(d.item.id), true)));
}

function compareItems(a: ReportItem, b: ReportItem): number {
  const bySeverity = SEVERITIES.indexOf(a.severity) - SEVERITIES.indexOf(b.severity);
  if (bySeverity !== 0) return bySeverity;
  const byRule = compareCodePoints(a.rule_id, b.rule_id);
  if (byRule !== 0) return byRule;
  const ea = a.evidence[0];
  const eb = b.evidence[0];
  const byPath = compareCodePoints(ea?.path ?? '', eb?.path ?? '');
  if (byPath !== 0) return byPath;
  const byLine = (ea?.line ?? 0) - (eb?.line ?? 0);
  return byLine !== 0 ? byLine : compareCodePoints(a.id, b.id);
}
