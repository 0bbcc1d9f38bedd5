/**
 * The embedded state database (DESIGN §7): one SQLite file,
 * `<stateDir>/state.db`, in WAL mode, holding the FP events, the block
 * counters and the FPR history behind the store ports.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import type { Database } from 'better-sqlite3';
import { DependencyError } from '../../errors';
import type { BlockCounter, CalibrationStore, ConsentStore, FpStore, FprHistory } from '../ports';
import { SqliteBlockCounter } from './block-counter';
import { SqliteFpStore, type SqliteAdapterOptions } from './fp-store';
import { SqliteFprHistory } from './fpr-history';
import { appliedMigrations, runMigrations } from './migrations';
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
  /** Connection settings and schema version, for diagnostics (`status`-style commands, tests). */
  info(): StateDatabaseInfo;
  /** Closes the connection; idempotent. Adapters throw STORE_FAILED afterwards. */
  close(): void;
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
}

/**
 * Opens (creating when needed) `<stateDir>/state.db`. A new state directory is
 * created 0700 and a new database file 0600, because the directory also holds
 * the embedded nonce. Failures are DependencyError('STORE_FAILED') naming the
 * file: the caller applies the failure contract.
 */
export function openStateDatabase(stateDir: string, options: OpenStateDatabaseOptions = {}): StateDatabase {
  const file = path.join(stateDir, STATE_DB_FILE);
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
  const db = guard(file, 'open', () => new BetterSqlite3(file, { fileMustExist: false }));
  try {
    configure(db, file, options.busyTimeoutMs ?? BUSY_TIMEOUT_MS);
    runMigrations(db, file);
    const adapterOptions: SqliteAdapterOptions = options.now === undefined ? {} : { now: options.now };
    const fpStore = new SqliteFpStore(db, file, adapterOptions);
    const blockCounter = new SqliteBlockCounter(db, file, adapterOptions);
    const fprHistory = new SqliteFprHistory(db, file);
    return {
      file,
      fpStore,
      blockCounter,
      fprHistory,
      consent: new SqliteConsentStore(db, file),
      calibration: new SqliteCalibrationStore(db, file),
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
