import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError, UsageError } from '../../src/errors';
import { parseOrgManifest } from '../../src/org/manifest';

const FIXTURES = join(__dirname, '..', 'fixtures', 'org');
const NOW = new Date('2025-05-01T12:00:00Z');

function fixture(name: string): string {
  return readFileSync(join(FIXTURES, name), 'utf8');
}

function errorOf(fn: () => unknown): InputError {
  try {
    fn();
  } catch (error) {
    if (error instanceof InputError) return error;
    throw error;
  }
  throw new Error('expected an InputError');
}

const MINIMAL = 'version: 1\norganization: acme\ndefaults: {}\n';

describe('parseOrgManifest: a valid manifest', () => {
  it('keeps the organisation and the line of every default requirement', () => {
    const manifest = parseOrgManifest('org/manifest.yml', fixture('manifest.yml'), NOW);

    expect(manifest.path).toBe('org/manifest.yml');
    expect(manifest.version).toBe(1);
    expect(manifest.organization).toBe('acme');
    expect(manifest.organizationLine).toBe(3);
    expect(manifest.defaults).toEqual({
      line: 4,
      branchProtection: {
        required: { value: true, line: 6 },
        requirePullRequest: { value: true, line: 7 },
        requiredApprovingReviewCount: { value: 1, line: 8 },
        requireCodeOwnerReviews: { value: true, line: 9 },
        enforceAdmins: { value: true, line: 10 },
        requireLinearHistory: { value: false, line: 11 },
        allowForcePushes: { value: false, line: 12 },
      },
      requiredChecks: { line: 13, items: [{ value: 'ci/test', line: 14 }, { value: 'ci/lint', line: 15 }] },
      requiredWorkflows: { line: 16, items: [{ value: '.github/workflows/ci.yml', line: 17 }, { value: 'codeql*.yml', line: 18 }] },
      defaultTokenPermissions: { value: 'read', line: 19 },
      codeowners: { required: { value: true, line: 21 }, allowErrors: { value: false, line: 22 } },
    });
  });

  it('keeps classifications in manifest order with their lines and only the fields they declare', () => {
    const manifest = parseOrgManifest('manifest.yml', fixture('manifest.yml'), NOW);

    expect(manifest.classifications.map((c) => [c.name, c.line])).toEqual([
      ['services', 24],
      ['public-docs', 32],
      ['go-services', 40],
      ['sandboxes', 47],
      ['mainframes', 53],
    ]);
    expect(manifest.classifications[0]).toEqual({
      name: 'services',
      line: 24,
      match: { names: ['svc-*'], visibility: ['private', 'internal'] },
      requirements: {
        line: 28,
        branchProtection: { requiredApprovingReviewCount: { value: 2, line: 30 }, requireLinearHistory: { value: true, line: 31 } },
      },
    });
    expect(manifest.classifications[1]!.requirements).toEqual({
      line: 36,
      requiredChecks: { line: 37, items: [{ value: 'docs/build', line: 37 }] },
      codeowners: { required: { value: false, line: 39 } },
    });
  });

  it('marks exemptions expired against the given time and keeps their lines', () => {
    const manifest = parseOrgManifest('manifest.yml', fixture('manifest.yml'), NOW);

    expect(manifest.exemptions).toEqual([
      {
        repository: 'acme/svc-legacy',
        requirements: ['branchProtection.enforceAdmins', 'requiredChecks:ci/lint'],
        reason: 'Release automation pushes as an admin until the migration lands.',
        approver: 'alice',
        expires: '2030-06-30',
        expired: false,
        line: 59,
      },
      expect.objectContaining({ repository: 'svc-billing', expires: '2024-01-31', expired: true, line: 64 }),
      expect.objectContaining({ repository: 'acme/retired-*', expired: false, line: 69 }),
    ]);
  });

  it('applies an exemption through the whole of its expiry day (UTC) and not after', () => {
    const text = fixture('manifest.json');

    const lastMoment = parseOrgManifest('manifest.json', text, new Date('2025-03-31T23:59:59.999Z'));
    const nextDay = parseOrgManifest('manifest.json', text, new Date('2025-04-01T00:00:00Z'));

    expect(lastMoment.exemptions[0]!.expired).toBe(false);
    expect(nextDay.exemptions[0]!.expired).toBe(true);
  });

  it('reads JSON with line numbers', () => {
    const manifest = parseOrgManifest('manifest.json', fixture('manifest.json'), NOW);

    expect(manifest.organizationLine).toBe(3);
    expect(manifest.defaults.branchProtection).toEqual({ required: { value: true, line: 5 }, enforceAdmins: { value: true, line: 5 } });
    expect(manifest.defaults.requiredChecks).toEqual({ line: 6, items: [{ value: 'ci/test', line: 6 }] });
    expect(manifest.classifications).toEqual([]);
    expect(manifest.exemptions[0]).toMatchObject({ repository: 'acme/api', line: 9 });
  });

  it('accepts a manifest with empty defaults and no classifications or exemptions', () => {
    const manifest = parseOrgManifest('m.yml', MINIMAL, NOW);

    expect(manifest.defaults).toEqual({ line: 3 });
    expect(manifest.classifications).toEqual([]);
    expect(manifest.exemptions).toEqual([]);
  });
});

