/**
 * The embedded state database (DESIGN §7): one SQLite file,
 * `<stateDir>/state.db`, in WAL mode, holding the FP events, the block
 * counters, the FPR history, consent, calibration and the ledger behind the
 * store ports, and the schema migrations (`phase-mirror db`).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import type { Database } from 'better-sqlite3';
import { DependencyError, NotFoundError } from '../../errors';
import type { LedgerStore } from '../../ledger/store';
import type { BlockCounter, CalibrationStore, ConsentStore, FpStore, FprHistory } from '../ports';
import { SqliteBlockCounter } from './block-counter';
import { SqliteFpStore, type SqliteAdapterOptions } from './fp-store';
import { SqliteFprHistory } from './fpr-history';
import { SqliteLedgerStore } from './ledger-store';
import { appliedMigrations, migrationStatus, rollbackMigrations, runMigrations, type MigrationStatus } from './migrations';
import { guard } from './store-error';
import { SqliteCalibrationStore } from './calibration-store';
import { SqliteConsentStore } from './consent-store';

/** File name of the state database inside the state directory. */
export const STATE_DB_FILE = 'state.db';

/** Milliseconds a writer waits for another process's lock before failing. */
export const BUSY_TIMEOUT_MS = 5000;

export interface StateDatabase {
  /** Path of the database file (or ':memory:'). */
  readonly file: string;
  readonly fpStore: FpStore;
  readonly blockCounter: BlockCounter;
  readonly fprHistory: FprHistory;
  readonly consent: ConsentStore;
  readonly calibration: CalibrationStore;
  /** The decision ledger: block streams, action journal, sealed epochs, settings. */
  readonly ledger: LedgerStore;
  /** The schema: status, migrate, rollback (`phase-mirror db`). */
  readonly migrations: StateMigrations;
  /** Connection settings and schema version, for diagnostics (`status`-style commands, tests). */
  info(): StateDatabaseInfo;
  /** Closes the connection; idempotent. Adapters throw STORE_FAILED afterwards. */
  close(): void;
}

/**
 * Schema maintenance of an open state database. After a rollback, adapters
 * whose tables were dropped fail with STORE_FAILED until the database is
 * migrated and reopened.
 */
export interface StateMigrations {
  /** Applied migrations (with times) and pending ones; changes nothing. */
  status(): MigrationStatus;
  /** Applies every pending migration; returns their versions (empty when current). */
  migrate(): number[];
  /**
   * Rolls back to `toVersion`; returns the versions rolled back, newest first.
   * Refuses to destroy data unless `force` (see rollbackMigrations).
   */
  rollback(toVersion: number, options?: { force?: boolean }): number[];
}

export interface StateDatabaseInfo {
  journalMode: string;
  busyTimeoutMs: number;
  foreignKeys: boolean;
  schemaVersion: number;
}

export interface OpenStateDatabaseOptions extends SqliteAdapterOptions {
  /**
   * Busy timeout in milliseconds.
   * @default BUSY_TIMEOUT_MS (5000)
   */
  busyTimeoutMs?: number;
  /**
   * Bring the schema to the latest version on open. With false the schema is
   * left as it is (`db status`, `db rollback`) and each adapter is prepared
   * when its property is first read, which throws STORE_FAILED while its
   * tables are missing.
   * @default true
   */
  migrate?: boolean;
  /**
   * Create the state directory and database when missing. With false a
   * missing database is a NotFoundError (NOT_FOUND) naming the file.
   * @default true
   */
  create?: boolean;
}

/**
 * Opens (creating when needed) `<stateDir>/state.db`. A new state directory is
 * created 0700 and a new database file 0600, because the directory also holds
 * the embedded nonce. Failures are DependencyError('STORE_FAILED') naming the
 * file: the caller applies the failure contract.
 */
