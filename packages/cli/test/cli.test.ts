import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { validateReport, type DissonanceReport } from '@phase-mirror/mirror-dissonance';
import { copyFixture, runCli } from './helpers';

function readReport(file: string): DissonanceReport {
  const report: unknown = JSON.parse(readFileSync(file, 'utf8'));
  validateReport(report);
  return report;
}

describe('phase-mirror analyze (built binary)', () => {
  it('blocks the planted repository with findings at their exact lines', () => {
    // Prepare
    const root = copyFixture('planted');
    // Act
    const result = runCli(['analyze', '.', '--sha', 'a'.repeat(40), '--author', 'octocat'], { cwd: root });
    // Assess
    expect(result.status).toBe(1);
    const report = readReport(join(root, 'dissonance_report.json'));
    expect(report.machine_decision.outcome).toBe('block');
    const where = report.items.map((item) => `${item.rule_id} ${item.severity} ${item.evidence[0]?.path}:${item.evidence[0]?.line}`);
    expect(where).toEqual(
      expect.arrayContaining([
        'MD-006 critical .github/workflows/preview.yml:10',
        'MD-006 high .github/workflows/ci.yml:17',
        'MD-004 high .phase-mirror.yml:9',
      ]),
    );
    expect(report.items.some((item) => item.rule_id === 'MD-001' && item.title.includes('security-scan'))).toBe(true);
    expect(report.items.some((item) => item.rule_id === 'MD-001' && item.title.includes('"test"'))).toBe(false);
    // The text summary names path:line and the report went to the file, not stdout.
    expect(result.stdout).toContain('.github/workflows/preview.yml:10');
    expect(result.stdout).toMatch(/block/i);
  });

  it('never lets the planted token reach the report or the output', () => {
    const root = copyFixture('planted');
    const result = runCli(['analyze', '.'], { cwd: root });
    const text = readFileSync(join(root, 'dissonance_report.json'), 'utf8');
    expect(text).not.toContain('ghp_Abcdefghijklmnopqrstuvwxyz0123456789');
    expect(result.stdout).not.toContain('ghp_Abcdefghijklmnopqrstuvwxyz0123456789');
    expect(text).toContain('[REDACTED:');
  });

  it('prints only the report JSON on stdout with --format json', () => {
    const root = copyFixture('planted');
    const result = runCli(['analyze', '.', '--format', 'json', '-o', 'out.json'], { cwd: root });
    expect(result.status).toBe(1);
    const printed: unknown = JSON.parse(result.stdout);
    expect(printed).toEqual(JSON.parse(readFileSync(join(root, 'out.json'), 'utf8')));
  });

  it('passes a clean repository with exit 0', () => {
    const root = copyFixture('clean');
    const result = runCli(['analyze', '.', '--format', 'json'], { cwd: root });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const report = readReport(join(root, 'dissonance_report.json'));
    expect(report.machine_decision).toEqual({ outcome: 'pass', degraded: false, reason: 'no dissonance found' });
    expect(report.items).toEqual([]);
  });

  it('gives the same report twice except run_id, timestamp and the ledger block that records each run', () => {
    const root = copyFixture('planted');
    runCli(['analyze', '.', '-o', 'first.json'], { cwd: root });
    runCli(['analyze', '.', '-o', 'second.json'], { cwd: root });
    const read = (file: string): DissonanceReport => JSON.parse(readFileSync(join(root, file), 'utf8')) as DissonanceReport;
    const strip = (file: string): unknown => {
      const { run_id: _runId, timestamp: _timestamp, ledger: _ledger, ...meta } = read(file).meta;
      return { ...read(file), meta };
    };
    expect(strip('second.json')).toEqual(strip('first.json'));
    // Every decision is a new block of the repository's stream.
    expect(read('first.json').meta.ledger?.height).toBe(0);
    expect(read('second.json').meta.ledger?.height).toBe(1);
  });

  it('emits SARIF 2.1.0 and GitHub annotations', () => {
    const root = copyFixture('planted');
    const sarif = runCli(['analyze', '.', '--format', 'sarif'], { cwd: root });
    const parsed = JSON.parse(sarif.stdout) as { version: string; runs: { results: { ruleId: string; level: string }[] }[] };
    expect(parsed.version).toBe('2.1.0');
    expect(parsed.runs[0]!.results.some((r) => r.ruleId === 'MD-006' && r.level === 'error')).toBe(true);
    const summaryFile = join(root, 'summary.md');
    const github = runCli(['analyze', '.', '--format', 'github'], { cwd: root, env: { GITHUB_STEP_SUMMARY: summaryFile } });
    expect(github.stdout).toMatch(/^::error file=\.github\/workflows\/preview\.yml,line=10/m);
    expect(readFileSync(summaryFile, 'utf8')).toContain('MD-006');
  });

  it('applies dry run: block becomes warn, exit 0', () => {
    const root = copyFixture('planted');
    const result = runCli(['analyze', '.', '--dry-run'], { cwd: root });
    expect(result.status).toBe(0);
    const report = readReport(join(root, 'dissonance_report.json'));
    expect(report.machine_decision.outcome).toBe('warn');
    expect(report.machine_decision.reason).toMatch(/^dry run: would block/);
  });

  it('suppresses a finding a reviewer marked as a false positive', () => {
    const root = copyFixture('planted');
    runCli(['analyze', '.', '--format', 'json'], { cwd: root });
    const before = readReport(join(root, 'dissonance_report.json'));
    const target = before.items.find((item) => item.rule_id === 'MD-001')!;
    const list = runCli(['fp', 'list', '--rule', 'MD-001', '--format', 'json'], { cwd: root });
    const events = JSON.parse(list.stdout) as { eventId: string; findingId: string }[];
    const event = events.find((e) => e.findingId === target.id)!;
    const mark = runCli(['fp', 'mark', event.eventId, '--reviewer', 'alice', '--reason', 'check runs in another app'], { cwd: root });
    expect(mark.status).toBe(0);
    runCli(['analyze', '.'], { cwd: root });
    const after = readReport(join(root, 'dissonance_report.json'));
    expect(after.items.map((item) => item.id)).not.toContain(target.id);
    expect(after.meta.suppressions).toEqual([
      expect.objectContaining({ finding_id: target.id, event_id: event.eventId, reviewer: 'alice', reason: 'check runs in another app' }),
    ]);
  });
});

