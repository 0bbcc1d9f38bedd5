/**
 * The SQLite consent store: the shared ConsentStore contract against a real
 * state database, plus what is specific to SQLite (the migration, error
 * wrapping, atomicity of current record and history).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { runMigrations } from '../../src/store/sqlite/migrations';
import { SqliteConsentStore } from '../../src/store/sqlite/consent-store';
import type { ConsentStore } from '../../src/store/ports';
import { describeConsentStoreContract } from './contract/consent-store.contract';
import type { MakeStore } from './contract/harness';

const tempDirs: string[] = [];

afterAll(() => {
  for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
});

function openConsent(): { db: BetterSqlite3.Database; file: string; store: SqliteConsentStore } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pm-consent-'));
  tempDirs.push(dir);
  const file = path.join(dir, 'state.db');
  const db = new BetterSqlite3(file);
  db.pragma('journal_mode = WAL');
  runMigrations(db, file);
  return { db, file, store: new SqliteConsentStore(db, file) };
}

const makeStore: MakeStore<ConsentStore> = async () => {
  const { db, store } = openConsent();
  return { store, close: async () => void db.close() };
};

describeConsentStoreContract('sqlite', makeStore);

describe('SqliteConsentStore', () => {
  const scope = { orgId: 'acme', resource: 'fp_patterns' } as const;

  it('creates its tables through the schema migrations', () => {
    const { db } = openConsent();
    try {
      const tables = db.prepare<[], string>("SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'consent_%' ORDER BY name").pluck().all();
      expect(tables).toEqual(['consent_current', 'consent_history']);
    } finally {
      db.close();
    }
  });

  it('keeps the current record unchanged when the history cannot be written', async () => {
    // Prepare: a grant, then the history table made unwritable
    const { db, file, store } = openConsent();
    try {
      await store.grant(scope, { grantedBy: 'alice', grantedAt: '2030-01-01T00:00:00Z' });
      db.exec("CREATE TRIGGER refuse BEFORE INSERT ON consent_history BEGIN SELECT RAISE(ABORT, 'history refused'); END");

      // Act
      const revoke = store.revoke(scope, { revokedBy: 'bob', revokedAt: '2030-01-02T00:00:00Z' });
      const grant = store.grant(scope, { grantedBy: 'carol', grantedAt: '2030-01-03T00:00:00Z', expiresAt: '2030-01-04T00:00:00Z' });

      // Assess: both failed as STORE_FAILED, and nothing changed
      await expect(revoke).rejects.toMatchObject({ code: 'STORE_FAILED', context: { file, operation: 'revoke consent' } });
      await expect(grant).rejects.toMatchObject({ code: 'STORE_FAILED', context: { file, operation: 'grant consent' } });
      expect(await store.list('acme')).toEqual([{ ...scope, grantedBy: 'alice', grantedAt: '2030-01-01T00:00:00Z' }]);
      expect(await store.check(scope, new Date('2030-01-05T00:00:00Z'))).toBe('granted');
    } finally {
      db.close();
    }
  });

  it('fails every operation with STORE_FAILED naming the file once the connection is closed', async () => {
    // Prepare
    const { db, file, store } = openConsent();
    db.close();
    const at = new Date('2030-01-01T00:00:00Z');

    // Act / Assess
    const operations: Array<[() => Promise<unknown>, string]> = [
      [() => store.grant(scope, { grantedBy: 'alice', grantedAt: '2030-01-01T00:00:00Z' }), 'grant consent'],
      [() => store.revoke(scope, { revokedBy: 'alice', revokedAt: '2030-01-01T00:00:00Z' }), 'revoke consent'],
      [() => store.check(scope, at), 'check consent'],
      [() => store.list('acme'), 'list consent'],
      [() => store.history('acme'), 'read consent history'],
    ];
    for (const [operation, name] of operations) {
      await expect(operation()).rejects.toMatchObject({
        name: 'DependencyError',
        code: 'STORE_FAILED',
        location: { file },
        context: { file, operation: name },
      });
    }
  });

  it('fails construction with STORE_FAILED on a database without the consent tables', () => {
    const db = new BetterSqlite3(':memory:');
    try {
      expect(() => new SqliteConsentStore(db, ':memory:')).toThrow(
        expect.objectContaining({ code: 'STORE_FAILED', context: expect.objectContaining({ file: ':memory:', operation: 'prepare consent statements' }) }),
      );
    } finally {
      db.close();
    }
  });

  it('names the scope and the file when a revocation finds nothing', async () => {
    const { db, file, store } = openConsent();
    try {
      await expect(store.revoke({ ...scope, repository: 'Acme/Widgets' }, { revokedBy: 'bob', revokedAt: '2030-01-01T00:00:00Z' })).rejects.toMatchObject({
        name: 'NotFoundError',
        message: 'consent for fp_patterns (org acme, repository acme/widgets) was never granted: nothing to revoke',
        location: { file },
      });
    } finally {
      db.close();
    }
  });
});
