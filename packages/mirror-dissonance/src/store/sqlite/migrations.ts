/**
 * Schema migrations of the embedded state database. Each migration runs once,
 * in order, inside one IMMEDIATE transaction together with its row in
 * `schema_migrations`, so two processes opening the same file never apply a
 * migration twice and a failed migration leaves no partial schema.
 *
 * Every migration also has a `down` step that undoes exactly what it created
 * (`phase-mirror db rollback`). Rolling back runs the down steps newest first,
 * each in its own IMMEDIATE transaction that also deletes the migration's row,
 * and refuses, unless forced, to destroy data: a migration's `dataAtRisk`
 * query counts what its down step would delete. Tables and columns of
 * migrations that are not rolled back are never touched.
 */
import type { Database } from 'better-sqlite3';
import { DependencyError, InputError, PhaseMirrorError } from '../../errors';
import { guard } from './store-error';

export interface Migration {
  version: number;
  description: string;
  /** Creates the schema of this version. */
  sql: string;
  /**
   * Undoes `sql` (drops exactly what it created). Every shipped migration has
   * one; rolling back a migration without it is refused.
   */
  down?: string;
  /**
   * A query whose rows `{ what, count }` say what the down step would destroy
   * (rows of dropped tables, values of dropped columns). Rollback refuses a
   * non-zero count unless forced.
   */
  dataAtRisk?: string;
}

