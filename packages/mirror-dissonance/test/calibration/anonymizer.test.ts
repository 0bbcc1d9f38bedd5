import { createHmac } from 'node:crypto';
import { inspect } from 'node:util';
import { Anonymizer } from '../../src/calibration/anonymizer';
import { DependencyError } from '../../src/errors';

const SALT = '0f1e2d3c4b5a69788796a5b4c3d2e1f000112233445566778899aabbccddeeff';

describe('Anonymizer', () => {
  it('hashes an org id as hex HMAC-SHA256 keyed with the 32 salt bytes (known answer)', () => {
    // Prepare: the expected value computed independently
    const expected = createHmac('sha256', Buffer.from(SALT, 'hex')).update('acme-corp', 'utf8').digest('hex');

    // Act
    const hash = new Anonymizer(SALT).hashOrg('acme-corp');

    // Assess
    expect(hash).toBe(expected);
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    // Keyed with the bytes, not with the hex text
    expect(hash).not.toBe(createHmac('sha256', SALT).update('acme-corp').digest('hex'));
  });

  it('is stable for one salt and differs between salts and between orgs', () => {
    const a = new Anonymizer(SALT);
    const b = new Anonymizer('f'.repeat(64));
    expect(a.hashOrg('acme')).toBe(new Anonymizer(SALT).hashOrg('acme'));
    expect(a.hashOrg('acme')).not.toBe(b.hashOrg('acme'));
    expect(a.hashOrg('acme')).not.toBe(a.hashOrg('acme2'));
  });

  it.each([
    ['uppercase hex', SALT.toUpperCase()],
    ['63 characters', SALT.slice(1)],
    ['65 characters', `${SALT}0`],
    ['a trailing newline', `${SALT}\n`],
    ['non-hex characters', `${SALT.slice(0, 63)}g`],
    ['an empty string', ''],
  ])('refuses a salt with %s, naming the source and never the value', (_, salt) => {
    // Act
    let caught: unknown;
    try {
      new Anonymizer(salt, 'SSM parameter /guardian/dev/anonymizer_salt');
    } catch (error) {
      caught = error;
    }

    // Assess
    expect(caught).toBeInstanceOf(DependencyError);
    expect(caught).toMatchObject({ code: 'STORE_FAILED', context: { source: 'SSM parameter /guardian/dev/anonymizer_salt' } });
    const error = caught as DependencyError;
    expect(error.message).toContain('/guardian/dev/anonymizer_salt');
    if (salt.length > 0) expect(error.message).not.toContain(salt.trim());
    expect(JSON.stringify(error.context)).not.toContain(SALT.slice(0, 16));
  });

  it('names a default source when none is given', () => {
    expect(() => new Anonymizer('nope')).toThrow('anonymizer salt from an unnamed source is not 64 lowercase hex characters');
  });

  it('does not expose the salt through serialization or inspection', () => {
    const anonymizer = new Anonymizer(SALT);
    expect(JSON.stringify(anonymizer)).not.toContain(SALT);
    expect(JSON.stringify(anonymizer)).toBe('{}');
    expect(inspect(anonymizer, { showHidden: true, depth: 5 })).not.toMatch(/0f 1e|0f1e/);
  });

  it('refuses an empty org id', () => {
    expect(() => new Anonymizer(SALT).hashOrg('')).toThrow(expect.objectContaining({ code: 'INPUT_INVALID', location: { field: 'orgId' } }));
  });
});
