import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DependencyError } from '../../src/errors';
import { sha256Hex } from '../../src/hashing';
import {
  REPORT_SCHEMA_ID,
  loadReportSchema,
  loadReportSchemaFile,
  readSchemaStamp,
  readSchemaStampFile,
  reportSchemaPath,
  schemaStampPath,
} from '../../src/report/schema';
import { PACKAGE_DIR, STAMP_SCRIPT, stampedPackage, tempDirWithModules, validReport } from './report-fixture';

const tempDirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pm-report-schema-'));
  tempDirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

describe('loadReportSchema', () => {
  it('loads the shipped schema with its $id, bytes and SHA-256', () => {
    // Act
    const loaded = loadReportSchema();

    // Assess
    const bytes = readFileSync(path.join(PACKAGE_DIR, 'schemas', 'dissonance-report.schema.json'));
    expect(reportSchemaPath()).toBe(path.join(PACKAGE_DIR, 'schemas', 'dissonance-report.schema.json'));
    expect((loaded.schema as { $id: string }).$id).toBe(REPORT_SCHEMA_ID);
    expect(loaded.bytes.equals(bytes)).toBe(true);
    expect(loaded.sha256).toBe(sha256Hex(bytes));
  });

  it('reads the file once per process', () => {
    expect(loadReportSchema()).toBe(loadReportSchema());
  });

  it('declares the four required top-level members and forbids others', () => {
    const schema = loadReportSchema().schema as { required: string[]; additionalProperties: boolean };
    expect(schema.required).toEqual(['meta', 'items', 'summary', 'machine_decision']);
    expect(schema.additionalProperties).toBe(false);
  });
});

describe('loadReportSchemaFile', () => {
  it('throws a DependencyError with the file when the schema is missing', () => {
    const file = path.join(tempDir(), 'missing.json');
    expect(() => loadReportSchemaFile(file)).toThrow(DependencyError);
    try {
      loadReportSchemaFile(file);
    } catch (error) {
      expect((error as DependencyError).code).toBe('FILE_UNREADABLE');
      expect((error as DependencyError).location.file).toBe(file);
    }
  });

  it('rejects a schema that is not JSON', () => {
    const file = path.join(tempDir(), 'broken.json');
    writeFileSync(file, '{ "type": ');
    expect(() => loadReportSchemaFile(file)).toThrow(/not valid JSON/);
  });

  it('rejects a schema that is not an object', () => {
    const file = path.join(tempDir(), 'array.json');
    writeFileSync(file, '[]');
    expect(() => loadReportSchemaFile(file)).toThrow('the report schema must be a JSON object');
  });
});

describe('readSchemaStampFile', () => {
  it('returns undefined when no stamp was built', () => {
    expect(readSchemaStampFile(path.join(tempDir(), 'schema-stamp.json'))).toBeUndefined();
  });

  it('returns the recorded sha256Prefix', () => {
    const file = path.join(tempDir(), 'schema-stamp.json');
    writeFileSync(file, JSON.stringify({ schema: 'dissonance-report', sha256Prefix: '0123456789abcdef' }));
    expect(readSchemaStampFile(file)).toBe('0123456789abcdef');
  });

  it.each([
    ['not JSON', '{', /not valid JSON/, undefined],
    ['null', 'null', /must name schema/, 'schema'],
    ['another schema', JSON.stringify({ schema: 'policy', sha256Prefix: '0123456789abcdef' }), /must name schema/, 'schema'],
    ['a short prefix', JSON.stringify({ schema: 'dissonance-report', sha256Prefix: '0123' }), /16 lowercase hex/, 'sha256Prefix'],
    ['an uppercase prefix', JSON.stringify({ schema: 'dissonance-report', sha256Prefix: '0123456789ABCDEF' }), /16 lowercase hex/, 'sha256Prefix'],
  ])('throws on a stamp that is %s', (_name, content, message, field) => {
    // Prepare
    const file = path.join(tempDir(), 'schema-stamp.json');
    writeFileSync(file, content);

    // Act
    let thrown: unknown;
    try {
      readSchemaStampFile(file);
    } catch (error) {
      thrown = error;
    }

    // Assess
    expect(thrown).toBeInstanceOf(DependencyError);
    expect((thrown as DependencyError).code).toBe('REPORT_INVALID');
    expect((thrown as DependencyError).message).toMatch(message);
    expect((thrown as DependencyError).location).toEqual(field === undefined ? { file } : { file, field });
  });

  it('throws when the stamp path cannot be read', () => {
    const dir = tempDir();
    expect(() => readSchemaStampFile(dir)).toThrow(/cannot read the schema stamp/);
  });
});

