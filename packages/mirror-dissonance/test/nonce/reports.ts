/** Small schema-shaped reports around redacted snippets, for the nonce verification tests. */
import { sha256Hex } from '../../src/hashing';
import type { DissonanceReport, RedactedText, ReportEvidence, ReportItem } from '../../src/types';

export function evidenceOf(path: string, line: number, snippet: RedactedText): ReportEvidence {
  return { path, line, snippet, hash: sha256Hex(`${path}:${line}:${snippet.value}`) };
}

export function itemOf(ruleId: string, proofs: ReportEvidence[]): ReportItem {
  return { id: sha256Hex(`item ${ruleId}`), rule_id: ruleId, rule_version: '1.0.0', severity: 'high', title: `${ruleId} finding`, evidence: proofs };
}

export function reportOf(items: ReportItem[], timestamp = new Date()): DissonanceReport {
  return {
    meta: { schema_version: '2.0.0', run_id: '6f1c2a8e-3b7d-4e59-9a10-2c4d5e6f7a8b', timestamp: timestamp.toISOString(), rules_hash: sha256Hex('rules') },
    items,
    summary: { total: items.length, by_severity: { critical: 0, high: items.length, medium: 0, low: 0 } },
    machine_decision: { outcome: 'warn', degraded: false, reason: 'test' },
  };
}

/** One MD-001 finding whose evidence lines 1..n carry the snippets. */
export function reportWithSnippets(snippets: RedactedText[]): DissonanceReport {
  return reportOf([itemOf('MD-001', snippets.map((snippet, index) => evidenceOf('.github/workflows/ci.yml', index + 1, snippet)))]);
}
