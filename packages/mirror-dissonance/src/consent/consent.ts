/**
 * Consent (DESIGN §6, §7): whether an organisation allows Phase Mirror to use
 * one of its resources (FP patterns, metrics, calibration...), org-wide or for
 * one repository. The failure contract is "errors deny": `consentAllows` is
 * the only way the rest of the code asks, and it turns any failure into a
 * denial that names the failure.
 *
 * The validation and state rules below are shared by every ConsentStore
 * adapter so SQLite and DynamoDB accept, normalize and decide identically.
 */
import { InputError, PhaseMirrorError } from '../errors';
import { compareCodePoints } from '../hashing';
import {
  CONSENT_RESOURCES,
  type ConsentRecord,
  type ConsentResource,
  type ConsentScope,
  type ConsentState,
  type ConsentStore,
} from '../store/ports';

/** The answer to "may we use this resource?". */
export interface ConsentDecision {
  /** True only when the state is `granted`. */
  allowed: boolean;
  /** `error` when the store could not answer (the request is then denied). */
  state: ConsentState | 'error';
  /** Why, for logs and reports; names the scope, and the error when there was one. */
  reason: string;
}

const STATES: readonly ConsentState[] = ['granted', 'expired', 'revoked', 'not_requested'];

/**
 * Asks `store` for the state of `scope` at `at` and allows only `granted`.
 * Any failure (store down, invalid scope, an adapter answering something that
 * is not a consent state) denies with state `error`: consent must never be
 * assumed (DESIGN §6). Never throws.
 */
export async function consentAllows(store: ConsentStore, scope: ConsentScope, at: Date): Promise<ConsentDecision> {
  const what = safeDescribe(scope);
  let state: ConsentState;
  try {
    state = await store.check(scope, at);
  } catch (error) {
    return { allowed: false, state: 'error', reason: `consent check for ${what} failed, denied: ${describeError(error)}` };
  }
  if (!STATES.includes(state)) {
    return {
      allowed: false,
      state: 'error',
      reason: `consent check for ${what} failed, denied: the store answered ${JSON.stringify(state)}, not a consent state`,
    };
  }
  switch (state) {
    case 'granted':
      return { allowed: true, state, reason: `consent granted for ${what}` };
    case 'expired':
      return { allowed: false, state, reason: `consent for ${what} has expired` };
    case 'revoked':
      return { allowed: false, state, reason: `consent for ${what} was revoked` };
    case 'not_requested':
      return { allowed: false, state, reason: `no consent recorded for ${what}` };
  }
}

/**
 * The state of one record at `at`: a revocation wins, then expiry
 * (`expiresAt <= at` is expired: the grant holds strictly before its expiry),
 * else granted. `at` is only compared with the expiry: a revocation takes
 * effect whatever its time.
 */
export function consentStateOf(record: ConsentRecord, at: Date): ConsentState {
  if (record.revokedBy !== undefined || record.revokedAt !== undefined) return 'revoked';
  if (record.expiresAt !== undefined && Date.parse(record.expiresAt) <= at.getTime()) return 'expired';
  return 'granted';
}

/**
 * Decides a check from the records found: the repository-scoped record when
 * it exists (whatever its state), else the org-wide one, else not_requested.
 */
export function decideConsent(repositoryRecord: ConsentRecord | undefined, orgRecord: ConsentRecord | undefined, at: Date): ConsentState {
  const deciding = repositoryRecord ?? orgRecord;
  return deciding === undefined ? 'not_requested' : consentStateOf(deciding, at);
}

/** Order of `ConsentStore.list`: resource, then org-wide before repositories, then repository. */
export function compareConsentRecords(a: ConsentScope, b: ConsentScope): number {
  const byResource = compareCodePoints(a.resource, b.resource);
  if (byResource !== 0) return byResource;
  if (a.repository === b.repository) return 0;
  if (a.repository === undefined) return -1;
  if (b.repository === undefined) return 1;
  return compareCodePoints(a.repository, b.repository);
}

/** `fp_patterns (org acme)` or `fp_patterns (org acme, repository acme/widgets)`. */
export function describeConsentScope(scope: ConsentScope): string {
  return scope.repository === undefined
    ? `${scope.resource} (org ${scope.orgId})`
    : `${scope.resource} (org ${scope.orgId}, repository ${scope.repository})`;
}

/* ---------- Validation shared by the adapters ---------- */

const ORG_ID = /^[^\s\u0000-\u001f\u007f]{1,256}$/;
/** GitHub owner (letters, digits, hyphens) / repository name (letters, digits, `.`, `_`, `-`). */
const REPOSITORY = /^[A-Za-z0-9][A-Za-z0-9-]{0,38}\/[A-Za-z0-9._-]{1,100}$/;
const ISO_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

/**
 * Validates a scope and returns it normalized: the repository is lower-cased,
 * because GitHub names are case-insensitive and a revoked `Acme/Widgets` must
 * not fall back to the org-wide grant when asked as `acme/widgets`.
 * Throws InputError INPUT_INVALID naming the field.
 */
