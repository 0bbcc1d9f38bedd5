/**
 * Redaction of evidence snippets, bound to the redaction nonce (DESIGN §3, §8).
 *
 * A `RedactedText` carries two HMAC-SHA256 tags keyed with the nonce (the 32
 * bytes the 64 hex characters encode):
 * - `__brand` = HMAC(nonce, "phase-mirror/redacted-text/v1"): proves the text
 *   went through this redactor under this nonce;
 * - `__mac`   = HMAC(nonce, value ‖ 0x00 ‖ decimal nonce version): binds the
 *   redacted value and the version, so a value edited after redaction, or a
 *   version swapped, fails verification.
 * Neither the nonce nor any part of it ever appears in an error message.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { DependencyError, IntegrityError } from '../errors';
import type { RedactedText } from '../types';
import { REDACTION_PATTERNS, redactPrivateKeys, redactionMarker } from './patterns';

/** A version of the redaction nonce as loaded from its store. */
export interface NonceKey {
  version: number;
  /** 64 lowercase hex characters (32 bytes). */
  value: string;
  loadedAt: Date;
}

/** Fixed label whose HMAC under the nonce is the brand. */
export const REDACTED_TEXT_BRAND_LABEL = 'phase-mirror/redacted-text/v1';

const NONCE_HEX = /^[0-9a-f]{64}$/;
const TAG_HEX = /^[0-9a-f]{64}$/;
const SEPARATOR = Buffer.from([0]);

/**
 * Replaces secrets in `text` with `[REDACTED:<kind>]` markers: private key
 * blocks, AWS key ids and secret keys, GitHub tokens, JWTs, Slack tokens and
 * webhooks, and the value of `password|secret|token|api_key|access_key = …`
 * assignments (the key name is kept). Runs in time linear in the text.
 */
export function redactText(text: string): { value: string; redactions: number } {
  const keys = redactPrivateKeys(text);
  let value = keys.value;
  let redactions = keys.redactions;
  for (const pattern of REDACTION_PATTERNS) {
    const marker = redactionMarker(pattern.kind);
    const keep = pattern.keepGroup;
    pattern.regex.lastIndex = 0;
    value = value.replace(pattern.regex, (...match: unknown[]) => {
      redactions += 1;
      return keep === undefined ? marker : `${match[keep] as string}${marker}`;
    });
  }
  return { value, redactions };
}

function assertNonceKey(key: NonceKey): void {
  if (!Number.isInteger(key.version) || key.version < 1) {
    throw new DependencyError('NONCE_UNAVAILABLE', `redaction nonce version must be a positive integer, got ${String(key.version)}`, {
      location: { field: 'version' },
    });
  }
  if (typeof key.value !== 'string' || !NONCE_HEX.test(key.value)) {
    throw new DependencyError(
      'NONCE_UNAVAILABLE',
      `redaction nonce version ${key.version} is not 64 lowercase hex characters`,
      { location: { field: 'value' }, context: { nonce_version: key.version } },
    );
  }
}

/** Precomputed HMAC key and brand for one nonce version. */
class NonceTagger {
  readonly version: number;
  readonly brandHex: string;
  readonly valueHex: string;
  private readonly secret: Buffer;
  private readonly brand: Buffer;
  private readonly versionBytes: Buffer;

  constructor(key: NonceKey) {
    assertNonceKey(key);
    this.version = key.version;
    this.valueHex = key.value;
    this.secret = Buffer.from(key.value, 'hex');
    this.brand = createHmac('sha256', this.secret).update(REDACTED_TEXT_BRAND_LABEL, 'utf8').digest();
    this.brandHex = this.brand.toString('hex');
    this.versionBytes = Buffer.from(String(key.version), 'utf8');
  }

  mac(value: string): Buffer {
    return createHmac('sha256', this.secret)
      .update(value, 'utf8')
      .update(SEPARATOR)
      .update(this.versionBytes)
      .digest();
  }

