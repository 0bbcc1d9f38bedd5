/**
 * Report fixtures for the report-area tests. Brands and MACs are arbitrary
 * 64-hex values: redaction verification is injected into writeReport, so these
 * tests exercise the schema and formats, not the HMAC.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sha256Hex } from '../../src/hashing';
import type { DissonanceReport, RedactedText, ReportEvidence, ReportItem, Severity } from '../../src/types';

export const REPO_ROOT = path.resolve(__dirname, '..', '..', '..', '..');
export const PACKAGE_DIR = path.join(REPO_ROOT, 'packages', 'mirror-dissonance');
export const STAMP_SCRIPT = path.join(REPO_ROOT, 'scripts', 'stamp-schema.js');

export function redacted(value: string, seed = value): RedactedText {
  return { __brand: sha256Hex(`brand:${seed}`), __mac: sha256Hex(`mac:${seed}`), value, nonce_version: 1 };
}

export function evidence(filePath: string, line: number, snippet: string): ReportEvidence {
  const snippetText = redacted(snippet);
  return { path: filePath, line, snippet: snippetText, hash: sha256Hex(`${filePath}:${line}:${snippetText.value}`) };
}

export function item(ruleId: string, key: string, severity: Severity, title: string, proofs: ReportEvidence[]): ReportItem {
  return { id: sha256Hex(`${ruleId}\u0000${key}`), rule_id: ruleId, rule_version: '1.0.0', severity, title, evidence: proofs };
}

/** A schema-valid report with a high and a medium finding, decision warn. */
export function validReport(): DissonanceReport {
  return {
    meta: {
      schema_version: '2.0.0',
      run_id: '6f1c2a8e-3b7d-4e59-9a10-2c4d5e6f7a8b',
      timestamp: '2025-11-20T10:15:30.000Z',
      rules_hash: sha256Hex('rule-set'),
    },
    items: [
      item('MD-001', 'ci.yml#job:build#unpinned:actions/checkout', 'high', 'Third-party action not pinned to a commit SHA', [
        evidence('.github/workflows/ci.yml', 12, 'uses: actions/checkout@v4'),
      ]),
      item('MD-004', 'CODEOWNERS#missing:src/auth', 'medium', 'Critical path has no code owner', [
        evidence('CODEOWNERS', 0, '[REDACTED]'),
      ]),
    ],
    summary: { total: 2, by_severity: { critical: 0, high: 1, medium: 1, low: 0 } },
    machine_decision: { outcome: 'warn', degraded: false, reason: 'findings below the blocking thresholds' },
  };
}

/** validReport() with every optional meta field filled in. */
export function fullReport(): DissonanceReport {
  const report = validReport();
  report.meta = {
    ...report.meta,
    degraded: { reason: 'circuit_breaker_triggered', timestamp: '2025-11-20T10:15:29Z', details: '100 blocks this hour' },
    demotions: [
      { ruleId: 'MD-007', fromStatus: 'blocking', toStatus: 'warn', reason: 'FPR above ceiling', observedFPR: 0.4, threshold: 0.25 },
    ],
    evaluationErrors: [{ ruleId: 'MD-009', ruleVersion: '2.1.0', phase: 'evaluate', message: 'TypeError: boom' }],
    tool: { name: 'phase-mirror', version: '0.1.0' },
    schema_hash: 'c6a117dfd26f3dc9',
    mode: 'pull_request',
    event: {
      name: 'pull_request',
      repository: 'acme/widgets',
      pr_number: 42,
      commit_sha: 'a'.repeat(40),
      head_ref: 'feature/x',
      base_ref: 'main',
      author: 'octocat',
      changed_files: 3,
      strict: false,
      dry_run: false,
    },
    skipped_files: [{ path: 'assets/big.bin', reason: 'too_large', detail: '12 MiB > 5 MiB' }],
    suppressions: [
      {
        finding_id: sha256Hex('suppressed'),
        rule_id: 'MD-002',
        event_id: 'ev-0001',
        reviewer: 'alice',
        reason: 'test fixture, not shipped',
        marked_at: '2025-11-19T08:00:00Z',
      },
    ],
    notes: ['drift skipped: no baseline'],
    ledger: { height: 7, hash: sha256Hex('block-7') },
  };
  return report;
}

/** A temp directory with the repository's node_modules linked in, so generated code can require ajv. */
export function tempDirWithModules(prefix: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  symlinkSync(path.join(REPO_ROOT, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  return dir;
}

/**
 * Copies the shipped schema into a fresh package directory and runs the stamp
 * script on it; returns the package directory (dist/ holds the outputs).
 */
export function stampedPackage(schemaFile = path.join(PACKAGE_DIR, 'schemas', 'dissonance-report.schema.json')): string {
  const packageDir = path.join(tempDirWithModules('pm-report-stamp-'), 'pkg');
  mkdirSync(path.join(packageDir, 'schemas'), { recursive: true });
  copyFileSync(schemaFile, path.join(packageDir, 'schemas', 'dissonance-report.schema.json'));
  // The build also generates the configuration validators from their schemas.
  for (const name of ['policy.schema.json', 'phase-mirror-config.schema.json']) {
    copyFileSync(path.join(PACKAGE_DIR, 'schemas', name), path.join(packageDir, 'schemas', name));
  }
  execFileSync(process.execPath, [STAMP_SCRIPT, '--package-dir', packageDir], { stdio: 'pipe' });
  return packageDir;
}
