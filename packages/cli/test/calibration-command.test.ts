/**
 * The calibration commands on real SQLite consent and calibration stores,
 * with a captured Io: exit codes, what is printed, and what is stored.
 */
import { createHmac } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { UsageError } from '@phase-mirror/mirror-dissonance';
import { SqliteCalibrationStore } from '../../mirror-dissonance/src/store/sqlite/calibration-store';
import { SqliteConsentStore } from '../../mirror-dissonance/src/store/sqlite/consent-store';
import { runMigrations } from '../../mirror-dissonance/src/store/sqlite/migrations';
import {
  calibrationAggregateCommand,
  calibrationIngestCommand,
  calibrationShowCommand,
  type CalibrationCommandDeps,
} from '../src/commands/calibration';
import { captureIo } from './helpers';

const SALT = '3e'.repeat(32);

interface Fixture {
  db: BetterSqlite3.Database;
  deps: CalibrationCommandDeps;
  consent: SqliteConsentStore;
  salts: number;
}

let fixture: Fixture;
let root: string;

beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'pm-cli-calibration-'));
  const file = path.join(root, 'state.db');
  const db = new BetterSqlite3(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  runMigrations(db, file);
  const consent = new SqliteConsentStore(db, file);
  const calibration = new SqliteCalibrationStore(db, file);
  fixture = {
    db,
    consent,
    salts: 0,
    deps: {
      consent,
      calibration,
      salt: async () => {
        fixture.salts += 1;
        return SALT;
      },
    },
  };
});

afterEach(() => {
  fixture.db.close();
  fs.rmSync(root, { recursive: true, force: true });
});

async function grant(orgId: string): Promise<void> {
  await fixture.consent.grant({ orgId, resource: 'rule_calibration' }, { grantedBy: 'admin', grantedAt: '2020-01-01T00:00:00Z' });
}

function stored(): Array<{ rule_id: string; org_hash: string; bucket: string; false_positive: number }> {
  return fixture.db.prepare('SELECT rule_id, org_hash, bucket, false_positive FROM calibration_records ORDER BY id').all() as never;
}

async function ingest(org: string, rule: string, fp: boolean): Promise<number> {
  const io = captureIo(root);
  return calibrationIngestCommand({ org, rule, ...(fp ? { fp: true } : { tp: true }), at: '2024-01-01T10:20:30Z' }, fixture.deps, io);
}

describe('calibration ingest', () => {
  it('stores an anonymized outcome and exits 0 when consent is granted', async () => {
    // Prepare
    await grant('acme');
    const io = captureIo(root);

    // Act
    const code = await calibrationIngestCommand({ org: 'acme', repo: 'acme/widgets', rule: 'MD-002', fp: true, at: '2024-01-01T10:20:30+01:00' }, fixture.deps, io);

    // Assess
    expect(code).toBe(0);
    expect(io.stdout).toEqual([
      'accepted: MD-002 false positive in the hour of 2024-01-01T09:00:00.000Z (organisation stored as an anonymized hash, no repository)',
    ]);
    expect(stored()).toEqual([
      { rule_id: 'MD-002', org_hash: createHmac('sha256', Buffer.from(SALT, 'hex')).update('acme').digest('hex'), bucket: '2024-01-01T09:00:00.000Z', false_positive: 1 },
    ]);
  });

  it('records a true positive with --tp and defaults the time to now', async () => {
    await grant('acme');
    const io = captureIo(root);
    const before = Date.now();

    const code = await calibrationIngestCommand({ org: 'acme', rule: 'MD-001', tp: true }, fixture.deps, io);

    expect(code).toBe(0);
    const [row] = stored();
    expect(row.false_positive).toBe(0);
    expect(Date.parse(row.bucket)).toBe(Math.floor(before / 3_600_000) * 3_600_000);
  });

  it('prints the consent reason, stores nothing and exits 1 without consent', async () => {
    const io = captureIo(root);

    const code = await calibrationIngestCommand({ org: 'acme', rule: 'MD-002', fp: true }, fixture.deps, io);

    expect(code).toBe(1);
    expect(io.stdout).toEqual(['refused (not_requested): no consent recorded for rule_calibration (org acme); nothing was stored']);
    expect(stored()).toEqual([]);
  });

  it('prints the result as JSON with --format json', async () => {
    await grant('acme');
    const io = captureIo(root);

    const code = await calibrationIngestCommand({ org: 'acme', rule: 'MD-002', fp: true, at: '2024-01-01T10:20:30Z', format: 'json' }, fixture.deps, io);

    expect(code).toBe(0);
    expect(JSON.parse(io.stdout.join(''))).toMatchObject({ accepted: true, record: { ruleId: 'MD-002', bucket: '2024-01-01T10:00:00.000Z', falsePositive: true } });
  });

  it.each([
    [{ fp: true, tp: true }, '--fp', /exclusive/],
    [{}, '--fp', /give --fp/],
    [{ fp: true, at: 'yesterday' }, '--at', /--at must be an ISO 8601/],
    [{ fp: true, at: '2030-02-30T10:00:00Z' }, '--at', /--at must be an ISO 8601/],
    [{ fp: true, at: '2999-01-01T00:00:00Z' }, '--at', /in the future/],
    [{ fp: true, repo: 'not a repo' }, '--repo', /repository must be owner\/name/],
    [{ fp: true, format: 'xml' }, '--format', /unknown format/],
  ])('refuses %j with a usage error on %s and stores nothing', async (extra, flag, message) => {
    // Prepare
    await grant('acme');

    // Act
    const attempt = calibrationIngestCommand({ org: 'acme', rule: 'MD-002', ...extra }, fixture.deps, captureIo(root));

    // Assess
    await expect(attempt).rejects.toBeInstanceOf(UsageError);
    await expect(calibrationIngestCommand({ org: 'acme', rule: 'MD-002', ...extra }, fixture.deps, captureIo(root))).rejects.toMatchObject({
      location: { flag },
      message: expect.stringMatching(message),
    });
    expect(stored()).toEqual([]);
  });

  it('fails closed when the salt cannot be loaded', async () => {
    await grant('acme');
    const deps = { ...fixture.deps, salt: async () => 'not-a-salt' };
    await expect(calibrationIngestCommand({ org: 'acme', rule: 'MD-002', fp: true }, deps, captureIo(root))).rejects.toMatchObject({ code: 'STORE_FAILED' });
    expect(stored()).toEqual([]);
  });
});