  verify(text: RedactedText): void {
    assertShape(text);
    if (text.nonce_version !== this.version) throw unknownVersion(text.nonce_version);
    if (!tagEquals(text.__brand, this.brand)) {
      throw new IntegrityError(
        'REDACTION_VERIFY_FAILED',
        `redacted text failed verification: brand mismatch (nonce version ${this.version})`,
        { location: { field: '__brand' }, context: { nonce_version: this.version, reason: 'brand_mismatch' } },
      );
    }
    if (!tagEquals(text.__mac, this.mac(text.value))) {
      throw new IntegrityError(
        'REDACTION_VERIFY_FAILED',
        `redacted text failed verification: MAC mismatch (nonce version ${this.version})`,
        { location: { field: '__mac' }, context: { nonce_version: this.version, reason: 'mac_mismatch' } },
      );
    }
  }
}

/** Constant-time comparison of a hex tag from the text with the expected 32 bytes. */
function tagEquals(actualHex: string, expected: Buffer): boolean {
  if (!TAG_HEX.test(actualHex)) return false;
  return timingSafeEqual(Buffer.from(actualHex, 'hex'), expected);
}

function unknownVersion(version: number): IntegrityError {
  return new IntegrityError(
    'REDACTION_VERIFY_FAILED',
    `redacted text failed verification: unknown nonce version ${version}`,
    { location: { field: 'nonce_version' }, context: { nonce_version: version, reason: 'unknown_nonce_version' } },
  );
}

/** Rejects values that are not shaped like a RedactedText (e.g. parsed from a tampered report). */
function assertShape(text: RedactedText): void {
  const candidate = text as unknown as Record<string, unknown> | null;
  const problem =
    candidate === null || typeof candidate !== 'object'
      ? 'not an object'
      : typeof candidate.value !== 'string'
        ? 'value is not a string'
        : typeof candidate.__brand !== 'string'
          ? '__brand is not a string'
          : typeof candidate.__mac !== 'string'
            ? '__mac is not a string'
            : !Number.isInteger(candidate.nonce_version)
              ? 'nonce_version is not an integer'
              : undefined;
  if (problem !== undefined) {
    throw new IntegrityError('REDACTION_VERIFY_FAILED', `redacted text failed verification: malformed (${problem})`, {
      context: { reason: 'malformed' },
    });
  }
}

/**
 * Redacts snippets and verifies redacted snippets under one nonce version.
 * Construction fails closed (DependencyError NONCE_UNAVAILABLE) when the nonce
 * is not a positive version with 64 lowercase hex characters.
 */
export class Redactor {
  private readonly tagger: NonceTagger;

  constructor(nonce: NonceKey) {
    this.tagger = new NonceTagger(nonce);
  }

  /** The nonce version this redactor brands with. */
  get nonceVersion(): number {
    return this.tagger.version;
  }

  /** Redacts secrets in `text` and brands and MACs the result. */
  redact(text: string): RedactedText {
    const { value } = redactText(text);
    return {
      __brand: this.tagger.brandHex,
      __mac: this.tagger.mac(value).toString('hex'),
      value,
      nonce_version: this.tagger.version,
    };
  }

  /**
   * Throws IntegrityError REDACTION_VERIFY_FAILED unless `text` was produced by
   * a redactor holding this nonce version and has not been modified since.
   */
  verify(text: RedactedText): void {
    this.tagger.verify(text);
  }
}

/**
 * Verifies `text` against whichever of `keys` has its nonce version, so that
 * during rotation every version still in its grace period is accepted.
 * Throws IntegrityError REDACTION_VERIFY_FAILED (unknown version, brand or MAC
 * mismatch, malformed) or DependencyError NONCE_UNAVAILABLE (invalid key).
 */
export function verifyRedactedText(text: RedactedText, keys: readonly NonceKey[]): void {
  assertShape(text);
  const key = keys.find((candidate) => candidate.version === text.nonce_version);
  if (key === undefined) throw unknownVersion(text.nonce_version);
  taggerFor(key).verify(text);
}

/** Taggers per key object: a report's snippets share a few keys, and the brand HMAC need not be recomputed per snippet. */
const taggers = new WeakMap<NonceKey, NonceTagger>();

function taggerFor(key: NonceKey): NonceTagger {
  let tagger = taggers.get(key);
  // A key object edited after first use gets a fresh tagger (never a stale secret).
  if (tagger === undefined || tagger.version !== key.version || tagger.valueHex !== key.value) {
    tagger = new NonceTagger(key);
    taggers.set(key, tagger);
  }
  return tagger;
}
