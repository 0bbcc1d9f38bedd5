/**
 * `nonce status|rotate|verify`: the redaction nonce lifecycle (DESIGN §8) on
 * the configured backend — SSM `/guardian/<stage>/redaction_nonce_v<N>` or
 * the embedded state folder. Rotation is the same library function the
 * nonce-rotation Lambda runs. Nothing here ever prints a nonce value.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  InputError,
  JsonLinesMetricsSink,
  NonceLoader,
  nonceStatus,
  rotateNonce,
  UsageError,
  verifyReportSnippets,
  type DissonanceReport,
  type NonceSecretStore,
} from '@phase-mirror/mirror-dissonance';
import { EXIT } from '../exit-codes';
import type { Io } from '../io';
import type { Workspace } from '../workspace';

const FORMATS = ['text', 'json'] as const;

function parseFormat(value: string | undefined): (typeof FORMATS)[number] {
  const format = value ?? 'text';
  if ((FORMATS as readonly string[]).includes(format)) return format as (typeof FORMATS)[number];
  throw new UsageError(`unknown format "${format}"; use text or json`, { location: { flag: '--format' } });
}

/** `nonce status`: every version and its state (signing, in grace until, expired awaiting deletion). */
export async function nonceStatusCommand(options: { format?: string }, store: NonceSecretStore, workspace: Workspace, io: Io): Promise<number> {
  const format = parseFormat(options.format);
  const grace = workspace.config.nonce.gracePeriodMs;
  const versions = await nonceStatus(store, { gracePeriodMs: grace });
  if (format === 'json') {
    io.out(JSON.stringify({ location: store.location, gracePeriodSeconds: grace / 1000, versions }, null, 2));
    return EXIT.OK;
  }
  io.out(`redaction nonce at ${store.location} (grace period ${grace / 1000} s)`);
  if (versions.length === 0) {
    io.out('  no version yet: `phase-mirror nonce rotate` creates version 1');
    return EXIT.OK;
  }
  for (const entry of versions) {
    const state =
      entry.state === 'signing'
        ? 'signing'
        : entry.state === 'in_grace'
          ? `verifies until ${entry.validUntil!.toISOString()}`
          : `expired ${entry.validUntil!.toISOString()} (deleted by the next rotation)`;
    io.out(`  v${entry.version}  created ${entry.createdAt.toISOString()}  ${state}`);
  }
  return EXIT.OK;
}

/**
 * `nonce rotate`: creates the next version; the previous one keeps verifying
 * for the grace period of the configuration (`nonce.gracePeriodSeconds`), the
 * same period every verifier applies; expired versions are deleted.
 */
export async function nonceRotateCommand(options: { format?: string }, store: NonceSecretStore, workspace: Workspace, io: Io): Promise<number> {
  const format = parseFormat(options.format);
  const result = await rotateNonce(store, {
    gracePeriodMs: workspace.config.nonce.gracePeriodMs,
    metrics: new JsonLinesMetricsSink(join(workspace.stateDir, 'metrics.jsonl')),
  });
  if (format === 'json') {
    io.out(JSON.stringify({ location: store.location, ...result }, null, 2));
    return EXIT.OK;
  }
  const how = result.outcome === 'created' ? 'created' : 'was created by a concurrent rotation';
  io.out(`version ${result.version} ${how} at ${store.location} and now signs`);
  if (result.previousVersion !== undefined) {
    io.out(`version ${result.previousVersion} verifies until ${result.previousValidUntil!.toISOString()}`);
  }
  if (result.deleted.length > 0) io.out(`deleted expired version${result.deleted.length > 1 ? 's' : ''} ${result.deleted.join(', ')}`);
  return EXIT.OK;
}

/**
 * `nonce verify <report>`: recomputes the brand and MAC of every redacted
 * snippet under the versions valid now. Exit 0 when all verify, 1 when any
 * fails (each failure listed with its reason), 3 when the file is not a report.
 */
export async function nonceVerifyCommand(
  reportPath: string,
  options: { format?: string },
  store: NonceSecretStore,
  workspace: Workspace,
  io: Io,
): Promise<number> {
  const format = parseFormat(options.format);
  const file = resolve(io.cwd, reportPath);
  const report = readReport(file, reportPath);
  // Verification never creates a version: with none stored, every snippet is unknown.
  const loader = new NonceLoader({ store, gracePeriodMs: workspace.config.nonce.gracePeriodMs });
  const verification = await verifyReportSnippets(report, loader);
  const ok = verification.failures.length === 0;
  if (format === 'json') {
    io.out(JSON.stringify({ report: reportPath, ok, ...verification }, null, 2));
  } else {
    if (verification.degraded !== undefined) io.err(`warning: degraded (${verification.degraded.reason}): ${verification.degraded.details}`);
    for (const failure of verification.failures) {
      io.out(`FAIL  ${failure.path}:${failure.line}  ${failure.ruleId} ${failure.itemId} evidence[${failure.evidenceIndex}]: ${failure.reason}: ${failure.message}`);
    }
    io.out(
      ok
        ? `verified ${verification.checked} redacted snippet${verification.checked === 1 ? '' : 's'} in ${reportPath}`
        : `${verification.failures.length} of ${verification.checked} redacted snippets failed verification in ${reportPath}`,
    );
  }
  return ok ? EXIT.OK : EXIT.BLOCK;
}

/** Parses the report far enough to reach every snippet; anything else is an input error naming the field. */
function readReport(file: string, label: string): DissonanceReport {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new InputError('FILE_UNREADABLE', `cannot read report: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, {
      location: { file: label },
      cause: error,
    });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new InputError('REPORT_INVALID', `not JSON: ${(error as Error).message}`, { location: { file: label } });
  }
  const items = (parsed as { items?: unknown } | null)?.items;
  if (!Array.isArray(items)) throw new InputError('REPORT_INVALID', 'not a dissonance report: items is not an array', { location: { file: label, field: 'items' } });
  items.forEach((item: unknown, index) => {
    if (item === null || typeof item !== 'object' || !Array.isArray((item as { evidence?: unknown }).evidence)) {
      throw new InputError('REPORT_INVALID', `not a dissonance report: items[${index}].evidence is not an array`, {
        location: { file: label, field: `items[${index}].evidence` },
      });
    }
  });
  return parsed as DissonanceReport;
}
