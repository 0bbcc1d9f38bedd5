import { createGitHubClient, scanOrganization, type GitHubClient } from '../../src/github';
import { DependencyError, UsageError } from '../../src/errors';
import { parseOrgScanFile } from '../../src/org/state-file';
import { startReplayServer, type RecordedExchange, type ReplayServer } from './replay-server';
import { syntheticOrganization } from './synthetic-org';

describe('scanOrganization', () => {
  let server: ReplayServer;
  let client: GitHubClient;

  beforeAll(async () => {
    server = await startReplayServer('org-acme', 'protection-api', 'protection-web', 'protection-docs', 'protection-legacy');
    client = createGitHubClient({ token: 'test-token', baseUrl: server.baseUrl, sleep: async () => undefined });
  });
  afterAll(() => server.close());

  it('reads every repository of a paginated listing, archived included, sorted by name', async () => {
    // Prepare
    const progress: [number, number][] = [];

    // Act
    const scan = await scanOrganization(client, 'acme', { concurrency: 2, onProgress: (done, total) => progress.push([done, total]) });

    // Assess
    expect(scan.organization).toBe('acme');
    expect(scan.source).toBe('GitHub API');
    expect(Date.parse(scan.scannedAt)).not.toBeNaN();
    expect(scan.repositories.map((repository) => repository.repository)).toEqual(['acme/api', 'acme/docs', 'acme/legacy', 'acme/web']);
    expect(progress).toEqual([
      [1, 4],
      [2, 4],
      [3, 4],
      [4, 4],
    ]);
    expect(server.unmatched).toEqual([]);
  });

  it('records listing facts, protection with plain contexts, workflows, token permissions and CODEOWNERS per repository', async () => {
    const scan = await scanOrganization(client, 'acme');
    const [api, docs, legacy, web] = scan.repositories;
    expect(api).toEqual({
      repository: 'acme/api',
      visibility: 'private',
      archived: false,
      topics: ['payments', 'service'],
      language: 'Go',
      defaultBranch: 'main',
      protection: {
        path: 'GET /repos/acme/api/branches/main/protection',
        source: 'api',
        branch: 'main',
        enabled: true,
        requiredContexts: ['test', 'lint', 'build', 'security-scan'],
        strictStatusChecks: true,
        requirePullRequest: true,
        requiredApprovingReviewCount: 2,
        requireCodeOwnerReviews: true,
        dismissStaleReviews: true,
        enforceAdmins: true,
        requireLinearHistory: false,
        allowForcePushes: false,
        mergeQueueRequired: true,
        pushRestricted: false,
      },
      workflows: ['.github/workflows/ci.yml', '.github/workflows/release.yaml'],
      defaultWorkflowPermissions: 'read',
      codeowners: { path: 'CODEOWNERS', errors: 2 },
    });
    expect(docs).toMatchObject({ visibility: 'public', language: 'Markdown', workflows: [], codeowners: { errors: 0 }, protection: { enabled: false } });
    expect(docs!.codeowners.path).toBeUndefined();
    expect(legacy).toMatchObject({ visibility: 'internal', workflows: [], defaultWorkflowPermissions: 'write', codeowners: { path: 'docs/CODEOWNERS', errors: 0 } });
    expect(legacy).not.toHaveProperty('language');
    expect(web).toMatchObject({
      archived: true,
      topics: ['frontend'],
      workflows: ['.github/workflows/deploy.yml'],
      defaultWorkflowPermissions: 'write',
      codeowners: { path: '.github/CODEOWNERS', errors: 0 },
      protection: { enforceAdmins: false, requiredContexts: ['ci'] },
    });
  });

  it('scans a 500-repository organisation from a paginated listing', async () => {
    // Prepare
    const replay = await startReplayServer();
    const { exchanges, expected } = syntheticOrganization('bigco', 500);
    replay.add(...exchanges);
    const local = createGitHubClient({ token: 'test-token', baseUrl: replay.baseUrl, sleep: async () => undefined });
    let last: [number, number] = [0, 0];

    try {
      // Act
      const scan = await scanOrganization(local, 'bigco', { onProgress: (done, total) => (last = [done, total]) });

      // Assess
      expect(scan.repositories).toHaveLength(500);
      expect(scan.repositories).toEqual(expected);
      // What org-scan writes reads back as states (the org-scan schema accepts it).
      expect(parseOrgScanFile('scan.json', JSON.stringify(scan)).repositories).toEqual(expected);
      expect(last).toEqual([500, 500]);
      expect(replay.unmatched).toEqual([]);
      expect(replay.requestLines().filter((line) => line.includes('/repos?') || line.startsWith('GET /orgs/'))).toHaveLength(5);
    } finally {
      await replay.close();
    }
    // Thousands of loopback requests: allow for a loaded CI machine (not a timing assertion).
  }, 60_000);

  it('fails the whole scan naming the repository that failed, starting no repository after it', async () => {
    // Prepare
    const replay = await startReplayServer();
    replay.add(...withAnswers(syntheticOrganization('bigco', 3).exchanges, { '/repos/bigco/svc-0001/actions/permissions/workflow': forbidden }));
    const local = createGitHubClient({ token: 'test-token', baseUrl: replay.baseUrl, sleep: async () => undefined });

    try {
      // Act
      const error = await scanOrganization(local, 'bigco', { concurrency: 1 }).catch((caught: unknown) => caught);

      // Assess
      expect(error).toBeInstanceOf(DependencyError);
      expect((error as DependencyError).message).toMatch(
        /^org scan of bigco failed at repository bigco\/svc-0001: GET \/repos\/bigco\/svc-0001\/actions\/permissions\/workflow is forbidden \(403\)/,
      );
      expect((error as DependencyError).message).toContain('"Administration: read"');
      expect((error as DependencyError).context).toMatchObject({ status: 403, repository: 'bigco/svc-0001' });
      // Listed newest first (svc-0002, svc-0001, svc-0000): the one after the failure never started.
      expect(replay.requestLines().some((line) => line.includes('svc-0000'))).toBe(false);
    } finally {
      await replay.close();
    }
  });

  it('rejects a concurrency that is not a positive integer', async () => {
    await expect(scanOrganization(client, 'acme', { concurrency: 0 })).rejects.toBeInstanceOf(UsageError);
  });

  it('returns an empty scan for an organisation without repositories', async () => {
    const replay = await startReplayServer();
    try {
      replay.add({ method: 'GET', path: '/orgs/empty/repos', query: { type: 'all', per_page: '100' }, status: 200, body: [] });
      const local = createGitHubClient({ token: 'test-token', baseUrl: replay.baseUrl });
      const scan = await scanOrganization(local, 'empty');
      expect(scan.repositories).toEqual([]);
    } finally {
      await replay.close();
    }
  });
});

