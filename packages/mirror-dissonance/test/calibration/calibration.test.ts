/**
 * Calibration ingestion (consent first, anonymized records) and k-anonymous
 * aggregation, on the real SQLite consent and calibration stores.
 */
import { createHmac } from 'node:crypto';
import BetterSqlite3 from 'better-sqlite3';
import { Anonymizer } from '../../src/calibration/anonymizer';
import { aggregateRule, ingestOutcome, K_ANONYMITY_MIN, type CalibrationDependencies } from '../../src/calibration/calibration';
import { hourBucket } from '../../src/calibration/record';
import { InputError } from '../../src/errors';
import type { CalibrationCounts, CalibrationStore, ConsentStore } from '../../src/store/ports';
import { SqliteCalibrationStore } from '../../src/store/sqlite/calibration-store';
import { SqliteConsentStore } from '../../src/store/sqlite/consent-store';
import { runMigrations } from '../../src/store/sqlite/migrations';

const SALT = '9c'.repeat(32);
const NOW = new Date('2030-06-15T12:34:56.789Z');

interface Fixture extends CalibrationDependencies {
  db: BetterSqlite3.Database;
  store: SqliteCalibrationStore;
  consent: SqliteConsentStore;
}

let fixture: Fixture;

beforeEach(() => {
  const db = new BetterSqlite3(':memory:');
  runMigrations(db, ':memory:');
  fixture = {
    db,
    store: new SqliteCalibrationStore(db, ':memory:'),
    consent: new SqliteConsentStore(db, ':memory:'),
    anonymizer: new Anonymizer(SALT),
  };
});

afterEach(() => fixture.db.close());

async function grant(orgId: string, options: { repository?: string; expiresAt?: string } = {}): Promise<void> {
  await fixture.consent.grant(
    { orgId, resource: 'rule_calibration', ...(options.repository ? { repository: options.repository } : {}) },
    { grantedBy: 'admin', grantedAt: '2030-01-01T00:00:00Z', ...(options.expiresAt ? { expiresAt: options.expiresAt } : {}) },
  );
}

function rows(): unknown[] {
  return fixture.db.prepare('SELECT rule_id, org_hash, bucket, false_positive FROM calibration_records ORDER BY id').all();
}

