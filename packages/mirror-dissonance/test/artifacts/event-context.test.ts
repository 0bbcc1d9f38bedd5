import { basename, join } from 'node:path';
import { InputError, UsageError } from '../../src/errors';
import { resolveEventContext } from '../../src/artifacts/event-context';
import { git, makeGitRepo, makeTree, removeTrees, writeTreeFile } from './tmp-tree';

const EVENTS = join(__dirname, '..', 'fixtures', 'artifacts', 'events');

afterEach(removeTrees);

/** A repository on branch `feature` one commit ahead of `main`, changing `src/app.ts`. */
function featureRepo(): string {
  const root = makeGitRepo({ 'src/app.ts': 'v1\n', 'README.md': 'r\n' });
  git(root, 'checkout', '--quiet', '-b', 'feature');
  writeTreeFile(root, 'src/app.ts', 'v2\n');
  git(root, 'commit', '--quiet', '-am', 'change app');
  return root;
}

describe('resolveEventContext defaults', () => {
  it('uses mode pull_request, eventName = mode and the root basename when nothing is given', () => {
    const root = makeTree();

    const context = resolveEventContext({}, {}, root);

    expect(context).toEqual({
      mode: 'pull_request',
      eventName: 'pull_request',
      repository: basename(root),
      strict: false,
      dryRun: false,
    });
    expect(context.changedFiles).toBeUndefined();
  });

  it('takes every field from flags', () => {
    const root = featureRepo();

    const context = resolveEventContext(
      {
        mode: 'merge_group',
        eventName: 'merge_group',
        repository: 'acme/widgets',
        pr: '7',
        sha: 'abc1234',
        headRef: 'feature',
        base: 'main',
        author: 'octocat',
        strict: true,
        dryRun: true,
      },
      {},
      root,
    );

    expect(context).toEqual({
      mode: 'merge_group',
      eventName: 'merge_group',
      repository: 'acme/widgets',
      prNumber: 7,
      commitSha: 'abc1234',
      headRef: 'feature',
      baseRef: 'main',
      author: 'octocat',
      changedFiles: ['src/app.ts'],
      strict: true,
      dryRun: true,
    });
  });

  it('derives the mode from --event-name when --mode is absent', () => {
    expect(resolveEventContext({ eventName: 'schedule' }, {}, makeTree()).mode).toBe('drift');
  });
});