/**
 * Timestamps are stored twice where they are ordered or compared: the ISO text
 * as given (returned unchanged to callers) and epoch milliseconds (`*_ms`),
 * because ISO strings with different precision or offsets do not sort
 * lexicographically.
 *
 * The ledger (v4-v6, docs/ledger.md) keeps each block's canonical bytes, its
 * hash(es) and leaves, and its decoded fields as columns. The dual-commitment
 * columns (SHA3-256) come only with v6, so rolling v6 back drops them and
 * nothing else; v4 and v5 never mention them.
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
    down: `
      DROP TABLE fpr_history;
      DROP TABLE block_counters;
      DROP TABLE fp_events;
    `,
    dataAtRisk: `
      SELECT 'fp_events rows' AS what, COUNT(*) AS count FROM fp_events
      UNION ALL SELECT 'block_counters rows', COUNT(*) FROM block_counters
      UNION ALL SELECT 'fpr_history rows', COUNT(*) FROM fpr_history
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
    down: `
      DROP TABLE consent_history;
      DROP TABLE consent_current;
    `,
    dataAtRisk: `
      SELECT 'consent_current rows' AS what, COUNT(*) AS count FROM consent_current
      UNION ALL SELECT 'consent_history rows', COUNT(*) FROM consent_history
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
    down: `
      DROP TABLE calibration_records;
    `,
    dataAtRisk: `SELECT 'calibration_records rows' AS what, COUNT(*) AS count FROM calibration_records`,
  },
  {
    version: 4,
    description: 'ledger: blocks, action journal, settings',
    // Leaves are stored as u32be(length) ‖ bytes, concatenated; `degraded` as
    // 0/1. No CHECK on the decoded fields: what was written is what is read
    // back, and replay (not the schema) judges whether it is consistent.
    sql: `
      CREATE TABLE ledger_blocks (
        repository        TEXT NOT NULL,
        height            INTEGER NOT NULL CHECK (height >= 0),
        canonical         BLOB NOT NULL,
        hash              TEXT NOT NULL,
        reasoning_leaves  BLOB NOT NULL,
        ui_leaves         BLOB NOT NULL,
        schema_version    INTEGER NOT NULL,
        prev_hash         TEXT NOT NULL,
        timestamp         TEXT NOT NULL,
        mode              TEXT NOT NULL,
        commit_sha        TEXT NOT NULL,
        outcome           TEXT NOT NULL,
        degraded          INTEGER NOT NULL,
        rules_hash        TEXT NOT NULL,
        report_hash       TEXT NOT NULL,
        ui_through_seq    INTEGER NOT NULL,
        reasoning_root    TEXT NOT NULL,
        ui_root           TEXT NOT NULL,
        composite_root    TEXT NOT NULL,
        hash_algorithm    TEXT NOT NULL,
        appended_at       TEXT NOT NULL,
        PRIMARY KEY (repository, height)
      ) WITHOUT ROWID;

      CREATE TABLE ledger_actions (
        repository   TEXT NOT NULL,
        seq          INTEGER NOT NULL CHECK (seq > 0),
        kind         TEXT NOT NULL,
        actor        TEXT NOT NULL,
        at           TEXT NOT NULL,
        subject      TEXT NOT NULL,
        detail       TEXT NOT NULL,
        recorded_at  TEXT NOT NULL,
        PRIMARY KEY (repository, seq)
      ) WITHOUT ROWID;

      CREATE TABLE ledger_settings (
        key         TEXT PRIMARY KEY,
        value       TEXT NOT NULL,
        updated_at  TEXT NOT NULL
      ) WITHOUT ROWID;
    `,
    down: `
      DROP TABLE ledger_settings;
      DROP TABLE ledger_actions;
      DROP TABLE ledger_blocks;
    `,
    dataAtRisk: `
      SELECT 'ledger_blocks rows' AS what, COUNT(*) AS count FROM ledger_blocks
      UNION ALL SELECT 'ledger_actions rows', COUNT(*) FROM ledger_actions
      UNION ALL SELECT 'ledger_settings rows', COUNT(*) FROM ledger_settings
    `,
  },
  {
    version: 5,
    description: 'ledger: sealed epochs',
    // `signatures` is a JSON array of { algorithm, keyId, signature (base64) }.
    sql: `
      CREATE TABLE ledger_epochs (
        repository    TEXT NOT NULL,
        number        INTEGER NOT NULL CHECK (number >= 0),
        start_height  INTEGER NOT NULL,
        end_height    INTEGER NOT NULL,
        root          TEXT NOT NULL,
        sealed_at     TEXT NOT NULL,
        statement     BLOB NOT NULL,
        signatures    TEXT NOT NULL,
        PRIMARY KEY (repository, number)
      ) WITHOUT ROWID;
    `,
    down: `
      DROP TABLE ledger_epochs;
    `,
    dataAtRisk: `SELECT 'ledger_epochs rows' AS what, COUNT(*) AS count FROM ledger_epochs`,
  },
  {
    version: 6,
    description: 'ledger: dual-commitment (SHA3-256) columns',
    // Nullable and without index or constraint, so DROP COLUMN (SQLite >= 3.35) can undo them.
    sql: `
      ALTER TABLE ledger_blocks ADD COLUMN hash_sha3 TEXT;
      ALTER TABLE ledger_blocks ADD COLUMN prev_hash_sha3 TEXT;
      ALTER TABLE ledger_blocks ADD COLUMN reasoning_root_sha3 TEXT;
      ALTER TABLE ledger_blocks ADD COLUMN ui_root_sha3 TEXT;
      ALTER TABLE ledger_blocks ADD COLUMN composite_root_sha3 TEXT;
      ALTER TABLE ledger_epochs ADD COLUMN root_sha3 TEXT;
    `,
    down: `
      ALTER TABLE ledger_epochs DROP COLUMN root_sha3;
      ALTER TABLE ledger_blocks DROP COLUMN composite_root_sha3;
      ALTER TABLE ledger_blocks DROP COLUMN ui_root_sha3;
      ALTER TABLE ledger_blocks DROP COLUMN reasoning_root_sha3;
      ALTER TABLE ledger_blocks DROP COLUMN prev_hash_sha3;
      ALTER TABLE ledger_blocks DROP COLUMN hash_sha3;
    `,
    dataAtRisk: `
      SELECT 'ledger_blocks with SHA3-256 values' AS what, COUNT(*) AS count FROM ledger_blocks
        WHERE hash_sha3 IS NOT NULL OR prev_hash_sha3 IS NOT NULL OR reasoning_root_sha3 IS NOT NULL
           OR ui_root_sha3 IS NOT NULL OR composite_root_sha3 IS NOT NULL
      UNION ALL SELECT 'ledger_epochs with a SHA3-256 root', COUNT(*) FROM ledger_epochs WHERE root_sha3 IS NOT NULL
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

/** Versions recorded in `schema_migrations`, ascending (none when the table does not exist yet). */
export function appliedMigrations(db: Database, file: string): number[] {
  return guard(file, 'read schema version', () =>
    hasMigrationTable(db) ? db.prepare<[], number>('SELECT version FROM schema_migrations ORDER BY version').pluck().all() : [],
  );
}

