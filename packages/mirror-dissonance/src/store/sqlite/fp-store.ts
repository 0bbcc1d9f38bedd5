/**
 * SQLite adapter of the FP event store (DESIGN §7). Events live 90 days:
 * `expires_at` = observedAt + 90 d; expired rows are invisible to every read
 * and deleted opportunistically by every write, mirroring the DynamoDB TTL
 * attribute `expiresAt` (which also deletes lazily).
 */
import type { Database, Statement } from 'better-sqlite3';
import { ConflictError, InputError, NotFoundError } from '../../errors';
import type { FpEvent, FpRuleStats, FpStore, NewFpEvent } from '../ports';
import { guard } from './store-error';

/** How long an FP event is kept after it was observed. */
export const FP_EVENT_RETENTION_MS = 90 * 24 * 60 * 60 * 1000;

interface FpRow {
  event_id: string;
  rule_id: string;
  rule_version: string;
  finding_id: string;
  repository: string;
  run_id: string;
  path: string;
  observed_at: string;
  fp_reviewer: string | null;
  fp_reason: string | null;
  fp_ticket: string | null;
  fp_marked_at: string | null;
}

const COLUMNS =
  'event_id, rule_id, rule_version, finding_id, repository, run_id, path, observed_at, fp_reviewer, fp_reason, fp_ticket, fp_marked_at';

const EVENT_STRING_FIELDS = ['eventId', 'ruleId', 'ruleVersion', 'findingId', 'repository', 'runId', 'path'] as const;

/** Options of the SQLite adapters. */
export interface SqliteAdapterOptions {
  /**
   * Clock in epoch milliseconds, used for expiry.
   * @default Date.now
   */
  now?: () => number;
}

/**
 * FpStore over one open better-sqlite3 connection.
 *
 * Re-marking an event that is already a false positive replaces the whole mark
 * (reviewer, reason, ticket, markedAt): the latest review is the one that
 * stands, and `markedFindings` orders by the stored markedAt.
 */
export class SqliteFpStore implements FpStore {
  private readonly now: () => number;
  private readonly deleteExpired: Statement<[number]>;
  private readonly insert: Statement<[Record<string, string | number>]>;
  private readonly mark: Statement<[Record<string, string | number | null>], FpRow>;
  private readonly marked: Statement<[string, number], FpRow>;
  private readonly stats: Statement<[string, number, number], { total: number; marked: number }>;
  private readonly newest: Statement<[string, number, number], FpRow>;
  private readonly between: Statement<[string, number, number, number], FpRow>;
  private readonly rules: Statement<[number], string>;
  private readonly listStatements = new Map<string, Statement<unknown[], FpRow>>();

  constructor(
    private readonly db: Database,
    private readonly file: string,
    options: SqliteAdapterOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    const prepared = guard(file, 'prepare fp statements', () => ({
      deleteExpired: db.prepare<[number]>('DELETE FROM fp_events WHERE expires_at <= ?'),
      insert: db.prepare<[Record<string, string | number>]>(
        `INSERT INTO fp_events (event_id, rule_id, rule_version, finding_id, repository, run_id, path, observed_at, observed_ms, expires_at)
         VALUES (@eventId, @ruleId, @ruleVersion, @findingId, @repository, @runId, @path, @observedAt, @observedMs, @expiresAt)`,
      ),
      mark: db.prepare<[Record<string, string | number | null>], FpRow>(
        `UPDATE fp_events SET fp_reviewer = @reviewer, fp_reason = @reason, fp_ticket = @ticket,
                fp_marked_at = @markedAt, fp_marked_ms = @markedMs
         WHERE event_id = @eventId AND expires_at > @now
         RETURNING ${COLUMNS}`,
      ),
      // One bound parameter whatever the number of ids (json_each), so the
      // SQLite host-parameter limit (999 on old builds) never applies.
      marked: db.prepare<[string, number], FpRow>(
        `SELECT ${COLUMNS} FROM fp_events
         WHERE finding_id IN (SELECT value FROM json_each(?))
           AND fp_marked_ms IS NOT NULL AND expires_at > ?
         ORDER BY finding_id, fp_marked_ms, event_id`,
      ),
      stats: db.prepare<[string, number, number], { total: number; marked: number }>(
        `SELECT COUNT(*) AS total, COUNT(fp_marked_ms) AS marked FROM (
           SELECT fp_marked_ms FROM fp_events
           WHERE rule_id = ? AND expires_at > ?
           ORDER BY observed_ms DESC, event_id
           LIMIT ?)`,
      ),
      newest: db.prepare<[string, number, number], FpRow>(
        `SELECT ${COLUMNS} FROM fp_events
         WHERE rule_id = ? AND expires_at > ?
         ORDER BY observed_ms DESC, event_id
         LIMIT ?`,
      ),
      between: db.prepare<[string, number, number, number], FpRow>(
        `SELECT ${COLUMNS} FROM fp_events
         WHERE rule_id = ? AND observed_ms >= ? AND observed_ms < ? AND expires_at > ?
         ORDER BY observed_ms, event_id`,
      ),
      rules: db.prepare<[number], string>('SELECT DISTINCT rule_id FROM fp_events WHERE expires_at > ? ORDER BY rule_id').pluck(),
    }));
    this.deleteExpired = prepared.deleteExpired;
    this.insert = prepared.insert;
    this.mark = prepared.mark;
    this.marked = prepared.marked;
    this.stats = prepared.stats;
    this.newest = prepared.newest;
    this.between = prepared.between;
    this.rules = prepared.rules;
  }

