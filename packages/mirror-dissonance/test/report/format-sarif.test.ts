import { SARIF_FINGERPRINT_KEY, formatSarif, sarifLevel } from '../../src/report/format-sarif';
import type { SarifFormatOptions } from '../../src/report/format-sarif';
import type { DissonanceReport } from '../../src/types';
import { evidence, item, validReport } from './report-fixture';

const options: SarifFormatOptions = {
  toolVersion: '0.1.0',
  rules: [
    { id: 'MD-001', title: 'Unpinned action', description: 'Third-party actions must be pinned to a full commit SHA.', severity: 'high' },
    { id: 'MD-004', title: 'Unowned critical path', description: 'Critical paths need a CODEOWNERS entry.', severity: 'medium' },
    { id: 'MD-010', title: 'Low rule', description: 'A low-severity rule.', severity: 'low' },
  ],
};

function mixedReport(): DissonanceReport {
  const report = validReport();
  report.items = [
    item('MD-004', 'owners', 'medium', 'Critical path has no code owner', [evidence('CODEOWNERS', 0, 'x')]),
    item('MD-001', 'pin', 'critical', 'Unpinned action in a privileged workflow', [
      evidence('.github/workflows/release.yml', 9, 'uses: a/b@v1'),
      evidence('.github/workflows/release.yml', 21, 'uses: c/d@main'),
    ]),
    item('MD-010', 'low', 'low', 'Low finding', [evidence('docs/read me#1.md', 2, 'x')]),
    item('MD-099', 'eval', 'high', 'Rule MD-099 failed to evaluate', []),
  ];
  report.summary = { total: 4, by_severity: { critical: 1, high: 1, medium: 1, low: 1 } };
  report.machine_decision = { outcome: 'block', degraded: false, reason: '1 critical finding(s) exceed the threshold 0' };
  return report;
}

describe('sarifLevel', () => {
  it('maps critical and high to error, medium to warning, low to note', () => {
    expect([sarifLevel('critical'), sarifLevel('high'), sarifLevel('medium'), sarifLevel('low')]).toEqual(['error', 'error', 'warning', 'note']);
  });
});

describe('formatSarif', () => {
  it('produces a SARIF 2.1.0 log with the phase-mirror driver and its rules', () => {
    // Act
    const log = formatSarif(mixedReport(), options);

    // Assess
    expect(log.$schema).toBe('https://json.schemastore.org/sarif-2.1.0.json');
    expect(log.version).toBe('2.1.0');
    expect(log.runs).toHaveLength(1);
    const { driver } = log.runs[0].tool;
    expect(driver.name).toBe('phase-mirror');
    expect(driver.version).toBe('0.1.0');
    expect(driver).not.toHaveProperty('informationUri');
    expect(driver.rules[0]).toEqual({
      id: 'MD-001',
      name: 'MD-001',
      shortDescription: { text: 'Unpinned action' },
      fullDescription: { text: 'Third-party actions must be pinned to a full commit SHA.' },
      defaultConfiguration: { level: 'error' },
      properties: { 'security-severity': '8.0', tags: ['security', 'governance'] },
    });
    expect(driver.rules.map((rule) => [rule.id, rule.defaultConfiguration.level])).toEqual([
      ['MD-001', 'error'],
      ['MD-004', 'warning'],
      ['MD-010', 'note'],
      ['MD-099', 'error'],
    ]);
  });

  it('describes rules seen only in findings from the finding', () => {
    const rule = formatSarif(mixedReport(), options).runs[0].tool.driver.rules[3];
    expect(rule.shortDescription.text).toBe('Rule MD-099 failed to evaluate');
    expect(rule.properties['security-severity']).toBe('8.0');
  });

  it('sets informationUri when given', () => {
    const log = formatSarif(validReport(), { ...options, informationUri: 'https://example.org/phase-mirror' });
    expect(log.runs[0].tool.driver.informationUri).toBe('https://example.org/phase-mirror');
  });

  it('emits one result per finding with level, message, rule index and fingerprint', () => {
    // Prepare
    const report = mixedReport();

    // Act
    const { results, tool } = formatSarif(report, options).runs[0];

    // Assess
    expect(results.map((result) => [result.ruleId, result.level, result.message.text])).toEqual([
      ['MD-001', 'error', 'Unpinned action in a privileged workflow'],
      ['MD-099', 'error', 'Rule MD-099 failed to evaluate'],
      ['MD-004', 'warning', 'Critical path has no code owner'],
      ['MD-010', 'note', 'Low finding'],
    ]);
    for (const result of results) {
      expect(tool.driver.rules[result.ruleIndex].id).toBe(result.ruleId);
      const source = report.items.find((finding) => finding.rule_id === result.ruleId);
      expect(result.partialFingerprints).toEqual({ [SARIF_FINGERPRINT_KEY]: source?.id });
      expect(result.properties).toEqual({ severity: source?.severity, rule_version: '1.0.0' });
    }
    expect(SARIF_FINGERPRINT_KEY).toBe('phaseMirror/v1');
  });

  it('locates results at every evidence and omits the region for line 0', () => {
    // Act
    const { results } = formatSarif(mixedReport(), options).runs[0];

    // Assess
    expect(results[0].locations).toEqual([
      { physicalLocation: { artifactLocation: { uri: '.github/workflows/release.yml' }, region: { startLine: 9 } } },
      { physicalLocation: { artifactLocation: { uri: '.github/workflows/release.yml' }, region: { startLine: 21 } } },
    ]);
    expect(results[2].locations).toEqual([{ physicalLocation: { artifactLocation: { uri: 'CODEOWNERS' } } }]);
    expect(results[3].locations?.[0].physicalLocation.artifactLocation.uri).toBe('docs/read%20me%231.md');
    expect(results[1]).not.toHaveProperty('locations');
  });

  it('records the decision on the run and serialises to plain JSON', () => {
    // Act
    const log = formatSarif(mixedReport(), options);

    // Assess
    expect(log.runs[0].properties).toEqual({
      run_id: '6f1c2a8e-3b7d-4e59-9a10-2c4d5e6f7a8b',
      outcome: 'block',
      degraded: false,
      reason: '1 critical finding(s) exceed the threshold 0',
    });
    expect(JSON.parse(JSON.stringify(log))).toEqual(log);
  });
});
