/**
 * The consent policy: `consentAllows` allows only `granted` and denies on any
 * failure (DESIGN §6), the state rules every adapter shares, and input
 * validation.
 */
import BetterSqlite3 from 'better-sqlite3';
import {
  compareConsentRecords,
  consentAllows,
  consentStateOf,
  decideConsent,
  describeConsentScope,
  isConsentResource,
  parseConsentInstant,
  validateCheckTime,
  validateConsentGrant,
  validateConsentScope,
  validateOrgId,
} from '../../src/consent/consent';
import { DependencyError, InputError } from '../../src/errors';
import { CONSENT_RESOURCES, type ConsentRecord, type ConsentScope, type ConsentState, type ConsentStore } from '../../src/store/ports';
import { SqliteConsentStore } from '../../src/store/sqlite/consent-store';
import { runMigrations } from '../../src/store/sqlite/migrations';

const scope: ConsentScope = { orgId: 'acme', resource: 'fp_patterns', repository: 'acme/widgets' };
const at = new Date('2030-01-10T00:00:00Z');

/** A store whose every method throws `error`. */
function failingStore(error: unknown): ConsentStore {
  const fail = async (): Promise<never> => {
    throw error;
  };
  return { grant: fail, revoke: fail, check: fail, list: fail, history: fail };
}

function answering(state: string): ConsentStore {
  return { ...failingStore(new Error('unused')), check: async () => state as ConsentState };
}

describe('consentAllows', () => {
  it('allows only a granted scope', async () => {
    expect(await consentAllows(answering('granted'), scope, at)).toEqual({
      allowed: true,
      state: 'granted',
      reason: 'consent granted for fp_patterns (org acme, repository acme/widgets)',
    });
  });

  it.each([
    ['expired', 'consent for fp_patterns (org acme, repository acme/widgets) has expired'],
    ['revoked', 'consent for fp_patterns (org acme, repository acme/widgets) was revoked'],
    ['not_requested', 'no consent recorded for fp_patterns (org acme, repository acme/widgets)'],
  ])('denies a scope whose consent is %s', async (state, reason) => {
    expect(await consentAllows(answering(state), scope, at)).toEqual({ allowed: false, state, reason });
  });

  it('denies with state error, naming the error, when the store fails', async () => {
    // Prepare
    const store = failingStore(new DependencyError('STORE_FAILED', 'Query on DynamoDB table t failed: throttled'));

    // Act
    const decision = await consentAllows(store, { orgId: 'acme', resource: 'audit_logs' }, at);

    // Assess
    expect(decision).toEqual({
      allowed: false,
      state: 'error',
      reason: 'consent check for audit_logs (org acme) failed, denied: DependencyError STORE_FAILED: Query on DynamoDB table t failed: throttled',
    });
  });

  it('denies on an unexpected exception or a thrown non-error value', async () => {
    expect(await consentAllows(failingStore(new TypeError('boom')), scope, at)).toMatchObject({
      allowed: false,
      state: 'error',
      reason: expect.stringContaining('denied: TypeError: boom'),
    });
    expect(await consentAllows(failingStore('socket hang up'), scope, at)).toMatchObject({
      allowed: false,
      state: 'error',
      reason: expect.stringContaining('denied: socket hang up'),
    });
  });

  it('denies when the store answers something that is not a consent state', async () => {
    expect(await consentAllows(answering('GRANTED'), scope, at)).toEqual({
      allowed: false,
      state: 'error',
      reason: 'consent check for fp_patterns (org acme, repository acme/widgets) failed, denied: the store answered "GRANTED", not a consent state',
    });
  });

  it('denies an invalid scope instead of throwing', async () => {
    const db = new BetterSqlite3(':memory:');
    runMigrations(db, ':memory:');
    try {
      const store = new SqliteConsentStore(db, ':memory:');
      const decision = await consentAllows(store, { orgId: 'acme', resource: 'everything' } as unknown as ConsentScope, at);
      expect(decision).toMatchObject({ allowed: false, state: 'error', reason: expect.stringContaining('InputError INPUT_INVALID: resource must be one of') });
      expect(await consentAllows(store, null as unknown as ConsentScope, at)).toMatchObject({
        allowed: false,
        state: 'error',
        reason: expect.stringContaining('consent check for an unreadable scope failed'),
      });
    } finally {
      db.close();
    }
  });

  it('follows every state transition of a real store', async () => {
    // Prepare
    const db = new BetterSqlite3(':memory:');
    runMigrations(db, ':memory:');
    const store = new SqliteConsentStore(db, ':memory:');
    const states: string[] = [];
    const record = async (when: Date): Promise<void> => {
      const decision = await consentAllows(store, scope, when);
      states.push(`${decision.state}:${decision.allowed}`);
    };
    try {
      // Act
      await record(at);
      await store.grant(scope, { grantedBy: 'alice', grantedAt: '2030-01-01T00:00:00Z', expiresAt: '2030-02-01T00:00:00Z' });
      await record(at);
      await store.revoke(scope, { revokedBy: 'bob', revokedAt: '2030-01-11T00:00:00Z' });
      await record(at);
      await store.grant(scope, { grantedBy: 'carol', grantedAt: '2030-01-12T00:00:00Z', expiresAt: '2030-01-20T00:00:00Z' });
      await record(new Date('2030-01-19T23:59:59.999Z'));
      await record(new Date('2030-01-20T00:00:00Z'));
      db.close();
      await record(at);

      // Assess
      expect(states).toEqual([
        'not_requested:false',
        'granted:true',
        'revoked:false',
        'granted:true',
        'expired:false',
        'error:false',
      ]);
    } finally {
      if (db.open) db.close();
    }
  });
});

