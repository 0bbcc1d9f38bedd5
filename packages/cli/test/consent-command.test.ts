/**
 * The consent command functions against a real (in-memory) SQLite consent
 * store and a captured Io. main.ts wiring and the spawned-binary tests live
 * with the other CLI tests.
 */
import BetterSqlite3 from 'better-sqlite3';
import { DependencyError, NotFoundError, UsageError, type ConsentStore } from '@phase-mirror/mirror-dissonance';
import { SqliteConsentStore } from '../../mirror-dissonance/src/store/sqlite/consent-store';
import { runMigrations } from '../../mirror-dissonance/src/store/sqlite/migrations';
import { consentCheckCommand, consentGrantCommand, consentListCommand, consentRevokeCommand } from '../src/commands/consent';
import { captureIo } from './helpers';

const DAY_MS = 24 * 60 * 60 * 1000;
let db: BetterSqlite3.Database;
let stores: { consent: ConsentStore };

beforeEach(() => {
  db = new BetterSqlite3(':memory:');
  runMigrations(db, ':memory:');
  stores = { consent: new SqliteConsentStore(db, ':memory:') };
});

afterEach(() => {
  if (db.open) db.close();
});

const io = () => captureIo('/tmp');
const iso = (offsetMs: number): string => new Date(Date.now() + offsetMs).toISOString();

describe('consentGrantCommand', () => {
  it('grants org-wide now, without expiry, and says so', async () => {
    // Prepare
    const out = io();
    const before = Date.now();

    // Act
    const code = await consentGrantCommand({ org: 'acme', resource: 'fp_patterns', by: 'alice' }, stores, out);

    // Assess
    expect(code).toBe(0);
    const [record] = await stores.consent.list('acme');
    expect(record).toEqual({ orgId: 'acme', resource: 'fp_patterns', grantedBy: 'alice', grantedAt: expect.any(String) });
    expect(Date.parse(record.grantedAt)).toBeGreaterThanOrEqual(before);
    expect(out.stdout).toEqual([`granted fp_patterns (org acme) by alice at ${record.grantedAt} (no expiry)`]);
  });

  it('grants a repository for --days N from now', async () => {
    const out = io();
    await consentGrantCommand({ org: 'acme', repo: 'Acme/Widgets', resource: 'fp_metrics', by: 'alice', days: '30' }, stores, out);
    const [record] = await stores.consent.list('acme');
    expect(record.repository).toBe('acme/widgets');
    expect(Date.parse(record.expiresAt ?? '') - Date.parse(record.grantedAt)).toBe(30 * DAY_MS);
    expect(out.stdout[0]).toBe(
      `granted fp_metrics (org acme, repository acme/widgets) by alice at ${record.grantedAt} (expires ${record.expiresAt})`,
    );
  });

  it('grants until --expires', async () => {
    const expires = '2999-01-01T00:00:00Z';
    await consentGrantCommand({ org: 'acme', resource: 'audit_logs', by: 'alice', expires }, stores, io());
    expect((await stores.consent.list('acme'))[0].expiresAt).toBe(expires);
  });

  it.each([
    [{ expires: '2999-01-01T00:00:00Z', days: '3' }, '--days', '--expires and --days are exclusive'],
    [{ days: '0' }, '--days', '--days must be a whole number of days from 1 to 36500, got "0"'],
    [{ days: '1.5' }, '--days', '--days must be a whole number'],
    [{ days: '36501' }, '--days', '--days must be a whole number'],
    [{ expires: 'tomorrow' }, '--expires', '--expires must be an ISO 8601 date-time'],
    [{ expires: '2000-01-01T00:00:00Z' }, '--expires', '--expires (2000-01-01T00:00:00Z) must be after grantedAt'],
    [{ resource: 'everything' }, '--resource', '--resource must be one of fp_patterns, fp_metrics, cross_org_benchmarks, rule_calibration, audit_logs, drift_baselines; got "everything"'],
    [{ repo: 'widgets' }, '--repo', '--repo must be owner/name, got "widgets"'],
    [{ org: '' }, '--org', '--org must be a non-empty string'],
    [{ by: '  ' }, '--by', '--by must name who acts'],
  ])('refuses %j with a usage error on %s, granting nothing', async (flags, flag, message) => {
    // Act
    const attempt = consentGrantCommand({ org: 'acme', resource: 'fp_patterns', by: 'alice', ...flags }, stores, io());

    // Assess
    await expect(attempt).rejects.toBeInstanceOf(UsageError);
    await expect(attempt).rejects.toMatchObject({ location: { flag }, message: expect.stringContaining(message) });
    expect(await stores.consent.history('acme')).toEqual([]);
  });

  it('lets a store failure through as a DependencyError', async () => {
    db.close();
    await expect(consentGrantCommand({ org: 'acme', resource: 'fp_patterns', by: 'alice' }, stores, io())).rejects.toBeInstanceOf(DependencyError);
  });
});