describe('readSchemaStamp', () => {
  it('reads dist/schema-stamp.json of the package', () => {
    // Prepare
    const file = schemaStampPath();
    const expected = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as { sha256Prefix: string }).sha256Prefix : undefined;

    // Act / Assess
    expect(file).toBe(path.join(PACKAGE_DIR, 'dist', 'schema-stamp.json'));
    expect(readSchemaStamp()).toBe(expected);
  });
});

describe('scripts/stamp-schema.js', () => {
  it('writes the first 16 hex of the schema SHA-256 and a standalone validator', () => {
    // Act
    const packageDir = stampedPackage();
    tempDirs.push(path.dirname(packageDir));

    // Assess
    const bytes = readFileSync(path.join(packageDir, 'schemas', 'dissonance-report.schema.json'));
    const stamp = JSON.parse(readFileSync(path.join(packageDir, 'dist', 'schema-stamp.json'), 'utf8')) as unknown;
    expect(stamp).toEqual({ schema: 'dissonance-report', sha256Prefix: sha256Hex(bytes).slice(0, 16) });
    expect(readSchemaStampFile(path.join(packageDir, 'dist', 'schema-stamp.json'))).toBe(loadReportSchema().sha256.slice(0, 16));
    const validator = readFileSync(path.join(packageDir, 'dist', 'report-validator.js'), 'utf8');
    expect(validator).toContain(`module.exports.schemaSha256 = "${sha256Hex(bytes)}";`);
  });

  it('produces a stamp that no longer matches once the schema is edited after the build', () => {
    // Prepare
    const packageDir = stampedPackage();
    tempDirs.push(path.dirname(packageDir));
    const schemaFile = path.join(packageDir, 'schemas', 'dissonance-report.schema.json');

    // Act
    writeFileSync(schemaFile, readFileSync(schemaFile, 'utf8').replace('"critical", "high"', '"critical", "severe", "high"'));

    // Assess
    const stamp = readSchemaStampFile(path.join(packageDir, 'dist', 'schema-stamp.json'));
    expect(stamp).not.toBe(loadReportSchemaFile(schemaFile).sha256.slice(0, 16));
  });

  it('generates a validator that accepts a valid report and rejects an invalid one', () => {
    // Prepare
    const packageDir = stampedPackage();
    tempDirs.push(path.dirname(packageDir));
    const probe = [
      `const validate = require(${JSON.stringify(path.join(packageDir, 'dist', 'report-validator.js'))});`,
      `const report = ${JSON.stringify(validReport())};`,
      'const ok = validate(report);',
      "report.items[0].severity = 'severe';",
      'const bad = validate(report);',
      'console.log(JSON.stringify({ ok, bad, paths: validate.errors.map((e) => e.instancePath) }));',
    ].join('\n');

    // Act
    const output = execFileSync(process.execPath, ['-e', probe], { cwd: packageDir, encoding: 'utf8' });

    // Assess
    expect(JSON.parse(output)).toEqual({ ok: true, bad: false, paths: ['/items/0/severity'] });
  });

  it('fails the build when the schema does not compile', () => {
    // Prepare
    const packageDir = path.join(tempDirWithModules('pm-report-schema-'), 'pkg');
    tempDirs.push(path.dirname(packageDir));
    mkdirSync(path.join(packageDir, 'schemas'), { recursive: true });
    writeFileSync(path.join(packageDir, 'schemas', 'dissonance-report.schema.json'), JSON.stringify({ type: 'objekt' }));

    // Act
    const result = spawnSync(process.execPath, [STAMP_SCRIPT, '--package-dir', packageDir], { encoding: 'utf8', cwd: PACKAGE_DIR });

    // Assess
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/schema is invalid: data\/type must be equal to one of the allowed values/);
    expect(existsSync(path.join(packageDir, 'dist', 'schema-stamp.json'))).toBe(false);
  });

  it('rejects unknown arguments', () => {
    const result = spawnSync(process.execPath, [STAMP_SCRIPT, '--nope'], { encoding: 'utf8' });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('unknown or incomplete argument "--nope"');
  });
});
