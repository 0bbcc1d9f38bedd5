/**
 * The one GitHub REST client of the oracle: an Octokit instance with a request
 * hook that retries what is worth retrying (rate limits that reset soon, 5xx,
 * network errors) and turns every other failure into a `DependencyError`
 * (`GITHUB_API_FAILED`) with an actionable message.
 *
 * The retry policy is a hook rather than `@octokit/plugin-retry` and
 * `@octokit/plugin-throttling` because those wait through Bottleneck timers:
 * their waits cannot be bounded by `maxRateLimitWaitSeconds` per request nor
 * injected in tests, and their failures would still need translating here.
 */
import type { Octokit } from '@octokit/rest';
import { UsageError } from '../errors';
import { gitHubError, type GitHubFailure } from './errors';

export interface GitHubClientOptions {
  /** A GitHub token (GITHUB_TOKEN, a fine-grained or classic PAT, an App installation token). Never logged. */
  token: string;
  /** @default process.env.GITHUB_API_URL, else `https://api.github.com` */
  baseUrl?: string;
  /** Retries after the first attempt for rate limits, 5xx and network errors. @default 3 */
  maxRetries?: number;
  /** Longest wait for a rate limit to reset (or a `retry-after`) before failing instead. @default 60 */
  maxRateLimitWaitSeconds?: number;
  /** @default `phase-mirror` */
  userAgent?: string;
  /** How to wait; injected by tests so they do not sleep. @default a `setTimeout` promise */
  sleep?: (ms: number) => Promise<void>;
  /** The clock, for rate-limit reset times. @default Date.now */
  now?: () => number;
}

/** An Octokit instance whose requests retry and fail as described above. */
export interface GitHubClient {
  readonly octokit: Octokit;
  /** API root without trailing slash (e.g. `https://api.github.com`). */
  readonly baseUrl: string;
  /**
   * `METHOD /path?query` of a route with its parameters, without the host,
   * for evidence and error messages (e.g. `GET /repos/acme/api/branches/main/protection`).
   */
  describe(route: string, parameters?: Readonly<Record<string, unknown>>): string;
}

const DEFAULT_BASE_URL = 'https://api.github.com';
/** First 5xx/network backoff; doubled on each retry (1 s, 2 s, 4 s...). */
const BACKOFF_BASE_MS = 1000;
/** GitHub asks to wait at least a minute after a secondary rate limit without `retry-after`. */
const SECONDARY_DEFAULT_WAIT_SECONDS = 60;
/** Slack added to a primary reset time: the reset is in whole seconds and clocks differ. */
const RESET_MARGIN_MS = 1000;

interface ErrorLike {
  status?: unknown;
  message?: unknown;
  response?: { status?: unknown; headers?: Record<string, string | number | undefined>; data?: unknown };
}

type Decision = { retryAfterMs: number } | { fail: () => Error };

/**
 * Creates the GitHub client. Rate limits: a 429, or a 403 with `retry-after`,
 * waits that many seconds and retries; an exhausted primary limit
 * (`x-ratelimit-remaining: 0`) waits until `x-ratelimit-reset` when that is
 * within `maxRateLimitWaitSeconds`, else fails with the reset time. 5xx and
 * network errors retry with exponential backoff. At most `maxRetries` retries.
 */
