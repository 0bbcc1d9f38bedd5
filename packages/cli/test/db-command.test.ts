/**
 * `db migrate | rollback | status` on a real embedded state database, called
 * directly with a captured Io and a workspace from openWorkspace: what is
 * printed, what the database looks like afterwards, and the usage refusals
 * (exit 3 through exitCodeFor).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { NotFoundError, openStateDatabase, UsageError } from '@phase-mirror/mirror-dissonance';
import { buildBlock } from '../../mirror-dissonance/src/ledger/block';
import { sha256Hex } from '../../mirror-dissonance/src/hashing';
import { LATEST_SCHEMA_VERSION, MIGRATIONS } from '../../mirror-dissonance/src/store/sqlite/migrations';
import { dbMigrateCommand, dbRollbackCommand, dbStatusCommand, type DbStatus } from '../src/commands/db';
import { EXIT, exitCodeFor } from '../src/exit-codes';
import { openWorkspace, type Workspace } from '../src/workspace';
import { captureIo } from './helpers';

let root: string;

beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'pm-cli-db-'));
});

afterEach(() => {
  fs.rmSync(root, { recursive: true, force: true });
});

function workspace(options: { stateDir?: string } = {}): Workspace {
  return openWorkspace(root, undefined, options);
}

function stateFile(ws: Workspace): string {
  return path.join(ws.stateDir, 'state.db');
}

function applied(file: string): number[] {
  const raw = new BetterSqlite3(file, { readonly: true, fileMustExist: true });
  try {
    return raw.prepare<[], number>('SELECT version FROM schema_migrations ORDER BY version').pluck().all();
  } finally {
    raw.close();
  }
}

/** A migrated state database holding one ledger block and one FP event. */
async function populate(ws: Workspace): Promise<void> {
  const state = openStateDatabase(ws.stateDir);
  try {
    await state.fpStore.recordEvents([
      { eventId: 'e1', ruleId: 'MD-001', ruleVersion: '1.0.0', findingId: 'f1', repository: 'acme/widgets', runId: 'r', path: 'a.yml', observedAt: new Date().toISOString() },
    ]);
    await state.ledger.append(
      buildBlock({
        report: {
          meta: { schema_version: '2.0.0', run_id: 'r', timestamp: '2030-01-01T00:00:00.000Z', rules_hash: sha256Hex('rules') },
          items: [],
          summary: { total: 0, by_severity: { critical: 0, high: 0, medium: 0, low: 0 } },
          machine_decision: { outcome: 'pass', degraded: false, reason: 'clean' },
        },
        repository: 'acme/widgets',
        mode: 'pull_request',
        commit: undefined,
        previous: undefined,
        actions: [],
        dualActivationHeight: undefined,
        timestamp: new Date('2030-01-01T00:00:00.000Z'),
      }),
    );
  } finally {
    state.close();
  }
}

/** The error a command throws (the test fails when it returns). */
async function failure(run: Promise<number>): Promise<unknown> {
  try {
    await run;
  } catch (error) {
    return error;
  }
  throw new Error('expected the command to fail');
}

