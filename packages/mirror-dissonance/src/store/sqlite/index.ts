/** The embedded SQLite adapters of the store ports. */
export {
  openStateDatabase,
  openStateDatabaseAt,
  STATE_DB_FILE,
  BUSY_TIMEOUT_MS,
  type StateDatabase,
  type StateDatabaseInfo,
  type StateMigrations,
  type OpenStateDatabaseOptions,
} from './database';
export { SqliteFpStore, FP_EVENT_RETENTION_MS, type SqliteAdapterOptions } from './fp-store';
export { SqliteBlockCounter } from './block-counter';
export { SqliteFprHistory } from './fpr-history';
export { SqliteConsentStore } from './consent-store';
export { SqliteCalibrationStore } from './calibration-store';
export { SqliteLedgerStore, LEDGER_SETTING_KEYS, encodeLeaves, decodeLeaves } from './ledger-store';
export {
  MIGRATIONS,
  LATEST_SCHEMA_VERSION,
  runMigrations,
  appliedMigrations,
  rollbackMigrations,
  migrationStatus,
  type Migration,
  type MigrationStatus,
  type AppliedMigration,
  type PendingMigration,
  type RollbackOptions,
} from './migrations';
export { storeFailure } from './store-error';