/** One applied migration, as `schema_migrations` records it. */
export interface AppliedMigration {
  version: number;
  /** Undefined for a version this code does not know (written by a newer Phase Mirror). */
  description: string | undefined;
  /** ISO timestamp of when it was applied. */
  appliedAt: string;
}

export interface PendingMigration {
  version: number;
  description: string;
}

/** What `phase-mirror db status` shows. */
export interface MigrationStatus {
  file: string;
  /** Highest applied version (0: nothing applied). */
  currentVersion: number;
  /** Highest version this code knows. */
  latestVersion: number;
  applied: AppliedMigration[];
  pending: PendingMigration[];
}

/**
 * The applied migrations (with their times) and the pending ones. Read-only:
 * it neither creates `schema_migrations` nor refuses a newer database.
 * @param migrations the migration list @default MIGRATIONS
 */
export function migrationStatus(db: Database, file: string, migrations: readonly Migration[] = MIGRATIONS): MigrationStatus {
  return guard(file, 'read migration status', () => {
    const rows = hasMigrationTable(db)
      ? db.prepare<[], { version: number; applied_at: string }>('SELECT version, applied_at FROM schema_migrations ORDER BY version').all()
      : [];
    const byVersion = new Map(migrations.map((migration) => [migration.version, migration]));
    const currentVersion = rows.length === 0 ? 0 : rows[rows.length - 1].version;
    return {
      file,
      currentVersion,
      latestVersion: latestOf(migrations),
      applied: rows.map((row) => ({ version: row.version, description: byVersion.get(row.version)?.description, appliedAt: row.applied_at })),
      pending: migrations
        .filter((migration) => migration.version > currentVersion)
        .map((migration) => ({ version: migration.version, description: migration.description })),
    };
  });
}

export interface RollbackOptions {
  /**
   * Roll back even when a down step destroys data (rows of the tables it
   * drops, values of the columns it drops).
   * @default false
   */
  force?: boolean;
  /** @default MIGRATIONS */
  migrations?: readonly Migration[];
}

/**
 * Rolls `db` back to schema version `toVersion` (0: nothing applied) and
 * returns the versions it rolled back, newest first (empty when already
 * there). Each migration's down step runs in its own IMMEDIATE transaction
 * together with the deletion of its `schema_migrations` row, so a failure
 * leaves the database at a whole version (the error's context says which).
 *
 * @throws InputError INPUT_INVALID (field `toVersion`) for a version below 0, not an integer, or above the current one
 * @throws InputError INPUT_INVALID when a down step would destroy data and `force` is not set (nothing is rolled back then), or a migration has no down step
 * @throws DependencyError STORE_FAILED for a version this code does not know, or when SQLite fails
 */
