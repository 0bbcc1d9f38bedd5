/**
 * Versioned migrations with rollback: every shipped migration's down step
 * undoes exactly its up step; up to the latest version, down to 3 and up
 * again keeps the data of every table the rolled-back migrations did not
 * create; the dual-commitment columns (v6) roll back alone; rollback refuses
 * to destroy data unless forced, refuses impossible targets, and leaves the
 * database at a whole version when a down step fails; status lists applied
 * (with times) and pending migrations.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { DependencyError, InputError, NotFoundError } from '../../../src/errors';
import { buildBlock, type StoredBlock } from '../../../src/ledger/block';
import type { SealedEpoch } from '../../../src/ledger/store';
import { sha256Hex } from '../../../src/hashing';
import {
  appliedMigrations,
  LATEST_SCHEMA_VERSION,
  MIGRATIONS,
  migrationStatus,
  openStateDatabase,
  rollbackMigrations,
  runMigrations,
  type Migration,
  type StateDatabase,
} from '../../../src/store/sqlite';
import type { DissonanceReport } from '../../../src/types';

const NOW = Date.parse('2030-06-01T10:00:00.000Z');
const tempDirs: string[] = [];

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pm-migrate-'));
  tempDirs.push(dir);
  return dir;
}

afterAll(() => {
  for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
});

function report(seed: string): DissonanceReport {
  return {
    meta: { schema_version: '2.0.0', run_id: seed, timestamp: new Date(NOW).toISOString(), rules_hash: sha256Hex('rules') },
    items: [{ id: sha256Hex(seed), rule_id: 'MD-001', rule_version: '1.0.0', severity: 'high', title: 't', evidence: [] }],
    summary: { total: 1, by_severity: { critical: 0, high: 1, medium: 0, low: 0 } },
    machine_decision: { outcome: 'block', degraded: false, reason: 'test' },
  };
}

function chain(repository: string, count: number, dualActivationHeight?: number): StoredBlock[] {
  const blocks: StoredBlock[] = [];
  for (let height = 0; height < count; height++) {
    blocks.push(
      buildBlock({
        report: report(`${repository}:${height}`),
        repository,
        mode: 'pull_request',
        commit: 'd'.repeat(40),
        previous: blocks.at(-1),
        actions: [],
        dualActivationHeight,
        timestamp: new Date(NOW + height * 1000),
      }),
    );
  }
  return blocks;
}

function sealed(repository: string, blocks: readonly StoredBlock[], rootSha3?: string): SealedEpoch {
  return {
    repository,
    number: 0,
    startHeight: 0,
    endHeight: blocks.length - 1,
    root: sha256Hex(blocks.map((block) => block.hash).join('')),
    ...(rootSha3 !== undefined ? { rootSha3 } : {}),
    sealedAt: new Date(NOW).toISOString(),
    statement: Buffer.from('statement'),
    signatures: [{ algorithm: 'ed25519', keyId: 'k1', signature: Buffer.alloc(64, 9) }],
  };
}

/** A state database at the latest version holding data in every table; returns what it wrote. */
async function populated(options: { dual?: boolean; ledger?: boolean } = {}): Promise<{ stateDir: string; file: string; blocks: StoredBlock[] }> {
  const stateDir = tempDir();
  const state = openStateDatabase(stateDir, { now: () => NOW });
  const blocks = chain('acme/widgets', 3, options.dual === true ? 1 : undefined);
  try {
    await state.fpStore.recordEvents([
      { eventId: 'e1', ruleId: 'MD-001', ruleVersion: '1.0.0', findingId: 'f1', repository: 'acme/widgets', runId: 'r1', path: 'a.yml', observedAt: new Date(NOW).toISOString() },
      { eventId: 'e2', ruleId: 'MD-002', ruleVersion: '1.0.0', findingId: 'f2', repository: 'acme/widgets', runId: 'r1', path: 'b.yml', observedAt: new Date(NOW).toISOString() },
    ]);
    await state.fpStore.markFalsePositive('e1', { reviewer: 'ana', reason: 'test fixture', markedAt: new Date(NOW).toISOString() });
    await state.blockCounter.increment('acme/widgets#2030-06-01T10', new Date(NOW + 3_600_000));
    await state.consent.grant({ orgId: 'acme', resource: 'fp_patterns' }, { grantedBy: 'admin', grantedAt: new Date(NOW).toISOString() });
    await state.calibration.ingest({ ruleId: 'MD-001', orgHash: 'a'.repeat(64), bucket: '2030-06-01T10:00:00.000Z', falsePositive: true });
    if (options.ledger !== false) {
      for (const block of blocks) await state.ledger.append(block);
      await state.ledger.recordAction('acme/widgets', { kind: 'fp_mark', actor: 'ana', at: new Date(NOW).toISOString(), subject: 'e1', detail: 'fp' });
      await state.ledger.putSetting('epoch_size', '3');
      await state.ledger.putEpoch(sealed('acme/widgets', blocks, options.dual === true ? 'b'.repeat(64) : undefined));
    }
  } finally {
    state.close();
  }
  return { stateDir, file: state.file, blocks };
}

