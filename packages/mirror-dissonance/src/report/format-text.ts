/**
 * Human-readable rendering of a report for terminals and logs: the decision
 * first, then counts, then findings in a stable order, then everything that
 * changed or limited the decision (suppressions, demotions, evaluation errors,
 * skipped files, notes).
 */
import { SEVERITIES } from '../types';
import type { DissonanceReport, Outcome, ReportItem, Severity } from '../types';

export interface TextFormatOptions {
  /** Emit ANSI colours. The CLI decides from the TTY and NO_COLOR. */
  color: boolean;
}

const SEVERITY_RANK: Readonly<Record<Severity, number>> = Object.fromEntries(
  SEVERITIES.map((severity, index) => [severity, index]),
) as Record<Severity, number>;

/**
 * Findings in display order: severity (highest first), rule id, first evidence
 * path, first evidence line, then fingerprint. Shared by every output format so
 * they list findings identically.
 */
export function sortFindings(items: readonly ReportItem[]): ReportItem[] {
  return [...items].sort(compareFindings);
}

function compareFindings(a: ReportItem, b: ReportItem): number {
  return (
    SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity] ||
    compareStrings(a.rule_id, b.rule_id) ||
    compareStrings(a.evidence[0]?.path ?? '', b.evidence[0]?.path ?? '') ||
    (a.evidence[0]?.line ?? 0) - (b.evidence[0]?.line ?? 0) ||
    compareStrings(a.id, b.id)
  );
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** `path:line`, or the bare path when the evidence concerns a whole file (line 0). */
export function formatLocation(filePath: string, line: number): string {
  return line > 0 ? `${filePath}:${line}` : filePath;
}

// C0/C1 controls and bidirectional overrides: repository content must not be
// able to drive the terminal or disguise what is printed.
const UNSAFE_CHARS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
const UNSAFE_INLINE_CHARS = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

function escapeChar(char: string): string {
  return `\\u{${char.codePointAt(0)?.toString(16)}}`;
}

/** Single-line text with every control character (newlines included) made visible. */
function inline(text: string): string {
  return text.replace(UNSAFE_INLINE_CHARS, escapeChar);
}

/** One line of a snippet: tabs kept, other controls made visible. */
function snippetLine(text: string): string {
  return text.replace(UNSAFE_CHARS, escapeChar);
}

type Style = 'bold' | 'dim' | 'red' | 'boldRed' | 'yellow' | 'green' | 'cyan';
const ANSI: Readonly<Record<Style, string>> = {
  bold: '\u001b[1m',
  dim: '\u001b[2m',
  red: '\u001b[31m',
  boldRed: '\u001b[1;31m',
  yellow: '\u001b[33m',
  green: '\u001b[32m',
  cyan: '\u001b[36m',
};
const RESET = '\u001b[0m';

const SEVERITY_STYLE: Readonly<Record<Severity, Style>> = {
  critical: 'boldRed',
  high: 'red',
  medium: 'yellow',
  low: 'cyan',
};
const OUTCOME_STYLE: Readonly<Record<Outcome, Style>> = { pass: 'green', warn: 'yellow', block: 'boldRed' };

/**
 * Renders a report as plain text (with ANSI colours when `options.color`).
 * All repository-derived strings are escaped so they cannot inject terminal
 * control sequences.
 */
export function formatText(report: DissonanceReport, options: TextFormatOptions): string {
  const paint = (style: Style, text: string): string => (options.color ? `${ANSI[style]}${text}${RESET}` : text);
  const { meta, machine_decision: decision, summary } = report;
  const lines: string[] = [];

  const degraded = decision.degraded ? ` ${paint('yellow', '(degraded)')}` : '';
  lines.push(`${paint('bold', 'Phase Mirror:')} ${paint(OUTCOME_STYLE[decision.outcome], decision.outcome.toUpperCase())}${degraded}`);
  lines.push(`  reason: ${inline(decision.reason)}`);
  const context = [`run ${inline(meta.run_id)} at ${inline(meta.timestamp)}`];
  if (meta.mode !== undefined) context.push(`mode ${meta.mode}`);
  if (meta.event !== undefined) context.push(`repository ${inline(meta.event.repository)}`);
  context.push(`rules ${meta.rules_hash.slice(0, 12)}`);
  lines.push(paint('dim', `  ${context.join(', ')}`));
  lines.push('');

  const counts = SEVERITIES.map((severity) => `${severity} ${summary.by_severity[severity]}`).join(', ');
  lines.push(`${paint('bold', 'Findings:')} ${summary.total} (${counts})`);
  const findings = sortFindings(report.items);
  if (findings.length === 0) {
    lines.push('  No findings.');
  }
  for (const item of findings) {
    const severity = paint(SEVERITY_STYLE[item.severity], item.severity.toUpperCase().padEnd(8));
    lines.push(`  ${severity} ${inline(item.rule_id)}  ${inline(item.title)}`);
    for (const evidence of item.evidence) {
      lines.push(`    ${inline(formatLocation(evidence.path, evidence.line))}`);
      for (const line of evidence.snippet.value.split(/\r?\n/)) {
        lines.push(paint('dim', `      ${snippetLine(line)}`));
      }
    }
  }

  if (meta.degraded !== undefined) {
    lines.push('', paint('bold', 'Degraded:'));
    lines.push(`  ${meta.degraded.reason} at ${inline(meta.degraded.timestamp)}: ${inline(meta.degraded.details)}`);
  }
  section(lines, paint, 'Suppressions', meta.suppressions, (s) =>
    `${inline(s.rule_id)} finding ${s.finding_id.slice(0, 12)}: ${inline(s.reason)} (event ${inline(s.event_id)}, by ${inline(s.reviewer)} at ${inline(s.marked_at)})`,
  );
  section(lines, paint, 'Demotions', meta.demotions, (d) =>
    `${inline(d.ruleId)} ${d.fromStatus} -> ${d.toStatus}: observed FPR ${d.observedFPR} > ${d.threshold} (${inline(d.reason)})`,
  );
  section(lines, paint, 'Evaluation errors', meta.evaluationErrors, (e) =>
    `${inline(e.ruleId)}@${inline(e.ruleVersion)} [${e.phase}]: ${inline(e.message)}`,
  );
  section(lines, paint, 'Skipped files', meta.skipped_files, (f) => `${inline(f.path)}: ${f.reason} (${inline(f.detail)})`);
  section(lines, paint, 'Notes', meta.notes, (note) => inline(note));
  if (meta.ledger !== undefined) {
    lines.push('', `${paint('bold', 'Ledger:')} height ${meta.ledger.height}, hash ${meta.ledger.hash.slice(0, 16)}`);
  }
  return `${lines.join('\n')}\n`;
}

function section<T>(
  lines: string[],
  paint: (style: Style, text: string) => string,
  title: string,
  entries: readonly T[] | undefined,
  describe: (entry: T) => string,
): void {
  if (entries === undefined || entries.length === 0) return;
  lines.push('', paint('bold', `${title} (${entries.length}):`));
  for (const entry of entries) lines.push(`  - ${describe(entry)}`);
}
