/**
 * The shape rules of a stored calibration record, shared by both store
 * adapters so SQLite and DynamoDB accept and refuse exactly the same input.
 * A record carries no org id, no repository and no time finer than the hour.
 */
import { InputError } from '../errors';
import type { CalibrationRecord } from '../store/ports';

const HOUR_MS = 60 * 60 * 1000;
const ORG_HASH = /^[0-9a-f]{64}$/;
const HOUR_BUCKET = /^\d{4}-\d{2}-\d{2}T\d{2}:00:00\.000Z$/;

/**
 * The start of the UTC hour `at` falls in, as ISO text: the only time a
 * calibration record keeps, so outcomes cannot be correlated with a run.
 */
export function hourBucket(at: Date): string {
  const ms = at.getTime();
  if (Number.isNaN(ms)) {
    throw new InputError('INPUT_INVALID', 'observedAt must be a valid date', { location: { field: 'observedAt' } });
  }
  return new Date(Math.floor(ms / HOUR_MS) * HOUR_MS).toISOString();
}

/**
 * Throws InputError INPUT_INVALID naming the field when `record` is not a
 * well-formed anonymized record (non-empty rule id, 64-hex org hash, a bucket
 * at the start of a UTC hour, a boolean outcome).
 */
export function assertCalibrationRecord(record: CalibrationRecord): void {
  if (typeof record.ruleId !== 'string' || record.ruleId.length === 0) {
    throw invalid('ruleId', 'ruleId must be a non-empty string');
  }
  if (typeof record.orgHash !== 'string' || !ORG_HASH.test(record.orgHash)) {
    throw invalid('orgHash', 'orgHash must be 64 lowercase hex characters (an HMAC-SHA256 of the org id)');
  }
  if (
    typeof record.bucket !== 'string' ||
    !HOUR_BUCKET.test(record.bucket) ||
    Number.isNaN(Date.parse(record.bucket)) ||
    new Date(Date.parse(record.bucket)).toISOString() !== record.bucket
  ) {
    throw invalid('bucket', `bucket must be the start of a UTC hour (YYYY-MM-DDTHH:00:00.000Z), got ${JSON.stringify(record.bucket)}`);
  }
  if (typeof record.falsePositive !== 'boolean') {
    throw invalid('falsePositive', 'falsePositive must be a boolean');
  }
}

function invalid(field: string, message: string): InputError {
  return new InputError('INPUT_INVALID', message, { location: { field } });
}
