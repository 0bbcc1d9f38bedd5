/**
 * `consent grant|revoke|check|list`: who allows Phase Mirror to use what
 * (DESIGN §7). The commands take an already opened ConsentStore (embedded or
 * AWS, chosen by the backend factory) so they behave identically on both.
 */
import {
  consentAllows,
  journalAction,
  consentStateOf,
  describeConsentScope,
  InputError,
  parseConsentInstant,
  UsageError,
  validateConsentScope,
  validateOrgId,
  type ConsentHistoryEntry,
  type ConsentRecord,
  type ConsentScope,
  type ConsentStore,
  type LedgerStore,
} from '@phase-mirror/mirror-dissonance';
import { EXIT } from '../exit-codes';
import type { Io } from '../io';

/** The flags that name a scope. */
export interface ConsentScopeOptions {
  org: string;
  /** `owner/name`; absent = org-wide. */
  repo?: string;
  resource: string;
}

export interface ConsentStores {
  consent: ConsentStore;
  /** Where grants and revocations are journaled for the ledger's next blocks (the CLI always gives it). */
  ledger?: LedgerStore;
}

const DAY_MS = 24 * 60 * 60 * 1000;
/** Longest `--days`: 100 years. */
const MAX_DAYS = 36_500;
const FORMATS = ['text', 'json'] as const;

/** Which flag carries each validated field, so input errors point at the flag to fix. */
const FLAG_OF: Readonly<Record<string, string>> = {
  orgId: '--org',
  repository: '--repo',
  resource: '--resource',
  grantedBy: '--by',
  revokedBy: '--by',
  expiresAt: '--expires',
};

/**
 * `consent grant --org ORG [--repo owner/name] --resource R --by NAME [--expires ISO | --days N]`:
 * grants (or re-grants, clearing a revocation and replacing the expiry) now.
 */
export async function consentGrantCommand(
  options: ConsentScopeOptions & { by: string; expires?: string; days?: string },
  stores: ConsentStores,
  io: Io,
): Promise<number> {
  const scope = scopeFromFlags(options);
  requireActor(options.by);
  if (options.expires !== undefined && options.days !== undefined) {
    throw new UsageError('--expires and --days are exclusive: give one expiry', { location: { flag: '--days' } });
  }
  const now = new Date();
  const grantedAt = now.toISOString();
  let expiresAt: string | undefined;
  if (options.days !== undefined) expiresAt = new Date(now.getTime() + parseDays(options.days) * DAY_MS).toISOString();
  if (options.expires !== undefined) {
    flagged(() => parseConsentInstant(options.expires, 'expiresAt'));
    expiresAt = options.expires;
  }
  const record = await flaggedAsync(() =>
    stores.consent.grant(scope, { grantedBy: options.by, grantedAt, ...(expiresAt !== undefined ? { expiresAt } : {}) }),
  );
  await journalConsent(stores, scope, 'consent_grant', record.grantedBy, record.grantedAt, expiresAt === undefined ? 'no expiry' : `expires ${expiresAt}`);
  const expiry = record.expiresAt === undefined ? 'no expiry' : `expires ${record.expiresAt}`;
  io.out(`granted ${describeConsentScope(record)} by ${record.grantedBy} at ${record.grantedAt} (${expiry})`);
  return EXIT.OK;
}

/**
 * `consent revoke --org ORG [--repo owner/name] --resource R --by NAME`: revokes now.
 * A scope never granted is an error (NotFoundError, exit 3); revoking an
 * already revoked scope is recorded again.
 */
export async function consentRevokeCommand(
  options: ConsentScopeOptions & { by: string },
  stores: ConsentStores,
  io: Io,
): Promise<number> {
  const scope = scopeFromFlags(options);
  requireActor(options.by);
  const record = await flaggedAsync(() => stores.consent.revoke(scope, { revokedBy: options.by, revokedAt: new Date().toISOString() }));
  await journalConsent(stores, scope, 'consent_revoke', record.revokedBy ?? options.by, record.revokedAt ?? new Date().toISOString(), 'revoked');
  io.out(`revoked ${describeConsentScope(record)} by ${record.revokedBy} at ${record.revokedAt}`);
  return EXIT.OK;
}

/**
 * `consent check --org ORG [--repo owner/name] --resource R`: prints the state
 * now (granted, expired, revoked, not_requested, or error when the store
 * failed) on stdout and the reason on stderr. Exit 0 only when granted, 1
 * otherwise, a store failure included: like the oracle, the check denies
 * rather than fails open, so `if phase-mirror consent check ...` is safe.
 */
