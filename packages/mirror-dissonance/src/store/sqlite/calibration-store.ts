/**
 * SQLite adapter of the calibration store (DESIGN §7): anonymized outcome
 * records (rule, org hash, hour bucket, outcome) in `calibration_records`.
 * Records are kept: calibration aggregates are computed over all of them.
 */
import type { Database, Statement } from 'better-sqlite3';
import { assertCalibrationRecord } from '../../calibration/record';
import { InputError } from '../../errors';
import { compareCodePoints } from '../../hashing';
import type { CalibrationCounts, CalibrationRecord, CalibrationStore } from '../ports';
import { guard } from './store-error';

interface CountsRow {
  distinctOrgs: number;
  outcomes: number;
  falsePositives: number;
}

export class SqliteCalibrationStore implements CalibrationStore {
  private readonly insert: Statement<[Record<string, string | number>]>;
  private readonly count: Statement<[string], CountsRow>;
  private readonly rules: Statement<[], string>;

  constructor(
    db: Database,
    private readonly file: string,
  ) {
    const prepared = guard(file, 'prepare calibration statements', () => ({
      insert: db.prepare<[Record<string, string | number>]>(
        `INSERT INTO calibration_records (rule_id, org_hash, bucket, false_positive)
         VALUES (@ruleId, @orgHash, @bucket, @falsePositive)`,
      ),
      count: db.prepare<[string], CountsRow>(
        `SELECT COUNT(DISTINCT org_hash) AS distinctOrgs, COUNT(*) AS outcomes,
                COALESCE(SUM(false_positive), 0) AS falsePositives
         FROM calibration_records WHERE rule_id = ?`,
      ),
      rules: db.prepare<[], string>('SELECT DISTINCT rule_id FROM calibration_records').pluck(),
    }));
    this.insert = prepared.insert;
    this.count = prepared.count;
    this.rules = prepared.rules;
  }

  async ingest(record: CalibrationRecord): Promise<void> {
    assertCalibrationRecord(record);
    guard(this.file, 'ingest calibration record', () => {
      this.insert.run({
        ruleId: record.ruleId,
        orgHash: record.orgHash,
        bucket: record.bucket,
        falsePositive: record.falsePositive ? 1 : 0,
      });
    });
  }

  async counts(ruleId: string): Promise<CalibrationCounts> {
    if (typeof ruleId !== 'string' || ruleId.length === 0) {
      throw new InputError('INPUT_INVALID', 'ruleId must be a non-empty string', { location: { field: 'ruleId' } });
    }
    const row = guard(this.file, 'read calibration counts', () => this.count.get(ruleId));
    return {
      ruleId,
      distinctOrgs: row?.distinctOrgs ?? 0,
      outcomes: row?.outcomes ?? 0,
      falsePositives: row?.falsePositives ?? 0,
    };
  }

  /** Sorted in code-point order in JavaScript, exactly like the DynamoDB adapter. */
  async ruleIds(): Promise<string[]> {
    return guard(this.file, 'list calibration rules', () => this.rules.all()).sort(compareCodePoints);
  }
}
