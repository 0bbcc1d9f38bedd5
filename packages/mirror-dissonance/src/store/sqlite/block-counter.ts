/**
 * SQLite adapter of the circuit-breaker block counter. One UPSERT statement
 * both increments and returns the value, so the count is exact under
 * concurrency: SQLite serialises writers on the file (WAL + busy_timeout), and
 * no read-modify-write happens in JavaScript.
 */
import type { Database, Statement } from 'better-sqlite3';
import { InputError } from '../../errors';
import type { BlockCounter } from '../ports';
import type { SqliteAdapterOptions } from './fp-store';
import { guard } from './store-error';

export class SqliteBlockCounter implements BlockCounter {
  private readonly now: () => number;
  private readonly upsert: Statement<[Record<string, string | number>], number>;
  private readonly read: Statement<[string, number], number>;
  private readonly deleteExpired: Statement<[number]>;

  constructor(
    private readonly db: Database,
    private readonly file: string,
    options: SqliteAdapterOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    const prepared = guard(file, 'prepare block counter statements', () => ({
      // An expired row restarts at 1 with the new expiry; a live row keeps
      // counting and takes the latest expiry it was given.
      upsert: db
        .prepare<[Record<string, string | number>], number>(
          `INSERT INTO block_counters (key, count, expires_at) VALUES (@key, 1, @expiresAt)
           ON CONFLICT (key) DO UPDATE SET
             count = CASE WHEN block_counters.expires_at <= @now THEN 1 ELSE block_counters.count + 1 END,
             expires_at = excluded.expires_at
           RETURNING count`,
        )
        .pluck(),
      read: db
        .prepare<[string, number], number>('SELECT count FROM block_counters WHERE key = ? AND expires_at > ?')
        .pluck(),
      deleteExpired: db.prepare<[number]>('DELETE FROM block_counters WHERE expires_at <= ?'),
    }));
    this.upsert = prepared.upsert;
    this.read = prepared.read;
    this.deleteExpired = prepared.deleteExpired;
  }

  async increment(key: string, expiresAt: Date): Promise<number> {
    if (typeof key !== 'string' || key.length === 0) {
      throw new InputError('INPUT_INVALID', 'block counter key must be a non-empty string', { location: { field: 'key' } });
    }
    const expiresMs = expiresAt instanceof Date ? expiresAt.getTime() : Number.NaN;
    if (Number.isNaN(expiresMs)) {
      throw new InputError('INPUT_INVALID', 'block counter expiresAt must be a valid Date', {
        location: { field: 'expiresAt' },
      });
    }
    return guard(this.file, 'increment block counter', () => {
      const write = this.db.transaction((): number => {
        const now = this.now();
        const count = this.upsert.get({ key, expiresAt: expiresMs, now });
        if (count === undefined) throw new Error(`UPSERT of block counter ${key} returned no row`);
        // A counter (re)starting at 1 usually means a new period began: sweep
        // the expired counters of earlier periods then, not on every block.
        if (count === 1) this.deleteExpired.run(now);
        return count;
      });
      return write.immediate();
    });
  }

  async get(key: string): Promise<number> {
    return guard(this.file, 'read block counter', () => this.read.get(key, this.now()) ?? 0);
  }
}