describe('ingestOutcome', () => {
  it('stores only the rule, the HMAC of the org, the UTC hour and the outcome when consent is granted', async () => {
    // Prepare
    await grant('acme');

    // Act
    const result = await ingestOutcome(
      fixture,
      { orgId: 'acme', repository: 'acme/widgets', ruleId: 'MD-002', falsePositive: true, observedAt: new Date('2030-06-15T11:59:59.999Z') },
      NOW,
    );

    // Assess
    const orgHash = createHmac('sha256', Buffer.from(SALT, 'hex')).update('acme').digest('hex');
    expect(result).toEqual({ accepted: true, record: { ruleId: 'MD-002', orgHash, bucket: '2030-06-15T11:00:00.000Z', falsePositive: true } });
    expect(rows()).toEqual([{ rule_id: 'MD-002', org_hash: orgHash, bucket: '2030-06-15T11:00:00.000Z', false_positive: 1 }]);
    expect(JSON.stringify(rows())).not.toMatch(/acme|widgets/);
  });

  it('counts an organisation once whatever the case of its login', async () => {
    await grant('Acme');
    await grant('acme');
    const upper = await ingestOutcome(fixture, { orgId: 'Acme', ruleId: 'MD-002', falsePositive: true, observedAt: NOW }, NOW);
    const lower = await ingestOutcome(fixture, { orgId: 'acme', ruleId: 'MD-002', falsePositive: false, observedAt: NOW }, NOW);
    expect(upper.accepted && lower.accepted && upper.record.orgHash === lower.record.orgHash).toBe(true);
    expect(await fixture.store.counts('MD-002')).toMatchObject({ distinctOrgs: 1, outcomes: 2 });
  });

  it('accepts an outcome observed exactly now', async () => {
    await grant('acme');
    const result = await ingestOutcome(fixture, { orgId: 'acme', ruleId: 'MD-001', falsePositive: false, observedAt: NOW }, NOW);
    expect(result).toMatchObject({ accepted: true, record: { bucket: '2030-06-15T12:00:00.000Z', falsePositive: false } });
  });

  it('uses a repository-scoped consent over the org-wide one', async () => {
    // Prepare: the org granted, one repository revoked
    await grant('acme');
    await grant('acme', { repository: 'acme/secret' });
    await fixture.consent.revoke({ orgId: 'acme', repository: 'acme/secret', resource: 'rule_calibration' }, { revokedBy: 'admin', revokedAt: '2030-02-01T00:00:00Z' });

    // Act
    const secret = await ingestOutcome(fixture, { orgId: 'acme', repository: 'acme/secret', ruleId: 'MD-001', falsePositive: true, observedAt: NOW }, NOW);
    const other = await ingestOutcome(fixture, { orgId: 'acme', repository: 'acme/widgets', ruleId: 'MD-001', falsePositive: true, observedAt: NOW }, NOW);

    // Assess
    expect(secret).toMatchObject({ accepted: false, state: 'revoked' });
    expect(other.accepted).toBe(true);
    expect(rows()).toHaveLength(1);
  });

  describe('refuses and stores nothing when consent is not granted', () => {
    it('not requested', async () => {
      const result = await ingestOutcome(fixture, { orgId: 'acme', ruleId: 'MD-001', falsePositive: true, observedAt: NOW }, NOW);
      expect(result).toEqual({ accepted: false, state: 'not_requested', reason: 'no consent recorded for rule_calibration (org acme)' });
      expect(rows()).toEqual([]);
    });

    it('expired', async () => {
      await grant('acme', { expiresAt: '2030-06-15T12:00:00Z' });
      const result = await ingestOutcome(fixture, { orgId: 'acme', ruleId: 'MD-001', falsePositive: true, observedAt: NOW }, NOW);
      expect(result).toEqual({ accepted: false, state: 'expired', reason: 'consent for rule_calibration (org acme) has expired' });
      expect(rows()).toEqual([]);
    });

    it('revoked', async () => {
      await grant('acme');
      await fixture.consent.revoke({ orgId: 'acme', resource: 'rule_calibration' }, { revokedBy: 'admin', revokedAt: '2030-03-01T00:00:00Z' });
      const result = await ingestOutcome(fixture, { orgId: 'acme', ruleId: 'MD-001', falsePositive: true, observedAt: NOW }, NOW);
      expect(result).toEqual({ accepted: false, state: 'revoked', reason: 'consent for rule_calibration (org acme) was revoked' });
      expect(rows()).toEqual([]);
    });

    it('granted for another resource only', async () => {
      await fixture.consent.grant({ orgId: 'acme', resource: 'fp_metrics' }, { grantedBy: 'admin', grantedAt: '2030-01-01T00:00:00Z' });
      const result = await ingestOutcome(fixture, { orgId: 'acme', ruleId: 'MD-001', falsePositive: true, observedAt: NOW }, NOW);
      expect(result).toMatchObject({ accepted: false, state: 'not_requested' });
      expect(rows()).toEqual([]);
    });

    it('the consent store throws (errors deny)', async () => {
      // Prepare: a consent store that is down
      const failing: ConsentStore = {
        check: async () => {
          throw new Error('connection reset');
        },
        grant: (scope, given) => fixture.consent.grant(scope, given),
        revoke: (scope, revocation) => fixture.consent.revoke(scope, revocation),
        list: (orgId) => fixture.consent.list(orgId),
        history: (orgId) => fixture.consent.history(orgId),
      };
      await grant('acme');

      // Act
      const result = await ingestOutcome({ ...fixture, consent: failing }, { orgId: 'acme', ruleId: 'MD-001', falsePositive: true, observedAt: NOW }, NOW);

      // Assess
      expect(result).toMatchObject({ accepted: false, state: 'error' });
      expect(result.accepted === false && result.reason).toContain('connection reset');
      expect(rows()).toEqual([]);
    });
  });

  it('checks consent at `now`, not at the observation time', async () => {
    // Granted until 12:00; the outcome was observed at 11:00 but is ingested at 12:34
    await grant('acme', { expiresAt: '2030-06-15T12:00:00Z' });
    const result = await ingestOutcome(fixture, { orgId: 'acme', ruleId: 'MD-001', falsePositive: true, observedAt: new Date('2030-06-15T11:00:00Z') }, NOW);
    expect(result).toMatchObject({ accepted: false, state: 'expired' });
  });

  it('rejects an outcome observed in the future with INPUT_INVALID, before asking consent', async () => {
    // Prepare
    await grant('acme');
    const checks = jest.spyOn(fixture.consent, 'check');

    // Act
    const attempt = ingestOutcome(fixture, { orgId: 'acme', ruleId: 'MD-001', falsePositive: true, observedAt: new Date(NOW.getTime() + 1) }, NOW);

    // Assess
    await expect(attempt).rejects.toBeInstanceOf(InputError);
    await expect(attempt).rejects.toMatchObject({ code: 'INPUT_INVALID', location: { field: 'observedAt' } });
    expect(checks).not.toHaveBeenCalled();
    expect(rows()).toEqual([]);
  });

  it.each([
    ['orgId', { orgId: '' }],
    ['orgId', { orgId: 'has space' }],
    ['repository', { repository: 'not-a-repository' }],
    ['ruleId', { ruleId: ' ' }],
    ['falsePositive', { falsePositive: 'yes' }],
    ['observedAt', { observedAt: '2030-01-01T00:00:00Z' }],
    ['observedAt', { observedAt: new Date(Number.NaN) }],
  ])('rejects an invalid %s (case %#) with INPUT_INVALID', async (field, override) => {
    await grant('acme');
    const outcome = { orgId: 'acme', ruleId: 'MD-001', falsePositive: true, observedAt: NOW, ...override } as Parameters<typeof ingestOutcome>[1];
    await expect(ingestOutcome(fixture, outcome, NOW)).rejects.toMatchObject({ code: 'INPUT_INVALID', location: { field } });
    expect(rows()).toEqual([]);
  });

  it('rejects an invalid `now`', async () => {
    await expect(
      ingestOutcome(fixture, { orgId: 'acme', ruleId: 'MD-001', falsePositive: true, observedAt: NOW }, new Date(Number.NaN)),
    ).rejects.toMatchObject({ code: 'INPUT_INVALID', location: { field: 'now' } });
  });
});