export function createGitHubClient(options: GitHubClientOptions): GitHubClient {
  if (typeof options.token !== 'string' || options.token.trim() === '') {
    throw new UsageError('a GitHub token is required: set GITHUB_TOKEN', { context: { option: 'token' } });
  }
  const baseUrl = (options.baseUrl ?? process.env.GITHUB_API_URL ?? DEFAULT_BASE_URL).replace(/\/+$/, '');
  if (!/^https?:\/\/[^/]+/.test(baseUrl)) {
    throw new UsageError(`GitHub API URL must be an http(s) URL, got "${baseUrl}"`, { context: { option: 'baseUrl' } });
  }
  const maxRetries = options.maxRetries ?? 3;
  const maxWaitSeconds = options.maxRateLimitWaitSeconds ?? 60;
  if (!Number.isInteger(maxRetries) || maxRetries < 0) throw new UsageError(`maxRetries must be a non-negative integer, got ${maxRetries}`);
  if (!(maxWaitSeconds >= 0)) throw new UsageError(`maxRateLimitWaitSeconds must be a non-negative number, got ${maxWaitSeconds}`);
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const now = options.now ?? Date.now;

  // Required here, not at the top: runs without a token never pay for loading Octokit.
  const { Octokit: OctokitClass } = require('@octokit/rest') as typeof import('@octokit/rest');
  const octokit = new OctokitClass({
    auth: options.token,
    baseUrl,
    userAgent: options.userAgent ?? 'phase-mirror',
    request: { fetch: fetchNamingCause },
    // Failures surface as thrown errors; the request log would print every expected 404.
    log: { debug: () => undefined, info: () => undefined, warn: (message: string) => process.stderr.write(`${message}\n`), error: () => undefined },
  });

  const describeParsed = (url: string, method: string): string => {
    const path = url.startsWith(baseUrl) ? url.slice(baseUrl.length) : url.replace(/^https?:\/\/[^/]+/, '');
    return `${method.toUpperCase()} ${path || '/'}`;
  };

  const decide = (error: unknown, failure: GitHubFailure, attempt: number): Decision => {
    const retriesLeft = attempt <= maxRetries;
    const { status, headers } = failure;
    const response = (error as ErrorLike).response;
    if (response === undefined) {
      // @octokit/request reports a failed fetch as an HttpError without a response.
      if ((error as { name?: unknown }).name !== 'HttpError') return { fail: () => error as Error };
      return retriesLeft ? { retryAfterMs: BACKOFF_BASE_MS * 2 ** (attempt - 1) } : { fail: () => gitHubError('network', failure) };
    }
    const retryAfter = headers['retry-after'] === undefined ? undefined : Number(headers['retry-after']);
    const remaining = headers['x-ratelimit-remaining'] === undefined ? undefined : String(headers['x-ratelimit-remaining']);
    const secondary = status === 429 || (status === 403 && (retryAfter !== undefined || /secondary rate limit/i.test(failure.message)));
    if ((status === 403 || status === 429) && retryAfter !== undefined && Number.isFinite(retryAfter)) {
      return rateLimitWait(retryAfter * 1000, retriesLeft, failure, `retry-after ${retryAfter} s`, 'secondary_rate_limit');
    }
    if ((status === 403 || status === 429) && remaining === '0') {
      const reset = Number(headers['x-ratelimit-reset']);
      if (!Number.isFinite(reset)) return { fail: () => gitHubError('rate_limit', failure) };
      const untilReset = Math.max(0, reset * 1000 - now());
      return rateLimitWait(untilReset, retriesLeft, failure, '', 'rate_limit', RESET_MARGIN_MS);
    }
    if (secondary) {
      return rateLimitWait(SECONDARY_DEFAULT_WAIT_SECONDS * 1000, retriesLeft, failure, `no retry-after; GitHub asks to wait ${SECONDARY_DEFAULT_WAIT_SECONDS} s`, 'secondary_rate_limit');
    }
    if (status !== undefined && status >= 500) {
      return retriesLeft ? { retryAfterMs: BACKOFF_BASE_MS * 2 ** (attempt - 1) } : { fail: () => gitHubError('unavailable', failure) };
    }
    return { fail: () => gitHubError('status', failure) };
  };

  const rateLimitWait = (
    waitMs: number,
    retriesLeft: boolean,
    failure: GitHubFailure,
    detail: string,
    kind: 'rate_limit' | 'secondary_rate_limit',
    margin = 0,
  ): Decision => {
    if (waitMs > maxWaitSeconds * 1000) {
      const why = `waiting ${Math.ceil(waitMs / 1000)} s exceeds maxRateLimitWaitSeconds (${maxWaitSeconds} s)`;
      return { fail: () => gitHubError(kind, failure, detail ? `${detail}; ${why}` : why) };
    }
    if (!retriesLeft) {
      const why = `still limited after ${failure.attempts} attempts`;
      return { fail: () => gitHubError(kind, failure, detail ? `${detail}; ${why}` : why) };
    }
    return { retryAfterMs: waitMs + margin };
  };

  octokit.hook.wrap('request', async (request, requestOptions) => {
    const parsed = octokit.request.endpoint.parse(requestOptions);
    const endpoint = describeParsed(parsed.url, parsed.method);
    for (let attempt = 1; ; attempt++) {
      try {
        return await request(requestOptions);
      } catch (error) {
        const failure = toFailure(error, endpoint, attempt);
        const decision = decide(error, failure, attempt);
        if ('fail' in decision) throw decision.fail();
        await sleep(decision.retryAfterMs);
      }
    }
  });

  return {
    octokit,
    baseUrl,
    describe(route, parameters = {}) {
      const parsed = octokit.request.endpoint(route, parameters);
      return describeParsed(parsed.url, parsed.method);
    },
  };
}

function toFailure(error: unknown, endpoint: string, attempts: number): GitHubFailure {
  const like = (error ?? {}) as ErrorLike;
  const response = like.response;
  const data = response?.data;
  const githubMessage =
    data !== null && typeof data === 'object' && typeof (data as { message?: unknown }).message === 'string'
      ? (data as { message: string }).message
      : typeof data === 'string' && data.length > 0
        ? data.slice(0, 200)
        : undefined;
  const status = typeof response?.status === 'number' ? response.status : undefined;
  return {
    endpoint,
    ...(status === undefined ? {} : { status }),
    message: githubMessage ?? (typeof like.message === 'string' ? like.message : String(error)),
    headers: response?.headers ?? {},
    attempts,
  };
}

/**
 * `fetch` that names why a connection failed: undici throws `TypeError: fetch
 * failed` with the reason (ECONNREFUSED, ENOTFOUND, a TLS error...) in
 * `cause`, which @octokit/request only reads when the cause is an `Error` of
 * this realm.
 */
async function fetchNamingCause(input: string | URL | Request, init?: RequestInit): Promise<Response> {
  try {
    return await fetch(input, init);
  } catch (error) {
    if ((error as { name?: unknown }).name === 'AbortError') throw error;
    throw new Error(networkReason(error));
  }
}

/** The reason of a failed fetch: its cause's message, the first of an AggregateError's, or its code. Exported for tests. */
export function networkReason(error: unknown): string {
  const cause = (error as { cause?: unknown }).cause as { message?: unknown; code?: unknown; errors?: unknown } | undefined;
  if (cause !== undefined && cause !== null && typeof cause === 'object') {
    if (typeof cause.message === 'string' && cause.message !== '') return cause.message;
    if (Array.isArray(cause.errors) && cause.errors.length > 0) return networkReason({ cause: cause.errors[0] });
    if (typeof cause.code === 'string') return cause.code;
  }
  const message = (error as { message?: unknown } | null)?.message;
  return typeof message === 'string' ? message : String(error);
}
