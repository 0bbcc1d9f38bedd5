/**
 * The SQLite adapters: the shared store contracts against a real state.db,
 * plus what is specific to the embedded database (file layout, pragmas,
 * migrations, error wrapping, expiry sweeps, cross-process atomicity).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { DependencyError } from '../../src/errors';
import {
  appliedMigrations,
  FP_EVENT_RETENTION_MS,
  LATEST_SCHEMA_VERSION,
  MIGRATIONS,
  openStateDatabase,
  openStateDatabaseAt,
  runMigrations,
  STATE_DB_FILE,
  type StateDatabase,
} from '../../src/store/sqlite';
import type { BlockCounter, FpStore, FprHistory } from '../../src/store/ports';
import { describeBlockCounterContract } from './contract/block-counter.contract';
import { describeFpStoreContract } from './contract/fp-store.contract';
import { describeFprHistoryContract } from './contract/fpr-history.contract';
import type { MakeStore } from './contract/harness';

const tempDirs: string[] = [];

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pm-state-'));
  tempDirs.push(dir);
  return dir;
}

afterAll(() => {
  for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
});

function sqliteFactory<T>(pick: (db: StateDatabase) => T): MakeStore<T> {
  return async () => {
    const db = openStateDatabase(path.join(tempDir(), '.phase-mirror'));
    return { store: pick(db), close: async () => db.close() };
  };
}

describeFpStoreContract('sqlite', sqliteFactory<FpStore>((db) => db.fpStore));
describeBlockCounterContract('sqlite', sqliteFactory<BlockCounter>((db) => db.blockCounter));
describeFprHistoryContract('sqlite', sqliteFactory<FprHistory>((db) => db.fprHistory));

/** A second, raw connection to inspect what the adapter wrote. */
function inspect<T>(file: string, body: (raw: BetterSqlite3.Database) => T): T {
  const raw = new BetterSqlite3(file, { readonly: true, fileMustExist: true });
  try {
    return body(raw);
  } finally {
    raw.close();
  }
}

