import {
  L0_CHECKS,
  L0_PASS,
  NONCE_MAX_AGE_MS,
  checkContractionWitness,
  checkDriftMagnitude,
  checkNonceFreshness,
  checkPermissionBits,
  checkSchemaHash,
  runL0,
  type L0Input,
  type L0Result,
} from '../../src/l0';

const SHA = '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08';
const NONCE = 'ab'.repeat(32);
const NOW = 1_700_000_000_000;

function failureOf(result: L0Result): { check: string; message: string } {
  if (result.ok) throw new Error('expected a failure');
  return { check: result.check, message: result.message };
}

function passingInput(): L0Input {
  return {
    schema: { actualSha256: SHA, expectedPrefix: SHA.slice(0, 16) },
    permissionMask: 0x0008,
    drift: { magnitude: 0.05, bound: 0.1 },
    nonce: { value: NONCE, loadedAtMs: NOW - 1_000, nowMs: NOW },
    contractions: [
      { ruleId: 'MD-001', previousFpr: 0.3, currentFpr: 0.1, reviewedFalsePositives: 10 },
      { ruleId: 'MD-002', previousFpr: undefined, currentFpr: 0.2, reviewedFalsePositives: 0 },
      { ruleId: 'MD-003', previousFpr: 0.1, currentFpr: 0.2, reviewedFalsePositives: 0 },
    ],
    contractionWitnessMin: 10,
  };
}

describe('L0_CHECKS', () => {
  it('lists the five checks in evaluation order', () => {
    expect(L0_CHECKS).toEqual(['schema_hash', 'permission_bits', 'drift_magnitude', 'nonce_freshness', 'contraction_witness']);
  });

  it('shares one frozen pass result', () => {
    expect(Object.isFrozen(L0_PASS)).toBe(true);
    expect(L0_PASS).toEqual({ ok: true });
  });
});

describe('checkSchemaHash', () => {
  it.each([
    ['a 16-character prefix', SHA.slice(0, 16)],
    ['a 32-character prefix', SHA.slice(0, 32)],
    ['the whole hash', SHA],
  ])('passes with %s of the actual hash, returning the shared pass result', (_label, prefix) => {
    expect(checkSchemaHash(SHA, prefix)).toBe(L0_PASS);
  });

  it('passes again for the same prefix (validated once, still compared every time)', () => {
    // Prepare
    const prefix = SHA.slice(0, 20);

    // Act
    const first = checkSchemaHash(SHA, prefix);
    const second = checkSchemaHash(`0${SHA.slice(1)}`, prefix);

    // Assess
    expect(first).toBe(L0_PASS);
    expect(failureOf(second).check).toBe('schema_hash');
  });

  it('fails when the actual hash does not start with the prefix', () => {
    // Act
    const failure = failureOf(checkSchemaHash('0'.repeat(64), SHA.slice(0, 16)));

    // Assess
    expect(failure.check).toBe('schema_hash');
    expect(failure.message).toMatch(/does not start with the pinned prefix 9f86d081884c7d65/);
  });

  it('fails when the prefix appears later in the hash but not at the start', () => {
    expect(failureOf(checkSchemaHash(`00${SHA}`, SHA.slice(0, 16))).check).toBe('schema_hash');
  });

  it.each([
    ['shorter than 16 characters', SHA.slice(0, 15)],
    ['empty', ''],
    ['uppercase', SHA.slice(0, 16).toUpperCase()],
    ['not hex', 'zzzzzzzzzzzzzzzz'],
    ['longer than a SHA-256', `${SHA}00`],
  ])('fails when the expected prefix is %s', (_label, prefix) => {
    // Act
    const failure = failureOf(checkSchemaHash(`${prefix}${SHA}`, prefix));

    // Assess
    expect(failure.check).toBe('schema_hash');
    expect(failure.message).toMatch(/16 to 64 lowercase hex/);
  });

  it('fails closed on non-string inputs', () => {
    expect(failureOf(checkSchemaHash(undefined as unknown as string, SHA.slice(0, 16))).check).toBe('schema_hash');
    expect(failureOf(checkSchemaHash(SHA, 42 as unknown as string)).check).toBe('schema_hash');
  });
});

