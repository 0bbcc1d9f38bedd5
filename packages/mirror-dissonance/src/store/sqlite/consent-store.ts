/**
 * SQLite adapter of the consent store (DESIGN §7): one current record per
 * (org, resource, scope) in `consent_current` and an append-only
 * `consent_history`, both written in one IMMEDIATE transaction so the current
 * state and its history never disagree.
 */
import type { Database, Statement } from 'better-sqlite3';
import { NotFoundError } from '../../errors';
import {
  compareConsentRecords,
  decideConsent,
  describeConsentScope,
  validateCheckTime,
  validateConsentGrant,
  validateConsentRevocation,
  validateConsentScope,
  validateOrgId,
} from '../../consent/consent';
import type { ConsentHistoryEntry, ConsentRecord, ConsentResource, ConsentScope, ConsentState, ConsentStore } from '../ports';
import { guard } from './store-error';

interface CurrentRow {
  org_id: string;
  resource: string;
  scope: string;
  repository: string | null;
  granted_by: string;
  granted_at: string;
  expires_at: string | null;
  revoked_by: string | null;
  revoked_at: string | null;
}

interface HistoryRow {
  org_id: string;
  resource: string;
  repository: string | null;
  action: 'grant' | 'revoke';
  actor: string;
  at: string;
  expires_at: string | null;
}

const CURRENT_COLUMNS = 'org_id, resource, scope, repository, granted_by, granted_at, expires_at, revoked_by, revoked_at';

/** The scope column (and DynamoDB sort-key part): `org` or `repo:<owner/name>`. */
export function consentScopeKey(repository: string | undefined): string {
  return repository === undefined ? 'org' : `repo:${repository}`;
}

/**
 * ConsentStore over one open better-sqlite3 connection.
 *
 * Revoking a scope that is already revoked is allowed: the new revoker and
 * time replace the previous ones on the current record, and the history keeps
 * both revocations (who tried to revoke, and when, is itself audit data).
 */
export class SqliteConsentStore implements ConsentStore {
  private readonly upsertGrant: Statement<[Record<string, string | null>], CurrentRow>;
  private readonly updateRevoke: Statement<[Record<string, string>], CurrentRow>;
  private readonly appendHistory: Statement<[Record<string, string | number | null>]>;
  private readonly readScopes: Statement<[string, string, string], CurrentRow>;
  private readonly listCurrent: Statement<[string], CurrentRow>;
  private readonly listHistory: Statement<[string], HistoryRow>;

  constructor(
    private readonly db: Database,
    private readonly file: string,
  ) {
    const prepared = guard(file, 'prepare consent statements', () => ({
      upsertGrant: db.prepare<[Record<string, string | null>], CurrentRow>(
        `INSERT INTO consent_current (org_id, resource, scope, repository, granted_by, granted_at, expires_at, revoked_by, revoked_at)
         VALUES (@orgId, @resource, @scope, @repository, @grantedBy, @grantedAt, @expiresAt, NULL, NULL)
         ON CONFLICT (org_id, resource, scope) DO UPDATE SET
           granted_by = excluded.granted_by, granted_at = excluded.granted_at, expires_at = excluded.expires_at,
           revoked_by = NULL, revoked_at = NULL
         RETURNING ${CURRENT_COLUMNS}`,
      ),
      updateRevoke: db.prepare<[Record<string, string>], CurrentRow>(
        `UPDATE consent_current SET revoked_by = @revokedBy, revoked_at = @revokedAt
         WHERE org_id = @orgId AND resource = @resource AND scope = @scope
         RETURNING ${CURRENT_COLUMNS}`,
      ),
      appendHistory: db.prepare<[Record<string, string | number | null>]>(
        `INSERT INTO consent_history (org_id, resource, repository, action, actor, at, at_ms, expires_at)
         VALUES (@orgId, @resource, @repository, @action, @actor, @at, @atMs, @expiresAt)`,
      ),
      readScopes: db.prepare<[string, string, string], CurrentRow>(
        `SELECT ${CURRENT_COLUMNS} FROM consent_current WHERE org_id = ? AND resource = ? AND scope IN ('org', ?)`,
      ),
      listCurrent: db.prepare<[string], CurrentRow>(`SELECT ${CURRENT_COLUMNS} FROM consent_current WHERE org_id = ?`),
      listHistory: db.prepare<[string], HistoryRow>(
        'SELECT org_id, resource, repository, action, actor, at, expires_at FROM consent_history WHERE org_id = ? ORDER BY at_ms, id',
      ),
    }));
    this.upsertGrant = prepared.upsertGrant;
    this.updateRevoke = prepared.updateRevoke;
    this.appendHistory = prepared.appendHistory;
    this.readScopes = prepared.readScopes;
    this.listCurrent = prepared.listCurrent;
    this.listHistory = prepared.listHistory;
  }

