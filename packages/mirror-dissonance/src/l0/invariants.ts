/**
 * L0 invariants: the five checks that must hold before any rule runs. A
 * failure blocks in every mode (DESIGN §5). They run on every evaluation, so
 * the pass path allocates nothing: passing checks return the shared frozen
 * `L0_PASS`, and `runL0` returns the shared frozen empty array when all pass.
 * Only failures allocate (their result object and message).
 */

/** The L0 checks, in the order `runL0` evaluates and reports them. */
export const L0_CHECKS = [
  'schema_hash',
  'permission_bits',
  'drift_magnitude',
  'nonce_freshness',
  'contraction_witness',
] as const;

export type L0CheckName = (typeof L0_CHECKS)[number];

export interface L0Pass {
  readonly ok: true;
}

export interface L0Failure {
  readonly ok: false;
  readonly check: L0CheckName;
  readonly message: string;
}

export type L0Result = L0Pass | L0Failure;

/** Everything `runL0` checks, gathered by the pipeline before any rule runs. */
export interface L0Input {
  schema: { actualSha256: string; expectedPrefix: string };
  permissionMask: number;
  drift: { magnitude: number; bound: number };
  nonce: { value: string | undefined; loadedAtMs: number; nowMs: number };
  contractions: readonly {
    ruleId: string;
    previousFpr: number | undefined;
    currentFpr: number;
    reviewedFalsePositives: number;
  }[];
  contractionWitnessMin: number;
}

/** The result of every passing check; shared and frozen. */
export const L0_PASS: L0Pass = Object.freeze({ ok: true as const });

const NO_FAILURES: readonly L0Failure[] = Object.freeze([]);

/** Minimum number of hex characters a pinned schema-hash prefix must have. */
export const SCHEMA_HASH_MIN_PREFIX = 16;
/** Permission masks are 16-bit; bits 12–15 are reserved (see permission-mask.ts). */
export const PERMISSION_MASK_MAX = 0xffff;
export const PERMISSION_RESERVED_BITS = 0xf000;
/** A nonce older than this (from its load time) is stale (DESIGN §8: 1 h cache). */
export const NONCE_MAX_AGE_MS = 3_600_000;
/** Minimum nonce length in characters (64 hex = 32 bytes). */
export const NONCE_MIN_LENGTH = 64;

function fail(check: L0CheckName, message: string): L0Failure {
  return { ok: false, check, message };
}

const LOWER_HEX = /^[0-9a-f]+$/;

/**
 * The pinned prefix is a process constant, so the last prefix that passed
 * validation is remembered and not re-scanned on every call. Comparing with
 * it is a pointer comparison for the same string; a different prefix is
 * validated afresh. Only valid prefixes are remembered.
 */
let lastValidPrefix: string | undefined;

function isValidSchemaPrefix(prefix: string): boolean {
  if (prefix === lastValidPrefix) return true;
  if (prefix.length < SCHEMA_HASH_MIN_PREFIX || prefix.length > 64 || !LOWER_HEX.test(prefix)) return false;
  lastValidPrefix = prefix;
  return true;
}

/**
 * The report schema in use is the pinned one: passes iff `expectedPrefix` is
 * at least 16 lowercase hex characters and `actualSha256Hex` starts with it.
 */
export function checkSchemaHash(actualSha256Hex: string, expectedPrefix: string): L0Result {
  if (typeof expectedPrefix !== 'string' || !isValidSchemaPrefix(expectedPrefix)) {
    return fail(
      'schema_hash',
      `expected schema hash prefix must be ${SCHEMA_HASH_MIN_PREFIX} to 64 lowercase hex characters`,
    );
  }
  // indexOf(...) === 0 is startsWith; V8 runs it markedly faster on this hot path.
  if (typeof actualSha256Hex !== 'string' || actualSha256Hex.indexOf(expectedPrefix) !== 0) {
    return fail(
      'schema_hash',
      `schema hash ${String(actualSha256Hex).slice(0, 16)}… does not start with the pinned prefix ${expectedPrefix}`,
    );
  }
  return L0_PASS;
}

/** The permission mask is a 16-bit integer with the reserved bits 12–15 clear. */
export function checkPermissionBits(mask: number): L0Result {
  if (!Number.isInteger(mask)) return fail('permission_bits', `permission mask ${String(mask)} is not an integer`);
  if (mask < 0 || mask > PERMISSION_MASK_MAX) {
    return fail('permission_bits', `permission mask ${mask} is outside 0..0xFFFF`);
  }
  if ((mask & PERMISSION_RESERVED_BITS) !== 0) {
    return fail(
      'permission_bits',
      `permission mask 0x${mask.toString(16).padStart(4, '0')} sets reserved bits 12-15 (a permission the oracle does not model)`,
    );
  }
  return L0_PASS;
}

