/**
 * `db migrate | rollback | status`: the schema of the embedded state
 * database (`<state-dir>/state.db`, DESIGN §7, issue 6). The database is
 * opened without migrating, so status shows it as it is and rollback does not
 * first bring it up. Embedded state only: with `storage.backend: aws` these
 * commands still act on the local state folder, and say so on stderr.
 *
 * Every other command that opens the state migrates it to the latest version,
 * so a rollback holds only until the next such command.
 */
import { InputError, NotFoundError, openStateDatabase, openStateDatabaseAt, UsageError, type StateDatabase } from '@phase-mirror/mirror-dissonance';
import { EXIT } from '../exit-codes';
import type { Io } from '../io';
import type { Workspace } from '../workspace';

/** What `db status` reports: the migrations' state plus whether the file exists. */
export type DbStatus = ReturnType<StateDatabase['migrations']['status']> & { exists: boolean };

export interface DbMigrateOptions {
  /** @default 'text' */
  format?: string;
}

export interface DbRollbackOptions {
  /** Target schema version (0: nothing applied); required. */
  to?: string;
  /** Roll back even when the down steps delete data (rows of dropped tables, values of dropped columns). */
  force?: boolean;
  /** @default 'text' */
  format?: string;
}

export interface DbStatusOptions {
  /** @default 'text' */
  format?: string;
}

const FORMATS = ['text', 'json'] as const;
type Format = (typeof FORMATS)[number];

/** `db migrate [path] [--state-dir D]`: applies every pending migration, creating the database when missing. Exit 0. */
export async function dbMigrateCommand(options: DbMigrateOptions, workspace: Workspace, io: Io): Promise<number> {
  const format = parseFormat(options.format);
  noteBackend(workspace, io);
  const state = openStateDatabase(workspace.stateDir, { migrate: false });
  try {
    const fromVersion = state.migrations.status().currentVersion;
    const applied = state.migrations.migrate();
    const toVersion = state.migrations.status().currentVersion;
    if (format === 'json') {
      io.out(JSON.stringify({ file: state.file, fromVersion, toVersion, applied }, null, 2));
    } else if (applied.length === 0) {
      io.out(`state database ${state.file} is at the latest schema version ${toVersion}; nothing to migrate`);
    } else {
      io.out(`state database ${state.file}: migrated from schema version ${fromVersion} to ${toVersion} (applied ${applied.join(', ')})`);
    }
    return EXIT.OK;
  } finally {
    state.close();
  }
}

/**
 * `db rollback --to <version> [--force] [path] [--state-dir D]`: runs the down
 * steps of every migration above the target, newest first. Refuses (exit 3)
 * a missing database, a target that is not an integer from 0 to the current
 * version, and, without --force, a rollback that would delete data.
 */
export async function dbRollbackCommand(options: DbRollbackOptions, workspace: Workspace, io: Io): Promise<number> {
  const format = parseFormat(options.format);
  const toVersion = parseTarget(options.to);
  noteBackend(workspace, io);
  const state = openStateDatabase(workspace.stateDir, { migrate: false, create: false });
  try {
    const fromVersion = state.migrations.status().currentVersion;
    let rolledBack: number[];
    try {
      rolledBack = state.migrations.rollback(toVersion, { force: options.force === true });
    } catch (error) {
      throw asUsageError(error);
    }
    if (format === 'json') {
      io.out(JSON.stringify({ file: state.file, fromVersion, toVersion, rolledBack }, null, 2));
    } else if (rolledBack.length === 0) {
      io.out(`state database ${state.file} is already at schema version ${toVersion}; nothing to roll back`);
    } else {
      io.out(`state database ${state.file}: rolled back ${rolledBack.join(', ')}; now at schema version ${toVersion}`);
    }
    if (rolledBack.length > 0) {
      io.err('note: `phase-mirror db migrate`, and any command that opens the state, migrates it to the latest version again');
    }
    return EXIT.OK;
  } finally {
    state.close();
  }
}

