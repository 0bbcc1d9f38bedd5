/**
 * `calibration ingest | aggregate | show`: cross-organisation FP calibration
 * (DESIGN §7). Ingestion needs the organisation's `rule_calibration` consent
 * and stores only an anonymized record; aggregates are shown only for rules
 * with at least k distinct organisations. The stores and the salt come from
 * the configured backend (wired by main.ts), so the commands work the same on
 * the embedded database and on DynamoDB/SSM.
 */
import {
  aggregateRule,
  Anonymizer,
  ingestOutcome,
  InputError,
  K_ANONYMITY_MIN,
  UsageError,
  type AggregateResult,
  type CalibrationStore,
  type ConsentStore,
} from '@phase-mirror/mirror-dissonance';
import { EXIT } from '../exit-codes';
import type { Io } from '../io';

/** What the calibration commands use, opened by the caller on the configured backend. */
export interface CalibrationCommandDeps {
  consent: ConsentStore;
  calibration: CalibrationStore;
  /** The anonymizer salt (SSM SecureString or the embedded state folder). */
  salt: () => Promise<string>;
}

/** Exit status of an ingest refused by consent, or an aggregate withheld by k-anonymity. */
export const EXIT_REFUSED = 1;

const OUTPUT_FORMATS = ['text', 'json'] as const;
const ISO_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

/** Flags naming each field of an outcome, so input errors point at what the user typed. */
const FLAG_OF_FIELD: Readonly<Record<string, string>> = {
  orgId: '--org',
  repository: '--repo',
  ruleId: '--rule',
  observedAt: '--at',
};

export interface CalibrationIngestOptions {
  org: string;
  repo?: string;
  rule: string;
  /** The finding was a false positive. */
  fp?: boolean;
  /** The finding was a true positive. */
  tp?: boolean;
  /** When the outcome was observed (ISO 8601 with offset). @default now */
  at?: string;
  /** @default 'text' */
  format?: string;
}

/**
 * `calibration ingest --org O [--repo owner/name] --rule R --fp|--tp [--at ISO]`:
 * exit 0 when the outcome was stored, 1 when consent refused it (nothing stored).
 */
export async function calibrationIngestCommand(options: CalibrationIngestOptions, deps: CalibrationCommandDeps, io: Io): Promise<number> {
  const format = outputFormat(options.format);
  if (options.fp === true && options.tp === true) {
    throw new UsageError('--fp and --tp are exclusive: an outcome is either a false or a true positive', { location: { flag: '--fp' } });
  }
  if (options.fp !== true && options.tp !== true) {
    throw new UsageError('give --fp (the finding was a false positive) or --tp (it was a true positive)', { location: { flag: '--fp' } });
  }
  const now = new Date();
  const observedAt = options.at === undefined ? now : parseAt(options.at);
  const anonymizer = new Anonymizer(await deps.salt());

  let result: Awaited<ReturnType<typeof ingestOutcome>>;
  try {
    result = await ingestOutcome(
      { consent: deps.consent, store: deps.calibration, anonymizer },
      {
        orgId: options.org,
        ...(options.repo !== undefined ? { repository: options.repo } : {}),
        ruleId: options.rule,
        falsePositive: options.fp === true,
        observedAt,
      },
      now,
    );
  } catch (error) {
    throw asUsageError(error);
  }

  if (format === 'json') {
    io.out(JSON.stringify(result, null, 2));
  } else if (result.accepted) {
    const outcome = result.record.falsePositive ? 'false positive' : 'true positive';
    io.out(`accepted: ${result.record.ruleId} ${outcome} in the hour of ${result.record.bucket} (organisation stored as an anonymized hash, no repository)`);
  } else {
    io.out(`refused (${result.state}): ${result.reason}; nothing was stored`);
  }
  return result.accepted ? EXIT.OK : EXIT_REFUSED;
}

/**
 * `calibration aggregate --rule R [--k N]`: the rule's FPR across
 * organisations; exit 1 with INSUFFICIENT_K_ANONYMITY when fewer than k
 * organisations contributed.
 */
