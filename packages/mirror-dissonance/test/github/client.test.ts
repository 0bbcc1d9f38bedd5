import { inspect } from 'node:util';
import { createGitHubClient, networkReason, type GitHubClient } from '../../src/github/client';
import { isGitHubStatus, permissionFor } from '../../src/github/errors';
import { DependencyError } from '../../src/errors';
import { refusedUrl, startReplayServer, type ReplayServer } from './replay-server';

const TOKEN = 'ghp_replayTestToken0123456789abcdefABCDEF';
/** x-ratelimit-reset values in the fixture are relative to this instant (2026-01-01T00:00:00Z). */
const RESET_BASE = 1767225600;

describe('createGitHubClient', () => {
  let server: ReplayServer;
  let waits: number[];
  let client: GitHubClient;

  beforeAll(async () => {
    server = await startReplayServer('client-failures', 'protection-bypass-variants');
  });
  afterAll(() => server.close());
  beforeEach(() => {
    waits = [];
    client = createGitHubClient({
      token: TOKEN,
      baseUrl: `${server.baseUrl}/`,
      sleep: async (ms) => {
        waits.push(ms);
      },
      now: () => RESET_BASE * 1000,
    });
  });

  async function failure(run: () => Promise<unknown>): Promise<DependencyError> {
    const error = await run().then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(DependencyError);
    return error as DependencyError;
  }

  const getRepo = (repo: string) => client.octokit.request('GET /repos/{owner}/{repo}', { owner: 'acme', repo });

  it('sends the token as authorization and its user agent, to the base URL without the trailing slash', async () => {
    // Act
    const { data } = await client.octokit.request('GET /repos/{owner}/{repo}', { owner: 'acme', repo: 'api' });

    // Assess
    expect(client.baseUrl).toBe(server.baseUrl);
    expect(data).toMatchObject({ full_name: 'acme/api' });
    const request = server.requests.at(-1)!;
    expect(request.headers.authorization).toBe(`token ${TOKEN}`);
    expect(request.headers['user-agent']).toMatch(/^phase-mirror /);
  });

  it('describes a route as method and path without the host', () => {
    expect(client.describe('GET /repos/{owner}/{repo}/branches/{branch}/protection', { owner: 'acme', repo: 'api', branch: 'release/v1' })).toBe(
      'GET /repos/acme/api/branches/release%2Fv1/protection',
    );
    expect(client.describe('GET /orgs/{org}/repos', { org: 'acme', type: 'all' })).toBe('GET /orgs/acme/repos?type=all');
  });

  it('waits until an exhausted primary rate limit resets when that is soon, then succeeds', async () => {
    const { data } = await getRepo('rate-soon');
    expect(data).toMatchObject({ full_name: 'acme/x' });
    expect(waits).toEqual([6000]); // 5 s to the reset + 1 s margin
  });

  it('treats a 429 with x-ratelimit-remaining 0 as the primary limit', async () => {
    await getRepo('rate-429');
    expect(waits).toEqual([3000]);
  });

  it('fails with the reset time when the primary limit resets later than it may wait', async () => {
    const error = await failure(() => getRepo('rate-far'));
    expect(error.code).toBe('GITHUB_API_FAILED');
    expect(error.message).toContain('rate limit exhausted; resets at 2026-01-01T01:00:00.000Z');
    expect(error.message).toContain('exceeds maxRateLimitWaitSeconds (60 s)');
    expect(error.context).toMatchObject({ status: 403, endpoint: 'GET /repos/acme/rate-far' });
    expect(waits).toEqual([]);
  });

  it('fails with an unknown reset time when an exhausted limit gives no reset', async () => {
    server.add({ method: 'GET', path: '/repos/acme/rate-unknown', status: 403, headers: { 'x-ratelimit-remaining': '0' }, body: { message: 'API rate limit exceeded' } });
    const error = await failure(() => getRepo('rate-unknown'));
    expect(error.message).toBe('GitHub API rate limit exhausted; resets at an unknown time (GET /repos/acme/rate-unknown)');
    expect(waits).toEqual([]);
  });

  it('waits as long as retry-after says on a 429, then succeeds', async () => {
    await getRepo('secondary');
    expect(waits).toEqual([7000]);
  });

  it('waits as long as retry-after says on a 403 secondary rate limit', async () => {
    await getRepo('secondary-403');
    expect(waits).toEqual([3000]);
  });

  it('waits a minute on a secondary rate limit that gives no retry-after', async () => {
    await getRepo('secondary-no-header');
    expect(waits).toEqual([60000]);
  });

  it('fails when retry-after asks for more than it may wait', async () => {
    const error = await failure(() => getRepo('secondary-long'));
    expect(error.message).toMatch(/secondary rate limit hit on GET \/repos\/acme\/secondary-long \(429\): retry-after 120 s; waiting 120 s exceeds/);
    expect(waits).toEqual([]);
  });

  it('gives up on a rate limit after maxRetries retries', async () => {
    const error = await failure(() => getRepo('secondary-forever'));
    expect(error.message).toContain('still limited after 4 attempts');
    expect(waits).toEqual([1000, 1000, 1000]);
  });

  it('explains a rejected token (401) without showing it', async () => {
    const error = await failure(() => getRepo('unauthorized'));
    expect(error.message).toBe('GITHUB_TOKEN was rejected (401): the token is missing, expired or revoked (GET /repos/acme/unauthorized)');
    expect(error.context).toEqual({ status: 401, endpoint: 'GET /repos/acme/unauthorized', githubMessage: 'Bad credentials' });
    expect(inspect(error, { depth: 10 })).not.toContain(TOKEN);
    expect(JSON.stringify(error.context)).not.toContain(TOKEN);
    expect(waits).toEqual([]);
  });

  it('names the permission branch protection needs on a 403, with what GitHub accepts', async () => {
    const error = await failure(() =>
      client.octokit.request('GET /repos/{owner}/{repo}/branches/{branch}/protection', { owner: 'acme', repo: 'forbidden', branch: 'main' }),
    );
    expect(error.message).toContain('GET /repos/acme/forbidden/branches/main/protection is forbidden (403)');
    expect(error.message).toContain('"Administration: read" (fine-grained token or GitHub App), or the `repo` scope with admin rights');
    expect(error.message).toContain('(GitHub accepts: administration=read)');
    expect(error.message).toContain('Resource not accessible by personal access token');
    expect(waits).toEqual([]);
  });

  it('names the permission the organisation listing needs on a 403', async () => {
    const error = await failure(() => client.octokit.request('GET /orgs/{org}/repos', { org: 'secret', type: 'all', per_page: 100 }));
    expect(error.message).toContain('GET /orgs/secret/repos?type=all&per_page=100 is forbidden (403)');
    expect(error.message).toContain('`read:org`');
  });

  it('asks for read access when the endpoint is not in its permission table', async () => {
    const error = await failure(() => client.octokit.request('GET /repos/acme/custom/custom-endpoint'));
    expect(error.message).toContain('the token lacks the permission it needs: read access to this resource');
  });

  it('says a 404 repository does not exist or is not visible', async () => {
    const error = await failure(() => getRepo('missing'));
    expect(error.message).toBe(
      'GET /repos/acme/missing not found: the repository does not exist or the token cannot see it. GitHub said: "Not Found".',
    );
    expect(isGitHubStatus(error, 404)).toBe(true);
    expect(isGitHubStatus(error, 404, ['Branch not protected'])).toBe(false);
    expect(isGitHubStatus(error, 403)).toBe(false);
    expect(isGitHubStatus(new Error('x'), 404)).toBe(false);
  });

  it('says a 404 organisation does not exist or is not visible', async () => {
    const error = await failure(() => client.octokit.request('GET /orgs/{org}/repos', { org: 'nobody', type: 'all', per_page: 100 }));
    expect(error.message).toContain('not found: the organisation does not exist or the token cannot see it');
  });

  it('reports other client errors with GitHub message', async () => {
    const error = await failure(() => getRepo('invalid'));
    expect(error.message).toBe('GET /repos/acme/invalid failed (422). GitHub said: "Validation Failed".');
  });

  it('retries a 500 with backoff and returns the next success', async () => {
    const { data } = await getRepo('flaky');
    expect(data).toMatchObject({ full_name: 'acme/x' });
    expect(waits).toEqual([1000]);
  });

  it('fails after maxRetries when the API stays unavailable (502)', async () => {
    const before = server.requests.length;
    const error = await failure(() => getRepo('down'));
    expect(error.message).toBe('GitHub API unavailable (502) after 4 attempts: GET /repos/acme/down. GitHub said: "<html><body>Bad gateway</body></html>".');
    expect(waits).toEqual([1000, 2000, 4000]);
    expect(server.requests.length - before).toBe(4);
  });

  it('honours maxRetries 0', async () => {
    const strict = createGitHubClient({ token: TOKEN, baseUrl: server.baseUrl, maxRetries: 0, sleep: async (ms) => void waits.push(ms) });
    const error = await failure(() => strict.octokit.request('GET /repos/{owner}/{repo}', { owner: 'acme', repo: 'down' }));
    expect(error.message).toContain('after 1 attempts');
    expect(waits).toEqual([]);
  });

  it('retries a refused connection, then says the API cannot be reached', async () => {
    const url = await refusedUrl();
    const offline = createGitHubClient({ token: TOKEN, baseUrl: url, maxRetries: 2, sleep: async (ms) => void waits.push(ms) });
    const error = await failure(() => offline.octokit.request('GET /repos/{owner}/{repo}', { owner: 'acme', repo: 'api' }));
    expect(error.message).toMatch(/^cannot reach the GitHub API \(.*ECONNREFUSED.*\) after 3 attempts: GET \/repos\/acme\/api; check GITHUB_API_URL/);
    expect(error.context).toEqual({ endpoint: 'GET /repos/acme/api', githubMessage: expect.stringContaining('ECONNREFUSED') });
    expect(waits).toEqual([1000, 2000]);
  });

  it('lets errors that are not HTTP failures through unchanged', async () => {
    const throwing = createGitHubClient({ token: TOKEN, baseUrl: server.baseUrl, sleep: async (ms) => void waits.push(ms) });
    const bug = new TypeError('a bug in a hook');
    throwing.octokit.hook.before('request', () => {
      throw bug;
    });
    await expect(throwing.octokit.request('GET /repos/{owner}/{repo}', { owner: 'acme', repo: 'api' })).rejects.toBe(bug);
    expect(waits).toEqual([]);
  });

  it.each([
    ['an empty token', { token: ' ' }, 'a GitHub token is required'],
    ['a base URL that is not http(s)', { token: TOKEN, baseUrl: 'ftp://example.com' }, 'must be an http(s) URL'],
    ['negative retries', { token: TOKEN, maxRetries: -1 }, 'maxRetries must be a non-negative integer'],
    ['a negative wait', { token: TOKEN, maxRateLimitWaitSeconds: -5 }, 'maxRateLimitWaitSeconds must be a non-negative number'],
  ])('rejects %s', (_label, options, message) => {
    expect(() => createGitHubClient(options)).toThrow(message);
  });

  it('defaults the base URL to GITHUB_API_URL, then api.github.com', () => {
    const saved = process.env.GITHUB_API_URL;
    try {
      process.env.GITHUB_API_URL = 'https://ghe.example.com/api/v3/';
      expect(createGitHubClient({ token: TOKEN }).baseUrl).toBe('https://ghe.example.com/api/v3');
      delete process.env.GITHUB_API_URL;
      expect(createGitHubClient({ token: TOKEN }).baseUrl).toBe('https://api.github.com');
    } finally {
      if (saved === undefined) delete process.env.GITHUB_API_URL;
      else process.env.GITHUB_API_URL = saved;
    }
  });

  it('received only requests it had recordings for, apart from the refused ones', () => {
    expect(server.unmatched).toEqual([]);
  });
});

