import { escapeCommandData, escapeCommandProperty, formatGithub, formatJobSummary } from '../../src/report/format-github';
import type { DissonanceReport } from '../../src/types';
import { evidence, fullReport, item, validReport } from './report-fixture';

function mixedReport(): DissonanceReport {
  const report = validReport();
  report.items = [
    item('MD-010', 'low', 'low', 'Low finding', [evidence('docs/a.md', 2, 'x')]),
    item('MD-004', 'owners', 'medium', 'Critical path has no code owner', [evidence('CODEOWNERS', 0, 'x')]),
    item('MD-001', 'pin', 'critical', 'Unpinned action', [
      evidence('.github/workflows/release.yml', 9, 'x'),
      evidence('.github/workflows/release.yml', 21, 'y'),
    ]),
    item('MD-002', 'perm', 'high', 'Write-all permissions', [
      evidence('.github/workflows/ci.yml', 3, 'x'),
      evidence('.github/workflows/ci.yml', 4, 'x'),
      evidence('.github/workflows/ci.yml', 5, 'x'),
    ]),
    item('MD-099', 'eval', 'high', 'Rule MD-099 failed to evaluate', []),
  ];
  report.summary = { total: 5, by_severity: { critical: 1, high: 2, medium: 1, low: 1 } };
  report.machine_decision = { outcome: 'block', degraded: false, reason: '1 critical finding(s) exceed the threshold 0' };
  return report;
}

describe('escapeCommandData', () => {
  it('escapes percent, carriage return and line feed', () => {
    expect(escapeCommandData('100%\r\n::set-output name=x::1')).toBe('100%25%0D%0A::set-output name=x::1');
  });
});

describe('escapeCommandProperty', () => {
  it('also escapes colon and comma', () => {
    expect(escapeCommandProperty('a,b:c%d\ne')).toBe('a%2Cb%3Ac%25d%0Ae');
  });
});

describe('formatGithub', () => {
  it('annotates each finding at its first evidence with a level by severity, then the decision', () => {
    // Act
    const lines = formatGithub(mixedReport()).split('\n');

    // Assess
    expect(lines).toEqual([
      '::error file=.github/workflows/release.yml,line=9,title=MD-001::Unpinned action (+1 more location)',
      '::error file=.github/workflows/ci.yml,line=3,title=MD-002::Write-all permissions (+2 more locations)',
      '::error title=MD-099::Rule MD-099 failed to evaluate',
      '::warning file=CODEOWNERS,title=MD-004::Critical path has no code owner',
      '::notice file=docs/a.md,line=2,title=MD-010::Low finding',
      '::error::Phase Mirror: block: 1 critical finding(s) exceed the threshold 0',
      '',
    ]);
  });

  it('ends with a notice when the decision does not block, marking degradation', () => {
    // Prepare
    const report = validReport();
    report.machine_decision = { outcome: 'warn', degraded: true, reason: 'circuit breaker: block downgraded' };

    // Act
    const lines = formatGithub(report).trimEnd().split('\n');

    // Assess
    expect(lines[lines.length - 1]).toBe('::notice::Phase Mirror: warn (degraded): circuit breaker: block downgraded');
  });

  it('escapes repository-controlled values so they cannot break out of the command', () => {
    // Prepare
    const report = validReport();
    report.items = [item('MD,1:x', 'k', 'medium', '50% done\n::error::forged', [evidence('dir,a/b:c.yml', 7, 'x')])];
    report.summary = { total: 1, by_severity: { critical: 0, high: 0, medium: 1, low: 0 } };

    // Act
    const output = formatGithub(report);

    // Assess
    expect(output.split('\n')[0]).toBe('::warning file=dir%2Ca/b%3Ac.yml,line=7,title=MD%2C1%3Ax::50%25 done%0A::error::forged');
    expect(output.split('\n')).toHaveLength(3);
  });
});