describe('checkPermissionBits', () => {
  it.each([0, 1, 0x0fff, 0x0800])('passes for mask 0x%s', (mask) => {
    expect(checkPermissionBits(mask)).toBe(L0_PASS);
  });

  it.each([
    ['NaN', Number.NaN, /not an integer/],
    ['a fraction', 1.5, /not an integer/],
    ['Infinity', Number.POSITIVE_INFINITY, /not an integer/],
    ['negative', -1, /outside 0\.\.0xFFFF/],
    ['above 16 bits', 0x10000, /outside 0\.\.0xFFFF/],
    ['reserved bit 12 (unknown scope)', 0x1000, /reserved bits 12-15/],
    ['reserved bit 15', 0x8001, /0x8001 sets reserved bits/],
    ['all bits', 0xffff, /reserved bits/],
  ])('fails for %s', (_label, mask, message) => {
    // Act
    const failure = failureOf(checkPermissionBits(mask));

    // Assess
    expect(failure.check).toBe('permission_bits');
    expect(failure.message).toMatch(message);
  });
});

describe('checkDriftMagnitude', () => {
  it.each([
    [0, 0.1],
    [0.1, 0.1],
    [0, 0],
    [0.05, 1],
  ])('passes for magnitude %p within bound %p', (d, bound) => {
    expect(checkDriftMagnitude(d, bound)).toBe(L0_PASS);
  });

  it.each([
    ['a NaN magnitude', Number.NaN, 0.1, /not a finite number/],
    ['an infinite magnitude', Number.POSITIVE_INFINITY, 0.1, /not a finite number/],
    ['a negative magnitude', -0.01, 0.1, /negative/],
    ['a magnitude above the bound', 0.11, 0.1, /exceeds the bound 0\.1/],
    ['a NaN bound', 0, Number.NaN, /bound NaN/],
    ['a negative bound', 0, -1, /bound -1/],
    ['an infinite bound', 0, Number.POSITIVE_INFINITY, /bound Infinity/],
  ])('fails for %s', (_label, d, bound, message) => {
    // Act
    const failure = failureOf(checkDriftMagnitude(d, bound));

    // Assess
    expect(failure.check).toBe('drift_magnitude');
    expect(failure.message).toMatch(message);
  });

  it('fails closed on a non-number magnitude', () => {
    expect(failureOf(checkDriftMagnitude('0' as unknown as number, 1)).check).toBe('drift_magnitude');
  });
});

describe('checkNonceFreshness', () => {
  it.each([
    ['just loaded', NOW],
    ['loaded 59 minutes ago', NOW - 59 * 60_000],
    ['loaded 1 ms before the limit', NOW - NONCE_MAX_AGE_MS + 1],
  ])('passes for a nonce %s', (_label, loadedAtMs) => {
    expect(checkNonceFreshness(NONCE, loadedAtMs, NOW)).toBe(L0_PASS);
  });

  it('passes for a nonce longer than 64 characters', () => {
    expect(checkNonceFreshness(`${NONCE}00`, NOW, NOW)).toBe(L0_PASS);
  });

  it.each([
    ['missing', undefined, NOW, /missing/],
    ['empty', '', NOW, /missing/],
    ['short', NONCE.slice(0, 63), NOW, /63 characters, shorter than 64/],
    ['exactly one hour old', NONCE, NOW - NONCE_MAX_AGE_MS, /stale/],
    ['older than one hour', NONCE, NOW - 2 * NONCE_MAX_AGE_MS, /stale/],
    ['loaded in the future', NONCE, NOW + 1, /1 ms in the future/],
    ['loaded at NaN', NONCE, Number.NaN, /age cannot be computed/],
  ])('fails for a nonce that is %s', (_label, value, loadedAtMs, message) => {
    // Act
    const failure = failureOf(checkNonceFreshness(value, loadedAtMs, NOW));

    // Assess
    expect(failure.check).toBe('nonce_freshness');
    expect(failure.message).toMatch(message);
    expect(failure.message).not.toContain(NONCE);
  });

  it('fails when the clock reading is not finite', () => {
    expect(failureOf(checkNonceFreshness(NONCE, NOW, Number.POSITIVE_INFINITY)).message).toMatch(/age cannot be computed/);
  });
});

