import { createGitHubClient, type GitHubClient } from '../../src/github/client';
import { fetchBranchProtection, fetchDefaultBranch } from '../../src/github/branch-protection';
import { DependencyError } from '../../src/errors';
import { startReplayServer, type ReplayServer } from './replay-server';

describe('fetchBranchProtection', () => {
  let server: ReplayServer;
  let client: GitHubClient;

  beforeAll(async () => {
    server = await startReplayServer('protection-api', 'protection-web', 'protection-docs', 'protection-legacy', 'protection-bypass-variants');
    client = createGitHubClient({ token: 'test-token', baseUrl: server.baseUrl, sleep: async () => undefined });
  });
  afterAll(() => server.close());
  afterEach(() => expect(server.unmatched).toEqual([]));

  it('merges classic protection with rulesets that do not let admins bypass, merge queue included', async () => {
    // Act
    const protection = await fetchBranchProtection(client, { owner: 'acme', repo: 'api' }, 'main');

    // Assess
    const classic = 'GET /repos/acme/api/branches/main/protection';
    const rules = 'GET /repos/acme/api/rules/branches/main';
    expect(protection).toEqual({
      path: classic,
      source: 'api',
      branch: 'main',
      enabled: true,
      requiredContexts: [
        { value: 'test', path: classic, line: 0 },
        { value: 'lint', path: classic, line: 0 },
        { value: 'build', path: classic, line: 0 },
        { value: 'security-scan', path: rules, line: 0 },
      ],
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
    });
  });

  it('reads the bypass actors of each applying ruleset only', async () => {
    const before = server.requests.length;
    await fetchBranchProtection(client, { owner: 'acme', repo: 'api' }, 'main');
    expect(server.requestLines().slice(before)).toEqual([
      'GET /repos/acme/api/branches/main/protection',
      'GET /repos/acme/api/rules/branches/main?per_page=100',
      'GET /repos/acme/api/rulesets?includes_parents=true&per_page=100',
      'GET /repos/acme/api/rulesets/11?includes_parents=true',
      'GET /repos/acme/api/rulesets/12?includes_parents=true',
    ]);
  });

  it('does not enforce admins when an applying ruleset lets the repository admin role bypass', async () => {
    const protection = await fetchBranchProtection(client, { owner: 'acme', repo: 'web' }, 'main');
    expect(protection).toMatchObject({
      enabled: true,
      requiredContexts: [{ value: 'ci', path: 'GET /repos/acme/web/rules/branches/main', line: 0 }],
      strictStatusChecks: true,
      requirePullRequest: false,
      requiredApprovingReviewCount: 0,
      enforceAdmins: false,
      requireLinearHistory: true,
      allowForcePushes: true,
      mergeQueueRequired: false,
      pushRestricted: true,
    });
  });

  it('does not enforce admins when organisation admins may bypass, reading rules over two pages', async () => {
    const before = server.requests.length;
    const protection = await fetchBranchProtection(client, { owner: 'acme', repo: 'tools' }, 'main');
    expect(protection).toMatchObject({ enabled: true, requirePullRequest: true, requiredApprovingReviewCount: 1, requireCodeOwnerReviews: true, enforceAdmins: false });
    expect(server.requestLines().slice(before)).toContain('GET /repositories/9001/rules/branches/main?page=2&per_page=100');
  });

  it('reports an unprotected branch as not enabled', async () => {
    const protection = await fetchBranchProtection(client, { owner: 'acme', repo: 'docs' }, 'main');
    expect(protection).toEqual({
      path: 'GET /repos/acme/docs/branches/main/protection',
      source: 'api',
      branch: 'main',
      enabled: false,
      requiredContexts: [],
      strictStatusChecks: false,
      requirePullRequest: false,
      requiredApprovingReviewCount: 0,
      requireCodeOwnerReviews: false,
      dismissStaleReviews: false,
      enforceAdmins: false,
      requireLinearHistory: false,
      allowForcePushes: true,
      mergeQueueRequired: false,
      pushRestricted: false,
    });
    expect(server.requestLines()).not.toContain('GET /repos/acme/docs/rulesets?includes_parents=true&per_page=100');
  });

  it('reads classic protection alone: admins not enforced, force pushes allowed, pushes restricted', async () => {
    const protection = await fetchBranchProtection(client, { owner: 'acme', repo: 'legacy' }, 'main');
    expect(protection).toMatchObject({
      enabled: true,
      requiredContexts: [{ value: 'ci/jenkins', path: 'GET /repos/acme/legacy/branches/main/protection', line: 0 }],
      strictStatusChecks: false,
      requirePullRequest: false,
      enforceAdmins: false,
      requireLinearHistory: true,
      allowForcePushes: true,
      pushRestricted: true,
    });
  });

  it('treats a branch that does not exist as unprotected by classic rules but keeps the rules for its name', async () => {
    const protection = await fetchBranchProtection(client, { owner: 'acme', repo: 'branchless' }, 'main');
    expect(protection).toMatchObject({ enabled: true, requiredContexts: [], enforceAdmins: true, allowForcePushes: true });
  });

  it('fails when the token cannot see the bypass actors of an applying ruleset', async () => {
    const error = await fetchBranchProtection(client, { owner: 'acme', repo: 'hidden' }, 'main').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(DependencyError);
    expect((error as DependencyError).code).toBe('GITHUB_API_FAILED');
    expect((error as DependencyError).message).toContain('ruleset "org force-push ban" (id 41) does not show its bypass actors to this token');
    expect((error as DependencyError).message).toContain('"Administration: read"');
    expect((error as DependencyError).context).toEqual({ status: 200, endpoint: 'GET /repos/acme/hidden/rulesets/41?includes_parents=true' });
  });

  it('fails on a 404 that is not "Branch not protected"', async () => {
    await expect(fetchBranchProtection(client, { owner: 'acme', repo: 'gone' }, 'main')).rejects.toThrow(
      'GET /repos/acme/gone/branches/main/protection not found: the repository does not exist or the token cannot see it',
    );
  });
});