function withRaw<T>(file: string, body: (raw: BetterSqlite3.Database) => T): T {
  const raw = new BetterSqlite3(file);
  try {
    return body(raw);
  } finally {
    raw.close();
  }
}

function rows(raw: BetterSqlite3.Database, table: string): unknown[] {
  return raw.prepare(`SELECT * FROM ${table} ORDER BY 1, 2`).all();
}

function tables(raw: BetterSqlite3.Database): string[] {
  return raw.prepare<[], string>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").pluck().all();
}

function columns(raw: BetterSqlite3.Database, table: string): string[] {
  return raw.prepare<[], string>(`SELECT name FROM pragma_table_info('${table}')`).pluck().all();
}

/** Every table, index and its SQL: the whole schema. */
function schema(raw: BetterSqlite3.Database): unknown[] {
  return raw.prepare("SELECT type, name, tbl_name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name").all();
}

const SHA3_BLOCK_COLUMNS = ['hash_sha3', 'prev_hash_sha3', 'reasoning_root_sha3', 'ui_root_sha3', 'composite_root_sha3'];
const KEPT_TABLES = ['fp_events', 'block_counters', 'fpr_history', 'consent_current', 'consent_history', 'calibration_records'];
const LEDGER_TABLES = ['ledger_blocks', 'ledger_actions', 'ledger_settings', 'ledger_epochs'];