describe('formatJobSummary', () => {
  it('shows the decision, the counts and a table of findings in sorted order', () => {
    // Act
    const markdown = formatJobSummary(mixedReport());

    // Assess
    expect(markdown.startsWith('## Phase Mirror: block\n\n**Decision:** block: 1 critical finding(s) exceed the threshold 0\n')).toBe(true);
    expect(markdown).toContain('| critical | 1 |\n| high | 2 |\n| medium | 1 |\n| low | 1 |\n| **total** | **5** |');
    expect(markdown).toContain(
      [
        '| Severity | Rule | Location | Title |',
        '| --- | --- | --- | --- |',
        '| critical | MD-001 | .github/workflows/release.yml:9<br>.github/workflows/release.yml:21 | Unpinned action |',
        '| high | MD-002 | .github/workflows/ci.yml:3<br>.github/workflows/ci.yml:4<br>.github/workflows/ci.yml:5 | Write-all permissions |',
        '| high | MD-099 |  | Rule MD-099 failed to evaluate |',
        '| medium | MD-004 | CODEOWNERS | Critical path has no code owner |',
        '| low | MD-010 | docs/a.md:2 | Low finding |',
      ].join('\n'),
    );
  });

  it('escapes markdown and HTML in repository-controlled cells', () => {
    // Prepare
    const report = validReport();
    report.items[0].title = 'a | b <img src=x> *bold* `code`\nnext';

    // Act
    const markdown = formatJobSummary(report);

    // Assess
    expect(markdown).toContain('| a \\| b &lt;img src=x&gt; \\*bold\\* \\`code\\` next |');
  });

  it('says so when there are no findings', () => {
    const report: DissonanceReport = {
      ...validReport(),
      items: [],
      summary: { total: 0, by_severity: { critical: 0, high: 0, medium: 0, low: 0 } },
      machine_decision: { outcome: 'pass', degraded: false, reason: 'no findings' },
    };
    const markdown = formatJobSummary(report);
    expect(markdown).toContain('No findings.');
    expect(markdown).not.toContain('### Findings');
    expect(markdown).not.toContain('### Notes');
  });

  it('lists degradation, demotions, evaluation errors, suppressions and skipped files as notes', () => {
    // Prepare
    const report = fullReport();
    report.machine_decision = { outcome: 'warn', degraded: true, reason: 'downgraded' };

    // Act
    const markdown = formatJobSummary(report);

    // Assess
    expect(markdown.split('\n')[0]).toBe('## Phase Mirror: warn (degraded)');
    expect(markdown).toContain(
      [
        '### Notes',
        '',
        '- Degraded: circuit_breaker_triggered: 100 blocks this hour',
        '- Demoted MD-007 blocking to warn: observed FPR 0.4 above 0.25',
        '- Evaluation error in MD-009@2.1.0 (evaluate): TypeError: boom',
        '- 1 finding(s) suppressed as false positives',
        '- 1 file(s) skipped',
      ].join('\n'),
    );
    expect(markdown).toMatch(/<sub>run 6f1c2a8e-3b7d-4e59-9a10-2c4d5e6f7a8b at 2025-11-20T10:15:30\.000Z, rules [0-9a-f]{12}<\/sub>\n$/);
  });

  it('lists at most 500 findings and says how many more the report holds', () => {
    // Prepare
    const report = validReport();
    report.items = Array.from({ length: 503 }, (_, index) =>
      item('MD-001', `k${index}`, 'low', `finding ${index}`, [evidence(`f${String(index).padStart(4, '0')}.yml`, 1, 'x')]),
    );

    // Act
    const markdown = formatJobSummary(report);

    // Assess
    expect(markdown.split('\n').filter((line) => line.startsWith('| low | MD-001 |'))).toHaveLength(500);
    expect(markdown).toContain('3 more findings are in the report file.');
    expect(markdown).not.toContain('f0500.yml');
  });
});