describe('resolveEventContext from GitHub Actions', () => {
  it('reads a pull_request payload: number, author, head sha and ref, base ref', () => {
    const root = featureRepo();
    const env = {
      GITHUB_EVENT_NAME: 'pull_request',
      GITHUB_EVENT_PATH: join(EVENTS, 'pull_request.json'),
      GITHUB_REPOSITORY: 'acme/widgets',
      GITHUB_SHA: 'ffffffffffffffffffffffffffffffffffffffff',
      GITHUB_REF: 'refs/pull/42/merge',
      GITHUB_BASE_REF: 'ignored-because-payload-has-base',
      GITHUB_ACTOR: 'someone-else',
    };

    const context = resolveEventContext({}, env, root);

    expect(context).toEqual({
      mode: 'pull_request',
      eventName: 'pull_request',
      repository: 'acme/widgets',
      prNumber: 42,
      commitSha: '0123456789abcdef0123456789abcdef01234567',
      headRef: 'feature/permissions',
      baseRef: 'main',
      author: 'octocat',
      changedFiles: ['src/app.ts'],
      strict: false,
      dryRun: false,
    });
  });

  it('maps pull_request_target to mode pull_request and keeps the event name', () => {
    const context = resolveEventContext({}, { GITHUB_EVENT_NAME: 'pull_request_target' }, makeTree());

    expect(context).toMatchObject({ mode: 'pull_request', eventName: 'pull_request_target' });
  });

  it('reads a merge_group payload: head sha, queue ref and base ref stripped of refs/heads/', () => {
    const root = featureRepo();
    const env = {
      GITHUB_EVENT_NAME: 'merge_group',
      GITHUB_EVENT_PATH: join(EVENTS, 'merge_group.json'),
      GITHUB_ACTOR: 'octocat',
      GITHUB_SHA: 'ffffffffffffffffffffffffffffffffffffffff',
    };

    const context = resolveEventContext({}, env, root);

    expect(context).toEqual({
      mode: 'merge_group',
      eventName: 'merge_group',
      repository: 'acme/widgets',
      commitSha: 'fedcba9876543210fedcba9876543210fedcba98',
      headRef: 'gh-readonly-queue/main/pr-42-0123456789abcdef0123456789abcdef01234567',
      baseRef: 'main',
      author: 'octocat',
      changedFiles: ['src/app.ts'],
      strict: false,
      dryRun: false,
    });
  });

  it.each(['schedule', 'workflow_dispatch', 'push'])('maps %s to drift with no base and no changed files', (eventName) => {
    const env = {
      GITHUB_EVENT_NAME: eventName,
      GITHUB_EVENT_PATH: join(EVENTS, 'schedule.json'),
      GITHUB_SHA: '1111111111111111111111111111111111111111',
      GITHUB_REF: 'refs/heads/main',
      GITHUB_BASE_REF: '',
      GITHUB_ACTOR: 'scheduler',
    };

    const context = resolveEventContext({}, env, makeTree());

    expect(context).toEqual({
      mode: 'drift',
      eventName,
      repository: 'acme/widgets',
      commitSha: '1111111111111111111111111111111111111111',
      headRef: 'main',
      author: 'scheduler',
      strict: false,
      dryRun: false,
    });
  });

  it('lets --mode override the mode the event implies', () => {
    const context = resolveEventContext({ mode: 'calibration' }, { GITHUB_EVENT_NAME: 'schedule' }, makeTree());

    expect(context).toMatchObject({ mode: 'calibration', eventName: 'schedule' });
  });

  it('lets flags win over the payload and the environment', () => {
    const root = featureRepo();
    git(root, 'branch', 'release', 'main');
    const env = { GITHUB_EVENT_NAME: 'pull_request', GITHUB_EVENT_PATH: join(EVENTS, 'pull_request.json'), GITHUB_REPOSITORY: 'acme/widgets' };

    const context = resolveEventContext({ pr: '9', sha: 'abcdef1', author: 'flag-author', base: 'release', headRef: 'x', repository: 'o/r' }, env, root);

    expect(context).toMatchObject({ prNumber: 9, commitSha: 'abcdef1', author: 'flag-author', baseRef: 'release', headRef: 'x', repository: 'o/r' });
  });

  it('uses GITHUB_HEAD_REF, GITHUB_BASE_REF and GITHUB_ACTOR when there is no payload', () => {
    const root = featureRepo();
    const env = { GITHUB_EVENT_NAME: 'pull_request', GITHUB_HEAD_REF: 'feature', GITHUB_BASE_REF: 'main', GITHUB_ACTOR: 'actor', GITHUB_REF: 'refs/pull/3/merge' };

    const context = resolveEventContext({}, env, root);

    expect(context).toMatchObject({ headRef: 'feature', baseRef: 'main', author: 'actor', changedFiles: ['src/app.ts'] });
    expect(context.prNumber).toBeUndefined();
  });

  it('does not take a non-branch GITHUB_REF as the head ref', () => {
    const context = resolveEventContext({}, { GITHUB_EVENT_NAME: 'push', GITHUB_REF: 'refs/tags/v1.0.0' }, makeTree());

    expect(context.headRef).toBeUndefined();
  });
});