describe('fetchBranchProtection with malformed answers', () => {
  let server: ReplayServer;
  let client: GitHubClient;
  const protection = (repo: string, status: number, body: unknown) => ({ method: 'GET', path: `/repos/acme/${repo}/branches/main/protection`, status, body });
  const rules = (repo: string, body: unknown) => ({ method: 'GET', path: `/repos/acme/${repo}/rules/branches/main`, query: { per_page: '100' }, status: 200, body });
  const notProtected = { message: 'Branch not protected' };

  beforeAll(async () => {
    server = await startReplayServer();
    server.add(
      protection('array', 200, []),
      protection('badcontext', 200, { required_status_checks: { contexts: [7], checks: [] } }),
      protection('notype', 404, notProtected),
      rules('notype', [{ parameters: {} }]),
      protection('noid', 404, notProtected),
      rules('noid', [{ type: 'deletion' }]),
      protection('nochecks', 404, notProtected),
      rules('nochecks', [{ type: 'required_status_checks', ruleset_id: 1, parameters: {} }]),
      protection('badcheck', 404, notProtected),
      rules('badcheck', [{ type: 'required_status_checks', ruleset_id: 1, parameters: { required_status_checks: [{ integration_id: 1 }] } }]),
      protection('badcount', 404, notProtected),
      rules('badcount', [{ type: 'pull_request', ruleset_id: 1, parameters: { required_approving_review_count: -1 } }]),
      protection('badruleset', 404, notProtected),
      rules('badruleset', [{ type: 'deletion', ruleset_id: 1 }]),
      { method: 'GET', path: '/repos/acme/badruleset/rulesets', query: { includes_parents: 'true', per_page: '100' }, status: 200, body: [] },
      { method: 'GET', path: '/repos/acme/badruleset/rulesets/1', query: { includes_parents: 'true' }, status: 200, body: 'not json' },
      { method: 'GET', path: '/repos/acme/nobranch', status: 200, body: { name: 'nobranch' } },
    );
    client = createGitHubClient({ token: 'test-token', baseUrl: server.baseUrl, sleep: async () => undefined });
  });
  afterAll(() => server.close());

  it.each([
    ['array', 'unexpected response from GET /repos/acme/array/branches/main/protection: the protection is not an object'],
    ['badcontext', 'unexpected response from GET /repos/acme/badcontext/branches/main/protection: required_status_checks.contexts.0: a required context must be a string'],
    ['notype', 'GET /repos/acme/notype/rules/branches/main: rule 0 has no type'],
    ['noid', 'rule 0 (deletion) has no ruleset_id'],
    ['nochecks', 'rule 0 (required_status_checks) has no parameters.required_status_checks[]'],
    ['badcheck', 'rule 0 (required_status_checks) has a check without a string context'],
    ['badcount', 'rule 0 (pull_request) has an invalid required_approving_review_count'],
    ['badruleset', 'GET /repos/acme/badruleset/rulesets/1?includes_parents=true: the ruleset is not an object'],
  ])('rejects the %s answer with the endpoint', async (repo, message) => {
    const error = await fetchBranchProtection(client, { owner: 'acme', repo }, 'main').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(DependencyError);
    expect((error as Error).message).toContain(message);
  });

  it('reads the default branch and rejects an answer without one', async () => {
    const replay = await startReplayServer('protection-bypass-variants');
    try {
      const local = createGitHubClient({ token: 'test-token', baseUrl: replay.baseUrl });
      await expect(fetchDefaultBranch(local, { owner: 'acme', repo: 'api' })).resolves.toBe('main');
    } finally {
      await replay.close();
    }
    await expect(fetchDefaultBranch(client, { owner: 'acme', repo: 'nobranch' })).rejects.toThrow('unexpected response from GET /repos/acme/nobranch: default_branch is missing');
  });
});
