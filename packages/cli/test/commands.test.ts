import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig, validateReport, type DissonanceReport } from '@phase-mirror/mirror-dissonance';
import { INIT_TEMPLATES } from '../src/commands/init-templates';
import { main } from '../src/main';
import { captureIo, copyFixture } from './helpers';

function git(cwd: string, ...args: string[]): void {
  execFileSync('git', ['-c', 'user.email=t@example.com', '-c', 'user.name=t', ...args], { cwd });
}

async function run(cwd: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const io = captureIo(cwd, env);
  const code = await main(['node', 'phase-mirror', ...args], io);
  return { code, stdout: io.stdout.join(''), stderr: io.stderr.join('') };
}

function report(root: string, file = 'dissonance_report.json'): DissonanceReport {
  const value: unknown = JSON.parse(readFileSync(join(root, file), 'utf8'));
  validateReport(value);
  return value;
}

describe('analyze (in-process)', () => {
  it('takes the event from the GitHub Actions environment', async () => {
    // Prepare
    const root = copyFixture('planted');
    // A checkout like actions/checkout with history: the base branch exists.
    git(root, 'init', '-q', '-b', 'main');
    git(root, 'add', '-A');
    git(root, 'commit', '-q', '-m', 'base');
    git(root, 'checkout', '-q', '-b', 'deps');
    writeFileSync(join(root, 'src/app.ts'), 'export const app = "changed";\n');
    git(root, 'commit', '-q', '-am', 'change');
    const payload = join(root, '..', `${root.split('/').pop()}-event.json`);
    writeFileSync(payload, JSON.stringify({ pull_request: { number: 42, user: { login: 'dependabot[bot]' }, head: { sha: 'b'.repeat(40), ref: 'deps' }, base: { ref: 'main' } } }));
    // Act
    const result = await run(root, ['analyze', '.', '-f', 'json'], {
      GITHUB_EVENT_NAME: 'pull_request',
      GITHUB_EVENT_PATH: payload,
      GITHUB_REPOSITORY: 'acme/planted',
      GITHUB_SHA: 'c'.repeat(40),
    });
    // Assess
    expect(result.code).toBe(1);
    const meta = report(root).meta;
    expect(meta.event).toMatchObject({ name: 'pull_request', repository: 'acme/planted', pr_number: 42, author: 'dependabot[bot]', head_ref: 'deps', base_ref: 'main', changed_files: 1 });
  });

  it('escalates a missing author and SHA to critical in strict mode', async () => {
    const root = copyFixture('clean');
    const result = await run(root, ['analyze', '.', '--strict']);
    expect(result.code).toBe(1);
    const items = report(root).items;
    expect(items.every((item) => item.rule_id === 'MD-004' && item.severity === 'critical')).toBe(true);
    expect(items.length).toBeGreaterThan(0);
    const withContext = await run(root, ['analyze', '.', '--strict', '--author', 'octocat', '--sha', 'd'.repeat(40)]);
    expect(withContext.code).toBe(0);
  });

  it('adds the required checks of a branch-protection file', async () => {
    const root = copyFixture('clean');
    writeFileSync(join(root, 'protection.json'), JSON.stringify({ required_status_checks: { strict: true, contexts: ['test'], checks: [{ context: 'e2e', app_id: null }] } }, null, 2));
    const result = await run(root, ['analyze', '.', '--branch-protection', 'protection.json']);
    expect(result.code).toBe(0);
    const md001 = report(root).items.filter((i) => i.rule_id === 'MD-001');
    expect(md001).toHaveLength(1);
    expect(md001[0]!.title).toContain('"e2e"');
    expect(md001[0]!.evidence[0]).toMatchObject({ path: join(root, 'protection.json'), line: 9 });
  });

  it('reports a drift check in mode drift with the baseline drift', async () => {
    const root = copyFixture('planted');
    expect((await run(root, ['baseline', 'create', '.'])).code).toBe(0);
    writeFileSync(join(root, 'src/auth/login.ts'), 'export const login = () => true;\n');
    writeFileSync(join(root, 'src/auth/bypass.ts'), 'export const bypass = true;\n');
    const result = await run(root, ['drift', '.', '--dry-run']);
    expect(result.code).toBe(0);
    const drift = report(root);
    expect(drift.meta.mode).toBe('drift');
    expect(drift.meta.event?.name).toBe('schedule');
    const md005 = drift.items.find((i) => i.rule_id === 'MD-005');
    expect(md005?.evidence.map((e) => e.path)).toEqual(['src/auth/bypass.ts', 'src/auth/login.ts']);
  });

  it('refuses an unknown format and a report directory that does not exist, writing nothing', async () => {
    const root = copyFixture('clean');
    expect((await run(root, ['analyze', '.', '-f', 'xml'])).code).toBe(3);
    const missingDir = await run(root, ['analyze', '.', '-o', 'no/such/dir/report.json']);
    expect(missingDir.code).toBe(3);
    expect(missingDir.stderr).toContain('--output');
    expect(existsSync(join(root, '.phase-mirror', 'state.db'))).toBe(false);
  });

  it('fails closed with exit 2 when the local nonce is corrupt', async () => {
    const root = copyFixture('clean');
    await run(root, ['analyze', '.']);
    writeFileSync(join(root, '.phase-mirror', 'redaction_nonce_v1'), 'not-a-nonce\n', { mode: 0o600 });
    const result = await run(root, ['analyze', '.', '-o', 'second.json']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('NONCE_UNAVAILABLE');
    expect(existsSync(join(root, 'second.json'))).toBe(false);
  });
});

describe('validate', () => {
  it('reports every check of a valid repository', async () => {
    const root = copyFixture('clean');
    const result = await run(root, ['validate', '.']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('ok    workflows: 1 parsed');
    expect(result.stdout).toContain('ok    L0 schema_hash: holds');
    expect(result.stdout).toContain('no local nonce yet');
  });

  it('fails on a permission scope the oracle does not model, naming file and line', async () => {
    const root = copyFixture('clean');
    writeFileSync(join(root, '.github/workflows/odd.yml'), 'on: push\npermissions:\n  teleport: write\njobs:\n  a:\n    runs-on: x\n    steps:\n      - run: echo\n');
    await run(root, ['analyze', '.']);
    const result = await run(root, ['validate', '.', '-f', 'json']);
    expect(result.code).toBe(1);
    const parsed = JSON.parse(result.stdout) as { ok: boolean; checks: { name: string; ok: boolean; detail: string }[] };
    expect(parsed.ok).toBe(false);
    expect(parsed.checks).toEqual(
      expect.arrayContaining([
        { name: 'L0 permission_bits', ok: false, detail: '.github/workflows/odd.yml:3: unknown permission teleport: write' },
        { name: 'L0 nonce_freshness', ok: true, detail: 'holds' },
      ]),
    );
  });

  it('exits 3 on a malformed workflow', async () => {
    const root = copyFixture('clean');
    writeFileSync(join(root, '.github/workflows/bad.yml'), 'on: push\njobs: [\n');
    const result = await run(root, ['validate', '.']);
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/bad\.yml:\d+/);
  });
});

describe('baseline', () => {
  it('creates, refuses to overwrite without --force, and shows drift', async () => {
    const root = copyFixture('planted');
    const created = await run(root, ['baseline', 'create', '.']);
    expect(created.stdout).toMatch(/^pinned 3 files matching \.github\/workflows\/\*\*, src\/auth\/\*\* in \.github\/phase-mirror\/baseline\.json/);
    expect((await run(root, ['baseline', 'create', '.'])).code).toBe(3);
    expect((await run(root, ['baseline', 'create', '.', '--force', '--glob', 'src/**'])).stdout).toContain('pinned 2 files matching src/**');
    writeFileSync(join(root, 'src/app.ts'), 'changed\n');
    writeFileSync(join(root, 'src/new.ts'), 'new\n');
    const shown = await run(root, ['baseline', 'show', '.']);
    expect(shown.stdout).toContain('1 added, 0 removed, 1 modified');
    expect(shown.stdout).toContain('+ src/new.ts');
    expect(shown.stdout).toContain('~ src/app.ts');
    const json = JSON.parse((await run(root, ['baseline', 'show', '.', '-f', 'json'])).stdout) as { declared: number };
    expect(json.declared).toBe(2);
  });

  it('explains what is missing', async () => {
    const root = copyFixture('clean');
    const noGlobs = await run(root, ['baseline', 'create', '.']);
    expect(noGlobs.code).toBe(3);
    expect(noGlobs.stderr).toContain('policy.baseline.globs');
    expect((await run(root, ['baseline', 'create', '.', '--glob', 'nothing/**'])).stderr).toContain('no file matches');
    expect((await run(root, ['baseline', 'show', '.'])).stderr).toContain('baseline create');
  });
});

describe('fp', () => {
  it('lists events, marks one and shows the mark', async () => {
    const root = copyFixture('planted');
    await run(root, ['analyze', '.']);
    const listed = JSON.parse((await run(root, ['fp', 'list', '.', '-f', 'json', '--rule', 'MD-004'])).stdout) as { eventId: string }[];
    expect(listed).toHaveLength(1);
    const marked = await run(root, ['fp', 'mark', listed[0]!.eventId, '.', '--reviewer', 'carol', '--reason', 'infra is vendored', '--ticket', 'SEC-1']);
    expect(marked.code).toBe(0);
    const text = (await run(root, ['fp', 'list', '.', '--marked'])).stdout;
    expect(text).toContain('FALSE POSITIVE by carol');
    expect(text).toContain('[SEC-1]');
  });

  it('rejects an unknown event, an empty reviewer and a bad limit', async () => {
    const root = copyFixture('clean');
    expect((await run(root, ['fp', 'mark', 'nope', '.', '--reviewer', 'a', '--reason', 'b'])).code).toBe(3);
    expect((await run(root, ['fp', 'mark', 'nope', '.', '--reviewer', ' ', '--reason', 'b'])).stderr).toContain('--reviewer');
    expect((await run(root, ['fp', 'list', '.', '--limit', '0'])).code).toBe(3);
    expect((await run(root, ['fp', 'list', '.'])).stdout).toContain('no FP events recorded');
  });
});

describe('init and config', () => {
  it.each(INIT_TEMPLATES.map((t) => [t]))('writes a %s template that validates', async (template) => {
    const root = copyFixture('clean');
    const result = await run(root, ['init', '.', '--template', template, '--force']);
    expect(result.code).toBe(0);
    expect(() => loadConfig(root)).not.toThrow();
    expect(readFileSync(join(root, '.phase-mirror.yml'), 'utf8')).toMatch(/^# Phase Mirror configuration/);
  });

  it('never overwrites without --force', async () => {
    const root = copyFixture('clean');
    const result = await run(root, ['init', '.']);
    expect(result.code).toBe(3);
    expect(result.stderr).toContain('--force');
  });

  it('shows and validates the resolved configuration', async () => {
    const root = copyFixture('planted');
    const shown = JSON.parse((await run(root, ['config', 'show', '.'])).stdout) as { policy: { criticalPaths: string[] }; circuitBreaker: { threshold: number } };
    expect(shown.policy.criticalPaths).toEqual(['src/auth/**', 'infra/**']);
    expect(shown.circuitBreaker.threshold).toBe(100);
    expect((await run(root, ['config', 'validate', '.'])).stdout).toBe('ok: .phase-mirror.yml; policy from .phase-mirror.yml');
  });
});

describe('help', () => {
  it('lists exactly the working commands', async () => {
    const result = await run(process.cwd(), ['--help']);
    expect(result.code).toBe(0);
    const commandSection = result.stdout.slice(result.stdout.indexOf('Commands:'));
    const commands = [...commandSection.matchAll(/^ {2}(\S+)/gm)].map((m) => m[1]);
    expect(commands).toEqual(['analyze', 'drift', 'validate', 'baseline', 'fp', 'init', 'org-scan', 'consent', 'calibration', 'nonce', 'ledger', 'governance-chain', 'audit-report', 'db', 'config', 'help']);
  });

  it('prints help and exits 3 without a command', async () => {
    const result = await run(process.cwd(), []);
    expect(result.code).toBe(3);
    expect(result.stderr).toContain('Usage: phase-mirror');
  });
});