describe('resolveEventContext errors', () => {
  it('rejects an unknown --mode with a UsageError on --mode listing the valid modes', () => {
    const attempt = () => resolveEventContext({ mode: 'audit' }, {}, makeTree());

    expect(attempt).toThrow(UsageError);
    expect(attempt).toThrow(expect.objectContaining({ code: 'USAGE', location: { flag: '--mode' } }));
    expect(attempt).toThrow('unknown mode "audit"; valid modes: pull_request, merge_group, drift, calibration');
  });

  it('rejects an event that implies no mode unless --mode is given', () => {
    const attempt = () => resolveEventContext({}, { GITHUB_EVENT_NAME: 'issue_comment' }, makeTree());

    expect(attempt).toThrow(expect.objectContaining({ code: 'USAGE', location: { flag: '--mode' } }));
    expect(resolveEventContext({ mode: 'drift' }, { GITHUB_EVENT_NAME: 'issue_comment' }, makeTree()).mode).toBe('drift');
  });

  it.each(['abc', '1.5', '0', '-3', '12abc', '99999999999999999999'])('rejects --pr %p with a UsageError on --pr', (pr) => {
    const attempt = () => resolveEventContext({ pr }, {}, makeTree());

    expect(attempt).toThrow(UsageError);
    expect(attempt).toThrow(expect.objectContaining({ location: { flag: '--pr' } }));
  });

  it('names the payload file when GITHUB_EVENT_PATH cannot be read', () => {
    const missing = join(makeTree(), 'event.json');

    const attempt = () => resolveEventContext({}, { GITHUB_EVENT_PATH: missing }, makeTree());

    expect(attempt).toThrow(InputError);
    expect(attempt).toThrow(expect.objectContaining({ code: 'FILE_UNREADABLE', location: { file: missing } }));
    expect(attempt).toThrow(/ENOENT/);
  });

  it('names the payload file when it is not JSON', () => {
    const root = makeTree({ 'event.json': '{"pull_request": ' });
    const path = join(root, 'event.json');

    expect(() => resolveEventContext({}, { GITHUB_EVENT_PATH: path }, root)).toThrow(
      expect.objectContaining({ code: 'INPUT_INVALID', location: { file: path } }),
    );
  });

  it('rejects a payload that is not an object', () => {
    const root = makeTree({ 'event.json': '[1, 2]' });
    const path = join(root, 'event.json');

    expect(() => resolveEventContext({}, { GITHUB_EVENT_PATH: path }, root)).toThrow(/not a JSON object/);
  });

  it('rejects payload fields of the wrong type, naming the field', () => {
    const root = makeTree({
      'bad-number.json': JSON.stringify({ pull_request: { number: '42' } }),
      'bad-login.json': JSON.stringify({ pull_request: { number: 4, user: { login: 17 } } }),
    });

    expect(() => resolveEventContext({}, { GITHUB_EVENT_PATH: join(root, 'bad-number.json') }, root)).toThrow(
      expect.objectContaining({ code: 'INPUT_INVALID', location: { file: join(root, 'bad-number.json'), field: 'pull_request.number' } }),
    );
    expect(() => resolveEventContext({}, { GITHUB_EVENT_PATH: join(root, 'bad-login.json') }, root)).toThrow(
      expect.objectContaining({ location: { file: join(root, 'bad-login.json'), field: 'pull_request.user.login' } }),
    );
  });

  it('propagates GIT_FAILED when the base ref is unknown', () => {
    const root = makeGitRepo({ 'a.ts': 'a\n' });

    expect(() => resolveEventContext({ base: 'nope' }, {}, root)).toThrow(expect.objectContaining({ code: 'GIT_FAILED' }));
  });
});

describe('resolveEventContext commit SHA', () => {
  const root = process.cwd();

  it('normalizes an uppercase SHA and refuses a ref name given as --sha', () => {
    expect(resolveEventContext({ sha: 'ABCDEF1' }, {}, root).commitSha).toBe('abcdef1');
    expect(() => resolveEventContext({ sha: 'HEAD' }, {}, root)).toThrow(expect.objectContaining({ code: 'USAGE', location: { flag: '--sha' } }));
  });

  it('names GITHUB_SHA when the environment carries something else', () => {
    expect(() => resolveEventContext({}, { GITHUB_SHA: 'not-a-sha' }, root)).toThrow(
      expect.objectContaining({ code: 'INPUT_INVALID', location: { field: 'GITHUB_SHA' } }),
    );
  });
});
