/**
 * The SSM path every Phase Mirror secret of a stage lives under (DESIGN §8):
 * `/guardian/<stage>/` — the redaction nonce versions and the anonymizer salt.
 */
import { InputError } from '../errors';

// A path segment: no leading dot, so never `.` or `..`.
const STAGE = /^[A-Za-z0-9_-][A-Za-z0-9_.-]*$/;

/** `/guardian/<stage>/`, after checking the stage can be a path segment. */
export function guardianPath(stage: string): string {
  if (typeof stage !== 'string' || !STAGE.test(stage)) {
    throw new InputError('INPUT_INVALID', `storage stage must match ${STAGE.source}, got ${JSON.stringify(stage)}`, {
      location: { field: 'storage.stage' },
    });
  }
  return `/guardian/${stage}/`;
}