describe('phase-mirror bad input (built binary)', () => {
  function expectUsageFailure(result: { status: number | null; stderr: string; stdout: string }, pattern: RegExp): void {
    expect(result.status).toBe(3);
    expect(result.stderr).toMatch(pattern);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  }

  it('names a missing repository path', () => {
    const root = copyFixture('clean');
    const result = runCli(['analyze', 'does-not-exist'], { cwd: root });
    expectUsageFailure(result, /does-not-exist: repository path does not exist/);
    expect(existsSync(join(root, 'dissonance_report.json'))).toBe(false);
  });

  it('names the flag of an unknown --mode', () => {
    const root = copyFixture('clean');
    expectUsageFailure(runCli(['analyze', '.', '--mode', 'sideways'], { cwd: root }), /--mode/);
  });

  it('names file and line of a malformed workflow and writes no report', () => {
    const root = copyFixture('clean');
    writeFileSync(join(root, '.github/workflows/broken.yml'), 'name: broken\non: [push\njobs:\n  a: {}\n');
    const result = runCli(['analyze', '.'], { cwd: root });
    expectUsageFailure(result, /\.github\/workflows\/broken\.yml:\d+/);
    expect(existsSync(join(root, 'dissonance_report.json'))).toBe(false);
  });

  it('names file, line and field of an invalid configuration', () => {
    const root = copyFixture('clean');
    writeFileSync(join(root, '.phase-mirror.yml'), 'version: 1\ncircuitBreaker:\n  threshold: -4\n');
    expectUsageFailure(runCli(['analyze', '.'], { cwd: root }), /\.phase-mirror\.yml:3: circuitBreaker\.threshold: must be >= 1 \(field circuitBreaker\.threshold\)/);
  });

  it('prints the stack only with --debug', () => {
    const root = copyFixture('clean');
    const result = runCli(['--debug', 'analyze', 'nowhere'], { cwd: root });
    expect(result.status).toBe(3);
    expect(result.stderr).toMatch(/\n\s+at /);
  });

  it('refuses a binary workflow and a 50 MB workflow', () => {
    const binary = copyFixture('clean');
    writeFileSync(join(binary, '.github/workflows/blob.yml'), Buffer.from([0x6f, 0x6e, 0x00, 0x01, 0x02]));
    expectUsageFailure(runCli(['analyze', '.'], { cwd: binary }), /\.github\/workflows\/blob\.yml: workflow cannot be analyzed \(binary/);
    const large = copyFixture('clean');
    writeFileSync(join(large, '.github/workflows/huge.yml'), Buffer.alloc(50 * 1024 * 1024, 0x20));
    expectUsageFailure(runCli(['analyze', '.'], { cwd: large }), /huge\.yml: workflow cannot be analyzed \(too large/);
    expect(existsSync(join(large, 'dissonance_report.json'))).toBe(false);
  });

  it('refuses a workflow that links outside the root', () => {
    const root = copyFixture('clean');
    const outside = copyFixture('clean');
    symlinkSync(join(outside, '.github/workflows/ci.yml'), join(root, '.github/workflows/linked.yml'));
    expectUsageFailure(runCli(['analyze', '.'], { cwd: root }), /linked\.yml: workflow cannot be analyzed \(symlink outside root/);
  });

  it('skips a symlink loop and a large data file with a warning and a note in the report', () => {
    const root = copyFixture('clean');
    mkdirSync(join(root, 'loop'));
    symlinkSync('..', join(root, 'loop', 'parent'));
    writeFileSync(join(root, 'package-lock.json'), Buffer.alloc(2 * 1024 * 1024, 0x20));
    const result = runCli(['analyze', '.'], { cwd: root });
    expect(result.status).toBe(0);
    expect(result.stderr).toMatch(/warning: skipped loop\/parent: symlink loop/);
    expect(result.stderr).toMatch(/warning: skipped package-lock\.json: too large/);
    const report = readReport(join(root, 'dissonance_report.json'));
    expect(report.meta.skipped_files?.map((s) => `${s.path}:${s.reason}`)).toEqual(['loop/parent:symlink_loop', 'package-lock.json:too_large']);
  });

  it('exits 3 on an unknown command and an unknown option', () => {
    const root = copyFixture('clean');
    expect(runCli(['frobnicate'], { cwd: root }).status).toBe(3);
    expect(runCli(['analyze', '--frob'], { cwd: root }).status).toBe(3);
  });
});