describe('consentStateOf / decideConsent', () => {
  const base: ConsentRecord = { orgId: 'acme', resource: 'fp_patterns', grantedBy: 'alice', grantedAt: '2030-01-01T00:00:00Z' };

  it('is granted before the expiry, expired at and after it, revoked whatever the expiry', () => {
    const expiring = { ...base, expiresAt: '2030-01-10T00:00:00Z' };
    expect(consentStateOf(expiring, new Date('2030-01-09T23:59:59.999Z'))).toBe('granted');
    expect(consentStateOf(expiring, new Date('2030-01-10T00:00:00Z'))).toBe('expired');
    expect(consentStateOf({ ...expiring, revokedBy: 'bob', revokedAt: '2030-01-02T00:00:00Z' }, new Date('2030-01-11T00:00:00Z'))).toBe('revoked');
    expect(consentStateOf(base, new Date('2999-01-01T00:00:00Z'))).toBe('granted');
  });

  it('lets the repository record decide, else the org-wide one, else not_requested', () => {
    const revoked = { ...base, repository: 'acme/widgets', revokedBy: 'bob', revokedAt: '2030-01-02T00:00:00Z' };
    expect(decideConsent(revoked, base, at)).toBe('revoked');
    expect(decideConsent(undefined, base, at)).toBe('granted');
    expect(decideConsent(undefined, undefined, at)).toBe('not_requested');
  });
});