describe('networkReason', () => {
  it.each([
    ['the cause message', { message: 'fetch failed', cause: { message: 'connect ECONNREFUSED 127.0.0.1:1', code: 'ECONNREFUSED' } }, 'connect ECONNREFUSED 127.0.0.1:1'],
    ['the first error of an AggregateError cause', { cause: { message: '', errors: [{ message: 'connect ECONNREFUSED ::1:1' }] } }, 'connect ECONNREFUSED ::1:1'],
    ['the cause code', { message: 'fetch failed', cause: { code: 'ETIMEDOUT' } }, 'ETIMEDOUT'],
    ['the message without a cause', new Error('socket hang up'), 'socket hang up'],
    ['the text of a thrown string', 'boom', 'boom'],
  ])('gives %s', (_label, error, reason) => {
    expect(networkReason(error)).toBe(reason);
  });
});

describe('permissionFor', () => {
  it.each([
    ['GET /repos/a/b/branches/main/protection', 'Administration: read'],
    ['GET /repos/a/b/actions/permissions/workflow', 'Administration: read'],
    ['GET /repos/a/b/rules/branches/main?per_page=100', 'Metadata: read'],
    ['GET /repos/a/b/rulesets/12?includes_parents=true', 'Metadata: read'],
    ['GET /repos/a/b/pulls/4/files', 'Pull requests: read'],
    ['GET /repos/a/b/contents/.github%2Fworkflows', 'Contents: read'],
    ['GET /repos/a/b/codeowners/errors', 'Metadata: read'],
  ])('knows what %s needs', (endpoint, permission) => {
    expect(permissionFor(endpoint)).toContain(permission);
  });

  it('knows nothing of other endpoints', () => {
    expect(permissionFor('GET /user')).toBeUndefined();
  });
});