describe('calibration aggregate', () => {
  async function contribute(orgs: number): Promise<void> {
    for (let i = 0; i < orgs; i += 1) {
      await grant(`org-${i}`);
      expect(await ingest(`org-${i}`, 'MD-002', i < 3)).toBe(0);
      expect(await ingest(`org-${i}`, 'MD-002', false)).toBe(0);
    }
  }

  it('prints INSUFFICIENT_K_ANONYMITY and exits 1 with 9 organisations, without the count', async () => {
    await contribute(9);
    const io = captureIo(root);

    const code = await calibrationAggregateCommand({ rule: 'MD-002' }, fixture.deps, io);

    expect(code).toBe(1);
    expect(io.stdout).toEqual(['INSUFFICIENT_K_ANONYMITY: calibration of MD-002 is withheld: fewer than 10 organisations contributed (k-anonymity)']);
    expect(io.stdout.join('')).not.toMatch(/\b9\b|\b18\b/);
  });

  it('prints the aggregate and exits 0 with 10 organisations', async () => {
    await contribute(10);
    const io = captureIo(root);

    const code = await calibrationAggregateCommand({ rule: 'MD-002' }, fixture.deps, io);

    expect(code).toBe(0);
    expect(io.stdout).toEqual(['MD-002: FPR 15.0% (3 false positives in 20 outcomes from 10 organisations)']);
  });

  it('honours a stricter --k and prints JSON', async () => {
    await contribute(10);
    const io = captureIo(root);

    const code = await calibrationAggregateCommand({ rule: 'MD-002', k: '11', format: 'json' }, fixture.deps, io);

    expect(code).toBe(1);
    expect(JSON.parse(io.stdout.join(''))).toMatchObject({ released: false, code: 'INSUFFICIENT_K_ANONYMITY', required: 11 });
  });

  it.each(['9', '0', '-3', '10.5', 'ten', ''])('refuses --k %j', async (k) => {
    await expect(calibrationAggregateCommand({ rule: 'MD-002', k }, fixture.deps, captureIo(root))).rejects.toMatchObject({
      code: 'USAGE',
      location: { flag: '--k' },
    });
  });

  it('refuses an empty --rule', async () => {
    await expect(calibrationAggregateCommand({ rule: ' ' }, fixture.deps, captureIo(root))).rejects.toMatchObject({ location: { flag: '--rule' } });
  });
});

describe('calibration show', () => {
  it('says so when there are no records', async () => {
    const io = captureIo(root);
    expect(await calibrationShowCommand({}, fixture.deps, io)).toBe(0);
    expect(io.stdout).toEqual(['no calibration records']);
  });

  it('lists every rule: released aggregates and withheld ones', async () => {
    // Prepare: MD-002 from 10 orgs, MD-010 from 2
    for (let i = 0; i < 10; i += 1) {
      await grant(`org-${i}`);
      await ingest(`org-${i}`, 'MD-002', i === 0);
      if (i < 2) await ingest(`org-${i}`, 'MD-010', true);
    }
    const io = captureIo(root);

    // Act
    const code = await calibrationShowCommand({}, fixture.deps, io);

    // Assess
    expect(code).toBe(0);
    expect(io.stdout).toEqual([
      'k-anonymity: an aggregate is released only when at least 10 organisations contributed',
      'MD-002  FPR 10.0% (1 false positives in 10 outcomes from 10 organisations)',
      'MD-010  withheld (fewer than k organisations)',
    ]);
  });

  it('prints every rule as JSON with --format json', async () => {
    await grant('org-a');
    await ingest('org-a', 'MD-003', true);
    const io = captureIo(root);

    expect(await calibrationShowCommand({ format: 'json' }, fixture.deps, io)).toBe(0);

    expect(JSON.parse(io.stdout.join(''))).toEqual({
      k: 10,
      rules: [
        {
          released: false,
          code: 'INSUFFICIENT_K_ANONYMITY',
          ruleId: 'MD-003',
          required: 10,
          message: 'calibration of MD-003 is withheld: fewer than 10 organisations contributed (k-anonymity)',
        },
      ],
    });
  });

  it('does not load the salt to show or aggregate', async () => {
    await calibrationShowCommand({}, fixture.deps, captureIo(root));
    await calibrationAggregateCommand({ rule: 'MD-002' }, fixture.deps, captureIo(root));
    expect(fixture.salts).toBe(0);
  });
});
