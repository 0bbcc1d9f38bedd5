import { createHmac } from 'node:crypto';
import { DependencyError, IntegrityError, PhaseMirrorError } from '../../src/errors';
import { REDACTED_TEXT_BRAND_LABEL, Redactor, verifyRedactedText, type NonceKey } from '../../src/redaction/redactor';
import type { RedactedText } from '../../src/types';

const NONCE_V1: NonceKey = { version: 1, value: '0f'.repeat(32), loadedAt: new Date('2025-01-01T00:00:00Z') };
const NONCE_V2: NonceKey = { version: 2, value: 'a1'.repeat(32), loadedAt: new Date('2025-01-01T00:30:00Z') };
const SECRET_LINE = 'password: hunter2hunter2';

function catchError(fn: () => void): PhaseMirrorError {
  try {
    fn();
  } catch (error) {
    if (error instanceof PhaseMirrorError) return error;
    throw error;
  }
  throw new Error('expected an error');
}

/** Flips the last hex digit of a tag. */
function flip(hex: string): string {
  const last = hex[hex.length - 1] === '0' ? '1' : '0';
  return hex.slice(0, -1) + last;
}

describe('Redactor', () => {
  describe('redact', () => {
    it('redacts the snippet and tags it with the brand, MAC and nonce version', () => {
      // Prepare
      const redactor = new Redactor(NONCE_V1);
      const key = Buffer.from(NONCE_V1.value, 'hex');

      // Act
      const result = redactor.redact(SECRET_LINE);

      // Assess
      expect(result.value).toBe('password: [REDACTED:credential]');
      expect(result.nonce_version).toBe(1);
      expect(result.__brand).toBe(createHmac('sha256', key).update(REDACTED_TEXT_BRAND_LABEL).digest('hex'));
      expect(result.__mac).toBe(
        createHmac('sha256', key).update(Buffer.concat([Buffer.from(result.value), Buffer.from([0]), Buffer.from('1')])).digest('hex'),
      );
      expect(redactor.nonceVersion).toBe(1);
    });

    it('brands the same way for every snippet and MACs each value differently', () => {
      // Prepare
      const redactor = new Redactor(NONCE_V1);

      // Act
      const first = redactor.redact('first');
      const second = redactor.redact('second');

      // Assess
      expect(first.__brand).toBe(second.__brand);
      expect(first.__mac).not.toBe(second.__mac);
    });

    it('binds the MAC to the nonce version', () => {
      // Prepare
      const sameSecretOtherVersion: NonceKey = { ...NONCE_V1, version: 3 };

      // Act
      const v1 = new Redactor(NONCE_V1).redact('text');
      const v3 = new Redactor(sameSecretOtherVersion).redact('text');

      // Assess
      expect(v1.__brand).toBe(v3.__brand);
      expect(v1.__mac).not.toBe(v3.__mac);
    });

    it('never includes the nonce in the redacted text', () => {
      // Act
      const result = new Redactor(NONCE_V1).redact(SECRET_LINE);

      // Assess
      expect(JSON.stringify(result)).not.toContain(NONCE_V1.value);
    });
  });

  describe('constructor', () => {
    it.each([
      ['an uppercase nonce', { ...NONCE_V1, value: 'AB'.repeat(32) }],
      ['a short nonce', { ...NONCE_V1, value: 'ab'.repeat(31) }],
      ['a non-hex nonce', { ...NONCE_V1, value: 'zz'.repeat(32) }],
    ])('fails closed on %s without revealing it', (_label, key) => {
      // Act
      const error = catchError(() => new Redactor(key));

      // Assess
      expect(error).toBeInstanceOf(DependencyError);
      expect(error.code).toBe('NONCE_UNAVAILABLE');
      expect(error.message).not.toContain(key.value);
      expect(error.location.field).toBe('value');
    });

    it.each([0, -1, 1.5, Number.NaN])('fails closed on nonce version %p', (version) => {
      // Act
      const error = catchError(() => new Redactor({ ...NONCE_V1, version }));

      // Assess
      expect(error).toBeInstanceOf(DependencyError);
      expect(error.code).toBe('NONCE_UNAVAILABLE');
      expect(error.location.field).toBe('version');
    });
  });

  describe('verify', () => {
    it('accepts text it redacted', () => {
      // Prepare
      const redactor = new Redactor(NONCE_V1);
      const text = redactor.redact(SECRET_LINE);

      // Act / Assess
      expect(() => redactor.verify(text)).not.toThrow();
    });

    it('accepts text redacted by another redactor holding the same nonce', () => {
      // Prepare
      const text = new Redactor(NONCE_V1).redact(SECRET_LINE);

      // Act / Assess
      expect(() => new Redactor({ ...NONCE_V1 }).verify(text)).not.toThrow();
    });

    it('rejects a value changed after redaction as a MAC mismatch', () => {
      // Prepare
      const redactor = new Redactor(NONCE_V1);
      const tampered: RedactedText = { ...redactor.redact(SECRET_LINE), value: SECRET_LINE };

      // Act
      const error = catchError(() => redactor.verify(tampered));

      // Assess
      expect(error).toBeInstanceOf(IntegrityError);
      expect(error.code).toBe('REDACTION_VERIFY_FAILED');
      expect(error.message).toMatch(/MAC mismatch/);
      expect(error.location.field).toBe('__mac');
    });

    it('rejects a modified MAC', () => {
      // Prepare
      const redactor = new Redactor(NONCE_V1);
      const text = redactor.redact(SECRET_LINE);

      // Act
      const error = catchError(() => redactor.verify({ ...text, __mac: flip(text.__mac) }));

      // Assess
      expect(error.code).toBe('REDACTION_VERIFY_FAILED');
      expect(error.message).toMatch(/MAC mismatch/);
    });

    it('rejects a MAC that is not 64 hex characters', () => {
      // Prepare
      const redactor = new Redactor(NONCE_V1);
      const text = redactor.redact(SECRET_LINE);

      // Act
      const error = catchError(() => redactor.verify({ ...text, __mac: text.__mac.slice(0, 10) }));

      // Assess
      expect(error.message).toMatch(/MAC mismatch/);
    });

    it('rejects a modified brand', () => {
      // Prepare
      const redactor = new Redactor(NONCE_V1);
      const text = redactor.redact(SECRET_LINE);

      // Act
      const error = catchError(() => redactor.verify({ ...text, __brand: flip(text.__brand) }));

      // Assess
      expect(error).toBeInstanceOf(IntegrityError);
      expect(error.message).toMatch(/brand mismatch/);
      expect(error.location.field).toBe('__brand');
    });

    it('rejects text redacted under a different nonce with the same version as a brand mismatch', () => {
      // Prepare
      const other: NonceKey = { ...NONCE_V1, value: 'ee'.repeat(32) };
      const text = new Redactor(other).redact(SECRET_LINE);

      // Act
      const error = catchError(() => new Redactor(NONCE_V1).verify(text));

      // Assess
      expect(error.code).toBe('REDACTION_VERIFY_FAILED');
      expect(error.message).toMatch(/brand mismatch/);
      expect(error.message).not.toContain(NONCE_V1.value);
      expect(error.message).not.toContain(other.value);
    });

    it('rejects text whose nonce version it does not hold', () => {
      // Prepare
      const text = new Redactor(NONCE_V2).redact(SECRET_LINE);

      // Act
      const error = catchError(() => new Redactor(NONCE_V1).verify(text));

      // Assess
      expect(error.code).toBe('REDACTION_VERIFY_FAILED');
      expect(error.message).toMatch(/unknown nonce version 2/);
      expect(error.context.reason).toBe('unknown_nonce_version');
    });

    it('rejects a swapped version even when the key material is the same', () => {
      // Prepare
      const redactor = new Redactor(NONCE_V1);
      const text = redactor.redact(SECRET_LINE);
      const relabelled = new Redactor({ ...NONCE_V1, version: 7 });

      // Act
      const error = catchError(() => relabelled.verify({ ...text, nonce_version: 7 }));

      // Assess
      expect(error.message).toMatch(/MAC mismatch/);
    });

    it.each([
      ['null', null, /not an object/],
      ['a string', 'text', /not an object/],
      ['a missing value', { __brand: 'a', __mac: 'b', nonce_version: 1 }, /value is not a string/],
      ['a missing brand', { value: 'v', __mac: 'b', nonce_version: 1 }, /__brand is not a string/],
      ['a missing MAC', { value: 'v', __brand: 'a', nonce_version: 1 }, /__mac is not a string/],
      ['a non-integer version', { value: 'v', __brand: 'a', __mac: 'b', nonce_version: '1' }, /nonce_version is not an integer/],
    ])('rejects a malformed redacted text (%s)', (_label, candidate, reason) => {
      // Act
      const error = catchError(() => new Redactor(NONCE_V1).verify(candidate as unknown as RedactedText));

      // Assess
      expect(error).toBeInstanceOf(IntegrityError);
      expect(error.code).toBe('REDACTION_VERIFY_FAILED');
      expect(error.message).toMatch(reason);
    });
  });
});