  async grant(scope: ConsentScope, grant: { grantedBy: string; grantedAt: string; expiresAt?: string }): Promise<ConsentRecord> {
    const target = validateConsentScope(scope);
    const valid = validateConsentGrant(grant);
    const row = guard(this.file, 'grant consent', () => {
      const write = this.db.transaction((): CurrentRow => {
        const written = this.upsertGrant.get({
          orgId: target.orgId,
          resource: target.resource,
          scope: consentScopeKey(target.repository),
          repository: target.repository ?? null,
          grantedBy: valid.grantedBy,
          grantedAt: valid.grantedAt,
          expiresAt: valid.expiresAt ?? null,
        }) as CurrentRow;
        this.appendHistory.run({
          orgId: target.orgId,
          resource: target.resource,
          repository: target.repository ?? null,
          action: 'grant',
          actor: valid.grantedBy,
          at: valid.grantedAt,
          atMs: valid.grantedMs,
          expiresAt: valid.expiresAt ?? null,
        });
        return written;
      });
      return write.immediate();
    });
    return toRecord(row);
  }

  async revoke(scope: ConsentScope, revocation: { revokedBy: string; revokedAt: string }): Promise<ConsentRecord> {
    const target = validateConsentScope(scope);
    const valid = validateConsentRevocation(revocation);
    const row = guard(this.file, 'revoke consent', () => {
      const write = this.db.transaction((): CurrentRow | undefined => {
        const updated = this.updateRevoke.get({
          orgId: target.orgId,
          resource: target.resource,
          scope: consentScopeKey(target.repository),
          revokedBy: valid.revokedBy,
          revokedAt: valid.revokedAt,
        });
        if (updated === undefined) return undefined;
        this.appendHistory.run({
          orgId: target.orgId,
          resource: target.resource,
          repository: target.repository ?? null,
          action: 'revoke',
          actor: valid.revokedBy,
          at: valid.revokedAt,
          atMs: valid.revokedMs,
          expiresAt: null,
        });
        return updated;
      });
      return write.immediate();
    });
    if (row === undefined) {
      throw new NotFoundError('NOT_FOUND', `consent for ${describeConsentScope(target)} was never granted: nothing to revoke`, {
        location: { file: this.file, field: 'resource' },
        context: { file: this.file, operation: 'revoke consent', scope: target },
      });
    }
    return toRecord(row);
  }

  async check(scope: ConsentScope, at: Date): Promise<ConsentState> {
    const target = validateConsentScope(scope);
    validateCheckTime(at);
    const rows = guard(this.file, 'check consent', () =>
      this.readScopes.all(target.orgId, target.resource, consentScopeKey(target.repository)),
    );
    let repositoryRecord: ConsentRecord | undefined;
    let orgRecord: ConsentRecord | undefined;
    for (const row of rows) {
      if (row.scope === 'org') orgRecord = toRecord(row);
      else repositoryRecord = toRecord(row);
    }
    return decideConsent(repositoryRecord, orgRecord, at);
  }

  async list(orgId: string): Promise<ConsentRecord[]> {
    validateOrgId(orgId);
    const rows = guard(this.file, 'list consent', () => this.listCurrent.all(orgId));
    return rows.map(toRecord).sort(compareConsentRecords);
  }

  /** Oldest first by the time of each grant or revocation; equal times in the order they were written. */
  async history(orgId: string): Promise<ConsentHistoryEntry[]> {
    validateOrgId(orgId);
    const rows = guard(this.file, 'read consent history', () => this.listHistory.all(orgId));
    return rows.map(toHistoryEntry);
  }
}

function toRecord(row: CurrentRow): ConsentRecord {
  const record: ConsentRecord = {
    orgId: row.org_id,
    resource: row.resource as ConsentResource,
    grantedBy: row.granted_by,
    grantedAt: row.granted_at,
  };
  if (row.repository !== null) record.repository = row.repository;
  if (row.expires_at !== null) record.expiresAt = row.expires_at;
  if (row.revoked_by !== null && row.revoked_at !== null) {
    record.revokedBy = row.revoked_by;
    record.revokedAt = row.revoked_at;
  }
  return record;
}

function toHistoryEntry(row: HistoryRow): ConsentHistoryEntry {
  const entry: ConsentHistoryEntry = {
    orgId: row.org_id,
    resource: row.resource as ConsentResource,
    action: row.action,
    actor: row.actor,
    at: row.at,
  };
  if (row.repository !== null) entry.repository = row.repository;
  if (row.expires_at !== null) entry.expiresAt = row.expires_at;
  return entry;
}