describe('consentRevokeCommand', () => {
  it('revokes now and records who', async () => {
    // Prepare
    await consentGrantCommand({ org: 'acme', repo: 'acme/widgets', resource: 'fp_patterns', by: 'alice' }, stores, io());
    const out = io();

    // Act
    const code = await consentRevokeCommand({ org: 'acme', repo: 'acme/widgets', resource: 'fp_patterns', by: 'bob' }, stores, out);

    // Assess
    expect(code).toBe(0);
    const [record] = await stores.consent.list('acme');
    expect(record).toMatchObject({ revokedBy: 'bob', revokedAt: expect.any(String) });
    expect(out.stdout).toEqual([`revoked fp_patterns (org acme, repository acme/widgets) by bob at ${record.revokedAt}`]);
    expect((await stores.consent.history('acme')).map((entry) => [entry.action, entry.actor])).toEqual([
      ['grant', 'alice'],
      ['revoke', 'bob'],
    ]);
  });

  it('fails with NotFoundError for a scope never granted', async () => {
    await expect(consentRevokeCommand({ org: 'acme', resource: 'fp_patterns', by: 'bob' }, stores, io())).rejects.toBeInstanceOf(NotFoundError);
  });

  it('refuses an empty --by or an unknown resource before touching the store', async () => {
    await expect(consentRevokeCommand({ org: 'acme', resource: 'fp_patterns', by: '' }, stores, io())).rejects.toMatchObject({ location: { flag: '--by' } });
    await expect(consentRevokeCommand({ org: 'acme', resource: 'nope', by: 'bob' }, stores, io())).rejects.toMatchObject({ location: { flag: '--resource' } });
  });
});

describe('consentCheckCommand', () => {
  const check = async (flags: { repo?: string; resource?: string } = {}): Promise<{ code: number; stdout: string[]; stderr: string[] }> => {
    const out = io();
    const code = await consentCheckCommand({ org: 'acme', resource: 'fp_patterns', ...flags }, stores, out);
    return { code, stdout: out.stdout, stderr: out.stderr };
  };

  it('prints the state and exits 0 only when granted', async () => {
    expect(await check()).toEqual({ code: 1, stdout: ['not_requested'], stderr: ['no consent recorded for fp_patterns (org acme)'] });

    await stores.consent.grant({ orgId: 'acme', resource: 'fp_patterns' }, { grantedBy: 'alice', grantedAt: iso(-DAY_MS) });
    expect(await check()).toEqual({ code: 0, stdout: ['granted'], stderr: ['consent granted for fp_patterns (org acme)'] });

    await stores.consent.revoke({ orgId: 'acme', resource: 'fp_patterns' }, { revokedBy: 'bob', revokedAt: iso(0) });
    expect(await check()).toMatchObject({ code: 1, stdout: ['revoked'] });

    await stores.consent.grant({ orgId: 'acme', resource: 'fp_patterns' }, { grantedBy: 'alice', grantedAt: iso(-2 * DAY_MS), expiresAt: iso(-DAY_MS) });
    expect(await check()).toMatchObject({ code: 1, stdout: ['expired'] });
  });

  it('lets the repository record decide over the org-wide one', async () => {
    await stores.consent.grant({ orgId: 'acme', resource: 'fp_patterns' }, { grantedBy: 'alice', grantedAt: iso(-DAY_MS) });
    await stores.consent.grant({ orgId: 'acme', resource: 'fp_patterns', repository: 'acme/widgets' }, { grantedBy: 'alice', grantedAt: iso(-DAY_MS) });
    await stores.consent.revoke({ orgId: 'acme', resource: 'fp_patterns', repository: 'acme/widgets' }, { revokedBy: 'bob', revokedAt: iso(0) });

    expect(await check({ repo: 'acme/widgets' })).toMatchObject({ code: 1, stdout: ['revoked'] });
    expect(await check({ repo: 'acme/gadgets' })).toMatchObject({ code: 0, stdout: ['granted'] });
  });

  it('denies with state error and exit 1 when the store fails', async () => {
    db.close();
    const result = await check();
    expect(result.code).toBe(1);
    expect(result.stdout).toEqual(['error']);
    expect(result.stderr[0]).toMatch(/^consent check for fp_patterns \(org acme\) failed, denied: DependencyError STORE_FAILED: /);
  });

  it('refuses an invalid scope with a usage error rather than a denial', async () => {
    await expect(check({ resource: 'all' })).rejects.toMatchObject({ name: 'UsageError', location: { flag: '--resource' } });
    await expect(check({ repo: 'a/b/c' })).rejects.toMatchObject({ name: 'UsageError', location: { flag: '--repo' } });
  });
});

