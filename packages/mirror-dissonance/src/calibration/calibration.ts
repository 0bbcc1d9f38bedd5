/**
 * Cross-organisation FP calibration (DESIGN §7). An outcome (a finding of a
 * rule judged a false or a true positive) is ingested only with the
 * organisation's `rule_calibration` consent, and stored anonymized: the org
 * as an HMAC under a secret salt, the time as its UTC hour, no repository.
 * Aggregates are released only when at least k distinct organisations
 * contribute (k-anonymity), and a withheld aggregate does not reveal how many
 * organisations there are.
 */
import { consentAllows, validateConsentScope } from '../consent/consent';
import { InputError } from '../errors';
import type { CalibrationRecord, CalibrationStore, ConsentState, ConsentStore } from '../store/ports';
import type { Anonymizer } from './anonymizer';
import { hourBucket } from './record';

/** The smallest number of distinct organisations an aggregate may be released for. */
export const K_ANONYMITY_MIN = 10;

/** One observed outcome, before anonymization. */
export interface CalibrationOutcome {
  orgId: string;
  /** `owner/name`: consent may be scoped to one repository; never stored. */
  repository?: string;
  ruleId: string;
  falsePositive: boolean;
  observedAt: Date;
}

export interface CalibrationDependencies {
  consent: ConsentStore;
  store: CalibrationStore;
  anonymizer: Anonymizer;
}

export type IngestResult =
  | { accepted: true; record: CalibrationRecord }
  | { accepted: false; state: ConsentState | 'error'; reason: string };

export interface ReleasedAggregate {
  released: true;
  ruleId: string;
  organizations: number;
  outcomes: number;
  falsePositives: number;
  /** falsePositives / outcomes. */
  fpr: number;
}

export interface WithheldAggregate {
  released: false;
  code: 'INSUFFICIENT_K_ANONYMITY';
  ruleId: string;
  /** The k that was not reached (the actual count is not revealed). */
  required: number;
  message: string;
}

export type AggregateResult = ReleasedAggregate | WithheldAggregate;

/**
 * Ingests one outcome: checks the input, then the organisation's
 * `rule_calibration` consent (repository-scoped when a repository is given);
 * anything but a granted consent, including a consent store failure, refuses
 * the outcome and stores nothing. Only the anonymized record is stored.
 *
 * @param now the present, to refuse outcomes observed in the future
 * @throws InputError INPUT_INVALID for a malformed outcome or one observed after `now`
 */
export async function ingestOutcome(deps: CalibrationDependencies, outcome: CalibrationOutcome, now: Date): Promise<IngestResult> {
  requireText(outcome.ruleId, 'ruleId');
  if (typeof outcome.falsePositive !== 'boolean') {
    throw new InputError('INPUT_INVALID', 'falsePositive must be a boolean', { location: { field: 'falsePositive' } });
  }
  if (!(outcome.observedAt instanceof Date)) {
    throw new InputError('INPUT_INVALID', 'observedAt must be a Date', { location: { field: 'observedAt' } });
  }
  const bucket = hourBucket(outcome.observedAt);
  if (!(now instanceof Date) || Number.isNaN(now.getTime())) {
    throw new InputError('INPUT_INVALID', 'now must be a valid date', { location: { field: 'now' } });
  }
  if (outcome.observedAt.getTime() > now.getTime()) {
    throw new InputError(
      'INPUT_INVALID',
      `observedAt ${outcome.observedAt.toISOString()} is in the future (now is ${now.toISOString()})`,
      { location: { field: 'observedAt' } },
    );
  }

  // A malformed org or repository is the caller's error, not a consent denial.
  const scope = validateConsentScope({
    orgId: outcome.orgId,
    ...(outcome.repository !== undefined ? { repository: outcome.repository } : {}),
    resource: 'rule_calibration',
  });
  const decision = await consentAllows(deps.consent, scope, now);
  if (!decision.allowed) return { accepted: false, state: decision.state, reason: decision.reason };

  const record: CalibrationRecord = {
    ruleId: outcome.ruleId,
    // GitHub logins are case-insensitive: `Acme` and `acme` are one
    // organisation and must count once toward k.
    orgHash: deps.anonymizer.hashOrg(outcome.orgId.toLowerCase()),
    bucket,
    falsePositive: outcome.falsePositive,
  };
  await deps.store.ingest(record);
  return { accepted: true, record };
}

/**
 * The calibration aggregate of a rule, released only when at least `k`
 * distinct organisations contributed. Below k the result says only that
 * (never the count), so repeated queries cannot single out an organisation.
 *
 * @param k the anonymity threshold, at least K_ANONYMITY_MIN @default K_ANONYMITY_MIN (10)
 * @throws InputError INPUT_INVALID when k is not an integer ≥ K_ANONYMITY_MIN
 */
export async function aggregateRule(store: CalibrationStore, ruleId: string, k: number = K_ANONYMITY_MIN): Promise<AggregateResult> {
  requireText(ruleId, 'ruleId');
  if (typeof k !== 'number' || !Number.isInteger(k) || k < K_ANONYMITY_MIN) {
    throw new InputError('INPUT_INVALID', `k must be an integer of at least ${K_ANONYMITY_MIN}, got ${String(k)}`, {
      location: { field: 'k' },
    });
  }
  const counts = await store.counts(ruleId);
  if (counts.distinctOrgs < k) {
    return {
      released: false,
      code: 'INSUFFICIENT_K_ANONYMITY',
      ruleId,
      required: k,
      message: `calibration of ${ruleId} is withheld: fewer than ${k} organisations contributed (k-anonymity)`,
    };
  }
  return {
    released: true,
    ruleId,
    organizations: counts.distinctOrgs,
    outcomes: counts.outcomes,
    falsePositives: counts.falsePositives,
    fpr: counts.falsePositives / counts.outcomes,
  };
}

function requireText(value: unknown, field: string): void {
  if (typeof value !== 'string' || value.trim().length === 0) {
    throw new InputError('INPUT_INVALID', `${field} must be a non-empty string`, { location: { field } });
  }
}
