/**
 * Verification of every redacted snippet of a report against the nonce
 * versions valid now (`phase-mirror nonce verify`, and hosts that re-check
 * stored reports). Each failure names the finding, the evidence and a reason:
 * brand or MAC mismatch (tampered), unknown version, version past its grace
 * period, or a malformed snippet.
 */
import { IntegrityError } from '../errors';
import { verifyRedactedText } from '../redaction/redactor';
import type { DissonanceReport, RedactedText } from '../types';
import type { NonceKeyring, NonceLoader } from './loader';

export type SnippetFailureReason = 'brand_mismatch' | 'mac_mismatch' | 'unknown_nonce_version' | 'nonce_version_expired' | 'malformed';

export interface SnippetFailure {
  itemId: string;
  ruleId: string;
  evidenceIndex: number;
  path: string;
  line: number;
  nonceVersion: unknown;
  reason: SnippetFailureReason;
  message: string;
}

export interface ReportVerification {
  /** Snippets examined. */
  checked: number;
  failures: SnippetFailure[];
  /** Set when a verification ran on a cache because the store was unreachable. */
  degraded?: NonceKeyring['degraded'];
}

export async function verifyReportSnippets(report: DissonanceReport, loader: NonceLoader): Promise<ReportVerification> {
  const failures: SnippetFailure[] = [];
  let checked = 0;
  let degraded: NonceKeyring['degraded'];
  const rings = new Map<number, NonceKeyring>();
  for (const item of report.items) {
    for (let index = 0; index < item.evidence.length; index++) {
      const evidence = item.evidence[index]!;
      const snippet = evidence.snippet as RedactedText | undefined;
      checked += 1;
      const where = { itemId: item.id, ruleId: item.rule_id, evidenceIndex: index, path: evidence.path, line: evidence.line };
      const version = (snippet as { nonce_version?: unknown } | undefined)?.nonce_version;
      if (!Number.isInteger(version)) {
        failures.push({ ...where, nonceVersion: version, reason: 'malformed', message: 'snippet has no integer nonce_version' });
        continue;
      }
      // One keyring per distinct version per report: snippets share a few versions.
      let ring = rings.get(version as number);
      if (ring === undefined) {
        ring = await loader.keyringFor(version as number);
        rings.set(version as number, ring);
      }
      degraded ??= ring.degraded;
      const expired = ring.expired.find((entry) => entry.version === version);
      if (expired !== undefined && !ring.accepted.some((key) => key.version === version)) {
        failures.push({
          ...where,
          nonceVersion: version,
          reason: 'nonce_version_expired',
          message: `nonce version ${String(version)} left its grace period at ${expired.validUntil.toISOString()}`,
        });
        continue;
      }
      try {
        verifyRedactedText(snippet as RedactedText, ring.accepted);
      } catch (error) {
        if (!(error instanceof IntegrityError)) throw error;
        const reason = (error.context.reason as SnippetFailureReason | undefined) ?? 'malformed';
        failures.push({ ...where, nonceVersion: version, reason, message: error.message });
      }
    }
  }
  return { checked, failures, ...(degraded !== undefined ? { degraded } : {}) };
}
