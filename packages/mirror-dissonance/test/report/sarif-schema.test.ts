import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv04 from 'ajv-draft-04';
import addFormats from 'ajv-formats';
import { formatSarif } from '../../src/report/format-sarif';
import { BUILTIN_RULES } from '../../src/rules/registry';
import { fullReport, validReport } from './report-fixture';

const schema = JSON.parse(readFileSync(join(__dirname, '..', 'fixtures', 'sarif', 'sarif-schema-2.1.0.json'), 'utf8')) as object;
const ajv = new Ajv04({ allErrors: true, strict: false });
addFormats(ajv);
const validateSarif = ajv.compile(schema);
const rules = BUILTIN_RULES.map((r) => ({ id: r.id, title: r.title, description: r.description, severity: r.severity }));

describe('formatSarif against the official SARIF 2.1.0 schema', () => {
  it.each([
    ['a report with findings, suppressions and evaluation errors', fullReport],
    ['a small report', validReport],
  ])('emits a valid log for %s', (_label, build) => {
    const sarif = formatSarif(build(), { toolVersion: '0.1.0', rules });
    const valid = validateSarif(sarif);
    expect(validateSarif.errors ?? []).toEqual([]);
    expect(valid).toBe(true);
  });

  it('rejects a log that breaks the schema, so the check can fail', () => {
    const sarif = formatSarif(validReport(), { toolVersion: '0.1.0', rules }) as unknown as { runs: { results: { level: string }[] }[] };
    sarif.runs[0]!.results[0]!.level = 'catastrophic';
    expect(validateSarif(sarif)).toBe(false);
  });
});