describe('db migrate', () => {
  it('creates the state database at the latest schema version and says what it applied', async () => {
    // Prepare
    const ws = workspace();
    const io = captureIo(root);

    // Act
    const code = await dbMigrateCommand({}, ws, io);

    // Assess
    expect(code).toBe(EXIT.OK);
    expect(applied(stateFile(ws))).toEqual(MIGRATIONS.map((m) => m.version));
    expect(io.stdout).toEqual([`state database ${stateFile(ws)}: migrated from schema version 0 to ${LATEST_SCHEMA_VERSION} (applied 1, 2, 3, 4, 5, 6)`]);
    expect(io.stderr).toEqual([]);
  });

  it('says there is nothing to migrate when the database is current', async () => {
    const ws = workspace();
    await dbMigrateCommand({}, ws, captureIo(root));
    const io = captureIo(root);

    expect(await dbMigrateCommand({}, ws, io)).toBe(EXIT.OK);

    expect(io.stdout).toEqual([`state database ${stateFile(ws)} is at the latest schema version 6; nothing to migrate`]);
  });

  it('prints the versions as JSON with -f json, and migrates up again after a rollback', async () => {
    // Prepare: rolled back to 3
    const ws = workspace();
    await dbMigrateCommand({}, ws, captureIo(root));
    await dbRollbackCommand({ to: '3' }, ws, captureIo(root));
    const io = captureIo(root);

    // Act
    await dbMigrateCommand({ format: 'json' }, ws, io);

    // Assess
    expect(JSON.parse(io.stdout.join(''))).toEqual({ file: stateFile(ws), fromVersion: 3, toVersion: 6, applied: [4, 5, 6] });
    expect(applied(stateFile(ws))).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('uses --state-dir instead of <path>/.phase-mirror', async () => {
    const stateDir = path.join(root, 'elsewhere');
    const ws = workspace({ stateDir });

    await dbMigrateCommand({}, ws, captureIo(root));

    expect(fs.existsSync(path.join(stateDir, 'state.db'))).toBe(true);
    expect(fs.existsSync(path.join(root, '.phase-mirror'))).toBe(false);
  });
});

describe('db rollback', () => {
  it('rolls back to --to, printing the versions, with a note on stderr that any command migrates up again', async () => {
    // Prepare: a current database without data in the tables the rollback drops
    const ws = workspace();
    await dbMigrateCommand({}, ws, captureIo(root));
    const io = captureIo(root);

    // Act
    const code = await dbRollbackCommand({ to: '3' }, ws, io);

    // Assess
    expect(code).toBe(EXIT.OK);
    expect(applied(stateFile(ws))).toEqual([1, 2, 3]);
    expect(io.stdout).toEqual([`state database ${stateFile(ws)}: rolled back 6, 5, 4; now at schema version 3`]);
    expect(io.stderr.join('\n')).toContain('migrates it to the latest version again');
  });

  it('refuses without --force when the rollback would delete data, changing nothing (exit 3)', async () => {
    // Prepare
    const ws = workspace();
    await populate(ws);

    // Act
    const error = await failure(dbRollbackCommand({ to: '3' }, ws, captureIo(root)));

    // Assess
    expect(error).toBeInstanceOf(UsageError);
    expect(error).toMatchObject({ location: { flag: '--force' }, context: { version: 4, losses: { 'ledger_blocks rows': 1 } } });
    expect((error as Error).message).toContain('pass --force to delete them');
    expect(exitCodeFor(error)).toBe(EXIT.USAGE);
    expect(applied(stateFile(ws))).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('rolls back with --force, keeping the data of the tables that stay', async () => {
    const ws = workspace();
    await populate(ws);
    const io = captureIo(root);

    expect(await dbRollbackCommand({ to: '3', force: true, format: 'json' }, ws, io)).toBe(EXIT.OK);

    expect(JSON.parse(io.stdout.join(''))).toEqual({ file: stateFile(ws), fromVersion: 6, toVersion: 3, rolledBack: [6, 5, 4] });
    const raw = new BetterSqlite3(stateFile(ws), { readonly: true });
    try {
      expect(raw.prepare('SELECT event_id FROM fp_events').pluck().all()).toEqual(['e1']);
    } finally {
      raw.close();
    }
  });

  it('says there is nothing to roll back at the current version', async () => {
    const ws = workspace();
    await dbMigrateCommand({}, ws, captureIo(root));
    const io = captureIo(root);

    expect(await dbRollbackCommand({ to: '6' }, ws, io)).toBe(EXIT.OK);

    expect(io.stdout).toEqual([`state database ${stateFile(ws)} is already at schema version 6; nothing to roll back`]);
    expect(io.stderr).toEqual([]);
  });

  it.each([
    ['missing', undefined],
    ['not a number', 'three'],
    ['negative', '-1'],
    ['fractional', '2.5'],
  ])('refuses a %s --to as a usage error (exit 3) before opening anything', async (_label, to) => {
    const ws = workspace();

    const error = await failure(dbRollbackCommand(to === undefined ? {} : { to }, ws, captureIo(root)));

    expect(error).toBeInstanceOf(UsageError);
    expect(error).toMatchObject({ location: { flag: '--to' } });
    expect(exitCodeFor(error)).toBe(EXIT.USAGE);
    expect(fs.existsSync(ws.stateDir)).toBe(false);
  });

  it('refuses a --to above the current version (exit 3)', async () => {
    const ws = workspace();
    await dbMigrateCommand({}, ws, captureIo(root));
    await dbRollbackCommand({ to: '2' }, ws, captureIo(root));

    const error = await failure(dbRollbackCommand({ to: '4' }, ws, captureIo(root)));

    expect(error).toBeInstanceOf(UsageError);
    expect(error).toMatchObject({ location: { flag: '--to' }, context: { toVersion: 4, schemaVersion: 2 } });
    expect(exitCodeFor(error)).toBe(EXIT.USAGE);
    expect(applied(stateFile(ws))).toEqual([1, 2]);
  });

  it('refuses to roll back a state database that does not exist, creating nothing (exit 3)', async () => {
    const ws = workspace();

    const error = await failure(dbRollbackCommand({ to: '0' }, ws, captureIo(root)));

    expect(error).toBeInstanceOf(NotFoundError);
    expect(error).toMatchObject({ code: 'NOT_FOUND', location: { file: stateFile(ws) } });
    expect(exitCodeFor(error)).toBe(EXIT.USAGE);
    expect(fs.existsSync(ws.stateDir)).toBe(false);
  });
});

describe('db status', () => {
  it('lists applied migrations with their times and the pending ones as JSON', async () => {
    // Prepare: at version 3
    const ws = workspace();
    await dbMigrateCommand({}, ws, captureIo(root));
    await dbRollbackCommand({ to: '3' }, ws, captureIo(root));
    const io = captureIo(root);

    // Act
    expect(await dbStatusCommand({ format: 'json' }, ws, io)).toBe(EXIT.OK);

    // Assess
    const status = JSON.parse(io.stdout.join('')) as DbStatus;
    expect(status).toMatchObject({ file: stateFile(ws), exists: true, currentVersion: 3, latestVersion: 6 });
    expect(status.applied.map((m) => [m.version, m.description])).toEqual(MIGRATIONS.slice(0, 3).map((m) => [m.version, m.description]));
    for (const migration of status.applied) expect(Number.isNaN(Date.parse(migration.appliedAt))).toBe(false);
    expect(status.pending).toEqual(MIGRATIONS.slice(3).map((m) => ({ version: m.version, description: m.description })));
    // Status changes nothing.
    expect(applied(stateFile(ws))).toEqual([1, 2, 3]);
  });

  it('prints one line per migration in text', async () => {
    const ws = workspace();
    await dbMigrateCommand({}, ws, captureIo(root));
    await dbRollbackCommand({ to: '5' }, ws, captureIo(root));
    const io = captureIo(root);

    await dbStatusCommand({}, ws, io);

    expect(io.stdout[0]).toBe(`state database ${stateFile(ws)}: schema version 5 of 6 (1 pending)`);
    expect(io.stdout.slice(1).map((line) => line.trim().split(/\s+/).slice(0, 2).join(' '))).toEqual([
      'applied 1',
      'applied 2',
      'applied 3',
      'applied 4',
      'applied 5',
      'pending 6',
    ]);
    expect(io.stdout[6]).toContain(MIGRATIONS[5].description);
    expect(io.stdout[1]).toContain(MIGRATIONS[0].description);
  });

  it('reports a missing database with every migration pending, without creating it', async () => {
    const ws = workspace();
    const text = captureIo(root);
    const json = captureIo(root);

    expect(await dbStatusCommand({}, ws, text)).toBe(EXIT.OK);
    expect(await dbStatusCommand({ format: 'json' }, ws, json)).toBe(EXIT.OK);

    expect(text.stdout).toEqual([
      `no state database at ${stateFile(ws)} yet: 6 migrations pending (\`phase-mirror db migrate\` or the first command that uses the state creates it)`,
    ]);
    expect(JSON.parse(json.stdout.join(''))).toMatchObject({ file: stateFile(ws), exists: false, currentVersion: 0, applied: [] });
    expect((JSON.parse(json.stdout.join('')) as DbStatus).pending).toHaveLength(6);
    expect(fs.existsSync(ws.stateDir)).toBe(false);
  });

  it('refuses an unknown format (exit 3)', async () => {
    const error = await failure(dbStatusCommand({ format: 'yaml' }, workspace(), captureIo(root)));

    expect(error).toMatchObject({ code: 'USAGE', location: { flag: '--format' } });
    expect(exitCodeFor(error)).toBe(EXIT.USAGE);
  });

  it('notes on stderr that only the embedded database is managed when the backend is aws', async () => {
    fs.writeFileSync(path.join(root, '.phase-mirror.yml'), 'version: 1\nstorage:\n  backend: aws\n  region: eu-west-1\n');
    const ws = workspace();
    const io = captureIo(root);

    await dbStatusCommand({ format: 'json' }, ws, io);

    expect(io.stderr.join('\n')).toContain('storage.backend is aws');
    expect(JSON.parse(io.stdout.join(''))).toMatchObject({ exists: false });
  });
});