export function rollbackMigrations(db: Database, file: string, toVersion: number, options: RollbackOptions = {}): number[] {
  const migrations = options.migrations ?? MIGRATIONS;
  if (!Number.isSafeInteger(toVersion) || toVersion < 0) {
    throw new InputError('INPUT_INVALID', `cannot roll back to schema version ${String(toVersion)}: the target is an integer from 0 (nothing applied) up`, {
      location: { file, field: 'toVersion' },
      context: { file, operation: 'rollback', toVersion },
    });
  }
  return guard(file, 'rollback', () => {
    const byVersion = new Map(migrations.map((migration) => [migration.version, migration]));
    const current = Math.max(0, ...appliedMigrations(db, file));
    if (toVersion > current) {
      throw new InputError('INPUT_INVALID', `cannot roll back ${file} to schema version ${toVersion}: it is at version ${current}; use migrate to go up`, {
        location: { file, field: 'toVersion' },
        context: { file, operation: 'rollback', toVersion, schemaVersion: current },
      });
    }
    const steps = appliedMigrations(db, file)
      .filter((version) => version > toVersion)
      .reverse()
      .map((version) => stepFor(byVersion, version, file, current));
    // Refuse before changing anything: a partial rollback that then stops on data is worse than none.
    if (options.force !== true) for (const migration of steps) assertNothingLost(db, file, migration, []);

    const remove = db.prepare<[number]>('DELETE FROM schema_migrations WHERE version = ?');
    const rolledBack: number[] = [];
    for (const migration of steps) {
      const step = db.transaction((): void => {
        // Re-checked inside the lock: another process may have written since.
        if (options.force !== true) assertNothingLost(db, file, migration, rolledBack);
        db.exec(migration.down!);
        remove.run(migration.version);
      });
      try {
        step.immediate();
      } catch (error) {
        if (error instanceof PhaseMirrorError) throw error;
        const reached = migration.version;
        const detail = error instanceof Error ? error.message : String(error);
        throw new DependencyError(
          'STORE_FAILED',
          `state store: rolling back migration ${migration.version} of ${file} failed (${detail}); the database stays at version ${reached}`,
          { location: { file }, context: { file, operation: 'rollback', version: migration.version, schemaVersion: reached, rolledBack: [...rolledBack] }, cause: error },
        );
      }
      rolledBack.push(migration.version);
    }
    return rolledBack;
  });
}

function stepFor(byVersion: ReadonlyMap<number, Migration>, version: number, file: string, current: number): Migration {
  const migration = byVersion.get(version);
  if (migration === undefined) {
    throw new DependencyError(
      'STORE_FAILED',
      `state store ${file} has schema version ${current}, and version ${version} is unknown to this version of Phase Mirror: it cannot roll it back; use the Phase Mirror that applied it`,
      { location: { file }, context: { file, operation: 'rollback', schemaVersion: current, version } },
    );
  }
  if (migration.down === undefined) {
    throw new InputError('INPUT_INVALID', `migration ${version} (${migration.description}) has no down step and cannot be rolled back`, {
      location: { file },
      context: { file, operation: 'rollback', version },
    });
  }
  return migration;
}

function assertNothingLost(db: Database, file: string, migration: Migration, rolledBack: readonly number[]): void {
  if (migration.dataAtRisk === undefined) return;
  const losses = db
    .prepare<[], { what: string; count: number }>(migration.dataAtRisk)
    .all()
    .filter((row) => row.count > 0);
  if (losses.length === 0) return;
  const described = losses.map((row) => `${row.count} ${row.what}`).join(', ');
  const done =
    rolledBack.length === 0
      ? 'nothing was rolled back'
      : `rolled back ${rolledBack.join(', ')}; the database stays at version ${migration.version}`;
  throw new InputError(
    'INPUT_INVALID',
    `rolling back migration ${migration.version} (${migration.description}) of ${file} would delete ${described}; ${done} (force it to delete them)`,
    {
      location: { file, field: 'force' },
      context: {
        file,
        operation: 'rollback',
        version: migration.version,
        schemaVersion: migration.version,
        rolledBack: [...rolledBack],
        losses: Object.fromEntries(losses.map((row) => [row.what, row.count])),
      },
    },
  );
}

function hasMigrationTable(db: Database): boolean {
  return db.prepare<[], number>("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'").pluck().get() === 1;
}

function latestOf(migrations: readonly Migration[]): number {
  return migrations.length === 0 ? 0 : migrations[migrations.length - 1].version;
}