describe('hourBucket', () => {
  it.each([
    ['2030-06-15T12:00:00.000Z', '2030-06-15T12:00:00.000Z'],
    ['2030-06-15T12:59:59.999Z', '2030-06-15T12:00:00.000Z'],
    ['2030-06-15T13:30:00+02:00', '2030-06-15T11:00:00.000Z'],
    ['2030-12-31T23:59:59Z', '2030-12-31T23:00:00.000Z'],
    ['1969-12-31T23:30:00Z', '1969-12-31T23:00:00.000Z'],
  ])('truncates %s to the start of its UTC hour', (at, bucket) => {
    expect(hourBucket(new Date(at))).toBe(bucket);
  });

  it('rejects an invalid date', () => {
    expect(() => hourBucket(new Date('nope'))).toThrow(expect.objectContaining({ code: 'INPUT_INVALID' }));
  });
});

describe('aggregateRule', () => {
  async function contribute(ruleId: string, orgs: number, outcomesPerOrg = 1): Promise<void> {
    for (let org = 0; org < orgs; org += 1) {
      await grant(`org-${org}`);
      for (let i = 0; i < outcomesPerOrg; i += 1) {
        const result = await ingestOutcome(fixture, { orgId: `org-${org}`, ruleId, falsePositive: i === 0 && org % 2 === 0, observedAt: NOW }, NOW);
        expect(result.accepted).toBe(true);
      }
    }
  }

  it('exports k = 10', () => {
    expect(K_ANONYMITY_MIN).toBe(10);
  });

  it('withholds the aggregate of 9 organisations without revealing the count', async () => {
    // Prepare: 9 orgs, many outcomes each
    await contribute('MD-002', 9, 5);

    // Act
    const result = await aggregateRule(fixture.store, 'MD-002');

    // Assess
    expect(result).toEqual({
      released: false,
      code: 'INSUFFICIENT_K_ANONYMITY',
      ruleId: 'MD-002',
      required: 10,
      message: 'calibration of MD-002 is withheld: fewer than 10 organisations contributed (k-anonymity)',
    });
    expect(JSON.stringify(result)).not.toMatch(/\b9\b|\b45\b/);
  });

  it('releases the aggregate of 10 organisations', async () => {
    await contribute('MD-002', 10, 2);
    expect(await aggregateRule(fixture.store, 'MD-002')).toEqual({
      released: true,
      ruleId: 'MD-002',
      organizations: 10,
      outcomes: 20,
      falsePositives: 5,
      fpr: 0.25,
    });
  });

  it('withholds a rule without records', async () => {
    expect(await aggregateRule(fixture.store, 'MD-404')).toMatchObject({ released: false, code: 'INSUFFICIENT_K_ANONYMITY' });
  });

  it('applies a stricter k', async () => {
    await contribute('MD-002', 11);
    expect(await aggregateRule(fixture.store, 'MD-002', 12)).toMatchObject({ released: false, required: 12 });
    expect(await aggregateRule(fixture.store, 'MD-002', 11)).toMatchObject({ released: true, organizations: 11 });
  });

  it.each([9, 0, -1, 10.5, Number.NaN])('refuses k = %p (below the minimum or not an integer)', async (k) => {
    await expect(aggregateRule(fixture.store, 'MD-002', k)).rejects.toMatchObject({ code: 'INPUT_INVALID', location: { field: 'k' } });
  });

  it('refuses an empty rule id', async () => {
    await expect(aggregateRule(fixture.store, '')).rejects.toMatchObject({ code: 'INPUT_INVALID', location: { field: 'ruleId' } });
  });

  it('propagates a store failure instead of withholding silently', async () => {
    const broken: CalibrationStore = {
      ingest: async () => undefined,
      counts: async (): Promise<CalibrationCounts> => {
        throw new Error('disk I/O error');
      },
      ruleIds: async () => [],
    };
    await expect(aggregateRule(broken, 'MD-002')).rejects.toThrow('disk I/O error');
  });
});