describe('verifyRedactedText', () => {
  it('accepts text from any nonce version still held (rotation grace)', () => {
    // Prepare
    const fromV1 = new Redactor(NONCE_V1).redact('one');
    const fromV2 = new Redactor(NONCE_V2).redact('two');

    // Act / Assess
    expect(() => verifyRedactedText(fromV1, [NONCE_V2, NONCE_V1])).not.toThrow();
    expect(() => verifyRedactedText(fromV2, [NONCE_V2, NONCE_V1])).not.toThrow();
  });

  it('rejects text from a version no longer held', () => {
    // Prepare
    const fromV1 = new Redactor(NONCE_V1).redact('one');

    // Act
    const error = catchError(() => verifyRedactedText(fromV1, [NONCE_V2]));

    // Assess
    expect(error).toBeInstanceOf(IntegrityError);
    expect(error.message).toMatch(/unknown nonce version 1/);
  });

  it('rejects tampered text even when its version is held', () => {
    // Prepare
    const text = { ...new Redactor(NONCE_V2).redact('two'), value: 'changed' };

    // Act
    const error = catchError(() => verifyRedactedText(text, [NONCE_V1, NONCE_V2]));

    // Assess
    expect(error.message).toMatch(/MAC mismatch/);
  });

  it('rejects a malformed text before looking up keys', () => {
    // Act
    const error = catchError(() => verifyRedactedText({ value: 1 } as unknown as RedactedText, [NONCE_V1]));

    // Assess
    expect(error.message).toMatch(/malformed/);
  });

  it('fails closed when the matching key is invalid', () => {
    // Prepare
    const text = new Redactor(NONCE_V1).redact('one');

    // Act
    const error = catchError(() => verifyRedactedText(text, [{ ...NONCE_V1, value: 'short' }]));

    // Assess
    expect(error).toBeInstanceOf(DependencyError);
    expect(error.code).toBe('NONCE_UNAVAILABLE');
  });
});
