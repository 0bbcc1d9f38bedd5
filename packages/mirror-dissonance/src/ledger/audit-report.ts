/**
 * The ledger audit report (`phase-mirror audit-report --replay-results F
 * --drift-signals F -o audit.md`): one markdown document from the JSON that
 * `ledger replay` and `ledger drift-radar` wrote (and, optionally, the
 * governance chain's): a summary table, the replay failures by height and
 * field, the drift signals, the governance jobs and a verdict.
 *
 * Verdict: FAIL when replay found any failure, the drift radar signals BLOCK
 * or the governance chain failed; ATTENTION when the drift radar signals
 * WARN; PASS otherwise.
 *
 * The parsers validate the input files and name the file (and the field) in
 * every error; the report escapes every value it prints into markdown.
 */
import { InputError } from '../errors';
import { DRIFT_SCAN_TYPES, GOVERNANCE_POLICIES, type DriftRadarResult } from './drift-radar';
import { formatGovernanceChainLine, formatPercent, GOVERNANCE_JOB_ORDER, type GovernanceChainResult } from './governance-chain';
import { REPLAY_STRATEGIES, type ReplayFailure, type ReplayResult } from './replay';

export type AuditVerdict = 'PASS' | 'ATTENTION' | 'FAIL';

export interface AuditReportInput {
  replayResults: ReplayResult;
  driftSignals: DriftRadarResult;
  governance?: GovernanceChainResult;
  /** Shown in the header when given (keeps the output reproducible otherwise). */
  generatedAt?: string;
  /** Rows listed per table; the rest is counted. @default 200 */
  maxRows?: number;
}

export function auditVerdict(input: Pick<AuditReportInput, 'replayResults' | 'driftSignals' | 'governance'>): AuditVerdict {
  if (input.replayResults.failures.length > 0 || input.driftSignals.signal === 'BLOCK' || input.governance?.passed === false) return 'FAIL';
  return input.driftSignals.signal === 'WARN' ? 'ATTENTION' : 'PASS';
}

