/**
 * GitHub Actions rendering: workflow commands that annotate the pull request
 * at the evidence, and a markdown job summary for `$GITHUB_STEP_SUMMARY`.
 * Everything derived from the repository is escaped so it cannot end a
 * command early, start another one, or inject markup.
 */
import { SEVERITIES } from '../types';
import type { DissonanceReport, ReportItem, Severity } from '../types';
import { formatLocation, sortFindings } from './format-text';

export type GithubCommand = 'error' | 'warning' | 'notice';

const COMMANDS: Readonly<Record<Severity, GithubCommand>> = {
  critical: 'error',
  high: 'error',
  medium: 'warning',
  low: 'notice',
};

/** Findings listed in the job summary; GitHub rejects summaries over 1 MiB. */
const MAX_SUMMARY_FINDINGS = 500;

/** Escapes the message of a workflow command (`%`, CR, LF). */
export function escapeCommandData(text: string): string {
  return text.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

/** Escapes a workflow command property value (data escapes plus `:` and `,`). */
export function escapeCommandProperty(text: string): string {
  return escapeCommandData(text).replace(/:/g, '%3A').replace(/,/g, '%2C');
}

/**
 * Renders a report as GitHub workflow commands: one annotation per finding
 * (critical/high ⇒ error, medium ⇒ warning, low ⇒ notice) at its first
 * evidence (the count of further locations is appended to the message;
 * findings without evidence are annotated without a file), then the decision
 * (`::error::` when it blocks, `::notice::` otherwise).
 */
export function formatGithub(report: DissonanceReport): string {
  const lines = sortFindings(report.items).map(annotation);
  const decision = report.machine_decision;
  const command = decision.outcome === 'block' ? 'error' : 'notice';
  const degraded = decision.degraded ? ' (degraded)' : '';
  lines.push(`::${command}::${escapeCommandData(`Phase Mirror: ${decision.outcome}${degraded}: ${decision.reason}`)}`);
  return `${lines.join('\n')}\n`;
}

function annotation(item: ReportItem): string {
  const properties: string[] = [];
  const [first, ...others] = item.evidence;
  if (first !== undefined) {
    properties.push(`file=${escapeCommandProperty(first.path)}`);
    if (first.line > 0) properties.push(`line=${first.line}`);
  }
  properties.push(`title=${escapeCommandProperty(item.rule_id)}`);
  const more = others.length > 0 ? ` (+${others.length} more location${others.length === 1 ? '' : 's'})` : '';
  return `::${COMMANDS[item.severity]} ${properties.join(',')}::${escapeCommandData(`${item.title}${more}`)}`;
}

/** Escapes text for a markdown table cell (no markup, no HTML, single line). */
function cell(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/([\\`*_[\]|#~])/g, '\\$1')
    .replace(/\r?\n|\r/g, ' ');
}

/**
 * Markdown for `$GITHUB_STEP_SUMMARY`: the decision, counts by severity, a
 * table of findings (the first 500) and the degradation/demotion/evaluation
 * error notes that explain the decision.
 */
export function formatJobSummary(report: DissonanceReport): string {
  const { machine_decision: decision, summary, meta } = report;
  const out: string[] = [];
  out.push(`## Phase Mirror: ${decision.outcome}${decision.degraded ? ' (degraded)' : ''}`, '');
  out.push(`**Decision:** ${cell(decision.outcome)}: ${cell(decision.reason)}`, '');
  out.push('| Severity | Count |', '| --- | ---: |');
  for (const severity of SEVERITIES) out.push(`| ${severity} | ${summary.by_severity[severity]} |`);
  out.push(`| **total** | **${summary.total}** |`, '');

  const findings = sortFindings(report.items);
  if (findings.length === 0) {
    out.push('No findings.');
  } else {
    out.push('### Findings', '', '| Severity | Rule | Location | Title |', '| --- | --- | --- | --- |');
    for (const item of findings.slice(0, MAX_SUMMARY_FINDINGS)) {
      const locations = item.evidence.map((evidence) => cell(formatLocation(evidence.path, evidence.line))).join('<br>');
      out.push(`| ${item.severity} | ${cell(item.rule_id)} | ${locations} | ${cell(item.title)} |`);
    }
    if (findings.length > MAX_SUMMARY_FINDINGS) {
      out.push('', `${findings.length - MAX_SUMMARY_FINDINGS} more findings are in the report file.`);
    }
  }

  const notes: string[] = [];
  if (meta.degraded !== undefined) notes.push(`Degraded: ${meta.degraded.reason}: ${cell(meta.degraded.details)}`);
  for (const d of meta.demotions ?? []) {
    notes.push(`Demoted ${cell(d.ruleId)} ${d.fromStatus} to ${d.toStatus}: observed FPR ${d.observedFPR} above ${d.threshold}`);
  }
  for (const e of meta.evaluationErrors ?? []) {
    notes.push(`Evaluation error in ${cell(e.ruleId)}@${cell(e.ruleVersion)} (${e.phase}): ${cell(e.message)}`);
  }
  if ((meta.suppressions?.length ?? 0) > 0) notes.push(`${meta.suppressions?.length} finding(s) suppressed as false positives`);
  if ((meta.skipped_files?.length ?? 0) > 0) notes.push(`${meta.skipped_files?.length} file(s) skipped`);
  if (notes.length > 0) {
    out.push('', '### Notes', '');
    for (const note of notes) out.push(`- ${note}`);
  }
  out.push('', `<sub>run ${cell(meta.run_id)} at ${cell(meta.timestamp)}, rules ${meta.rules_hash.slice(0, 12)}</sub>`);
  return `${out.join('\n')}\n`;
}