describe('openStateDatabase', () => {
  it('creates the state directory (0700) and state.db (0600) in it', () => {
    // Prepare
    const stateDir = path.join(tempDir(), 'nested', '.phase-mirror');

    // Act
    const db = openStateDatabase(stateDir);
    db.close();

    // Assess
    expect(db.file).toBe(path.join(stateDir, STATE_DB_FILE));
    expect(fs.statSync(stateDir).mode & 0o777).toBe(0o700);
    expect(fs.statSync(db.file).mode & 0o777).toBe(0o600);
  });

  it('uses WAL journaling, a busy timeout and foreign keys', () => {
    // Prepare / Act
    const db = openStateDatabase(tempDir());
    try {
      // Assess: on the adapter's connection and as seen by another connection
      expect(db.info()).toEqual({ journalMode: 'wal', busyTimeoutMs: 5000, foreignKeys: true, schemaVersion: LATEST_SCHEMA_VERSION });
      expect(inspect(db.file, (raw) => raw.pragma('journal_mode', { simple: true }))).toBe('wal');
      expect(fs.existsSync(`${db.file}-wal`)).toBe(true);
    } finally {
      db.close();
    }
  });

  it('waits busy_timeout for a lock held by another connection, then fails with STORE_FAILED', async () => {
    // Prepare: another connection holds the write lock
    const db = openStateDatabase(tempDir(), { busyTimeoutMs: 200 });
    const locker = new BetterSqlite3(db.file);
    locker.exec('BEGIN IMMEDIATE');
    try {
      // Act
      const started = Date.now();
      const attempt = db.blockCounter.increment('k', new Date(Date.now() + 60_000));

      // Assess
      await expect(attempt).rejects.toMatchObject({
        code: 'STORE_FAILED',
        context: { file: db.file, operation: 'increment block counter', sqliteCode: 'SQLITE_BUSY' },
      });
      expect(Date.now() - started).toBeGreaterThanOrEqual(150);
      expect(db.info().busyTimeoutMs).toBe(200);
    } finally {
      locker.exec('ROLLBACK');
      locker.close();
      db.close();
    }
  });

  it('reports memory journaling for an in-memory database', () => {
    const db = openStateDatabaseAt(':memory:');
    try {
      expect(db.info()).toMatchObject({ journalMode: 'memory', foreignKeys: true });
    } finally {
      db.close();
    }
  });

  it('records applied migrations once and is idempotent on reopen', () => {
    // Prepare
    const stateDir = tempDir();
    openStateDatabase(stateDir).close();
    const file = path.join(stateDir, STATE_DB_FILE);
    const first = inspect(file, (raw) => raw.prepare('SELECT version, applied_at FROM schema_migrations').all());

    // Act
    openStateDatabase(stateDir).close();
    openStateDatabase(stateDir).close();

    // Assess
    const again = inspect(file, (raw) => raw.prepare('SELECT version, applied_at FROM schema_migrations').all());
    expect(again).toEqual(first);
    expect(first).toHaveLength(MIGRATIONS.length);
    expect(inspect(file, (raw) => appliedMigrations(raw, file))).toEqual(MIGRATIONS.map((m) => m.version));
  });

  it('keeps data across reopen', async () => {
    const stateDir = tempDir();
    const first = openStateDatabase(stateDir);
    await first.blockCounter.increment('k', new Date(Date.now() + 60_000));
    first.close();

    const second = openStateDatabase(stateDir);
    try {
      expect(await second.blockCounter.get('k')).toBe(1);
    } finally {
      second.close();
    }
  });

  it('refuses a database whose schema is newer than the code knows, naming the file', () => {
    // Prepare
    const stateDir = tempDir();
    const file = path.join(stateDir, STATE_DB_FILE);
    openStateDatabase(stateDir).close();
    const raw = new BetterSqlite3(file);
    raw.prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)').run(LATEST_SCHEMA_VERSION + 1, new Date().toISOString());
    raw.close();

    // Act
    const open = (): StateDatabase => openStateDatabase(stateDir);

    // Assess
    expect(open).toThrow(DependencyError);
    expect(open).toThrow(file);
    try {
      open();
    } catch (error) {
      expect(error).toMatchObject({ code: 'STORE_FAILED', location: { file }, context: { file, operation: 'migrate' } });
    }
  });

  it('wraps a file that is not a SQLite database as STORE_FAILED', () => {
    const stateDir = tempDir();
    fs.writeFileSync(path.join(stateDir, STATE_DB_FILE), 'this is not a database, just some text that is long enough '.repeat(20));
    expect(() => openStateDatabase(stateDir)).toThrow(expect.objectContaining({ code: 'STORE_FAILED' }));
  });

  it('wraps a state directory that cannot be created as STORE_FAILED with the operation', () => {
    const blocker = path.join(tempDir(), 'plain-file');
    fs.writeFileSync(blocker, 'x');
    let caught: unknown;
    try {
      openStateDatabase(path.join(blocker, '.phase-mirror'));
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(DependencyError);
    expect(caught).toMatchObject({ code: 'STORE_FAILED', context: { operation: 'create state directory' } });
  });

  it('opens an in-memory database for tests', async () => {
    const db = openStateDatabaseAt(':memory:');
    try {
      expect(await db.blockCounter.increment('k', new Date(Date.now() + 60_000))).toBe(1);
    } finally {
      db.close();
    }
  });

  it('fails every operation after close with STORE_FAILED naming file and operation', async () => {
    // Prepare
    const db = openStateDatabase(tempDir());
    db.close();
    db.close();

    // Act / Assess
    await expect(db.blockCounter.get('k')).rejects.toMatchObject({
      code: 'STORE_FAILED',
      context: { file: db.file, operation: 'read block counter' },
    });
    await expect(db.fpStore.list({ limit: 1 })).rejects.toBeInstanceOf(DependencyError);
    await expect(db.fpStore.markedFindings(['f'])).rejects.toMatchObject({ code: 'STORE_FAILED' });
    await expect(db.fpStore.ruleStats('MD-001', 5)).rejects.toMatchObject({ code: 'STORE_FAILED' });
    await expect(db.fprHistory.last('MD-001')).rejects.toMatchObject({ code: 'STORE_FAILED' });
    await expect(
      db.fpStore.recordEvents([
        { eventId: 'e', ruleId: 'r', ruleVersion: '1', findingId: 'f', repository: 'o/r', runId: 'x', path: 'a', observedAt: new Date().toISOString() },
      ]),
    ).rejects.toMatchObject({ code: 'STORE_FAILED', context: { operation: 'record fp events' } });
  });
});

describe('runMigrations', () => {
  it('applies pending migrations in order and nothing the second time', () => {
    const raw = new BetterSqlite3(':memory:');
    try {
      const shipped = MIGRATIONS.map((m) => m.version);
      const next = LATEST_SCHEMA_VERSION + 1;
      const extra = [...MIGRATIONS, { version: next, description: 'extra', sql: 'CREATE TABLE extra (id INTEGER PRIMARY KEY)' }];
      expect(runMigrations(raw, ':memory:')).toEqual(shipped);
      expect(runMigrations(raw, ':memory:', extra)).toEqual([next]);
      expect(runMigrations(raw, ':memory:', extra)).toEqual([]);
      expect(appliedMigrations(raw, ':memory:')).toEqual([...shipped, next]);
    } finally {
      raw.close();
    }
  });

  it('rolls a failing migration back completely and reports STORE_FAILED', () => {
    const raw = new BetterSqlite3(':memory:');
    try {
      const broken = [
        ...MIGRATIONS,
        { version: LATEST_SCHEMA_VERSION + 1, description: 'half', sql: 'CREATE TABLE half (id INTEGER); CREATE TABLE half (id INTEGER);' },
      ];
      expect(() => runMigrations(raw, 'mem.db', broken)).toThrow(expect.objectContaining({ code: 'STORE_FAILED', context: expect.objectContaining({ file: 'mem.db', operation: 'migrate' }) }));
      expect(raw.prepare("SELECT COUNT(*) FROM sqlite_master WHERE name IN ('half', 'fp_events')").pluck().get()).toBe(0);
      expect(raw.prepare('SELECT COUNT(*) FROM schema_migrations').pluck().get()).toBe(0);
    } finally {
      raw.close();
    }
  });
});