describe('consent validation', () => {
  it('normalizes the repository to lower case and drops unknown members', () => {
    const input = { orgId: 'acme', resource: 'fp_metrics', repository: 'Acme/Widgets.JS', extra: 1 } as unknown as ConsentScope;
    expect(validateConsentScope(input)).toEqual({ orgId: 'acme', resource: 'fp_metrics', repository: 'acme/widgets.js' });
    expect(validateConsentScope({ orgId: 'acme', resource: 'fp_metrics' })).toEqual({ orgId: 'acme', resource: 'fp_metrics' });
  });

  it('names the field and lists the valid resources', () => {
    let thrown: unknown;
    try {
      validateConsentScope({ orgId: 'acme', resource: 'fp-patterns' as never });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(InputError);
    expect(thrown).toMatchObject({
      code: 'INPUT_INVALID',
      location: { field: 'resource' },
      context: { validValues: [...CONSENT_RESOURCES] },
      message: `resource must be one of ${CONSENT_RESOURCES.join(', ')}; got "fp-patterns"`,
    });
  });

  it.each([
    [null, 'scope'],
    [{ orgId: 'acme', resource: 'fp_patterns', repository: '-acme/widgets' }, 'repository'],
    [{ orgId: 'acme', resource: 'fp_patterns', repository: 'acme/.' }, 'repository'],
    [{ orgId: 'acme', resource: 'fp_patterns', repository: 'acme/wid gets' }, 'repository'],
    [{ orgId: 'acme', resource: 'fp_patterns', repository: 42 }, 'repository'],
    [{ orgId: 'ac\nme', resource: 'fp_patterns' }, 'orgId'],
    [{ orgId: 7, resource: 'fp_patterns' }, 'orgId'],
  ])('rejects the scope %j (field %s)', (input, field) => {
    expect(() => validateConsentScope(input as unknown as ConsentScope)).toThrow(expect.objectContaining({ code: 'INPUT_INVALID', location: { field } }));
  });

  it('accepts ISO date-times with offsets and fractions, and rejects impossible dates', () => {
    expect(parseConsentInstant('2030-01-01T01:00:00.123+01:00', 'at')).toBe(Date.parse('2030-01-01T00:00:00.123Z'));
    expect(parseConsentInstant('2028-02-29T00:00Z', 'at')).toBe(Date.parse('2028-02-29T00:00:00Z'));
    for (const bad of ['2030-02-29T00:00:00Z', '2030-04-31T00:00:00Z', '2030-00-10T00:00:00Z', '2030-01-00T00:00:00Z', '2030-01-01 00:00:00Z', '2030-01-01T00:00:00', 12]) {
      expect(() => parseConsentInstant(bad, 'expiresAt')).toThrow(expect.objectContaining({ location: { field: 'expiresAt' } }));
    }
  });

  it('requires the expiry strictly after the grant', () => {
    expect(validateConsentGrant({ grantedBy: 'alice', grantedAt: '2030-01-01T00:00:00Z', expiresAt: '2030-01-01T00:00:00.001Z' })).toEqual({
      grantedBy: 'alice',
      grantedAt: '2030-01-01T00:00:00Z',
      grantedMs: Date.parse('2030-01-01T00:00:00Z'),
      expiresAt: '2030-01-01T00:00:00.001Z',
    });
    expect(() => validateConsentGrant({ grantedBy: 'alice', grantedAt: '2030-01-01T01:00:00+01:00', expiresAt: '2030-01-01T00:00:00Z' })).toThrow(
      'expiresAt (2030-01-01T00:00:00Z) must be after grantedAt (2030-01-01T01:00:00+01:00)',
    );
  });

  it('validates check times, org ids and resources', () => {
    expect(validateCheckTime(at)).toBe(at.getTime());
    expect(() => validateCheckTime('2030-01-01' as unknown as Date)).toThrow(expect.objectContaining({ location: { field: 'at' } }));
    expect(validateOrgId('acme')).toBe('acme');
    expect(() => validateOrgId('a b')).toThrow(expect.objectContaining({ location: { field: 'orgId' } }));
    expect(CONSENT_RESOURCES.every(isConsentResource)).toBe(true);
    expect(isConsentResource('FP_PATTERNS')).toBe(false);
  });

  it('orders records by resource, org-wide first, then repository', () => {
    const scopes: ConsentScope[] = [
      { orgId: 'a', resource: 'fp_patterns', repository: 'x/b' },
      { orgId: 'a', resource: 'audit_logs', repository: 'x/a' },
      { orgId: 'a', resource: 'fp_patterns' },
      { orgId: 'a', resource: 'fp_patterns', repository: 'x/a' },
      { orgId: 'a', resource: 'audit_logs' },
    ];
    expect(scopes.sort(compareConsentRecords).map(describeConsentScope)).toEqual([
      'audit_logs (org a)',
      'audit_logs (org a, repository x/a)',
      'fp_patterns (org a)',
      'fp_patterns (org a, repository x/a)',
      'fp_patterns (org a, repository x/b)',
    ]);
    expect(compareConsentRecords(scopes[0], { ...scopes[0] })).toBe(0);
  });
});