const forbidden = { status: 403, body: { message: 'Resource not accessible by integration' } };

/** The exchanges with some answers (by path) replaced. */
function withAnswers(exchanges: readonly RecordedExchange[], answers: Readonly<Record<string, { status: number; body: unknown }>>): RecordedExchange[] {
  return exchanges.map((exchange) => (answers[exchange.path] === undefined ? exchange : { ...exchange, ...answers[exchange.path] }));
}

describe('scanOrganization with malformed listings', () => {
  let server: ReplayServer;
  let client: GitHubClient;
  const owner = { login: 'odd' };
  const base = { owner, visibility: 'public', default_branch: 'main' };
  const listing = (org: string, body: unknown) => ({ method: 'GET', path: `/orgs/${org}/repos`, query: { type: 'all', per_page: '100' }, status: 200, body });

  beforeAll(async () => {
    server = await startReplayServer();
    server.add(
      listing('noname', [{ ...base }]),
      listing('noowner', [{ ...base, name: 'a', full_name: 'o/a', owner: {} }]),
      listing('novis', [{ ...base, name: 'a', full_name: 'o/a', visibility: 'secret' }]),
      listing('nobranch', [{ ...base, name: 'a', full_name: 'o/a', default_branch: null }]),
      listing('badtopics', [{ ...base, name: 'a', full_name: 'o/a', topics: [1] }]),
    );
    client = createGitHubClient({ token: 'test-token', baseUrl: server.baseUrl });
  });
  afterAll(() => server.close());

  it.each([
    ['noname', 'repository 0 has no name'],
    ['noowner', 'repository 0 (o/a) has no owner.login'],
    ['novis', 'repository 0 (o/a) has an unknown visibility "secret"'],
    ['nobranch', 'repository 0 (o/a) has no default_branch'],
    ['badtopics', 'repository 0 (o/a) has invalid topics'],
  ])('rejects the %s listing', async (org, message) => {
    await expect(scanOrganization(client, org)).rejects.toThrow(`unexpected response from GET /orgs/${org}/repos?type=all&per_page=100: ${message}`);
  });
});

