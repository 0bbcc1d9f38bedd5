import { createGitHubClient, type GitHubClient } from '../../src/github/client';
import { fetchPullRequestFacts, pullRequestFactsFromPayload } from '../../src/github/pull-request';
import { DependencyError, InputError } from '../../src/errors';
import { startReplayServer, type ReplayServer } from './replay-server';

describe('fetchPullRequestFacts', () => {
  let server: ReplayServer;
  let client: GitHubClient;

  beforeAll(async () => {
    server = await startReplayServer('pull-request');
    server.add(
      { method: 'GET', path: '/repos/acme/bad/pulls/1', status: 200, body: { user: { login: 'a' }, head: { ref: 'x' }, labels: [], changed_files: 1 } },
      { method: 'GET', path: '/repos/acme/bad/pulls/1/files', query: { per_page: '100' }, status: 200, body: [{ filename: 'a.ts' }] },
      { method: 'GET', path: '/repos/acme/bad/pulls/1/reviews', query: { per_page: '100' }, status: 200, body: [{ user: { login: 'b' }, state: 'LGTM' }] },
      { method: 'GET', path: '/repos/acme/bad/pulls/2', status: 200, body: { user: {}, head: { ref: 'x' } } },
      { method: 'GET', path: '/repos/acme/bad/pulls/3', status: 200, body: { user: { login: 'a' } } },
      { method: 'GET', path: '/repos/acme/bad/pulls/4', status: 200, body: { user: { login: 'a' }, head: { ref: 'x' }, labels: {} } },
      { method: 'GET', path: '/repos/acme/bad/pulls/5', status: 200, body: { user: { login: 'a' }, head: { ref: 'x' }, labels: [{ id: 1 }] } },
      { method: 'GET', path: '/repos/acme/bad/pulls/6', status: 200, body: { user: { login: 'a' }, head: { ref: 'x' } } },
      { method: 'GET', path: '/repos/acme/bad/pulls/6/files', query: { per_page: '100' }, status: 200, body: [{ status: 'added' }] },
      { method: 'GET', path: '/repos/acme/bad/pulls/7', status: 200, body: { user: { login: 'a' }, head: { ref: 'x' } } },
      { method: 'GET', path: '/repos/acme/bad/pulls/7/files', query: { per_page: '100' }, status: 200, body: [] },
      { method: 'GET', path: '/repos/acme/bad/pulls/7/reviews', query: { per_page: '100' }, status: 200, body: ['x'] },
      { method: 'GET', path: '/repos/acme/bad/pulls/8', status: 200, body: 'no' },
      { method: 'GET', path: '/repos/acme/bad/pulls/9', status: 200, body: { user: { login: 'a' }, head: { ref: 'x' } } },
      { method: 'GET', path: '/repos/acme/bad/pulls/9/files', query: { per_page: '100' }, status: 200, body: [] },
      { method: 'GET', path: '/repos/acme/bad/pulls/9/reviews', query: { per_page: '100' }, status: 200, body: [{ user: { id: 1 }, state: 'APPROVED' }] },
    );
    client = createGitHubClient({ token: 'test-token', baseUrl: server.baseUrl, sleep: async () => undefined });
  });
  afterAll(() => server.close());

  it('reads author, head branch, labels, paginated files with both sides of a rename, and paginated reviews', async () => {
    // Act
    const { facts, changedFiles } = await fetchPullRequestFacts(client, { owner: 'acme', repo: 'api' }, 42);

    // Assess
    expect(facts).toEqual({
      number: 42,
      author: 'octocat',
      headRef: 'feature/login',
      labels: ['security', 'needs-review'],
      reviews: [
        { user: 'alice', state: 'CHANGES_REQUESTED', submittedAt: '2026-01-05T09:00:00Z' },
        { user: 'ghost', state: 'COMMENTED', submittedAt: '2026-01-05T10:00:00Z' },
        { user: 'alice', state: 'APPROVED', submittedAt: '2026-01-05T11:00:00Z' },
      ],
      source: 'GET /repos/acme/api/pulls/42',
    });
    expect(changedFiles).toEqual(['.github/workflows/ci.yml', 'README.md', 'src/auth/session.ts', 'src/login.ts', 'src/session.ts']);
    expect(server.requestLines()).toEqual(
      expect.arrayContaining(['GET /repositories/1/pulls/42/files?page=2&per_page=100', 'GET /repositories/1/pulls/42/reviews?page=2&per_page=100']),
    );
  });

  it('fails rather than return part of the files of a pull request beyond the API cap', async () => {
    const error = await fetchPullRequestFacts(client, { owner: 'acme', repo: 'api' }, 43).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(DependencyError);
    expect((error as Error).message).toBe(
      'unexpected response from GET /repos/acme/api/pulls/43/files: pull request #43 changes 3500 files but the API lists 2 (it stops at 3000); compute the changed files from git instead (analyze --base)',
    );
  });

  it('keeps a review without submission time (pending) without submittedAt', async () => {
    const replay = await startReplayServer();
    try {
      replay.add(
        { method: 'GET', path: '/repos/acme/p/pulls/5', status: 200, body: { user: { login: 'a' }, head: { ref: 'x' }, labels: [] } },
        { method: 'GET', path: '/repos/acme/p/pulls/5/files', query: { per_page: '100' }, status: 200, body: [] },
        { method: 'GET', path: '/repos/acme/p/pulls/5/reviews', query: { per_page: '100' }, status: 200, body: [{ user: { login: 'me' }, state: 'PENDING' }] },
      );
      const local = createGitHubClient({ token: 'test-token', baseUrl: replay.baseUrl });
      const { facts } = await fetchPullRequestFacts(local, { owner: 'acme', repo: 'p' }, 5);
      expect(facts.reviews).toEqual([{ user: 'me', state: 'PENDING' }]);
    } finally {
      await replay.close();
    }
  });

  it.each([
    [1, 'GET /repos/acme/bad/pulls/1/reviews: review 0 has an unknown state "LGTM"'],
    [2, 'GET /repos/acme/bad/pulls/2: user.login is missing'],
    [3, 'GET /repos/acme/bad/pulls/3: head.ref is missing'],
    [4, 'GET /repos/acme/bad/pulls/4: labels is not an array'],
    [5, 'GET /repos/acme/bad/pulls/5: labels[0].name is missing'],
    [6, 'GET /repos/acme/bad/pulls/6/files: file 0 has no filename'],
    [7, 'GET /repos/acme/bad/pulls/7/reviews: review 0 is not an object'],
    [8, 'GET /repos/acme/bad/pulls/8: the pull request is not an object'],
    [9, 'GET /repos/acme/bad/pulls/9/reviews: review 0 user.login is missing'],
  ])('rejects malformed answer #%d naming the endpoint', async (number, message) => {
    const error = await fetchPullRequestFacts(client, { owner: 'acme', repo: 'bad' }, number).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(DependencyError);
    expect((error as Error).message).toBe(`unexpected response from ${message}`);
  });

  it('asked only for recorded responses', () => {
    expect(server.unmatched).toEqual([]);
  });
});

