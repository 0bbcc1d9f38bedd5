/**
 * Schema migrations of the embedded state database. Each migration runs once,
 * in order, inside one IMMEDIATE transaction together with its row in
 * `schema_migrations`, so two processes opening the same file never apply a
 * migration twice and a failed migration leaves no partial schema.
 */
import type { Database } from 'better-sqlite3';
import { DependencyError } from '../../errors';
import { guard } from './store-error';

export interface Migration {
  version: number;
  description: string;
  sql: string;
}

/**
 * Timestamps are stored twice where they are ordered or compared: the ISO text
 * as given (returned unchanged to callers) and epoch milliseconds (`*_ms`),
 * because ISO strings with different precision or offsets do not sort
 * lexicographically.
 */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'fp events, block counters, fpr history',
    sql: `
      CREATE TABLE fp_events (
        event_id      TEXT PRIMARY KEY,
        rule_id       TEXT NOT NULL,
        rule_version  TEXT NOT NULL,
        finding_id    TEXT NOT NULL,
        repository    TEXT NOT NULL,
        run_id        TEXT NOT NULL,
        path          TEXT NOT NULL,
        observed_at   TEXT NOT NULL,
        observed_ms   INTEGER NOT NULL,
        expires_at    INTEGER NOT NULL,
        fp_reviewer   TEXT,
        fp_reason     TEXT,
        fp_ticket     TEXT,
        fp_marked_at  TEXT,
        fp_marked_ms  INTEGER,
        CHECK ((fp_reviewer IS NULL) = (fp_marked_ms IS NULL))
      ) WITHOUT ROWID;
      CREATE INDEX fp_events_by_rule ON fp_events (rule_id, observed_ms DESC, event_id);
      CREATE INDEX fp_events_by_time ON fp_events (observed_ms DESC, event_id);
      CREATE INDEX fp_events_by_finding ON fp_events (finding_id, fp_marked_ms, event_id);
      CREATE INDEX fp_events_by_expiry ON fp_events (expires_at);

      CREATE TABLE block_counters (
        key         TEXT PRIMARY KEY,
        count       INTEGER NOT NULL CHECK (count > 0),
        expires_at  INTEGER NOT NULL
      ) WITHOUT ROWID;
      CREATE INDEX block_counters_by_expiry ON block_counters (expires_at);

      CREATE TABLE fpr_history (
        id           INTEGER PRIMARY KEY AUTOINCREMENT,
        rule_id      TEXT NOT NULL,
        fpr          REAL NOT NULL,
        reviewed     INTEGER NOT NULL,
        recorded_at  TEXT NOT NULL,
        recorded_ms  INTEGER NOT NULL
      );
      CREATE INDEX fpr_history_by_rule ON fpr_history (rule_id, recorded_ms DESC, id DESC);
    `,
  },
  {
    version: 2,
    description: 'consent: current records and history',
    // `scope` is 'org' or 'repo:<owner/name>' (as the DynamoDB sort key), so
    // the primary key never holds a NULL repository.
    sql: `
      CREATE TABLE consent_current (
        org_id      TEXT NOT NULL,
        resource    TEXT NOT NULL,
        scope       TEXT NOT NULL,
        repository  TEXT,
        granted_by  TEXT NOT NULL,
        granted_at  TEXT NOT NULL,
        expires_at  TEXT,
        revoked_by  TEXT,
        revoked_at  TEXT,
        PRIMARY KEY (org_id, resource, scope),
        CHECK ((repository IS NULL) = (scope = 'org')),
        CHECK ((revoked_by IS NULL) = (revoked_at IS NULL))
      ) WITHOUT ROWID;

      CREATE TABLE consent_history (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        org_id      TEXT NOT NULL,
        resource    TEXT NOT NULL,
        repository  TEXT,
        action      TEXT NOT NULL CHECK (action IN ('grant', 'revoke')),
        actor       TEXT NOT NULL,
        at          TEXT NOT NULL,
        at_ms       INTEGER NOT NULL,
        expires_at  TEXT
      );
      CREATE INDEX consent_history_by_org ON consent_history (org_id, at_ms, id);
    `,
  },
  {
    version: 3,
    description: 'calibration: anonymized outcome records',
    // No org id, no repository, no time finer than the UTC hour: only what
    // the k-anonymous aggregates need.
    sql: `
      CREATE TABLE calibration_records (
        id              INTEGER PRIMARY KEY AUTOINCREMENT,
        rule_id         TEXT NOT NULL,
        org_hash        TEXT NOT NULL CHECK (length(org_hash) = 64),
        bucket          TEXT NOT NULL,
        false_positive  INTEGER NOT NULL CHECK (false_positive IN (0, 1))
      );
      CREATE INDEX calibration_records_by_rule ON calibration_records (rule_id, org_hash);
    `,
  },
];

/** Highest schema version this code knows. */
export const LATEST_SCHEMA_VERSION: number = MIGRATIONS[MIGRATIONS.length - 1].version;

/**
 * Brings `db` up to the latest schema and returns the versions it applied
 * (empty when already current). A database written by a newer Phase Mirror is
 * refused rather than used with a schema this code does not understand.
 * @param migrations the migration list @default MIGRATIONS
 */
export function runMigrations(db: Database, file: string, migrations: readonly Migration[] = MIGRATIONS): number[] {
  return guard(file, 'migrate', () => {
    db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)');
    const known = migrations.length === 0 ? 0 : migrations[migrations.length - 1].version;
    const currentVersion = db.prepare<[], number | null>('SELECT MAX(version) FROM schema_migrations').pluck();
    const record = db.prepare<[number, string]>('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)');

    const migrate = db.transaction((): number[] => {
      const current = currentVersion.get() ?? 0;
      if (current > known) {
        throw new DependencyError(
          'STORE_FAILED',
          `state store ${file} has schema version ${current}, newer than the ${known} this version of Phase Mirror knows; upgrade Phase Mirror or use another state directory`,
          { location: { file }, context: { file, operation: 'migrate', schemaVersion: current, knownVersion: known } },
        );
      }
      const applied: number[] = [];
      for (const migration of migrations) {
        if (migration.version <= current) continue;
        db.exec(migration.sql);
        record.run(migration.version, new Date().toISOString());
        applied.push(migration.version);
      }
      return applied;
    });
    return migrate.immediate();
  });
}

/** Versions recorded in `schema_migrations`, ascending. */
export function appliedMigrations(db: Database, file: string): number[] {
  return guard(file, 'read schema version', () =>
    db.prepare<[], number>('SELECT version FROM schema_migrations ORDER BY version').pluck().all(),
  );
}