describe('checkContractionWitness', () => {
  it.each([
    ['there is no previous rate', undefined, 0.1, 0],
    ['the rate is unchanged', 0.2, 0.2, 0],
    ['the rate grew', 0.1, 0.3, 0],
    ['a contraction has enough witnesses', 0.3, 0.1, 5],
    ['a contraction has more than enough witnesses', 0.3, 0.1, 50],
  ])('passes when %s', (_label, previous, current, reviewed) => {
    expect(checkContractionWitness(previous, current, reviewed, 5)).toBe(L0_PASS);
  });

  it('fails a contraction without enough reviewed false positives and names the rule', () => {
    // Act
    const failure = failureOf(checkContractionWitness(0.3, 0.1, 4, 5, 'MD-004'));

    // Assess
    expect(failure.check).toBe('contraction_witness');
    expect(failure.message).toBe(
      'rule MD-004: false-positive rate contracted from 0.3 to 0.1 with 4 reviewed false positives; at least 5 required',
    );
  });

  it('fails a contraction with zero witnesses without a rule id', () => {
    expect(failureOf(checkContractionWitness(0.5, 0, 0, 1)).message).toMatch(/^false-positive rate contracted/);
  });

  it('fails closed when the witness count is NaN', () => {
    expect(failureOf(checkContractionWitness(0.5, 0.1, Number.NaN, 1)).check).toBe('contraction_witness');
  });

  it.each([
    ['a NaN current rate', 0.2, Number.NaN],
    ['a NaN previous rate', Number.NaN, 0.2],
    ['an infinite previous rate', Number.POSITIVE_INFINITY, 0.2],
  ])('fails closed on %s', (_label, previous, current) => {
    // Act
    const failure = failureOf(checkContractionWitness(previous, current, 100, 1, 'MD-009'));

    // Assess
    expect(failure.check).toBe('contraction_witness');
    expect(failure.message).toMatch(/^rule MD-009: false-positive rate is not a finite number/);
  });
});

describe('runL0', () => {
  it('returns one shared frozen empty array when every check passes', () => {
    // Act
    const first = runL0(passingInput());
    const second = runL0(passingInput());

    // Assess
    expect(first).toEqual([]);
    expect(first).toBe(second);
    expect(Object.isFrozen(first)).toBe(true);
  });

  it('passes with no contractions to check', () => {
    expect(runL0({ ...passingInput(), contractions: [] })).toHaveLength(0);
  });

  it('reports each failing check once, in check order, and only the failures', () => {
    // Prepare
    const input: L0Input = {
      ...passingInput(),
      schema: { actualSha256: SHA, expectedPrefix: 'short' },
      permissionMask: 0x1000,
      drift: { magnitude: Number.NaN, bound: 0.1 },
      nonce: { value: undefined, loadedAtMs: NOW, nowMs: NOW },
      contractions: [
        { ruleId: 'MD-001', previousFpr: 0.3, currentFpr: 0.1, reviewedFalsePositives: 1 },
        { ruleId: 'MD-002', previousFpr: 0.3, currentFpr: 0.1, reviewedFalsePositives: 10 },
        { ruleId: 'MD-003', previousFpr: 0.4, currentFpr: 0.0, reviewedFalsePositives: 0 },
      ],
    };

    // Act
    const failures = runL0(input);

    // Assess
    expect(failures.map((f) => f.check)).toEqual([
      'schema_hash',
      'permission_bits',
      'drift_magnitude',
      'nonce_freshness',
      'contraction_witness',
      'contraction_witness',
    ]);
    expect(failures.every((f) => f.ok === false)).toBe(true);
    expect(failures[4]!.message).toMatch(/^rule MD-001:/);
    expect(failures[5]!.message).toMatch(/^rule MD-003:/);
  });

  it.each([
    ['schema_hash', (i: L0Input): L0Input => ({ ...i, schema: { actualSha256: '0'.repeat(64), expectedPrefix: SHA.slice(0, 16) } })],
    ['permission_bits', (i: L0Input): L0Input => ({ ...i, permissionMask: -1 })],
    ['drift_magnitude', (i: L0Input): L0Input => ({ ...i, drift: { magnitude: 2, bound: 1 } })],
    ['nonce_freshness', (i: L0Input): L0Input => ({ ...i, nonce: { ...i.nonce, loadedAtMs: NOW - NONCE_MAX_AGE_MS } })],
    [
      'contraction_witness',
      (i: L0Input): L0Input => ({ ...i, contractions: [{ ruleId: 'R', previousFpr: 1, currentFpr: 0, reviewedFalsePositives: 0 }] }),
    ],
  ])('reports a lone %s failure', (check, breakIt) => {
    // Act
    const failures = runL0(breakIt(passingInput()));

    // Assess
    expect(failures).toHaveLength(1);
    expect(failures[0]!.check).toBe(check);
  });
});