describe('pullRequestFactsFromPayload', () => {
  const PATH = '/home/runner/work/_temp/_github_workflow/event.json';

  it('extracts number, author, head branch and labels of a pull_request event', () => {
    const payload = {
      action: 'synchronize',
      number: 42,
      pull_request: { number: 42, user: { login: 'octocat' }, head: { ref: 'feature/login' }, labels: [{ name: 'security' }] },
    };
    expect(pullRequestFactsFromPayload(PATH, payload)).toEqual({ number: 42, author: 'octocat', headRef: 'feature/login', labels: ['security'], source: PATH });
  });

  it('takes the number from the payload when the pull request omits it, and no labels as none', () => {
    const payload = { number: 7, pull_request: { user: { login: 'a' }, head: { ref: 'b' } } };
    expect(pullRequestFactsFromPayload(PATH, payload)).toEqual({ number: 7, author: 'a', headRef: 'b', labels: [], source: PATH });
  });

  it.each([
    ['a push event', { ref: 'refs/heads/main', commits: [] }],
    ['a merge_group event', { merge_group: { head_ref: 'refs/heads/gh-readonly-queue/main/pr-1' } }],
    ['a null pull_request', { pull_request: null }],
    ['a payload that is not an object', 'text'],
  ])('returns undefined for %s', (_label, payload) => {
    expect(pullRequestFactsFromPayload(PATH, payload)).toBeUndefined();
  });

  it.each([
    ['pull_request', { pull_request: [] }, 'pull_request is not an object'],
    ['pull_request.number', { pull_request: { number: 0, user: { login: 'a' }, head: { ref: 'b' } } }, 'pull_request.number must be a positive integer'],
    ['pull_request.user.login', { pull_request: { number: 1, user: null, head: { ref: 'b' } } }, 'pull_request.user.login is missing'],
    ['pull_request.head.ref', { pull_request: { number: 1, user: { login: 'a' }, head: {} } }, 'pull_request.head.ref is missing'],
    ['pull_request.labels', { pull_request: { number: 1, user: { login: 'a' }, head: { ref: 'b' }, labels: [{}] } }, 'pull_request.labels[0].name is missing'],
  ])('rejects a payload with a bad %s, naming the file and field', (field, payload, message) => {
    const error = (() => {
      try {
        pullRequestFactsFromPayload(PATH, payload);
        return undefined;
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toBeInstanceOf(InputError);
    expect(error).toMatchObject({ code: 'INPUT_INVALID', message: `event payload: ${message}`, location: { file: PATH, field } });
  });
});
