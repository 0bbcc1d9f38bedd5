import * as report from '../../src/report';
import { writeReport } from '../../src/report/emit';
import { formatGithub, formatJobSummary } from '../../src/report/format-github';
import { formatSarif } from '../../src/report/format-sarif';
import { formatText } from '../../src/report/format-text';
import { loadReportSchema, readSchemaStamp } from '../../src/report/schema';
import { validateReport } from '../../src/report/validate';
import { validReport } from './report-fixture';

describe('report index', () => {
  it('re-exports the public API of the report area', () => {
    expect(report.loadReportSchema).toBe(loadReportSchema);
    expect(report.readSchemaStamp).toBe(readSchemaStamp);
    expect(report.validateReport).toBe(validateReport);
    expect(report.writeReport).toBe(writeReport);
    expect(report.formatText).toBe(formatText);
    expect(report.formatSarif).toBe(formatSarif);
    expect(report.formatGithub).toBe(formatGithub);
    expect(report.formatJobSummary).toBe(formatJobSummary);
  });

  it('exposes constants and helpers that work through the index', () => {
    // Prepare
    const sample = validReport();

    // Act / Assess
    expect(report.REPORT_SCHEMA_ID).toBe('https://phase-mirror.dev/schemas/dissonance-report/2.0.0.json');
    expect(report.REPORT_SCHEMA_STAMP_NAME).toBe('dissonance-report');
    expect(report.SCHEMA_STAMP_PREFIX_LENGTH).toBe(16);
    expect(report.SARIF_SCHEMA_URI).toMatch(/sarif-2\.1\.0/);
    expect(report.SARIF_FINGERPRINT_KEY).toBe('phaseMirror/v1');
    expect(report.reportSchemaPath()).toMatch(/schemas[\\/]dissonance-report\.schema\.json$/);
    expect(report.schemaStampPath()).toMatch(/dist[\\/]schema-stamp\.json$/);
    expect(['standalone', 'compiled']).toContain(report.reportValidatorSource());
    expect(report.serializeReport(sample)).toBe(`${JSON.stringify(sample, null, 2)}\n`);
    expect(report.sortFindings(sample.items).map((finding) => finding.rule_id)).toEqual(['MD-001', 'MD-004']);
    expect(report.formatLocation('a', 0)).toBe('a');
    expect(report.sarifLevel('medium')).toBe('warning');
    expect(report.escapeCommandData('%')).toBe('%25');
    expect(report.escapeCommandProperty(',')).toBe('%2C');
    expect(report.describeSchemaError({ keyword: 'type', instancePath: '', schemaPath: '#', params: {}, message: 'must be object' })).toBe(
      '(root): must be object',
    );
  });
});