/** `db status [path] [--state-dir D] [-f text|json]`: applied migrations with their times, and pending ones. Changes nothing. Exit 0. */
export async function dbStatusCommand(options: DbStatusOptions, workspace: Workspace, io: Io): Promise<number> {
  const format = parseFormat(options.format);
  noteBackend(workspace, io);
  const status = readStatus(workspace);
  if (format === 'json') {
    io.out(JSON.stringify(status, null, 2));
    return EXIT.OK;
  }
  if (!status.exists) {
    io.out(`no state database at ${status.file} yet: ${status.pending.length} migrations pending (\`phase-mirror db migrate\` or the first command that uses the state creates it)`);
    return EXIT.OK;
  }
  const pending = status.pending.length === 0 ? 'up to date' : `${status.pending.length} pending`;
  io.out(`state database ${status.file}: schema version ${status.currentVersion} of ${status.latestVersion} (${pending})`);
  if (status.currentVersion > status.latestVersion) {
    io.out(`  written by a newer Phase Mirror (this one knows up to version ${status.latestVersion})`);
  }
  const width = String(Math.max(status.latestVersion, status.currentVersion)).length;
  for (const migration of status.applied) {
    io.out(`  applied  ${String(migration.version).padStart(width)}  ${migration.appliedAt}  ${migration.description ?? '(unknown to this version)'}`);
  }
  for (const migration of status.pending) {
    io.out(`  pending  ${String(migration.version).padStart(width)}  ${' '.repeat(24)}  ${migration.description}`);
  }
  return EXIT.OK;
}

/** The status of the workspace's database, without creating it: a missing one has every migration pending. */
function readStatus(workspace: Workspace): DbStatus {
  let state: StateDatabase;
  try {
    state = openStateDatabase(workspace.stateDir, { migrate: false, create: false });
  } catch (error) {
    if (!(error instanceof NotFoundError)) throw error;
    // What a new database would get: the status of an empty one.
    const empty = openStateDatabaseAt(':memory:', { migrate: false });
    try {
      return { ...empty.migrations.status(), file: error.location.file ?? workspace.stateDir, exists: false };
    } finally {
      empty.close();
    }
  }
  try {
    return { ...state.migrations.status(), exists: true };
  } finally {
    state.close();
  }
}

function parseFormat(value: string | undefined): Format {
  const format = value ?? 'text';
  if ((FORMATS as readonly string[]).includes(format)) return format as Format;
  throw new UsageError(`unknown format "${format}"; use text or json`, { location: { flag: '--format' } });
}

function parseTarget(value: string | undefined): number {
  if (value === undefined) {
    throw new UsageError('db rollback needs --to <version>: the schema version to roll back to (0 rolls back everything)', { location: { flag: '--to' } });
  }
  const version = /^\d+$/.test(value.trim()) ? Number(value.trim()) : Number.NaN;
  if (!Number.isSafeInteger(version)) {
    throw new UsageError(`--to must be a schema version (an integer from 0), got ${JSON.stringify(value)}`, { location: { flag: '--to' } });
  }
  return version;
}

/** The library's refusals name a field; on the command line they are about a flag. */
function asUsageError(error: unknown): unknown {
  if (!(error instanceof InputError)) return error;
  const flag = error.location.field === 'toVersion' ? '--to' : error.location.field === 'force' ? '--force' : undefined;
  if (flag === undefined) return error;
  const message = flag === '--force' ? error.message.replace(/\(force it to delete them\)$/, '(pass --force to delete them)') : error.message;
  return new UsageError(message, { location: { flag }, context: { ...error.context } });
}

function noteBackend(workspace: Workspace, io: Io): void {
  if (workspace.config.storage.backend !== 'embedded') {
    io.err(`note: storage.backend is ${workspace.config.storage.backend}; db commands manage only the embedded state database in ${workspace.stateDir}`);
  }
}