  async recordEvents(events: readonly NewFpEvent[]): Promise<void> {
    const rows = events.map((event, index) => toInsertRow(event, index));
    guard(this.file, 'record fp events', () => {
      const write = this.db.transaction(() => {
        this.deleteExpired.run(this.now());
        for (const row of rows) {
          try {
            this.insert.run(row);
          } catch (error) {
            if (isPrimaryKeyViolation(error)) {
              throw new ConflictError('DUPLICATE_EVENT', `FP event ${String(row.eventId)} is already recorded`, {
                location: { file: this.file, field: 'eventId' },
                context: { file: this.file, operation: 'record fp events', eventId: row.eventId },
                cause: error,
              });
            }
            throw error;
          }
        }
      });
      write.immediate();
    });
  }

  async markFalsePositive(
    eventId: string,
    mark: { reviewer: string; reason: string; ticket?: string; markedAt: string },
  ): Promise<FpEvent> {
    const markedMs = validateMark(eventId, mark);
    const row = guard(this.file, 'mark false positive', () => {
      const write = this.db.transaction(() => {
        const now = this.now();
        this.deleteExpired.run(now);
        return this.mark.get({
          eventId,
          reviewer: mark.reviewer,
          reason: mark.reason,
          ticket: mark.ticket ?? null,
          markedAt: mark.markedAt,
          markedMs,
          now,
        });
      });
      return write.immediate();
    });
    if (row === undefined) {
      throw new NotFoundError('NOT_FOUND', `FP event ${eventId} not found (unknown or expired)`, {
        location: { file: this.file, field: 'eventId' },
        context: { file: this.file, operation: 'mark false positive', eventId },
      });
    }
    return toEvent(row);
  }

  async markedFindings(findingIds: readonly string[]): Promise<Map<string, FpEvent>> {
    const result = new Map<string, FpEvent>();
    if (findingIds.length === 0) return result;
    const rows = guard(this.file, 'read marked findings', () =>
      this.marked.all(JSON.stringify([...new Set(findingIds)]), this.now()),
    );
    for (const row of rows) {
      // Rows are ordered by finding, then markedAt: the first one is the earliest mark.
      if (!result.has(row.finding_id)) result.set(row.finding_id, toEvent(row));
    }
    return result;
  }

  async list(filter: { ruleId?: string; findingId?: string; markedOnly?: boolean; limit: number }): Promise<FpEvent[]> {
    requirePositiveInteger(filter.limit, 'limit');
    const conditions = ['expires_at > ?'];
    const params: unknown[] = [this.now()];
    if (filter.ruleId !== undefined) {
      conditions.push('rule_id = ?');
      params.push(filter.ruleId);
    }
    if (filter.findingId !== undefined) {
      conditions.push('finding_id = ?');
      params.push(filter.findingId);
    }
    if (filter.markedOnly === true) conditions.push('fp_marked_ms IS NOT NULL');
    params.push(filter.limit);
    const sql = `SELECT ${COLUMNS} FROM fp_events WHERE ${conditions.join(' AND ')} ORDER BY observed_ms DESC, event_id LIMIT ?`;
    const rows = guard(this.file, 'list fp events', () => {
      let statement = this.listStatements.get(sql);
      if (statement === undefined) {
        statement = this.db.prepare<unknown[], FpRow>(sql);
        this.listStatements.set(sql, statement);
      }
      return statement.all(...params);
    });
    return rows.map(toEvent);
  }

  /**
   * Over the last `window` unexpired events of the rule. Marking is the only
   * review this store records, so `reviewed` counts marked events and equals
   * `falsePositives`; `fpr` is 0 when nothing was reviewed.
   */
  async ruleStats(ruleId: string, window: number): Promise<FpRuleStats> {
    requireText(ruleId, 'ruleId');
    requirePositiveInteger(window, 'window');
    const row = guard(this.file, 'read rule stats', () => this.stats.get(ruleId, this.now(), window));
    const total = row?.total ?? 0;
    const reviewed = row?.marked ?? 0;
    const falsePositives = reviewed;
    return { ruleId, total, reviewed, falsePositives, fpr: reviewed === 0 ? 0 : falsePositives / reviewed };
  }

  async windowByCount(ruleId: string, count: number): Promise<FpEvent[]> {
    requireText(ruleId, 'ruleId');
    requirePositiveInteger(count, 'count');
    const rows = guard(this.file, 'read fp window by count', () => this.newest.all(ruleId, this.now(), count));
    return rows.map(toEvent);
  }

