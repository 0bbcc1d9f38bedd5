/**
 * The SQLite calibration store: the shared contract against a real state.db
 * file, plus what is specific to the embedded database (its migration, what a
 * row holds, error wrapping).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { DependencyError } from '../../src/errors';
import { SqliteCalibrationStore } from '../../src/store/sqlite/calibration-store';
import { MIGRATIONS, runMigrations } from '../../src/store/sqlite/migrations';
import type { CalibrationStore } from '../../src/store/ports';
import { describeCalibrationStoreContract, orgHashOf } from './contract/calibration-store.contract';
import type { MakeStore } from './contract/harness';

const tempDirs: string[] = [];

function tempFile(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pm-calibration-'));
  tempDirs.push(dir);
  return path.join(dir, 'state.db');
}

afterAll(() => {
  for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
});

/** A migrated database file and the adapter on it. */
function open(file = tempFile()): { db: BetterSqlite3.Database; store: SqliteCalibrationStore; file: string } {
  const db = new BetterSqlite3(file);
  db.pragma('journal_mode = WAL');
  runMigrations(db, file);
  return { db, store: new SqliteCalibrationStore(db, file), file };
}

const makeStore: MakeStore<CalibrationStore> = async () => {
  const { db, store } = open();
  return {
    store,
    close: async () => {
      db.close();
    },
  };
};

describeCalibrationStoreContract('sqlite', makeStore);

describe('SqliteCalibrationStore', () => {
  it('is created by its own migration, version 3', () => {
    const migration = MIGRATIONS.find((m) => m.sql.includes('CREATE TABLE calibration_records'));
    expect(migration).toBeDefined();
    expect(migration!.version).toBe(3);
    expect(MIGRATIONS.map((m) => m.version)).toEqual(MIGRATIONS.map((_, i) => i + 1));
  });

  it('stores only rule, org hash, hour bucket and outcome', async () => {
    // Prepare
    const { db, store } = open();
    try {
      // Act
      await store.ingest({ ruleId: 'MD-003', orgHash: orgHashOf('acme'), bucket: '2030-01-01T10:00:00.000Z', falsePositive: true });

      // Assess
      const rows = db.prepare('SELECT * FROM calibration_records').all();
      expect(rows).toEqual([{ id: 1, rule_id: 'MD-003', org_hash: orgHashOf('acme'), bucket: '2030-01-01T10:00:00.000Z', false_positive: 1 }]);
    } finally {
      db.close();
    }
  });

  it('keeps records across reopen', async () => {
    const first = open();
    await first.store.ingest({ ruleId: 'MD-003', orgHash: orgHashOf('acme'), bucket: '2030-01-01T10:00:00.000Z', falsePositive: false });
    first.db.close();

    const second = open(first.file);
    try {
      expect(await second.store.counts('MD-003')).toEqual({ ruleId: 'MD-003', distinctOrgs: 1, outcomes: 1, falsePositives: 0 });
    } finally {
      second.db.close();
    }
  });

  it('fails with STORE_FAILED naming the file and operation once the connection is closed', async () => {
    // Prepare
    const { db, store, file } = open();
    db.close();

    // Act / Assess
    const record = { ruleId: 'MD-003', orgHash: orgHashOf('acme'), bucket: '2030-01-01T10:00:00.000Z', falsePositive: true };
    await expect(store.ingest(record)).rejects.toMatchObject({
      code: 'STORE_FAILED',
      context: { file, operation: 'ingest calibration record' },
    });
    await expect(store.counts('MD-003')).rejects.toMatchObject({ code: 'STORE_FAILED', context: { operation: 'read calibration counts' } });
    await expect(store.ruleIds()).rejects.toBeInstanceOf(DependencyError);
  });

  it('fails with STORE_FAILED when the table is missing (database not migrated)', () => {
    const file = tempFile();
    const db = new BetterSqlite3(file);
    try {
      expect(() => new SqliteCalibrationStore(db, file)).toThrow(
        expect.objectContaining({ code: 'STORE_FAILED', context: expect.objectContaining({ operation: 'prepare calibration statements' }) }),
      );
    } finally {
      db.close();
    }
  });
});