describe('SQLite expiry', () => {
  it('deletes expired FP events on the next write', async () => {
    // Prepare: a clock we control
    let now = Date.parse('2030-01-01T00:00:00.000Z');
    const db = openStateDatabase(tempDir(), { now: () => now });
    const base = { ruleId: 'MD-001', ruleVersion: '1', findingId: 'f', repository: 'o/r', runId: 'run', path: 'a' };
    try {
      await db.fpStore.recordEvents([{ ...base, eventId: 'old', observedAt: new Date(now).toISOString() }]);
      now += FP_EVENT_RETENTION_MS + 1;

      // Act
      await db.fpStore.recordEvents([{ ...base, eventId: 'new', observedAt: new Date(now).toISOString() }]);

      // Assess
      const stored = inspect(db.file, (raw) => raw.prepare('SELECT event_id FROM fp_events ORDER BY event_id').pluck().all());
      expect(stored).toEqual(['new']);
    } finally {
      db.close();
    }
  });

  it('expires a live counter when its time passes and restarts it at 1', async () => {
    let now = Date.parse('2030-01-01T00:00:00.000Z');
    const db = openStateDatabase(tempDir(), { now: () => now });
    const hourEnd = new Date(now + 60 * 60 * 1000);
    try {
      expect(await db.blockCounter.increment('repo#2030-01-01T00', hourEnd)).toBe(1);
      expect(await db.blockCounter.increment('repo#2030-01-01T00', hourEnd)).toBe(2);
      now = hourEnd.getTime();
      expect(await db.blockCounter.get('repo#2030-01-01T00')).toBe(0);
      expect(await db.blockCounter.increment('repo#2030-01-01T00', new Date(now + 60 * 60 * 1000))).toBe(1);
    } finally {
      db.close();
    }
  });

  it('sweeps expired counters when a counter starts, keeping live ones', async () => {
    // Prepare
    let now = Date.parse('2030-01-01T00:00:00.000Z');
    const db = openStateDatabase(tempDir(), { now: () => now });
    try {
      await db.blockCounter.increment('repo#00', new Date(now + 1_000));
      await db.blockCounter.increment('repo#live', new Date(now + 60_000));
      now += 2_000;

      // Act
      await db.blockCounter.increment('repo#01', new Date(now + 1_000));

      // Assess
      const keys = inspect(db.file, (raw) => raw.prepare('SELECT key FROM block_counters ORDER BY key').pluck().all());
      expect(keys).toEqual(['repo#01', 'repo#live']);
    } finally {
      db.close();
    }
  });
});

describe('SQLite block counter across processes', () => {
  it('is exact when several processes increment the same key in parallel', async () => {
    // Prepare
    const stateDir = path.join(tempDir(), '.phase-mirror');
    openStateDatabase(stateDir).close();
    const worker = path.join(__dirname, '..', 'fixtures', 'store', 'increment-worker.js');
    const processes = 6;
    const increments = 1000;
    let ready = 0;
    const children: ChildProcess[] = [];
    const goWhenAllReady = (): void => {
      ready += 1;
      if (ready === processes) for (const child of children) child.stdin?.write('go\n');
    };

    // Act
    const outputs = await Promise.all(
      Array.from(
        { length: processes },
        () =>
          new Promise<number[]>((resolve, reject) => {
            const child = spawn(process.execPath, [worker, stateDir, 'acme/widgets#2030-01-01T00', String(increments)], {
              cwd: path.join(__dirname, '..', '..'),
              stdio: ['pipe', 'pipe', 'pipe'],
            });
            children.push(child);
            let stdout = '';
            let stderr = '';
            child.stdout?.on('data', (chunk: Buffer) => {
              const before = stdout;
              stdout += chunk.toString();
              if (!before.includes('ready\n') && stdout.includes('ready\n')) goWhenAllReady();
            });
            child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
            child.on('error', reject);
            child.on('close', (code) => {
              if (code === 0) resolve(JSON.parse(stdout.slice(stdout.indexOf('ready\n') + 'ready\n'.length)) as number[]);
              else reject(new Error(`worker exited ${String(code)}: ${stderr}`));
            });
          }),
      ),
    );

    // Assess
    const total = processes * increments;
    const all = outputs.flat().sort((a, b) => a - b);
    expect(all).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    for (const values of outputs) expect(values).toEqual([...values].sort((a, b) => a - b));
    const interleaved = outputs.some((values) => values[values.length - 1] - values[0] + 1 > values.length);
    expect(interleaved).toBe(true);
    const db = openStateDatabase(stateDir);
    try {
      expect(await db.blockCounter.get('acme/widgets#2030-01-01T00')).toBe(total);
    } finally {
      db.close();
    }
  }, 60_000);
});