  /** One indexed range read (rule, observed time); ties by event id. */
  async windowByTime(ruleId: string, since: Date, until: Date): Promise<FpEvent[]> {
    requireText(ruleId, 'ruleId');
    const [sinceMs, untilMs] = requireTimeRange(since, until);
    if (sinceMs === untilMs) return [];
    const rows = guard(this.file, 'read fp window by time', () => this.between.all(ruleId, sinceMs, untilMs, this.now()));
    return rows.map(toEvent);
  }

  async ruleIds(): Promise<string[]> {
    return guard(this.file, 'read fp rule ids', () => this.rules.all(this.now()));
  }
}

/**
 * Checks one event of a batch (shared by every FpStore adapter, so they
 * reject the same inputs naming the same fields) and returns its observed
 * time in epoch ms.
 */
export function validateNewEvent(event: NewFpEvent, index: number): number {
  for (const field of EVENT_STRING_FIELDS) requireText(event[field], `events[${index}].${field}`);
  return parseInstant(event.observedAt, `events[${index}].observedAt`);
}

/** Checks a false-positive mark (shared by every FpStore adapter); returns markedAt in epoch ms. */
export function validateMark(eventId: string, mark: { reviewer: string; reason: string; ticket?: string; markedAt: string }): number {
  requireText(eventId, 'eventId');
  requireText(mark.reviewer, 'reviewer');
  requireText(mark.reason, 'reason');
  if (mark.ticket !== undefined) requireText(mark.ticket, 'ticket');
  return parseInstant(mark.markedAt, 'markedAt');
}

function toInsertRow(event: NewFpEvent, index: number): Record<string, string | number> {
  const observedMs = validateNewEvent(event, index);
  return {
    eventId: event.eventId,
    ruleId: event.ruleId,
    ruleVersion: event.ruleVersion,
    findingId: event.findingId,
    repository: event.repository,
    runId: event.runId,
    path: event.path,
    observedAt: event.observedAt,
    observedMs,
    expiresAt: observedMs + FP_EVENT_RETENTION_MS,
  };
}

function toEvent(row: FpRow): FpEvent {
  const event: FpEvent = {
    eventId: row.event_id,
    ruleId: row.rule_id,
    ruleVersion: row.rule_version,
    findingId: row.finding_id,
    repository: row.repository,
    runId: row.run_id,
    path: row.path,
    observedAt: row.observed_at,
  };
  if (row.fp_reviewer !== null && row.fp_reason !== null && row.fp_marked_at !== null) {
    event.falsePositive = { reviewer: row.fp_reviewer, reason: row.fp_reason, markedAt: row.fp_marked_at };
    if (row.fp_ticket !== null) event.falsePositive.ticket = row.fp_ticket;
  }
  return event;
}

function isPrimaryKeyViolation(error: unknown): boolean {
  return (
    error !== null &&
    typeof error === 'object' &&
    (error as { code?: unknown }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY'
  );
}

/** Throws InputError naming `field` unless `value` is a non-empty string. */
export function requireText(value: unknown, field: string): void {
  if (typeof value !== 'string' || value.length === 0) {
    throw new InputError('INPUT_INVALID', `${field} must be a non-empty string`, { location: { field } });
  }
}

/** Throws InputError naming `field` unless `value` is an integer > 0. */
export function requirePositiveInteger(value: unknown, field: string): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
    throw new InputError('INPUT_INVALID', `${field} must be a positive integer, got ${String(value)}`, {
      location: { field },
    });
  }
}

/**
 * Epoch ms of a `[since, until)` window. Invalid dates name `since` or
 * `until`; `until` before `since` is an input error (an empty window is
 * `since` = `until`).
 */
export function requireTimeRange(since: Date, until: Date): [number, number] {
  const sinceMs = since instanceof Date ? since.getTime() : Number.NaN;
  const untilMs = until instanceof Date ? until.getTime() : Number.NaN;
  if (Number.isNaN(sinceMs)) {
    throw new InputError('INPUT_INVALID', 'since must be a valid Date', { location: { field: 'since' } });
  }
  if (Number.isNaN(untilMs)) {
    throw new InputError('INPUT_INVALID', 'until must be a valid Date', { location: { field: 'until' } });
  }
  if (untilMs < sinceMs) {
    throw new InputError(
      'INPUT_INVALID',
      `until (${until.toISOString()}) is before since (${since.toISOString()})`,
      { location: { field: 'until' } },
    );
  }
  return [sinceMs, untilMs];
}

/** Epoch ms of an ISO 8601 date-time; anything else is an input error naming the field. */
export function parseInstant(value: unknown, field: string): number {
  const ms = typeof value === 'string' && ISO_DATE_TIME.test(value) ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(ms)) {
    throw new InputError('INPUT_INVALID', `${field} must be an ISO 8601 date-time, got ${JSON.stringify(value)}`, {
      location: { field },
    });
  }
  return ms;
}

const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;
