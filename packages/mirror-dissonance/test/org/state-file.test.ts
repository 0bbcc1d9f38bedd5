import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../../src/errors';
import { assertOrgScan, parseOrgScanFile } from '../../src/org/state-file';
import type { OrgScan } from '../../src/org/state';

const FIXTURES = join(__dirname, '..', 'fixtures', 'org');

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

function validScan(): Record<string, unknown> & { repositories: Record<string, unknown>[] } {
  return JSON.parse(fixture('states.json')) as Record<string, unknown> & { repositories: Record<string, unknown>[] };
}

describe('parseOrgScanFile', () => {
  it('reads every repository state and points the source at the file', () => {
    const scan = parseOrgScanFile('states.json', fixture('states.json'));

    expect(scan.organization).toBe('acme');
    expect(scan.scannedAt).toBe('2025-05-01T08:00:00Z');
    expect(scan.source).toBe('states.json');
    expect(scan.repositories.map((state) => state.repository)).toEqual([
      'acme/web',
      'acme/svc-legacy',
      'acme/svc-billing',
      'acme/sandbox-x',
      'acme/old-tool',
      'acme/docs-site',
    ]);
    expect(scan.repositories[2]).toMatchObject({
      visibility: 'private',
      language: 'Go',
      defaultWorkflowPermissions: 'write',
      codeowners: { errors: 0 },
      protection: { enabled: true, requiredApprovingReviewCount: 2, requiredContexts: ['ci/test', 'ci/lint'] },
    });
  });

  it('accepts a file without source and fills it with the path', () => {
    const text = JSON.stringify({ organization: 'acme', scannedAt: '2025-05-01T08:00:00Z', repositories: [] });

    expect(parseOrgScanFile('scan.json', text).source).toBe('scan.json');
  });

  it('names file, line and field of a value out of range', () => {
    const error = errorOf(() => parseOrgScanFile('states-invalid.json', fixture('states-invalid.json')));

    expect(error.code).toBe('INPUT_INVALID');
    expect(error.location).toEqual({
      file: 'states-invalid.json',
      line: 97,
      field: 'repositories.2.protection.requiredApprovingReviewCount',
    });
    expect(error.message).toContain('must be >= 0');
  });

  it('names a missing protection field at the line of the protection object', () => {
    const scan = validScan();
    delete (scan.repositories[0]!.protection as Record<string, unknown>).enforceAdmins;
    const text = JSON.stringify(scan, null, 2);
    const protectionLine = text.split('\n').findIndex((line) => line.includes('"protection"')) + 1;

    const error = errorOf(() => parseOrgScanFile('s.json', text));

    expect(error.location).toEqual({ file: 's.json', line: protectionLine, field: 'repositories.0.protection.enforceAdmins' });
  });

  it('rejects an invalid scan time and an unknown visibility', () => {
    const scan = validScan();
    scan.scannedAt = 'yesterday';
    scan.repositories[1]!.visibility = 'secret';

    const error = errorOf(() => parseOrgScanFile('s.json', JSON.stringify(scan, null, 2)));

    expect(error.location).toEqual({ file: 's.json', line: 3, field: 'scannedAt' });
    expect(error.message).toContain('repositories.1.visibility: must be one of public, private, internal');
  });

  it('rejects a repository listed twice, at the second listing', () => {
    const scan = validScan();
    scan.repositories.push({ ...scan.repositories[0]!, repository: 'ACME/Web' });
    const text = JSON.stringify(scan, null, 2);
    const lines = text.split('\n');
    const secondLine = lines.findIndex((line) => line.includes('"ACME/Web"')) + 1;

    const error = errorOf(() => parseOrgScanFile('s.json', text));

    expect(error.code).toBe('INPUT_INVALID');
    expect(error.location).toEqual({ file: 's.json', line: secondLine, field: 'repositories.6.repository' });
    expect(error.message).toBe('repository ACME/Web is listed twice (first at line 7)');
  });

  it('reports a syntax error as invalid input with its line', () => {
    const error = errorOf(() => parseOrgScanFile('s.json', '{\n  "organization": "acme",\n  "repositories": [\n}\n'));

    expect(error.code).toBe('INPUT_INVALID');
    expect(error.location.file).toBe('s.json');
    expect(error.location.line).toBeGreaterThanOrEqual(3);
  });
});

describe('assertOrgScan', () => {
  it('returns a scan that matches the schema', () => {
    const scan = validScan();

    const checked: OrgScan = assertOrgScan(scan, 'GitHub API');

    expect(checked).toBe(scan);
  });

  it('names the field of the first violation', () => {
    const scan = validScan();
    (scan.repositories[3]!.codeowners as Record<string, unknown>).errors = 1.5;

    const error = errorOf(() => assertOrgScan(scan, 'org-scan.json'));

    expect(error.code).toBe('INPUT_INVALID');
    expect(error.location).toEqual({ file: 'org-scan.json', field: 'repositories.3.codeowners.errors' });
    expect(error.message).toBe('org-scan result does not match its schema: repositories.3.codeowners.errors: must be integer');
  });

  it('lists at most five violations in the message and all of them in the context', () => {
    const scan = validScan();
    for (const state of scan.repositories) state.archived = 'no';

    const error = errorOf(() => assertOrgScan(scan, 'org-scan.json'));

    expect(error.message).toMatch(/\(and 1 more\)$/);
    expect(error.context.errors).toHaveLength(6);
  });

  it('describes a document that is not an object', () => {
    const error = errorOf(() => assertOrgScan([], 'org-scan.json'));

    expect(error.location).toEqual({ file: 'org-scan.json', field: '(document)' });
  });
});
