/**
 * MD-005 — integrity baseline drift. The repository declares, in a committed
 * baseline, the hashes of the files it considers pinned; when the changes
 * (added, removed or modified files) relative to the number of pinned files
 * are strictly above the policy threshold, that declaration no longer
 * describes the repository.
 */
import { compareBaseline, type BaselineDrift, type IntegrityBaseline } from '../baseline/baseline';
import type { Artifacts, EvidenceInput, Rule, RuleContext, RuleFinding } from '../types';

/** Hash prefix length shown in evidence: enough to tell versions apart, short enough to read. */
const HASH_PREFIX = 12;

/**
 * Drift magnitude for the L0 drift check; undefined when the repository has
 * no baseline (the pipeline reports the check as skipped).
 */
export function driftMagnitude(artifacts: Artifacts): number | undefined {
  if (artifacts.baseline === undefined) return undefined;
  return compareBaseline(artifacts.baseline, artifacts.baselineCurrent).magnitude;
}

/**
 * One evidence entry per changed path, sorted by path. Removed files no longer
 * have lines (line 0); added and modified files point at their first line.
 */
export function driftEvidence(
  drift: BaselineDrift,
  baseline: IntegrityBaseline,
  current: ReadonlyMap<string, string>,
): EvidenceInput[] {
  const evidence: EvidenceInput[] = [];
  for (const path of drift.added) {
    evidence.push({ path, line: 1, snippet: `added: sha256 ${short(current.get(path) as string)}` });
  }
  for (const path of drift.removed) {
    evidence.push({ path, line: 0, snippet: `removed: was sha256 ${short(baseline.files[path])}` });
  }
  for (const { path, oldHash, newHash } of drift.modified) {
    evidence.push({ path, line: 1, snippet: `modified: sha256 ${short(oldHash)} → ${short(newHash)}` });
  }
  return evidence.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

function short(hash: string): string {
  return `${hash.slice(0, HASH_PREFIX)}…`;
}

/** Ratio or count, printed without float noise (at most 4 decimals). */
function formatNumber(value: number): string {
  return String(Number(value.toFixed(4)));
}

export const md005: Rule = {
  id: 'MD-005',
  version: '1.0.0',
  title: 'Integrity baseline drift',
  description:
    'The files pinned by the committed integrity baseline changed (added, removed or modified) by more than the policy threshold allows: the baseline no longer describes the repository. Review the changes, then regenerate the baseline or revert them.',
  severity: 'high',
  fpTolerance: { ceiling: 0.1, window: 20 },
  evaluate({ artifacts }: RuleContext): readonly RuleFinding[] {
    const baseline = artifacts.baseline;
    if (baseline === undefined) return [];
    const drift = compareBaseline(baseline, artifacts.baselineCurrent);
    const threshold = artifacts.policy.baseline.threshold;
    if (!(drift.magnitude > threshold)) return [];
    const changes = drift.added.length + drift.removed.length + drift.modified.length;
    return [
      {
        key: 'drift',
        title:
          `Integrity baseline drift ${formatNumber(drift.magnitude)} exceeds threshold ${formatNumber(threshold)}: ` +
          `${changes} ${changes === 1 ? 'change' : 'changes'} against ${drift.declared} pinned ${drift.declared === 1 ? 'file' : 'files'} ` +
          `(${drift.added.length} added, ${drift.removed.length} removed, ${drift.modified.length} modified)`,
        evidence: driftEvidence(drift, baseline, artifacts.baselineCurrent),
      },
    ];
  },
};