describe('shipped migrations', () => {
  it('number 1..6 in order, each with a description, a down step and a data check', () => {
    expect(MIGRATIONS.map((m) => m.version)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(LATEST_SCHEMA_VERSION).toBe(6);
    for (const migration of MIGRATIONS) {
      expect(migration.description.length).toBeGreaterThan(0);
      expect(migration.down?.trim().length).toBeGreaterThan(0);
      expect(migration.dataAtRisk?.trim().length).toBeGreaterThan(0);
    }
  });

  it.each(MIGRATIONS.map((m) => [m.version, m.description] as const))('migration %i (%s): its down step restores the exact schema before it', (version) => {
    const raw = new BetterSqlite3(':memory:');
    try {
      // Prepare
      runMigrations(raw, ':memory:', MIGRATIONS.slice(0, version - 1));
      const before = schema(raw);

      // Act
      runMigrations(raw, ':memory:', MIGRATIONS.slice(0, version));
      const after = schema(raw);
      const rolledBack = rollbackMigrations(raw, ':memory:', version - 1);

      // Assess
      expect(after).not.toEqual(before);
      expect(rolledBack).toEqual([version]);
      expect(schema(raw)).toEqual(before);
      expect(appliedMigrations(raw, ':memory:')).toEqual(MIGRATIONS.slice(0, version - 1).map((m) => m.version));
    } finally {
      raw.close();
    }
  });

  it('keeps the dual-commitment columns out of v4 and v5: only v6 adds them', () => {
    const raw = new BetterSqlite3(':memory:');
    try {
      runMigrations(raw, ':memory:', MIGRATIONS.slice(0, 5));
      expect(columns(raw, 'ledger_blocks')).not.toEqual(expect.arrayContaining(['hash_sha3']));
      for (const column of SHA3_BLOCK_COLUMNS) expect(columns(raw, 'ledger_blocks')).not.toContain(column);
      expect(columns(raw, 'ledger_epochs')).not.toContain('root_sha3');

      runMigrations(raw, ':memory:');
      expect(columns(raw, 'ledger_blocks')).toEqual(expect.arrayContaining(SHA3_BLOCK_COLUMNS));
      expect(columns(raw, 'ledger_epochs')).toContain('root_sha3');
    } finally {
      raw.close();
    }
  });
});

describe('rollbackMigrations', () => {
  it('goes up to the latest version, down to 3 and up again, keeping the data of the tables that survive', async () => {
    // Prepare
    const { file, stateDir, blocks } = await populated();
    const kept = withRaw(file, (raw) => Object.fromEntries(KEPT_TABLES.map((table) => [table, rows(raw, table)])));
    expect(kept.fp_events).toHaveLength(2);
    expect(kept.calibration_records).toHaveLength(1);

    // Act: down to 3 (the ledger holds data, so it is forced), then up
    const rolledBack = withRaw(file, (raw) => rollbackMigrations(raw, file, 3, { force: true }));
    const afterDown = withRaw(file, (raw) => ({
      tables: tables(raw),
      applied: appliedMigrations(raw, file),
      kept: Object.fromEntries(KEPT_TABLES.map((table) => [table, rows(raw, table)])),
    }));
    const reapplied = withRaw(file, (raw) => runMigrations(raw, file));

    // Assess
    expect(rolledBack).toEqual([6, 5, 4]);
    expect(afterDown.applied).toEqual([1, 2, 3]);
    for (const table of LEDGER_TABLES) expect(afterDown.tables).not.toContain(table);
    expect(afterDown.kept).toEqual(kept);
    expect(reapplied).toEqual([4, 5, 6]);
    withRaw(file, (raw) => {
      expect(Object.fromEntries(KEPT_TABLES.map((table) => [table, rows(raw, table)]))).toEqual(kept);
      for (const table of LEDGER_TABLES) expect(rows(raw, table)).toEqual([]);
    });
    // The reopened state works on the recreated ledger tables.
    const state = openStateDatabase(stateDir);
    try {
      expect((await state.fpStore.markedFindings(['f1'])).size).toBe(1);
      await state.ledger.append(blocks[0]);
      expect(await state.ledger.get('acme/widgets', 0)).toStrictEqual(blocks[0]);
    } finally {
      state.close();
    }
  });

  it('rolls back only the dual-commitment columns: blocks, journal, settings and epochs survive v6 and come back intact', async () => {
    // Prepare: sha256-v1 blocks, an epoch without a SHA3 root (no data in the v6 columns)
    const { file, stateDir, blocks } = await populated();
    const before = withRaw(file, (raw) => Object.fromEntries(LEDGER_TABLES.map((table) => [table, rows(raw, table)])));

    // Act
    const rolledBack = withRaw(file, (raw) => rollbackMigrations(raw, file, 5));

    // Assess: the columns are gone, every other value is unchanged
    expect(rolledBack).toEqual([6]);
    withRaw(file, (raw) => {
      for (const column of SHA3_BLOCK_COLUMNS) expect(columns(raw, 'ledger_blocks')).not.toContain(column);
      expect(columns(raw, 'ledger_epochs')).not.toContain('root_sha3');
      const strip = (table: string, drop: string[]): unknown[] =>
        (before[table] as Record<string, unknown>[]).map((row) => Object.fromEntries(Object.entries(row).filter(([key]) => !drop.includes(key))));
      expect(rows(raw, 'ledger_blocks')).toEqual(strip('ledger_blocks', SHA3_BLOCK_COLUMNS));
      expect(rows(raw, 'ledger_epochs')).toEqual(strip('ledger_epochs', ['root_sha3']));
      expect(rows(raw, 'ledger_actions')).toEqual(before.ledger_actions);
      expect(rows(raw, 'ledger_settings')).toEqual(before.ledger_settings);
    });

    // Act: up again, through the store
    const state = openStateDatabase(stateDir);
    try {
      // Assess
      expect(state.info().schemaVersion).toBe(6);
      expect(await state.ledger.range('acme/widgets', 0, 10)).toStrictEqual(blocks);
      expect(await state.ledger.actionsAfter('acme/widgets', 0)).toHaveLength(1);
      expect(await state.ledger.getSetting('epoch_size')).toBe('3');
      expect((await state.ledger.epochs('acme/widgets'))[0]).not.toHaveProperty('rootSha3');
    } finally {
      state.close();
    }
  });

  it('rolls back to 4: the epochs go, the blocks stay', async () => {
    const { file } = await populated();
    const blocksBefore = withRaw(file, (raw) => raw.prepare('SELECT repository, height, canonical, hash FROM ledger_blocks ORDER BY height').all());

    const rolledBack = withRaw(file, (raw) => rollbackMigrations(raw, file, 4, { force: true }));

    expect(rolledBack).toEqual([6, 5]);
    withRaw(file, (raw) => {
      expect(tables(raw)).not.toContain('ledger_epochs');
      expect(raw.prepare('SELECT repository, height, canonical, hash FROM ledger_blocks ORDER BY height').all()).toEqual(blocksBefore);
    });
  });

  it('refuses to drop dual-commitment values unless forced, changing nothing', async () => {
    // Prepare: dual blocks from height 1, an epoch with a SHA3 root
    const { file } = await populated({ dual: true });

    // Act
    let refusal: unknown;
    withRaw(file, (raw) => {
      try {
        rollbackMigrations(raw, file, 5);
      } catch (error) {
        refusal = error;
      }
    });

    // Assess
    expect(refusal).toBeInstanceOf(InputError);
    expect(refusal).toMatchObject({
      code: 'INPUT_INVALID',
      context: { version: 6, losses: { 'ledger_blocks with SHA3-256 values': 2, 'ledger_epochs with a SHA3-256 root': 1 } },
    });
    expect((refusal as Error).message).toContain('nothing was rolled back');
    withRaw(file, (raw) => {
      expect(appliedMigrations(raw, file)).toEqual([1, 2, 3, 4, 5, 6]);
      expect(raw.prepare('SELECT COUNT(*) FROM ledger_blocks WHERE hash_sha3 IS NOT NULL').pluck().get()).toBe(2);
      // Forced, it goes through.
      expect(rollbackMigrations(raw, file, 5, { force: true })).toEqual([6]);
    });
  });

  it('refuses before touching anything when a lower migration would lose data', async () => {
    // Prepare: ledger blocks but no SHA3 values and (after deleting it) no epoch: v6 and v5 lose nothing, v4 would
    const { file } = await populated();
    withRaw(file, (raw) => raw.prepare('DELETE FROM ledger_epochs').run());

    // Act / Assess
    withRaw(file, (raw) => {
      expect(() => rollbackMigrations(raw, file, 3)).toThrow(expect.objectContaining({ code: 'INPUT_INVALID', context: expect.objectContaining({ version: 4 }) }));
      expect(appliedMigrations(raw, file)).toEqual([1, 2, 3, 4, 5, 6]);
      expect(columns(raw, 'ledger_blocks')).toContain('hash_sha3');
      expect(tables(raw)).toContain('ledger_epochs');
    });
  });

  it('refuses a target below 0, not an integer, or above the current version', async () => {
    const { file } = await populated({ ledger: false });
    withRaw(file, (raw) => {
      for (const target of [-1, 2.5, Number.NaN]) {
        expect(() => rollbackMigrations(raw, file, target)).toThrow(InputError);
        expect(() => rollbackMigrations(raw, file, target)).toThrow(expect.objectContaining({ code: 'INPUT_INVALID', location: expect.objectContaining({ field: 'toVersion' }) }));
      }
      rollbackMigrations(raw, file, 4);
      expect(() => rollbackMigrations(raw, file, 5)).toThrow(expect.objectContaining({ code: 'INPUT_INVALID', context: expect.objectContaining({ toVersion: 5, schemaVersion: 4 }) }));
      expect(appliedMigrations(raw, file)).toEqual([1, 2, 3, 4]);
    });
  });

  it('does nothing when the database is already at the target', async () => {
    const { file } = await populated();
    withRaw(file, (raw) => {
      expect(rollbackMigrations(raw, file, 6)).toEqual([]);
      expect(appliedMigrations(raw, file)).toEqual([1, 2, 3, 4, 5, 6]);
    });
  });

  it('rolls an empty database back to 0 and up again', () => {
    const raw = new BetterSqlite3(':memory:');
    try {
      runMigrations(raw, ':memory:');
      expect(rollbackMigrations(raw, ':memory:', 0)).toEqual([6, 5, 4, 3, 2, 1]);
      expect(tables(raw)).toEqual(['schema_migrations']);
      expect(runMigrations(raw, ':memory:')).toEqual([1, 2, 3, 4, 5, 6]);
      expect(tables(raw)).toEqual(expect.arrayContaining([...KEPT_TABLES, ...LEDGER_TABLES]));
    } finally {
      raw.close();
    }
  });

  it('refuses to roll back a version this code does not know', () => {
    const raw = new BetterSqlite3(':memory:');
    try {
      runMigrations(raw, ':memory:');
      raw.prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)').run(LATEST_SCHEMA_VERSION + 1, new Date(NOW).toISOString());

      expect(() => rollbackMigrations(raw, 'state.db', 3)).toThrow(DependencyError);
      expect(() => rollbackMigrations(raw, 'state.db', 3)).toThrow(expect.objectContaining({ code: 'STORE_FAILED', context: expect.objectContaining({ version: 7 }) }));
      expect(appliedMigrations(raw, 'state.db')).toEqual([1, 2, 3, 4, 5, 6, 7]);
    } finally {
      raw.close();
    }
  });

  it('refuses a migration without a down step', () => {
    const raw = new BetterSqlite3(':memory:');
    const migrations: Migration[] = [
      { version: 1, description: 'a', sql: 'CREATE TABLE a (id INTEGER)', down: 'DROP TABLE a' },
      { version: 2, description: 'b, forever', sql: 'CREATE TABLE b (id INTEGER)' },
    ];
    try {
      runMigrations(raw, 'm.db', migrations);
      expect(() => rollbackMigrations(raw, 'm.db', 0, { migrations })).toThrow(expect.objectContaining({ code: 'INPUT_INVALID', context: expect.objectContaining({ version: 2 }) }));
      expect(tables(raw)).toEqual(['a', 'b', 'schema_migrations']);
    } finally {
      raw.close();
    }
  });

  it('leaves the database at a whole version when a down step fails', () => {
    // Prepare: v2's down step fails half-way
    const raw = new BetterSqlite3(':memory:');
    const migrations: Migration[] = [
      { version: 1, description: 'a', sql: 'CREATE TABLE a (id INTEGER)', down: 'DROP TABLE a' },
      { version: 2, description: 'b', sql: 'CREATE TABLE b (id INTEGER); CREATE TABLE b2 (id INTEGER)', down: 'DROP TABLE b2; DROP TABLE missing' },
      { version: 3, description: 'c', sql: 'CREATE TABLE c (id INTEGER)', down: 'DROP TABLE c' },
    ];
    try {
      runMigrations(raw, 'm.db', migrations);

      // Act
      let failure: unknown;
      try {
        rollbackMigrations(raw, 'm.db', 0, { migrations });
      } catch (error) {
        failure = error;
      }

      // Assess: v3 rolled back, v2 untouched (b2 still there), v1 not attempted
      expect(failure).toBeInstanceOf(DependencyError);
      expect(failure).toMatchObject({ code: 'STORE_FAILED', context: { operation: 'rollback', version: 2, schemaVersion: 2, rolledBack: [3] } });
      expect((failure as Error).message).toContain('stays at version 2');
      expect(appliedMigrations(raw, 'm.db')).toEqual([1, 2]);
      expect(tables(raw)).toEqual(['a', 'b', 'b2', 'schema_migrations']);
    } finally {
      raw.close();
    }
  });
});

