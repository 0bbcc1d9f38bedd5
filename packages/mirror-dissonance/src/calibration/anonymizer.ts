/**
 * Org anonymization for FP calibration (DESIGN §7): an organisation is
 * stored only as HMAC-SHA256(salt, orgId). The salt is a secret 32-byte key
 * (64 lowercase hex) from SSM or the embedded state folder; without it the
 * hashes cannot be reversed by trying candidate org names. There is no
 * default salt: a missing or malformed one is a dependency failure.
 */
import { createHmac } from 'node:crypto';
import { DependencyError, InputError } from '../errors';

const SALT = /^[0-9a-f]{64}$/;

export class Anonymizer {
  /** A true private field: never serialized by JSON.stringify or shown by util.inspect. */
  readonly #key: Buffer;

  /**
   * @param salt 64 lowercase hex characters (32 bytes)
   * @param source where the salt came from (SSM parameter path or file), named in errors instead of the value
   * @default source 'an unnamed source'
   * @throws DependencyError STORE_FAILED when the salt is not 64 lowercase hex
   */
  constructor(salt: string, source = 'an unnamed source') {
    if (typeof salt !== 'string' || !SALT.test(salt)) {
      throw new DependencyError('STORE_FAILED', `anonymizer salt from ${source} is not 64 lowercase hex characters`, {
        context: { source },
      });
    }
    this.#key = Buffer.from(salt, 'hex');
  }

  /** Hex HMAC-SHA256 of the org id under the salt: stable per salt, irreversible without it. */
  hashOrg(orgId: string): string {
    if (typeof orgId !== 'string' || orgId.length === 0) {
      throw new InputError('INPUT_INVALID', 'orgId must be a non-empty string', { location: { field: 'orgId' } });
    }
    return createHmac('sha256', this.#key).update(orgId, 'utf8').digest('hex');
  }
}
