/**
 * What the rules need to know about the pull request under review: who opened
 * it, from which branch, its labels, its reviews and the files it changes.
 * From the API with a token, or from the event payload without one.
 */
import { InputError } from '../errors';
import type { PullRequestFacts, ReviewState } from '../types';
import type { GitHubClient } from './client';
import type { RepositoryRef } from './branch-protection';
import { unexpectedResponse } from './errors';

const PULL_ROUTE = 'GET /repos/{owner}/{repo}/pulls/{pull_number}';
const FILES_ROUTE = 'GET /repos/{owner}/{repo}/pulls/{pull_number}/files';
const REVIEWS_ROUTE = 'GET /repos/{owner}/{repo}/pulls/{pull_number}/reviews';
/** The files endpoint lists at most this many files of a pull request. */
export const PULL_REQUEST_FILES_CAP = 3000;
const REVIEW_STATES: readonly ReviewState[] = ['APPROVED', 'CHANGES_REQUESTED', 'COMMENTED', 'DISMISSED', 'PENDING'];
/** How GitHub shows an account that no longer exists (`user: null`). */
const DELETED_USER = 'ghost';

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * Reads the pull request, its changed files (a rename contributes both its
 * old and new path; sorted, deduplicated) and its reviews in submission
 * order. Fails when the pull request changes more files than the API can
 * list, rather than returning a partial list.
 */
export async function fetchPullRequestFacts(
  client: GitHubClient,
  repo: RepositoryRef,
  number: number,
): Promise<{ facts: PullRequestFacts; changedFiles: string[] }> {
  const params = { owner: repo.owner, repo: repo.repo, pull_number: number };
  const source = client.describe(PULL_ROUTE, params);
  const pull: unknown = (await client.octokit.request(PULL_ROUTE, params)).data;
  if (!isRecord(pull)) throw unexpectedResponse(source, 'the pull request is not an object');
  const author = login(pull.user, source, 'user');
  const head = pull.head;
  if (!isRecord(head) || typeof head.ref !== 'string') throw unexpectedResponse(source, 'head.ref is missing');
  const labels = labelNames(pull.labels, (detail) => unexpectedResponse(source, detail));

  const filesPath = client.describe(FILES_ROUTE, params);
  const files = (await client.octokit.paginate(FILES_ROUTE, { ...params, per_page: 100 })) as unknown[];
  const declared = pull.changed_files;
  if (typeof declared === 'number' && declared > files.length) {
    throw unexpectedResponse(
      filesPath,
      `pull request #${number} changes ${declared} files but the API lists ${files.length} (it stops at ${PULL_REQUEST_FILES_CAP}); ` +
        'compute the changed files from git instead (analyze --base)',
    );
  }
  const changed = new Set<string>();
  files.forEach((file, index) => {
    if (!isRecord(file) || typeof file.filename !== 'string') throw unexpectedResponse(filesPath, `file ${index} has no filename`);
    changed.add(file.filename);
    if (typeof file.previous_filename === 'string') changed.add(file.previous_filename);
  });

  const reviewsPath = client.describe(REVIEWS_ROUTE, params);
  const reviews = (await client.octokit.paginate(REVIEWS_ROUTE, { ...params, per_page: 100 })) as unknown[];
  const facts: PullRequestFacts = {
    number,
    author,
    headRef: head.ref,
    labels,
    reviews: reviews.map((review, index) => {
      if (!isRecord(review)) throw unexpectedResponse(reviewsPath, `review ${index} is not an object`);
      const state = review.state;
      if (typeof state !== 'string' || !REVIEW_STATES.includes(state as ReviewState)) {
        throw unexpectedResponse(reviewsPath, `review ${index} has an unknown state ${JSON.stringify(state)}`);
      }
      const submittedAt = typeof review.submitted_at === 'string' ? review.submitted_at : undefined;
      return { user: login(review.user, reviewsPath, `review ${index} user`), state: state as ReviewState, ...(submittedAt ? { submittedAt } : {}) };
    }),
    source,
  };
  return { facts, changedFiles: [...changed].sort() };
}

function login(user: unknown, path: string, what: string): string {
  if (user === null) return DELETED_USER;
  if (!isRecord(user) || typeof user.login !== 'string') throw unexpectedResponse(path, `${what}.login is missing`);
  return user.login;
}

function labelNames(labels: unknown, fail: (detail: string) => Error): string[] {
  if (labels === undefined) return [];
  if (!Array.isArray(labels)) throw fail('labels is not an array');
  return labels.map((label, index) => {
    if (!isRecord(label) || typeof label.name !== 'string') throw fail(`labels[${index}].name is missing`);
    return label.name;
  });
}

/**
 * Extracts the pull request facts of a `pull_request` (or
 * `pull_request_target`, `pull_request_review`...) event payload read from
 * `payloadPath` (GITHUB_EVENT_PATH). Undefined when the payload carries no
 * pull request (push, schedule, merge_group). Reviews are not in payloads:
 * they stay undefined.
 */
export function pullRequestFactsFromPayload(payloadPath: string, payload: unknown): PullRequestFacts | undefined {
  if (!isRecord(payload) || payload.pull_request === undefined || payload.pull_request === null) return undefined;
  const pull = payload.pull_request;
  const fail = (field: string, detail: string) => new InputError('INPUT_INVALID', `event payload: ${detail}`, { location: { file: payloadPath, field } });
  if (!isRecord(pull)) throw fail('pull_request', 'pull_request is not an object');
  const number = pull.number ?? payload.number;
  if (typeof number !== 'number' || !Number.isInteger(number) || number < 1) throw fail('pull_request.number', 'pull_request.number must be a positive integer');
  const user = pull.user;
  if (!isRecord(user) || typeof user.login !== 'string') throw fail('pull_request.user.login', 'pull_request.user.login is missing');
  const head = pull.head;
  if (!isRecord(head) || typeof head.ref !== 'string') throw fail('pull_request.head.ref', 'pull_request.head.ref is missing');
  const labels = labelNames(pull.labels, (detail) => fail('pull_request.labels', `pull_request.${detail}`));
  return { number, author: user.login, headRef: head.ref, labels, source: payloadPath };
}
