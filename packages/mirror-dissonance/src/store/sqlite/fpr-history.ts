/**
 * SQLite adapter of the FPR history L0 reads to check that a decrease of a
 * rule's observed FPR is witnessed by reviews. Snapshots are kept 90 days
 * (like FP events); the latest snapshot of a rule is always kept.
 */
import type { Database, Statement } from 'better-sqlite3';
import { InputError } from '../../errors';
import type { FprHistory } from '../ports';
import { FP_EVENT_RETENTION_MS, parseInstant } from './fp-store';
import { guard } from './store-error';

export class SqliteFprHistory implements FprHistory {
  private readonly latest: Statement<[string], { fpr: number; reviewed: number }>;
  private readonly insert: Statement<[Record<string, string | number>]>;
  private readonly prune: Statement<[Record<string, string | number>]>;

  constructor(
    private readonly db: Database,
    private readonly file: string,
  ) {
    const prepared = guard(file, 'prepare fpr history statements', () => ({
      latest: db.prepare<[string], { fpr: number; reviewed: number }>(
        'SELECT fpr, reviewed FROM fpr_history WHERE rule_id = ? ORDER BY recorded_ms DESC, id DESC LIMIT 1',
      ),
      insert: db.prepare<[Record<string, string | number>]>(
        `INSERT INTO fpr_history (rule_id, fpr, reviewed, recorded_at, recorded_ms)
         VALUES (@ruleId, @fpr, @reviewed, @at, @atMs)`,
      ),
      prune: db.prepare<[Record<string, string | number>]>(
        'DELETE FROM fpr_history WHERE rule_id = @ruleId AND recorded_ms < @cutoff',
      ),
    }));
    this.latest = prepared.latest;
    this.insert = prepared.insert;
    this.prune = prepared.prune;
  }

  /** The snapshot with the latest `at` (ties: the one recorded last). */
  async last(ruleId: string): Promise<{ fpr: number; reviewed: number } | undefined> {
    const row = guard(this.file, 'read fpr history', () => this.latest.get(ruleId));
    return row === undefined ? undefined : { fpr: row.fpr, reviewed: row.reviewed };
  }

  async record(ruleId: string, snapshot: { fpr: number; reviewed: number; at: string }): Promise<void> {
    if (typeof ruleId !== 'string' || ruleId.length === 0) {
      throw new InputError('INPUT_INVALID', 'ruleId must be a non-empty string', { location: { field: 'ruleId' } });
    }
    if (typeof snapshot.fpr !== 'number' || !(snapshot.fpr >= 0 && snapshot.fpr <= 1)) {
      throw new InputError('INPUT_INVALID', `fpr must be a number in [0, 1], got ${String(snapshot.fpr)}`, {
        location: { field: 'fpr' },
      });
    }
    if (!Number.isInteger(snapshot.reviewed) || snapshot.reviewed < 0) {
      throw new InputError('INPUT_INVALID', `reviewed must be a non-negative integer, got ${String(snapshot.reviewed)}`, {
        location: { field: 'reviewed' },
      });
    }
    const atMs = parseInstant(snapshot.at, 'at');
    guard(this.file, 'record fpr history', () => {
      const write = this.db.transaction(() => {
        this.insert.run({ ruleId, fpr: snapshot.fpr, reviewed: snapshot.reviewed, at: snapshot.at, atMs });
        // Drops snapshots older than 90 days before this one; this one, and
        // any newer one, always survive.
        this.prune.run({ ruleId, cutoff: atMs - FP_EVENT_RETENTION_MS });
      });
      write.immediate();
    });
  }
}