describe('consentListCommand', () => {
  async function seed(): Promise<void> {
    await stores.consent.grant({ orgId: 'acme', resource: 'rule_calibration' }, { grantedBy: 'alice', grantedAt: '2030-01-01T00:00:00Z' });
    await stores.consent.grant(
      { orgId: 'acme', resource: 'fp_patterns', repository: 'acme/widgets' },
      { grantedBy: 'alice', grantedAt: '2030-01-02T00:00:00Z', expiresAt: '2999-01-01T00:00:00Z' },
    );
    await stores.consent.revoke({ orgId: 'acme', resource: 'rule_calibration' }, { revokedBy: 'bob', revokedAt: '2030-01-03T00:00:00Z' });
  }

  it('says when nothing is recorded', async () => {
    const out = io();
    expect(await consentListCommand({ org: 'acme', history: true }, stores, out)).toBe(0);
    expect(out.stdout).toEqual(['no consent recorded for org acme', '', 'no consent history for org acme']);
  });

  it('lists current records with their state as text, and the history with --history', async () => {
    // Prepare
    await seed();
    const out = io();

    // Act
    await consentListCommand({ org: 'acme', history: true }, stores, out);

    // Assess
    expect(out.stdout).toEqual([
      'fp_patterns  acme/widgets  granted  granted by alice at 2030-01-02T00:00:00Z; expires 2999-01-01T00:00:00Z',
      'rule_calibration  org-wide  revoked  granted by alice at 2030-01-01T00:00:00Z; revoked by bob at 2030-01-03T00:00:00Z',
      '',
      'history of org acme (oldest first):',
      '2030-01-01T00:00:00Z  grant  rule_calibration  org-wide  by alice',
      '2030-01-02T00:00:00Z  grant  fp_patterns  acme/widgets  by alice (expires 2999-01-01T00:00:00Z)',
      '2030-01-03T00:00:00Z  revoke  rule_calibration  org-wide  by bob',
    ]);
  });

  it('prints JSON with states, and the history only when asked', async () => {
    await seed();
    const plain = io();
    const withHistory = io();
    await consentListCommand({ org: 'acme', format: 'json' }, stores, plain);
    await consentListCommand({ org: 'acme', format: 'json', history: true }, stores, withHistory);

    const listed = JSON.parse(plain.stdout.join('\n'));
    expect(listed).toEqual({
      orgId: 'acme',
      at: expect.any(String),
      records: [
        { orgId: 'acme', resource: 'fp_patterns', repository: 'acme/widgets', grantedBy: 'alice', grantedAt: '2030-01-02T00:00:00Z', expiresAt: '2999-01-01T00:00:00Z', state: 'granted' },
        { orgId: 'acme', resource: 'rule_calibration', grantedBy: 'alice', grantedAt: '2030-01-01T00:00:00Z', revokedBy: 'bob', revokedAt: '2030-01-03T00:00:00Z', state: 'revoked' },
      ],
    });
    const full = JSON.parse(withHistory.stdout.join('\n'));
    expect(full.history.map((entry: { action: string; actor: string }) => `${entry.action}:${entry.actor}`)).toEqual(['grant:alice', 'grant:alice', 'revoke:bob']);
  });

  it('refuses an unknown format or org id', async () => {
    await expect(consentListCommand({ org: 'acme', format: 'yaml' }, stores, io())).rejects.toMatchObject({
      name: 'UsageError',
      location: { flag: '--format' },
      message: 'unknown format "yaml"; use one of text, json',
    });
    await expect(consentListCommand({ org: 'a b' }, stores, io())).rejects.toMatchObject({ name: 'UsageError', location: { flag: '--org' } });
  });
});