describe('scanOrganization with malformed repository answers', () => {
  let server: ReplayServer;
  let client: GitHubClient;

  function organisation(org: string, replace: Record<string, { status: number; body: unknown }>): void {
    const answers = Object.fromEntries(Object.entries(replace).map(([suffix, answer]) => [`/repos/${org}/svc-0000${suffix}`, answer]));
    server.add(...withAnswers(syntheticOrganization(org, 1).exchanges, answers));
  }

  beforeAll(async () => {
    server = await startReplayServer();
    organisation('perm', { '/actions/permissions/workflow': { status: 200, body: { default_workflow_permissions: 'admin' } } });
    organisation('wf', { '/contents/.github%2Fworkflows': { status: 200, body: [{ name: 'x' }] } });
    organisation('wffile', { '/contents/.github%2Fworkflows': { status: 200, body: { type: 'file', path: '.github/workflows' } } });
    organisation('coerr', { '/codeowners/errors': { status: 200, body: {} } });
    organisation('cofile', { '/contents/.github%2FCODEOWNERS': { status: 404, body: { message: 'Not Found' } } });
    organisation('cofail', { '/contents/.github%2FCODEOWNERS': { status: 403, body: { message: 'Resource not accessible' } } });
    organisation('wffail', { '/contents/.github%2Fworkflows': { status: 401, body: { message: 'Bad credentials' } } });
    organisation('errfail', { '/codeowners/errors': { status: 401, body: { message: 'Bad credentials' } } });
    server.add(
      { method: 'GET', path: '/repos/cofile/svc-0000/contents/CODEOWNERS', status: 404, body: { message: 'Not Found' } },
      { method: 'GET', path: '/repos/cofile/svc-0000/contents/docs%2FCODEOWNERS', status: 404, body: { message: 'Not Found' } },
    );
    client = createGitHubClient({ token: 'test-token', baseUrl: server.baseUrl });
  });
  afterAll(() => server.close());

  it.each([
    ['perm', 'default_workflow_permissions is "admin", expected read or write'],
    ['wf', 'GET /repos/wf/svc-0000/contents/.github%2Fworkflows: entry 0 has no type or path'],
    ['coerr', 'GET /repos/coerr/svc-0000/codeowners/errors: errors[] is missing'],
    ['cofile', 'GitHub validates a CODEOWNERS file but none exists at .github/CODEOWNERS, CODEOWNERS, docs/CODEOWNERS'],
    ['cofail', 'GET /repos/cofail/svc-0000/contents/.github%2FCODEOWNERS is forbidden (403)'],
    ['wffail', 'GITHUB_TOKEN was rejected (401)'],
    ['errfail', 'GITHUB_TOKEN was rejected (401)'],
  ])('fails the %s scan naming the repository', async (org, message) => {
    const error = await scanOrganization(client, org).catch((caught: unknown) => caught);
    expect((error as Error).message).toContain(`org scan of ${org} failed at repository ${org}/svc-0000: `);
    expect((error as Error).message).toContain(message);
  });

  it('counts a file at .github/workflows as no workflows', async () => {
    const scan = await scanOrganization(client, 'wffile');
    expect(scan.repositories[0]!.workflows).toEqual([]);
  });
});