export async function calibrationAggregateCommand(
  options: { rule: string; k?: string; format?: string },
  deps: CalibrationCommandDeps,
  io: Io,
): Promise<number> {
  const format = outputFormat(options.format);
  const k = parseK(options.k);
  if (typeof options.rule !== 'string' || options.rule.trim().length === 0) {
    throw new UsageError('--rule must name a rule (e.g. MD-002)', { location: { flag: '--rule' } });
  }
  const result = await aggregateRule(deps.calibration, options.rule, k);
  if (format === 'json') io.out(JSON.stringify(result, null, 2));
  else if (result.released) io.out(describeReleased(result));
  else io.out(`${result.code}: ${result.message}`);
  return result.released ? EXIT.OK : EXIT_REFUSED;
}

/**
 * `calibration show [--k N] [--format json]`: every rule with records, its
 * aggregate when released, else "withheld". Exit 0.
 */
export async function calibrationShowCommand(options: { k?: string; format?: string }, deps: CalibrationCommandDeps, io: Io): Promise<number> {
  const format = outputFormat(options.format);
  const k = parseK(options.k);
  const rules: AggregateResult[] = [];
  for (const ruleId of await deps.calibration.ruleIds()) rules.push(await aggregateRule(deps.calibration, ruleId, k));

  if (format === 'json') {
    io.out(JSON.stringify({ k, rules }, null, 2));
    return EXIT.OK;
  }
  if (rules.length === 0) {
    io.out('no calibration records');
    return EXIT.OK;
  }
  io.out(`k-anonymity: an aggregate is released only when at least ${k} organisations contributed`);
  const width = Math.max(...rules.map((rule) => rule.ruleId.length));
  for (const rule of rules) {
    const name = rule.ruleId.padEnd(width);
    io.out(rule.released ? `${name}  ${describeCounts(rule)}` : `${name}  withheld (fewer than k organisations)`);
  }
  return EXIT.OK;
}

function describeReleased(result: Extract<AggregateResult, { released: true }>): string {
  return `${result.ruleId}: ${describeCounts(result)}`;
}

function describeCounts(result: Extract<AggregateResult, { released: true }>): string {
  const percent = (result.fpr * 100).toFixed(1);
  return `FPR ${percent}% (${result.falsePositives} false positives in ${result.outcomes} outcomes from ${result.organizations} organisations)`;
}

function outputFormat(format: string | undefined): (typeof OUTPUT_FORMATS)[number] {
  const value = format ?? 'text';
  if (!(OUTPUT_FORMATS as readonly string[]).includes(value)) {
    throw new UsageError(`unknown format "${value}"; use one of ${OUTPUT_FORMATS.join(', ')}`, { location: { flag: '--format' } });
  }
  return value as (typeof OUTPUT_FORMATS)[number];
}

function parseK(value: string | undefined): number {
  if (value === undefined) return K_ANONYMITY_MIN;
  const k = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(k) || k < K_ANONYMITY_MIN) {
    throw new UsageError(`--k must be an integer of at least ${K_ANONYMITY_MIN}, got ${JSON.stringify(value)}`, { location: { flag: '--k' } });
  }
  return k;
}

function parseAt(value: string): Date {
  const match = ISO_DATE_TIME.exec(value);
  const ms = match === null ? Number.NaN : Date.parse(value);
  if (match === null || Number.isNaN(ms) || !isCalendarDate(Number(match[1]), Number(match[2]), Number(match[3]))) {
    throw new UsageError(`--at must be an ISO 8601 date-time with an offset (e.g. 2030-01-31T12:00:00Z), got ${JSON.stringify(value)}`, {
      location: { flag: '--at' },
    });
  }
  return new Date(ms);
}

function isCalendarDate(year: number, month: number, day: number): boolean {
  return month >= 1 && month <= 12 && day >= 1 && day <= new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** An input error on a field the user gave by flag is reported against that flag. */
function asUsageError(error: unknown): unknown {
  if (!(error instanceof InputError)) return error;
  const flag = error.location.field === undefined ? undefined : FLAG_OF_FIELD[error.location.field];
  return flag === undefined ? error : new UsageError(error.message, { location: { flag }, context: { ...error.context } });
}
