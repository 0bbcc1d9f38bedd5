import { formatLocation, formatText, sortFindings } from '../../src/report/format-text';
import type { DissonanceReport } from '../../src/types';
import { evidence, fullReport, item, validReport } from './report-fixture';

const ESC = '\u001b';

/** A report whose findings are listed out of display order. */
function unsortedReport(): DissonanceReport {
  const report = validReport();
  report.items = [
    item('MD-003', 'low', 'low', 'Low finding', [evidence('b.yml', 4, 'low')]),
    item('MD-002', 'b-late', 'high', 'High B late', [evidence('b.yml', 30, 'x')]),
    item('MD-002', 'b-early', 'high', 'High B early', [evidence('b.yml', 3, 'x')]),
    item('MD-002', 'a', 'high', 'High A', [evidence('a.yml', 50, 'x')]),
    item('MD-001', 'h', 'high', 'High rule 1', [evidence('z.yml', 1, 'x')]),
    item('MD-009', 'crit', 'critical', 'Critical', []),
  ];
  report.summary = { total: 6, by_severity: { critical: 1, high: 4, medium: 0, low: 1 } };
  report.machine_decision = { outcome: 'block', degraded: true, reason: '1 critical finding(s) exceed the threshold 0' };
  return report;
}

describe('sortFindings', () => {
  it('orders by severity, rule, path, line', () => {
    // Act
    const titles = sortFindings(unsortedReport().items).map((finding) => finding.title);

    // Assess
    expect(titles).toEqual(['Critical', 'High rule 1', 'High A', 'High B early', 'High B late', 'Low finding']);
  });

  it('breaks full ties on the fingerprint and does not mutate its input', () => {
    // Prepare
    const first = item('MD-001', 'k1', 'low', 'one', [evidence('a', 1, 'x')]);
    const second = item('MD-001', 'k2', 'low', 'two', [evidence('a', 1, 'x')]);
    const input = first.id < second.id ? [second, first] : [first, second];

    // Act
    const sorted = sortFindings(input);

    // Assess
    expect(sorted.map((finding) => finding.id)).toEqual([first.id, second.id].sort());
    expect(sortFindings([...input].reverse()).map((finding) => finding.id)).toEqual(sorted.map((finding) => finding.id));
    expect(input[0].id > input[1].id).toBe(true);
  });
});

describe('formatLocation', () => {
  it('omits the line when it is 0', () => {
    expect(formatLocation('src/a.ts', 7)).toBe('src/a.ts:7');
    expect(formatLocation('CODEOWNERS', 0)).toBe('CODEOWNERS');
  });
});

describe('formatText', () => {
  it('starts with the decision, reason and run, then counts by severity', () => {
    // Act
    const lines = formatText(validReport(), { color: false }).split('\n');

    // Assess
    expect(lines[0]).toBe('Phase Mirror: WARN');
    expect(lines[1]).toBe('  reason: findings below the blocking thresholds');
    expect(lines[2]).toContain('run 6f1c2a8e-3b7d-4e59-9a10-2c4d5e6f7a8b at 2025-11-20T10:15:30.000Z');
    expect(lines[4]).toBe('Findings: 2 (critical 0, high 1, medium 1, low 0)');
  });

  it('lists each finding with severity, rule, title, location and redacted snippet', () => {
    // Act
    const text = formatText(validReport(), { color: false });

    // Assess
    expect(text).toContain(
      [
        '  HIGH     MD-001  Third-party action not pinned to a commit SHA',
        '    .github/workflows/ci.yml:12',
        '      uses: actions/checkout@v4',
        '  MEDIUM   MD-004  Critical path has no code owner',
        '    CODEOWNERS',
        '      [REDACTED]',
      ].join('\n'),
    );
  });

  it('lists findings in sorted order and marks a degraded decision', () => {
    // Act
    const text = formatText(unsortedReport(), { color: false });

    // Assess
    expect(text.startsWith('Phase Mirror: BLOCK (degraded)\n')).toBe(true);
    const order = ['Critical', 'High rule 1', 'High A', 'High B early', 'High B late', 'Low finding'].map((title) => text.indexOf(title));
    expect(order.every((position) => position > 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
  });

  it('says so when there are no findings and prints no empty sections', () => {
    // Prepare
    const report: DissonanceReport = {
      ...validReport(),
      items: [],
      summary: { total: 0, by_severity: { critical: 0, high: 0, medium: 0, low: 0 } },
      machine_decision: { outcome: 'pass', degraded: false, reason: 'no findings' },
    };

    // Act
    const text = formatText(report, { color: false });

    // Assess
    expect(text).toContain('Findings: 0 (critical 0, high 0, medium 0, low 0)\n  No findings.\n');
    expect(text).not.toMatch(/Suppressions|Demotions|Evaluation errors|Skipped files|Notes|Degraded|Ledger/);
  });

  it('prints the suppressions, demotions, evaluation errors, skipped files, notes, degradation and ledger', () => {
    // Act
    const text = formatText(fullReport(), { color: false });

    // Assess
    expect(text).toContain('Degraded:\n  circuit_breaker_triggered at 2025-11-20T10:15:29Z: 100 blocks this hour');
    expect(text).toMatch(/Suppressions \(1\):\n  - MD-002 finding [0-9a-f]{12}: test fixture, not shipped \(event ev-0001, by alice at 2025-11-19T08:00:00Z\)/);
    expect(text).toContain('Demotions (1):\n  - MD-007 blocking -> warn: observed FPR 0.4 > 0.25 (FPR above ceiling)');
    expect(text).toContain('Evaluation errors (1):\n  - MD-009@2.1.0 [evaluate]: TypeError: boom');
    expect(text).toContain('Skipped files (1):\n  - assets/big.bin: too_large (12 MiB > 5 MiB)');
    expect(text).toContain('Notes (1):\n  - drift skipped: no baseline');
    expect(text).toMatch(/Ledger: height 7, hash [0-9a-f]{16}\n$/);
    expect(text).toContain('mode pull_request, repository acme/widgets');
  });

  it('emits no escape sequences without colour and colours by severity and outcome with it', () => {
    // Act
    const plain = formatText(unsortedReport(), { color: false });
    const coloured = formatText(unsortedReport(), { color: true });

    // Assess
    expect(plain).not.toContain(ESC);
    expect(coloured).toContain(`${ESC}[1;31mBLOCK${ESC}[0m`);
    expect(coloured).toContain(`${ESC}[1;31mCRITICAL${ESC}[0m`);
    expect(coloured).toContain(`${ESC}[31mHIGH    ${ESC}[0m`);
    expect(coloured).toContain(`${ESC}[36mLOW     ${ESC}[0m`);
    expect(coloured).toContain(`${ESC}[33m(degraded)${ESC}[0m`);
  });

  it('keeps multi-line snippets indented and neutralises terminal control characters from the repository', () => {
    // Prepare
    const report = validReport();
    report.items[0].evidence[0].snippet.value = 'first\r\n\u001b[2Jsecond\tcol\u202e';
    report.items[0].title = 'Bad\ntitle\u0007';

    // Act
    const text = formatText(report, { color: false });

    // Assess
    expect(text).not.toContain(ESC);
    expect(text).toContain('MD-001  Bad\\u{a}title\\u{7}\n');
    expect(text).toContain('      first\n      \\u{1b}[2Jsecond\tcol\\u{202e}\n');
  });
});