describe('migrationStatus', () => {
  it('reports a database without any migration as version 0 with everything pending, creating nothing', () => {
    const raw = new BetterSqlite3(':memory:');
    try {
      const status = migrationStatus(raw, 'new.db');

      expect(status).toEqual({
        file: 'new.db',
        currentVersion: 0,
        latestVersion: 6,
        applied: [],
        pending: MIGRATIONS.map((m) => ({ version: m.version, description: m.description })),
      });
      expect(tables(raw)).toEqual([]);
    } finally {
      raw.close();
    }
  });

  it('lists applied migrations with their descriptions and times, and the pending ones', () => {
    const raw = new BetterSqlite3(':memory:');
    try {
      // Prepare: at version 3, with known application times
      runMigrations(raw, 'state.db', MIGRATIONS.slice(0, 3));
      raw.prepare('UPDATE schema_migrations SET applied_at = ?').run('2030-01-02T03:04:05.000Z');

      // Act
      const status = migrationStatus(raw, 'state.db');

      // Assess
      expect(status.currentVersion).toBe(3);
      expect(status.latestVersion).toBe(6);
      expect(status.applied).toEqual(
        MIGRATIONS.slice(0, 3).map((m) => ({ version: m.version, description: m.description, appliedAt: '2030-01-02T03:04:05.000Z' })),
      );
      expect(status.pending.map((m) => m.version)).toEqual([4, 5, 6]);
      expect(status.pending[2].description).toBe(MIGRATIONS[5].description);
    } finally {
      raw.close();
    }
  });

  it('shows a version written by a newer Phase Mirror without a description instead of failing', () => {
    const raw = new BetterSqlite3(':memory:');
    try {
      runMigrations(raw, 'state.db');
      raw.prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (7, ?)').run('2031-01-01T00:00:00.000Z');

      const status = migrationStatus(raw, 'state.db');

      expect(status.currentVersion).toBe(7);
      expect(status.applied.at(-1)).toEqual({ version: 7, description: undefined, appliedAt: '2031-01-01T00:00:00.000Z' });
      expect(status.pending).toEqual([]);
    } finally {
      raw.close();
    }
  });
});