export function validateConsentScope(scope: ConsentScope): ConsentScope {
  if (scope === null || typeof scope !== 'object') throw invalid('scope', 'scope must be an object with orgId, resource and optional repository');
  if (typeof scope.orgId !== 'string' || !ORG_ID.test(scope.orgId)) {
    throw invalid('orgId', `orgId must be a non-empty string without whitespace (at most 256 characters), got ${JSON.stringify(scope.orgId)}`);
  }
  if (!isConsentResource(scope.resource)) {
    throw invalid(
      'resource',
      `resource must be one of ${CONSENT_RESOURCES.join(', ')}; got ${JSON.stringify(scope.resource)}`,
      { validValues: [...CONSENT_RESOURCES] },
    );
  }
  if (scope.repository === undefined) return { orgId: scope.orgId, resource: scope.resource };
  if (typeof scope.repository !== 'string' || !REPOSITORY.test(scope.repository) || /\/\.{1,2}$/.test(scope.repository)) {
    throw invalid('repository', `repository must be owner/name, got ${JSON.stringify(scope.repository)}`);
  }
  return { orgId: scope.orgId, resource: scope.resource, repository: scope.repository.toLowerCase() };
}

/** True when `value` is one of CONSENT_RESOURCES. */
export function isConsentResource(value: unknown): value is ConsentResource {
  return typeof value === 'string' && (CONSENT_RESOURCES as readonly string[]).includes(value);
}

/** A validated grant: times as epoch milliseconds too, for ordering. */
export interface ValidatedGrant {
  grantedBy: string;
  grantedAt: string;
  grantedMs: number;
  expiresAt?: string;
}

/** Validates a grant: an actor, ISO times, and an expiry strictly after the grant. */
export function validateConsentGrant(grant: { grantedBy: string; grantedAt: string; expiresAt?: string }): ValidatedGrant {
  requireActor(grant.grantedBy, 'grantedBy');
  const grantedMs = parseConsentInstant(grant.grantedAt, 'grantedAt');
  if (grant.expiresAt === undefined) return { grantedBy: grant.grantedBy, grantedAt: grant.grantedAt, grantedMs };
  const expiresMs = parseConsentInstant(grant.expiresAt, 'expiresAt');
  if (expiresMs <= grantedMs) {
    throw invalid('expiresAt', `expiresAt (${grant.expiresAt}) must be after grantedAt (${grant.grantedAt})`);
  }
  return { grantedBy: grant.grantedBy, grantedAt: grant.grantedAt, grantedMs, expiresAt: grant.expiresAt };
}

/** Validates a revocation: an actor and an ISO time. */
export function validateConsentRevocation(revocation: { revokedBy: string; revokedAt: string }): { revokedBy: string; revokedAt: string; revokedMs: number } {
  requireActor(revocation.revokedBy, 'revokedBy');
  const revokedMs = parseConsentInstant(revocation.revokedAt, 'revokedAt');
  return { revokedBy: revocation.revokedBy, revokedAt: revocation.revokedAt, revokedMs };
}

/** Validates the instant of a check. */
export function validateCheckTime(at: Date): number {
  const ms = at instanceof Date ? at.getTime() : Number.NaN;
  if (Number.isNaN(ms)) throw invalid('at', `at must be a valid Date, got ${String(at)}`);
  return ms;
}

/** Validates an organisation id on its own (list, history). */
export function validateOrgId(orgId: string): string {
  if (typeof orgId !== 'string' || !ORG_ID.test(orgId)) {
    throw invalid('orgId', `orgId must be a non-empty string without whitespace (at most 256 characters), got ${JSON.stringify(orgId)}`);
  }
  return orgId;
}

/**
 * Epoch ms of an ISO 8601 date-time with an offset, rejecting impossible
 * calendar dates (`2030-02-31`) that Date.parse would silently roll over.
 */
export function parseConsentInstant(value: unknown, field: string): number {
  const match = typeof value === 'string' ? ISO_DATE_TIME.exec(value) : null;
  const ms = match === null ? Number.NaN : Date.parse(value as string);
  if (match === null || Number.isNaN(ms) || !isCalendarDate(Number(match[1]), Number(match[2]), Number(match[3]))) {
    throw invalid(field, `${field} must be an ISO 8601 date-time with an offset (e.g. 2030-01-31T12:00:00Z), got ${JSON.stringify(value)}`);
  }
  return ms;
}

function isCalendarDate(year: number, month: number, day: number): boolean {
  if (month < 1 || month > 12 || day < 1) return false;
  return day <= new Date(Date.UTC(year, month, 0)).getUTCDate();
}

function requireActor(value: unknown, field: string): void {
  if (typeof value !== 'string' || value.trim().length === 0) throw invalid(field, `${field} must name who acted (a non-empty string)`);
}

function invalid(field: string, message: string, context: Record<string, unknown> = {}): InputError {
  return new InputError('INPUT_INVALID', message, { location: { field }, context: { field, ...context } });
}

function safeDescribe(scope: ConsentScope): string {
  try {
    return describeConsentScope(scope);
  } catch {
    return 'an unreadable scope';
  }
}

function describeError(error: unknown): string {
  if (error instanceof PhaseMirrorError) return `${error.name} ${error.code}: ${error.message}`;
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}