describe('parseOrgManifest: schema violations name file, line and field', () => {
  it('rejects an exemption naming an unknown requirement', () => {
    const error = errorOf(() => parseOrgManifest('manifest-invalid-exemption.yml', fixture('manifest-invalid-exemption.yml'), NOW));

    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.location).toEqual({ file: 'manifest-invalid-exemption.yml', line: 7, field: 'exemptions.0.requirements.0' });
    expect(error.message).toContain('exemptions.0.requirements.0: must match pattern');
  });

  it('rejects a setting of the wrong type', () => {
    const error = errorOf(() => parseOrgManifest('manifest-invalid-setting.yml', fixture('manifest-invalid-setting.yml'), NOW));

    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.location).toEqual({ file: 'manifest-invalid-setting.yml', line: 6, field: 'defaults.branchProtection.requiredApprovingReviewCount' });
    expect(error.describe()).toBe(
      'manifest-invalid-setting.yml:6: defaults.branchProtection.requiredApprovingReviewCount: must be integer (field defaults.branchProtection.requiredApprovingReviewCount)',
    );
  });

  it('rejects an unknown field at its own line', () => {
    const text = 'version: 1\norganization: acme\ndefaults:\n  codeowners:\n    required: true\n    owners: 2\n';

    const error = errorOf(() => parseOrgManifest('m.yml', text, NOW));

    expect(error.location).toEqual({ file: 'm.yml', line: 6, field: 'defaults.codeowners.owners' });
    expect(error.message).toContain('unknown field');
  });

  it('names a missing required field at the line of the object that lacks it', () => {
    const text = 'version: 1\norganization: acme\ndefaults: {}\nexemptions:\n  - repository: acme/api\n    requirements: [codeowners]\n    reason: r\n    expires: 2030-01-01\n';

    const error = errorOf(() => parseOrgManifest('m.yml', text, NOW));

    expect(error.location).toEqual({ file: 'm.yml', line: 5, field: 'exemptions.0.approver' });
    expect(error.message).toContain('required field is missing');
  });

  it('rejects a missing defaults block at the document', () => {
    const error = errorOf(() => parseOrgManifest('m.yml', 'version: 1\norganization: acme\n', NOW));

    expect(error.location).toEqual({ file: 'm.yml', line: 1, field: 'defaults' });
  });

  it('rejects another manifest version', () => {
    const error = errorOf(() => parseOrgManifest('m.yml', 'version: 2\norganization: acme\ndefaults: {}\n', NOW));

    expect(error.location).toEqual({ file: 'm.yml', line: 1, field: 'version' });
    expect(error.message).toContain('version: must be 1');
  });

  it('rejects an impossible expiry date', () => {
    const text = `${MINIMAL}exemptions:\n  - repository: acme/api\n    requirements: [codeowners]\n    reason: r\n    approver: a\n    expires: 2025-02-30\n`;

    const error = errorOf(() => parseOrgManifest('m.yml', text, NOW));

    expect(error.location).toEqual({ file: 'm.yml', line: 9, field: 'exemptions.0.expires' });
    expect(error.message).toContain('must match format "date"');
  });

  it('rejects a classification whose match has no criterion', () => {
    const text = `${MINIMAL}classifications:\n  - name: all\n    match: {}\n    requirements: {}\n`;

    const error = errorOf(() => parseOrgManifest('m.yml', text, NOW));

    expect(error.location).toEqual({ file: 'm.yml', line: 6, field: 'classifications.0.match' });
  });

  it('rejects an unknown visibility and lists the other violations', () => {
    const text = `${MINIMAL}classifications:\n  - name: odd\n    match: { visibility: [secret] }\n    requirements: { defaultTokenPermissions: none }\n`;

    const error = errorOf(() => parseOrgManifest('m.yml', text, NOW));

    expect(error.location).toEqual({ file: 'm.yml', line: 6, field: 'classifications.0.match.visibility.0' });
    expect(error.message).toContain('must be one of public, private, internal');
    expect(error.message).toContain('(and 1 more: classifications.0.requirements.defaultTokenPermissions: must be one of read, write)');
    expect(error.context.errors).toHaveLength(2);
  });

  it('reports a YAML syntax error with its line', () => {
    const error = errorOf(() => parseOrgManifest('m.yml', 'version: 1\norganization: [acme\ndefaults: {}\n', NOW));

    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.location.file).toBe('m.yml');
    expect(error.location.line).toBeGreaterThanOrEqual(2);
  });

  it('refuses an invalid current time instead of treating every exemption as valid', () => {
    expect(() => parseOrgManifest('m.yml', MINIMAL, new Date('not a date'))).toThrow(UsageError);
  });
});