export async function consentCheckCommand(options: ConsentScopeOptions, stores: ConsentStores, io: Io): Promise<number> {
  const scope = scopeFromFlags(options);
  const decision = await consentAllows(stores.consent, scope, new Date());
  io.out(decision.state);
  io.err(decision.reason);
  return decision.allowed ? EXIT.OK : EXIT.BLOCK;
}

/**
 * `consent list --org ORG [--format text|json] [--history]`: the current
 * records with their state now, and with --history every grant and
 * revocation, oldest first.
 * @default format text
 */
export async function consentListCommand(
  options: { org: string; format?: string; history?: boolean },
  stores: ConsentStores,
  io: Io,
): Promise<number> {
  const format = options.format ?? 'text';
  if (!(FORMATS as readonly string[]).includes(format)) {
    throw new UsageError(`unknown format "${format}"; use one of ${FORMATS.join(', ')}`, { location: { flag: '--format' } });
  }
  const orgId = flagged(() => validateOrgId(options.org));
  const records = await stores.consent.list(orgId);
  const history = options.history === true ? await stores.consent.history(orgId) : undefined;
  const now = new Date();

  if (format === 'json') {
    const listed = records.map((record) => ({ ...record, state: consentStateOf(record, now) }));
    io.out(JSON.stringify({ orgId, at: now.toISOString(), records: listed, ...(history !== undefined ? { history } : {}) }, null, 2));
    return EXIT.OK;
  }
  if (records.length === 0) io.out(`no consent recorded for org ${orgId}`);
  for (const record of records) io.out(describeRecord(record, now));
  if (history !== undefined) {
    io.out('');
    io.out(history.length === 0 ? `no consent history for org ${orgId}` : `history of org ${orgId} (oldest first):`);
    for (const entry of history) io.out(describeEntry(entry));
  }
  return EXIT.OK;
}

function scopeFromFlags(options: ConsentScopeOptions): ConsentScope {
  return flagged(() =>
    validateConsentScope({
      orgId: options.org,
      resource: options.resource as ConsentScope['resource'],
      ...(options.repo !== undefined ? { repository: options.repo } : {}),
    }),
  );
}

function requireActor(by: string): void {
  if (typeof by !== 'string' || by.trim().length === 0) {
    throw new UsageError('--by must name who acts (a person or team)', { location: { flag: '--by' } });
  }
}

function parseDays(raw: string): number {
  const days = /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isInteger(days) || days < 1 || days > MAX_DAYS) {
    throw new UsageError(`--days must be a whole number of days from 1 to ${MAX_DAYS}, got "${raw}"`, { location: { flag: '--days' } });
  }
  return days;
}

/** Runs `work`, turning an input error on a field a flag carries into a usage error naming the flag. */
function flagged<T>(work: () => T): T {
  try {
    return work();
  } catch (error) {
    throw toUsage(error);
  }
}

async function flaggedAsync<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw toUsage(error);
  }
}

function toUsage(error: unknown): unknown {
  if (!(error instanceof InputError)) return error;
  const field = error.location.field;
  const flag = field === undefined ? undefined : FLAG_OF[field];
  if (flag === undefined) return error;
  const message = error.message.replace(new RegExp(`^${field}\\b`), flag);
  return new UsageError(message, { location: { flag }, context: { ...error.context } });
}

function describeRecord(record: ConsentRecord, now: Date): string {
  const where = record.repository ?? 'org-wide';
  const parts = [`granted by ${record.grantedBy} at ${record.grantedAt}`];
  if (record.expiresAt !== undefined) parts.push(`expires ${record.expiresAt}`);
  if (record.revokedBy !== undefined) parts.push(`revoked by ${record.revokedBy} at ${record.revokedAt}`);
  return `${record.resource}  ${where}  ${consentStateOf(record, now)}  ${parts.join('; ')}`;
}

function describeEntry(entry: ConsentHistoryEntry): string {
  const where = entry.repository ?? 'org-wide';
  const expiry = entry.expiresAt === undefined ? '' : ` (expires ${entry.expiresAt})`;
  return `${entry.at}  ${entry.action}  ${entry.resource}  ${where}  by ${entry.actor}${expiry}`;
}

/** Journals a consent change for the ledger: the repository's stream, or every stream of the organisation. */
async function journalConsent(
  stores: ConsentStores,
  scope: ConsentScope,
  kind: 'consent_grant' | 'consent_revoke',
  actor: string,
  at: string,
  detail: string,
): Promise<void> {
  if (stores.ledger === undefined) return;
  await journalAction(stores.ledger, scope.repository !== undefined ? { repository: scope.repository } : { org: scope.orgId }, {
    kind,
    actor,
    at,
    subject: describeConsentScope(scope),
    detail,
  });
}