export function renderAuditReport(input: AuditReportInput): string {
  const { replayResults: replay, driftSignals: drift, governance } = input;
  const maxRows = input.maxRows ?? 200;
  const verdict = auditVerdict(input);
  const lines: string[] = ['# Ledger audit report', ''];
  if (input.generatedAt !== undefined) lines.push(`Generated ${escapeCell(input.generatedAt)}.`, '');

  lines.push('## Verdict', '', `**${verdict}** — ${verdictReasons(input).join('; ')}.`, '');

  lines.push('## Summary', '', '| Check | Result |', '|---|---|');
  const window = replay.strategy === 'sliding_window' && replay.window !== null ? `, window ${replay.window}` : '';
  lines.push(
    `| Replay (${replay.strategy}${window}) | ${replay.replayed} blocks replayed, success rate ${formatPercent(replay.successRate)}, ${replay.failed} failed height(s), ${replay.failures.length} failure(s) |`,
  );
  const c = drift.counts;
  lines.push(
    `| Drift radar (${drift.policy}; ${drift.scanTypes.join(', ')}) | GOVERNANCE SIGNAL: ${drift.signal} — ${drift.signals.length} signal(s): ${c.critical} critical, ${c.error} error, ${c.warn} warn, ${c.info} info; ${drift.scanned.blocks} block(s) in ${drift.scanned.repositories} stream(s) |`,
  );
  if (governance !== undefined) lines.push(`| Governance chain | ${escapeCell(formatGovernanceChainLine(governance).replace(/^Governance Chain: /, ''))} |`);
  lines.push('');

  if (replay.range.length > 0) {
    lines.push('### Streams replayed', '', '| Repository | Head | Heights | Replayed | Failed | Anchor epoch |', '|---|---|---|---|---|---|');
    for (const r of replay.range.slice(0, maxRows)) {
      const heights = r.start <= r.end ? `${r.start}–${r.end}` : 'none';
      lines.push(`| ${escapeCell(r.repository)} | ${r.head ?? '—'} | ${heights} | ${r.replayed} | ${r.failed} | ${r.anchor === null ? '—' : `#${r.anchor.epoch} (${r.anchor.startHeight}–${r.anchor.endHeight})`} |`);
    }
    more(lines, replay.range.length, maxRows, 'stream');
    lines.push('');
  }

  lines.push('## Replay failures', '');
  if (replay.failures.length === 0) {
    lines.push('None: every hash, root and link recomputed as stored.', '');
  } else {
    const sorted = [...replay.failures].sort(byRepositoryHeight);
    lines.push('| Repository | Height | Field | Rule | Message |', '|---|---|---|---|---|');
    for (const f of sorted.slice(0, maxRows)) {
      lines.push(`| ${escapeCell(f.repository)} | ${f.height} | \`${escapeCode(f.field)}\` | ${escapeCell(f.rule)} | ${escapeCell(f.message)}${detail(f)} |`);
    }
    more(lines, sorted.length, maxRows, 'failure');
    lines.push('');
  }

  lines.push('## Drift signals', '');
  if (drift.signals.length === 0) {
    lines.push(`None under the ${drift.policy} policy.`, '');
  } else {
    const severityRank = { critical: 0, error: 1, warn: 2, info: 3 } as const;
    const sorted = [...drift.signals].sort((a, b) => severityRank[a.severity] - severityRank[b.severity] || byRepositoryHeight(a, b));
    lines.push('| Severity | Signal | Scan | Kind | Repository | Height | Field | Message |', '|---|---|---|---|---|---|---|---|');
    for (const s of sorted.slice(0, maxRows)) {
      const related = s.related !== undefined && s.related.length > 0 ? ` (see ${s.related.join(', ')})` : '';
      lines.push(
        `| ${s.severity} | ${s.governance} | ${s.scan} | ${escapeCell(s.kind)} | ${escapeCell(s.repository)} | ${s.height}${related} | \`${escapeCode(s.field)}\` | ${escapeCell(s.message)} |`,
      );
    }
    more(lines, sorted.length, maxRows, 'signal');
    lines.push('');
  }

  if (governance !== undefined) {
    lines.push('## Governance chain', '', `${escapeCell(formatGovernanceChainLine(governance))}`, '', '| Job | Status | Summary |', '|---|---|---|');
    for (const job of governance.jobs) {
      const notes = job.notes.length > 0 ? ` (${job.notes.map(escapeCell).join('; ')})` : '';
      lines.push(`| ${escapeCell(job.title)} | ${job.status === 'passed' ? 'passed' : '**failed**'} | ${escapeCell(job.summary)}${notes} |`);
    }
    lines.push('');
  }
  return `${lines.join('\n').trimEnd()}\n`;
}

function verdictReasons(input: AuditReportInput): string[] {
  const reasons: string[] = [];
  const replay = input.replayResults;
  reasons.push(
    replay.failures.length === 0
      ? `replay verified ${replay.replayed} block(s)`
      : `replay found ${replay.failures.length} failure(s) at ${replay.failed} height(s)`,
  );
  reasons.push(`drift radar: GOVERNANCE SIGNAL: ${input.driftSignals.signal} (${input.driftSignals.policy})`);
  if (input.governance !== undefined) reasons.push(escapeCell(formatGovernanceChainLine(input.governance)));
  return reasons;
}

function detail(failure: ReplayFailure): string {
  if (failure.expected === undefined && failure.actual === undefined) return '';
  return ` (expected \`${escapeCode(failure.expected ?? '—')}\`, stored \`${escapeCode(failure.actual ?? '—')}\`)`;
}

function more(lines: string[], total: number, shown: number, noun: string): void {
  if (total > shown) lines.push('', `… and ${total - shown} more ${noun}(s), listed in the JSON input.`);
}

function byRepositoryHeight(a: { repository: string; height: number }, b: { repository: string; height: number }): number {
  return a.repository < b.repository ? -1 : a.repository > b.repository ? 1 : a.height - b.height;
}

/** A value printed in a table cell: no row or cell breaks, no markup, no HTML. */
export function escapeCell(text: string): string {
  return text
    .replace(/[\r\n]+/g, ' ')
    .replace(/[\\`*_[\]|#~]/g, (ch) => `\\${ch}`)
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;');
}

/** A value printed inside backticks in a cell. */
function escapeCode(text: string): string {
  return text.replace(/[\r\n]+/g, ' ').replace(/`/g, "'").replace(/\|/g, '\\|');
}

// ---- input validation ---------------------------------------------------------

type Json = Record<string, unknown>;

function invalid(file: string, field: string, message: string): InputError {
  return new InputError('INPUT_INVALID', `${file}: ${message}`, { location: { file, field } });
}

function parseJsonObject(text: string, file: string, what: string): Json {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw invalid(file, '$', `is not JSON (${(error as Error).message}); expected ${what}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid(file, '$', `expected ${what} (a JSON object)`);
  return value as Json;
}

function field<T>(file: string, obj: Json, path: string, name: string, check: (v: unknown) => v is T, what: string): T {
  const value = obj[name];
  if (!check(value)) throw invalid(file, `${path}${name}`, `${path}${name} must be ${what}`);
  return value;
}

const isString = (v: unknown): v is string => typeof v === 'string';
const isWhole = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isArray = (v: unknown): v is unknown[] => Array.isArray(v);
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const oneOf =
  <T extends string>(values: readonly T[]) =>
  (v: unknown): v is T =>
    typeof v === 'string' && (values as readonly string[]).includes(v);

/** Parses and checks the JSON `ledger replay --output` wrote. @throws InputError naming the file and field */
export function parseReplayResults(text: string, file: string): ReplayResult {
  const obj = parseJsonObject(text, file, 'replay results (`phase-mirror ledger replay --output`)');
  field(file, obj, '', 'strategy', oneOf(REPLAY_STRATEGIES), REPLAY_STRATEGIES.join(' or '));
  field(file, obj, '', 'replayed', isWhole, 'a whole number');
  field(file, obj, '', 'failed', isWhole, 'a whole number');
  const rate = field(file, obj, '', 'successRate', isNumber, 'a number');
  if (rate < 0 || rate > 100) throw invalid(file, 'successRate', 'successRate must be a percentage from 0 to 100');
  if (obj.window !== undefined && obj.window !== null && !isWhole(obj.window)) throw invalid(file, 'window', 'window must be a whole number or null');
  const failures = field(file, obj, '', 'failures', isArray, 'an array');
  failures.forEach((f, i) => {
    const path = `failures[${i}].`;
    if (!isObject(f)) throw invalid(file, `failures[${i}]`, `failures[${i}] must be an object`);
    field(file, f, path, 'repository', isString, 'a string');
    field(file, f, path, 'height', isWhole, 'a whole number');
    field(file, f, path, 'field', isString, 'a string');
    field(file, f, path, 'rule', isString, 'a string');
    field(file, f, path, 'message', isString, 'a string');
    for (const name of ['expected', 'actual'] as const) if (f[name] !== undefined && !isString(f[name])) throw invalid(file, `${path}${name}`, `${path}${name} must be a string`);
  });
  const range = field(file, obj, '', 'range', isArray, 'an array');
  range.forEach((r, i) => {
    const path = `range[${i}].`;
    if (!isObject(r)) throw invalid(file, `range[${i}]`, `range[${i}] must be an object`);
    field(file, r, path, 'repository', isString, 'a string');
    if (r.head !== null && !isWhole(r.head)) throw invalid(file, `${path}head`, `${path}head must be a whole number or null`);
    field(file, r, path, 'start', isNumber, 'a number');
    field(file, r, path, 'end', isNumber, 'a number');
    field(file, r, path, 'replayed', isWhole, 'a whole number');
    field(file, r, path, 'failed', isWhole, 'a whole number');
    if (r.anchor !== null && r.anchor !== undefined) {
      if (!isObject(r.anchor)) throw invalid(file, `${path}anchor`, `${path}anchor must be an object or null`);
      for (const name of ['epoch', 'startHeight', 'endHeight'] as const) field(file, r.anchor, `${path}anchor.`, name, isWhole, 'a whole number');
    }
  });
  return { window: null, readOnly: true, ...obj, range: range.map((r) => ({ anchor: null, epochsChecked: 0, ...(r as Json) })) } as unknown as ReplayResult;
}

const SEVERITIES = ['info', 'warn', 'error', 'critical'] as const;
const SIGNALS = ['OK', 'WARN', 'BLOCK'] as const;

/** Parses and checks the JSON `ledger drift-radar --output` wrote. @throws InputError naming the file and field */
export function parseDriftSignals(text: string, file: string): DriftRadarResult {
  const obj = parseJsonObject(text, file, 'drift signals (`phase-mirror ledger drift-radar --output`)');
  if (obj.kind !== 'phase-mirror.drift-signals') throw invalid(file, 'kind', 'kind must be "phase-mirror.drift-signals": not a drift radar output');
  field(file, obj, '', 'policy', oneOf(GOVERNANCE_POLICIES), GOVERNANCE_POLICIES.join(', '));
  field(file, obj, '', 'signal', oneOf(SIGNALS), SIGNALS.join(', '));
  const scanTypes = field(file, obj, '', 'scanTypes', isArray, 'an array');
  scanTypes.forEach((t, i) => {
    if (!oneOf(DRIFT_SCAN_TYPES)(t)) throw invalid(file, `scanTypes[${i}]`, `scanTypes[${i}] must be one of ${DRIFT_SCAN_TYPES.join(', ')}`);
  });
  const scanned = field(file, obj, '', 'scanned', isObject, 'an object');
  field(file, scanned, 'scanned.', 'repositories', isWhole, 'a whole number');
  field(file, scanned, 'scanned.', 'blocks', isWhole, 'a whole number');
  const counts = field(file, obj, '', 'counts', isObject, 'an object');
  for (const severity of SEVERITIES) field(file, counts, 'counts.', severity, isWhole, 'a whole number');
  const signals = field(file, obj, '', 'signals', isArray, 'an array');
  signals.forEach((s, i) => {
    const path = `signals[${i}].`;
    if (!isObject(s)) throw invalid(file, `signals[${i}]`, `signals[${i}] must be an object`);
    field(file, s, path, 'scan', oneOf(DRIFT_SCAN_TYPES), DRIFT_SCAN_TYPES.join(', '));
    field(file, s, path, 'kind', isString, 'a string');
    field(file, s, path, 'severity', oneOf(SEVERITIES), SEVERITIES.join(', '));
    field(file, s, path, 'governance', oneOf(SIGNALS), SIGNALS.join(', '));
    field(file, s, path, 'repository', isString, 'a string');
    field(file, s, path, 'height', isWhole, 'a whole number');
    field(file, s, path, 'field', isString, 'a string');
    field(file, s, path, 'message', isString, 'a string');
    if (s.related !== undefined && !(isArray(s.related) && s.related.every(isWhole))) throw invalid(file, `${path}related`, `${path}related must be an array of heights`);
  });
  return obj as unknown as DriftRadarResult;
}

/** Parses and checks the JSON `governance-chain -o` wrote. @throws InputError naming the file and field */
export function parseGovernanceChainResult(text: string, file: string): GovernanceChainResult {
  const obj = parseJsonObject(text, file, 'governance chain results (`phase-mirror governance-chain -o`)');
  if (obj.kind !== 'phase-mirror.governance-chain') throw invalid(file, 'kind', 'kind must be "phase-mirror.governance-chain": not a governance chain output');
  field(file, obj, '', 'passed', (v): v is boolean => typeof v === 'boolean', 'a boolean');
  field(file, obj, '', 'passedJobs', isWhole, 'a whole number');
  field(file, obj, '', 'totalJobs', isWhole, 'a whole number');
  const ids = GOVERNANCE_JOB_ORDER.map((j) => j.id);
  const failedJobs = field(file, obj, '', 'failedJobs', isArray, 'an array');
  failedJobs.forEach((id, i) => {
    if (!oneOf(ids)(id)) throw invalid(file, `failedJobs[${i}]`, `failedJobs[${i}] must be one of ${ids.join(', ')}`);
  });
  const jobs = field(file, obj, '', 'jobs', isArray, 'an array');
  jobs.forEach((j, i) => {
    const path = `jobs[${i}].`;
    if (!isObject(j)) throw invalid(file, `jobs[${i}]`, `jobs[${i}] must be an object`);
    field(file, j, path, 'id', oneOf(ids), ids.join(', '));
    field(file, j, path, 'title', isString, 'a string');
    field(file, j, path, 'status', oneOf(['passed', 'failed'] as const), 'passed or failed');
    field(file, j, path, 'summary', isString, 'a string');
    const notes = field(file, j, path, 'notes', isArray, 'an array');
    if (!notes.every(isString)) throw invalid(file, `${path}notes`, `${path}notes must be an array of strings`);
  });
  return obj as unknown as GovernanceChainResult;
}