/** Drift is a finite magnitude within `[0, bound]`; the bound itself must be finite and non-negative. */
export function checkDriftMagnitude(d: number, bound: number): L0Result {
  if (typeof bound !== 'number' || !Number.isFinite(bound) || bound < 0) {
    return fail('drift_magnitude', `drift bound ${String(bound)} is not a finite non-negative number`);
  }
  if (typeof d !== 'number' || !Number.isFinite(d)) {
    return fail('drift_magnitude', `drift magnitude ${String(d)} is not a finite number`);
  }
  if (d < 0) return fail('drift_magnitude', `drift magnitude ${d} is negative`);
  if (d > bound) return fail('drift_magnitude', `drift magnitude ${d} exceeds the bound ${bound}`);
  return L0_PASS;
}

/**
 * The redaction nonce is present, at least 64 characters, and was loaded
 * less than one hour ago (and not in the future). Messages never include the
 * nonce, only its length.
 */
export function checkNonceFreshness(nonceValue: string | undefined, loadedAtMs: number, nowMs: number): L0Result {
  if (typeof nonceValue !== 'string' || nonceValue.length === 0) {
    return fail('nonce_freshness', 'redaction nonce is missing');
  }
  if (nonceValue.length < NONCE_MIN_LENGTH) {
    return fail(
      'nonce_freshness',
      `redaction nonce is ${nonceValue.length} characters, shorter than ${NONCE_MIN_LENGTH}`,
    );
  }
  const age = nowMs - loadedAtMs;
  if (!Number.isFinite(age)) {
    return fail('nonce_freshness', `redaction nonce age cannot be computed (loadedAt ${String(loadedAtMs)}, now ${String(nowMs)})`);
  }
  if (age < 0) return fail('nonce_freshness', `redaction nonce was loaded ${-age} ms in the future`);
  if (age >= NONCE_MAX_AGE_MS) {
    return fail('nonce_freshness', `redaction nonce is stale: loaded ${age} ms ago, limit ${NONCE_MAX_AGE_MS} ms`);
  }
  return L0_PASS;
}

/**
 * A rule's false-positive rate may only contract (decrease) when backed by
 * at least `minWitnesses` reviewed false positives; otherwise the decrease is
 * unwitnessed and could hide a rule being tuned into silence. Non-finite
 * rates fail closed.
 *
 * @param ruleId included in the failure message when given
 */
export function checkContractionWitness(
  previousFpr: number | undefined,
  currentFpr: number,
  reviewedFalsePositives: number,
  minWitnesses: number,
  ruleId?: string,
): L0Result {
  if (previousFpr === undefined) return L0_PASS;
  if (!Number.isFinite(previousFpr) || !Number.isFinite(currentFpr)) {
    return fail(
      'contraction_witness',
      `${ruleLabel(ruleId)}false-positive rate is not a finite number (previous ${String(previousFpr)}, current ${String(currentFpr)})`,
    );
  }
  if (currentFpr < previousFpr && !(reviewedFalsePositives >= minWitnesses)) {
    return fail(
      'contraction_witness',
      `${ruleLabel(ruleId)}false-positive rate contracted from ${previousFpr} to ${currentFpr} with ${String(reviewedFalsePositives)} reviewed false positives; at least ${String(minWitnesses)} required`,
    );
  }
  return L0_PASS;
}

function ruleLabel(ruleId: string | undefined): string {
  return ruleId === undefined ? '' : `rule ${ruleId}: `;
}

/**
 * Runs the five L0 checks and returns only the failures, in `L0_CHECKS`
 * order (contractions in input order). When everything passes it returns
 * the shared frozen empty array, so a passing run allocates nothing.
 */
export function runL0(input: L0Input): readonly L0Failure[] {
  let failures: L0Failure[] | undefined;
  let result = checkSchemaHash(input.schema.actualSha256, input.schema.expectedPrefix);
  if (!result.ok) (failures ??= []).push(result);
  result = checkPermissionBits(input.permissionMask);
  if (!result.ok) (failures ??= []).push(result);
  result = checkDriftMagnitude(input.drift.magnitude, input.drift.bound);
  if (!result.ok) (failures ??= []).push(result);
  result = checkNonceFreshness(input.nonce.value, input.nonce.loadedAtMs, input.nonce.nowMs);
  if (!result.ok) (failures ??= []).push(result);
  const contractions = input.contractions;
  for (let i = 0; i < contractions.length; i += 1) {
    const c = contractions[i]!;
    result = checkContractionWitness(
      c.previousFpr,
      c.currentFpr,
      c.reviewedFalsePositives,
      input.contractionWitnessMin,
      c.ruleId,
    );
    if (!result.ok) (failures ??= []).push(result);
  }
  return failures ?? NO_FAILURES;
}
