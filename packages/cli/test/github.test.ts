import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseOrgScanFile, validateReport, type DissonanceReport } from '@phase-mirror/mirror-dissonance';
import { startReplayServer, type ReplayServer } from '../../mirror-dissonance/test/github/replay-server';
import { main } from '../src/main';
import { captureIo, copyFixture } from './helpers';

const ORG_FIXTURES = join(__dirname, '..', '..', 'mirror-dissonance', 'test', 'fixtures', 'org');

async function run(cwd: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  const io = captureIo(cwd, env);
  const code = await main(['node', 'phase-mirror', ...args], io);
  return { code, stdout: io.stdout.join(''), stderr: io.stderr.join('') };
}

function report(root: string): DissonanceReport {
  const value: unknown = JSON.parse(readFileSync(join(root, 'dissonance_report.json'), 'utf8'));
  validateReport(value);
  return value;
}

let server: ReplayServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('analyze with GITHUB_TOKEN (recorded GitHub API)', () => {
  it('reads protection, rulesets and the pull request from the API and checks the merge-queue trust chain', async () => {
    // Prepare: a policy declaring a merge queue that forbids admin bypass and requires linear history.
    server = await startReplayServer('protection-api', 'pull-request');
    server.add({ method: 'GET', path: '/repos/acme/api', status: 200, body: { id: 1, full_name: 'acme/api', default_branch: 'main' } });
    const root = copyFixture('planted');
    writeFileSync(
      join(root, '.phase-mirror.yml'),
      'version: 1\npolicy:\n  requiredStatusChecks: [test]\n  mergeQueue:\n    requireLinearHistory: true\n  automation:\n    authors: [octocat]\n',
    );
    const env = { GITHUB_TOKEN: 'test-token', GITHUB_API_URL: server.baseUrl };
    // Act
    const result = await run(root, ['analyze', '.', '--repository', 'acme/api', '--pr', '42', '-f', 'json'], env);
    // Assess
    expect(result.stderr).toBe('');
    const analyzed = report(root);
    // Four files over two pages, one renamed: both of its names count.
    expect(analyzed.meta.event?.changed_files).toBe(5);
    expect(server.requestLines()).toEqual(
      expect.arrayContaining(['GET /repos/acme/api', 'GET /repos/acme/api/branches/main/protection', 'GET /repos/acme/api/pulls/42']),
    );
    expect(server.unmatched).toEqual([]);
    expect(analyzed.items.some((item) => item.rule_id === 'MD-102')).toBe(true);
    // The author and head branch come from the pull request when the event does not carry them.
    expect(analyzed.meta.event).toMatchObject({ author: 'octocat', head_ref: 'feature/login', pr_number: 42 });
    expect(JSON.stringify(analyzed)).not.toContain('test-token');
  });

  it('fails closed with exit 2 and an actionable message when the token is rejected', async () => {
    server = await startReplayServer();
    server.add({ method: 'GET', path: '/repos/acme/api', status: 401, body: { message: 'Bad credentials' } });
    const root = copyFixture('clean');
    const result = await run(root, ['analyze', '.', '--repository', 'acme/api'], { GITHUB_TOKEN: 'tok-SECRET-123', GITHUB_API_URL: server.baseUrl });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('401');
    expect(result.stderr).toContain('GITHUB_API_FAILED');
    expect(result.stderr).not.toContain('tok-SECRET-123');
  });

  it('needs owner/name to read the API', async () => {
    const root = copyFixture('clean');
    const result = await run(root, ['analyze', '.'], { GITHUB_TOKEN: 'x' });
    expect(result.code).toBe(3);
    expect(result.stderr).toContain('--repository');
  });
});

describe('org-scan and MD-101', () => {
  it('writes schema-valid states that analyze checks against the organisation manifest', async () => {
    // Prepare
    server = await startReplayServer('org-acme', 'protection-web', 'protection-docs', 'protection-legacy', 'protection-api');
    const root = copyFixture('clean');
    copyFileSync(join(ORG_FIXTURES, 'manifest.yml'), join(root, 'org.yml'));
    const env = { GITHUB_TOKEN: 'test-token', GITHUB_API_URL: server.baseUrl };
    // Act
    const scan = await run(root, ['org-scan', '--org', 'acme', '-o', 'states.json'], env);
    const analyzed = await run(root, ['analyze', '.', '--org-manifest', 'org.yml', '--org-states', 'states.json', '--dry-run'], {});
    // Assess
    expect(scan.code).toBe(0);
    const states = parseOrgScanFile('states.json', readFileSync(join(root, 'states.json'), 'utf8'));
    expect(states.repositories.map((r) => r.repository)).toEqual(['acme/api', 'acme/docs', 'acme/legacy', 'acme/web']);
    expect(analyzed.code).toBe(0);
    const md101 = report(root).items.filter((item) => item.rule_id === 'MD-101');
    expect(md101.length).toBeGreaterThan(0);
    expect(md101.every((item) => item.evidence.some((e) => e.path.endsWith('org.yml')))).toBe(true);
  });

  it('explains what --org-manifest needs', async () => {
    const root = copyFixture('clean');
    copyFileSync(join(ORG_FIXTURES, 'manifest.yml'), join(root, 'org.yml'));
    const result = await run(root, ['analyze', '.', '--org-manifest', 'org.yml'], {});
    expect(result.code).toBe(3);
    expect(result.stderr).toContain('--org-states');
    expect((await run(root, ['org-scan', '--org', 'acme'], {})).stderr).toContain('GITHUB_TOKEN');
  });
});

describe('CI outputs', () => {
  it('writes SARIF next to the report in the same run and prints a markdown comment', async () => {
    const root = copyFixture('planted');
    const result = await run(root, ['analyze', '.', '-f', 'markdown', '--sarif', 'out.sarif'], {});
    expect(result.code).toBe(1);
    expect(result.stdout.startsWith('<!-- phase-mirror:dissonance-report -->\n## Phase Mirror: block')).toBe(true);
    const sarif = JSON.parse(readFileSync(join(root, 'out.sarif'), 'utf8')) as { version: string; runs: { results: unknown[] }[] };
    expect(sarif.version).toBe('2.1.0');
    expect(sarif.runs[0]!.results.length).toBe(report(root).items.length);
  });
});