export function openStateDatabase(stateDir: string, options: OpenStateDatabaseOptions = {}): StateDatabase {
  const file = path.join(stateDir, STATE_DB_FILE);
  if (options.create === false) return openStateDatabaseAt(file, options);
  guard(file, 'create state directory', () => {
    fs.mkdirSync(stateDir, { recursive: true, mode: 0o700 });
    try {
      fs.closeSync(fs.openSync(file, 'wx', 0o600));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  });
  return openStateDatabaseAt(file, options);
}

/**
 * Opens the state database at an explicit file path, or an in-memory database
 * with ':memory:' (tests). Sets WAL (file databases only), busy_timeout and
 * foreign keys, then runs the migrations.
 */
export function openStateDatabaseAt(file: string, options: OpenStateDatabaseOptions = {}): StateDatabase {
  if (options.create === false && file !== ':memory:' && !guard(file, 'open', () => fs.existsSync(file))) {
    throw new NotFoundError('NOT_FOUND', `no state database at ${file}`, { location: { file }, context: { file, operation: 'open' } });
  }
  const db = guard(file, 'open', () => new BetterSqlite3(file, { fileMustExist: options.create === false }));
  try {
    configure(db, file, options.busyTimeoutMs ?? BUSY_TIMEOUT_MS);
    const migrate = options.migrate !== false;
    if (migrate) runMigrations(db, file);
    const adapterOptions: SqliteAdapterOptions = options.now === undefined ? {} : { now: options.now };
    const fpStore = once(() => new SqliteFpStore(db, file, adapterOptions));
    const blockCounter = once(() => new SqliteBlockCounter(db, file, adapterOptions));
    const fprHistory = once(() => new SqliteFprHistory(db, file));
    const consent = once(() => new SqliteConsentStore(db, file));
    const calibration = once(() => new SqliteCalibrationStore(db, file));
    const ledger = once(() => new SqliteLedgerStore(db, file, adapterOptions));
    // A migrated database prepares every adapter now, so a broken schema fails at open.
    if (migrate) for (const make of [fpStore, blockCounter, fprHistory, consent, calibration, ledger]) make();
    return {
      file,
      get fpStore() {
        return fpStore();
      },
      get blockCounter() {
        return blockCounter();
      },
      get fprHistory() {
        return fprHistory();
      },
      get consent() {
        return consent();
      },
      get calibration() {
        return calibration();
      },
      get ledger() {
        return ledger();
      },
      migrations: {
        status: () => migrationStatus(db, file),
        migrate: () => runMigrations(db, file),
        rollback: (toVersion, rollbackOptions = {}) => rollbackMigrations(db, file, toVersion, { force: rollbackOptions.force === true }),
      },
      info: () =>
        guard(file, 'read settings', () => ({
          journalMode: String(db.pragma('journal_mode', { simple: true })),
          busyTimeoutMs: Number(db.pragma('busy_timeout', { simple: true })),
          foreignKeys: db.pragma('foreign_keys', { simple: true }) === 1,
          schemaVersion: Math.max(0, ...appliedMigrations(db, file)),
        })),
      close: () => {
        if (db.open) guard(file, 'close', () => db.close());
      },
    };
  } catch (error) {
    db.close();
    throw error;
  }
}

/** `make` called at most once; later calls return its first result. */
function once<T>(make: () => T): () => T {
  let made: { value: T } | undefined;
  return () => (made ??= { value: make() }).value;
}

function configure(db: Database, file: string, busyTimeoutMs: number): void {
  guard(file, 'configure', () => {
    db.pragma(`busy_timeout = ${Math.max(0, Math.trunc(busyTimeoutMs))}`);
    db.pragma('foreign_keys = ON');
    if (!db.memory) {
      const mode = db.pragma('journal_mode = WAL', { simple: true });
      if (mode !== 'wal') {
        throw new DependencyError('STORE_FAILED', `state store ${file} cannot use WAL journal mode (got ${String(mode)})`, {
          location: { file },
          context: { file, operation: 'configure', journalMode: mode },
        });
      }
      db.pragma('synchronous = NORMAL');
    }
  });
}