describe('StateDatabase.migrations', () => {
  it('opens without migrating when asked, so status and rollback see the schema as it is', async () => {
    // Prepare: a database rolled back to 3
    const { stateDir, file } = await populated({ ledger: false });
    withRaw(file, (raw) => rollbackMigrations(raw, file, 3));

    // Act
    const state = openStateDatabase(stateDir, { migrate: false });
    let status;
    let applied;
    try {
      status = state.migrations.status();
      applied = state.migrations.migrate();
    } finally {
      state.close();
    }

    // Assess
    expect(status.currentVersion).toBe(3);
    expect(status.pending.map((m) => m.version)).toEqual([4, 5, 6]);
    expect(applied).toEqual([4, 5, 6]);
  });

  it('rolls back through the handle, and the default open migrates to the latest again', async () => {
    const { stateDir } = await populated();

    const state = openStateDatabase(stateDir, { migrate: false });
    let refused: unknown;
    try {
      try {
        state.migrations.rollback(3);
      } catch (error) {
        refused = error;
      }
      expect(state.migrations.rollback(3, { force: true })).toEqual([6, 5, 4]);
      expect(state.info().schemaVersion).toBe(3);
      // An adapter whose tables are gone fails as a store failure when first used.
      expect(() => state.ledger).toThrow(expect.objectContaining({ code: 'STORE_FAILED', context: expect.objectContaining({ operation: 'prepare ledger statements' }) }));
    } finally {
      state.close();
    }
    expect(refused).toMatchObject({ code: 'INPUT_INVALID', context: expect.objectContaining({ version: 5, losses: { 'ledger_epochs rows': 1 } }) });

    const reopened: StateDatabase = openStateDatabase(stateDir);
    try {
      expect(reopened.info().schemaVersion).toBe(6);
      expect(await reopened.ledger.head('acme/widgets')).toBeUndefined();
      expect((await reopened.fpStore.markedFindings(['f1'])).size).toBe(1);
    } finally {
      reopened.close();
    }
  });

  it('reports schema version 0 for a new database opened without migrating', () => {
    const state = openStateDatabase(tempDir(), { migrate: false });
    try {
      expect(state.info().schemaVersion).toBe(0);
      expect(state.migrations.status().applied).toEqual([]);
    } finally {
      state.close();
    }
  });

  it('refuses to create a missing database when create is false, naming the file and creating nothing', () => {
    const stateDir = path.join(tempDir(), 'absent', '.phase-mirror');

    expect(() => openStateDatabase(stateDir, { create: false })).toThrow(NotFoundError);
    expect(() => openStateDatabase(stateDir, { create: false })).toThrow(
      expect.objectContaining({ code: 'NOT_FOUND', location: { file: path.join(stateDir, 'state.db') } }),
    );
    expect(fs.existsSync(path.dirname(stateDir))).toBe(false);
  });
});
