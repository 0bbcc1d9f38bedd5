/**
 * How a failed GitHub API call is told to the user. Every failure becomes a
 * `DependencyError` with code `GITHUB_API_FAILED` and a message that says what
 * to do about it (renew the token, grant a permission, wait for the rate
 * limit, check the repository name). The token never appears: messages are
 * built from the method, the path and GitHub's own message only.
 */
import { DependencyError } from '../errors';

/** What the client knows about one failed request. */
export interface GitHubFailure {
  /** `GET /repos/acme/api/branches/main/protection` (method and path, query included, no host). */
  endpoint: string;
  /** HTTP status; undefined when no response arrived (network error). */
  status?: number;
  /** GitHub's `message`, or the network error text. */
  message: string;
  /** Response headers (lower-case names). */
  headers: Readonly<Record<string, string | number | undefined>>;
  attempts: number;
}

/** The rest of the context a GITHUB_API_FAILED error carries. */
export interface GitHubErrorContext {
  status?: number;
  endpoint: string;
  /** GitHub's message, so callers can tell `Branch not protected` from `Not Found`. */
  githubMessage?: string;
}

/**
 * The permission an endpoint needs, for fine-grained tokens and GitHub Apps
 * first, then for classic tokens. Matched against the path without query.
 */
const PERMISSIONS: readonly { pattern: RegExp; permission: string }[] = [
  {
    pattern: /^\/repos\/[^/]+\/[^/]+\/branches\/.+\/protection$/,
    permission: '"Administration: read" (fine-grained token or GitHub App), or the `repo` scope with admin rights on the repository (classic token)',
  },
  {
    pattern: /^\/repos\/[^/]+\/[^/]+\/actions\/permissions\/workflow$/,
    permission: '"Administration: read" (fine-grained token or GitHub App), or the `repo` scope with admin rights on the repository (classic token)',
  },
  {
    pattern: /^\/repos\/[^/]+\/[^/]+\/(rules\/branches\/.+|rulesets(\/\d+)?)$/,
    permission: '"Metadata: read" (fine-grained token or GitHub App), or the `repo` scope (classic token)',
  },
  {
    pattern: /^\/repos\/[^/]+\/[^/]+\/pulls(\/.*)?$/,
    permission: '"Pull requests: read" (fine-grained token or GitHub App), or the `repo` scope (classic token)',
  },
  {
    pattern: /^\/repos\/[^/]+\/[^/]+\/contents(\/.*)?$/,
    permission: '"Contents: read" (fine-grained token or GitHub App), or the `repo` scope (classic token)',
  },
  {
    pattern: /^\/repos\/[^/]+\/[^/]+\/codeowners\/errors$/,
    permission: '"Metadata: read" (fine-grained token or GitHub App), or the `repo` scope (classic token)',
  },
  {
    pattern: /^\/orgs\/[^/]+\/repos$/,
    permission:
      '"Metadata: read" on the organisation\'s repositories with the organisation as resource owner (fine-grained token or GitHub App), or the `repo` and `read:org` scopes (classic token)',
  },
];

/** The permission `endpoint` (`METHOD /path?query`) needs, when the client knows it. */
export function permissionFor(endpoint: string): string | undefined {
  const path = endpoint.replace(/^[A-Z]+ /, '').replace(/\?.*$/, '');
  return PERMISSIONS.find((entry) => entry.pattern.test(path))?.permission;
}

function header(failure: GitHubFailure, name: string): string | undefined {
  const value = failure.headers[name];
  return value === undefined ? undefined : String(value);
}

/** ISO time of the `x-ratelimit-reset` header (epoch seconds), when present. */
export function rateLimitResetIso(headers: GitHubFailure['headers']): string | undefined {
  const reset = Number(headers['x-ratelimit-reset']);
  return headers['x-ratelimit-reset'] === undefined || !Number.isFinite(reset) ? undefined : new Date(reset * 1000).toISOString();
}

function githubSays(failure: GitHubFailure): string {
  return failure.message ? ` GitHub said: "${failure.message}".` : '';
}

/**
 * Builds the error for a request that will not be retried. `kind` is decided
 * by the client (it knows whether the failure was a rate limit and whether
 * retries ran out); the message for each kind is fixed here.
 */
export function gitHubError(
  kind: 'rate_limit' | 'secondary_rate_limit' | 'unavailable' | 'network' | 'status',
  failure: GitHubFailure,
  detail = '',
): DependencyError {
  const { endpoint, status } = failure;
  const context: GitHubErrorContext & Record<string, unknown> = { endpoint, ...(status === undefined ? {} : { status }), ...(failure.message ? { githubMessage: failure.message } : {}) };
  const make = (message: string) => new DependencyError('GITHUB_API_FAILED', message, { context });
  switch (kind) {
    case 'rate_limit': {
      const reset = rateLimitResetIso(failure.headers);
      return make(`GitHub API rate limit exhausted; resets at ${reset ?? 'an unknown time'} (${endpoint}${detail ? `; ${detail}` : ''})`);
    }
    case 'secondary_rate_limit':
      return make(`GitHub API secondary rate limit hit on ${endpoint} (${status ?? 'no status'}): ${detail}; lower the concurrency or retry later`);
    case 'unavailable':
      return make(`GitHub API unavailable (${status ?? 'no status'}) after ${failure.attempts} attempts: ${endpoint}.${githubSays(failure)}`);
    case 'network':
      return make(`cannot reach the GitHub API (${failure.message}) after ${failure.attempts} attempts: ${endpoint}; check GITHUB_API_URL and the network`);
    case 'status':
      return statusError(failure, make);
  }
}

function statusError(failure: GitHubFailure, make: (message: string) => DependencyError): DependencyError {
  const { endpoint, status } = failure;
  if (status === 401) {
    return make(`GITHUB_TOKEN was rejected (401): the token is missing, expired or revoked (${endpoint})`);
  }
  if (status === 403) {
    const accepted = header(failure, 'x-accepted-github-permissions');
    const needs = permissionFor(endpoint);
    const what = needs ?? 'read access to this resource';
    return make(
      `${endpoint} is forbidden (403): the token lacks the permission it needs: ${what}` +
        `${accepted ? ` (GitHub accepts: ${accepted})` : ''}.${githubSays(failure)}`,
    );
  }
  if (status === 404) {
    const path = endpoint.replace(/^[A-Z]+ /, '');
    const owner = path.startsWith('/orgs/') ? 'the organisation does not exist or the token cannot see it' : 'the repository does not exist or the token cannot see it';
    return make(`${endpoint} not found: ${owner}.${githubSays(failure)}`);
  }
  return make(`${endpoint} failed (${status ?? 'no status'}).${githubSays(failure)}`);
}

/** An answer from GitHub that does not have the documented shape. */
export function unexpectedResponse(endpoint: string, detail: string): DependencyError {
  return new DependencyError('GITHUB_API_FAILED', `unexpected response from ${endpoint}: ${detail}`, { context: { endpoint, status: 200 } });
}

/**
 * True when `error` is the GITHUB_API_FAILED error of a response with this
 * status (and, when given, one of these GitHub messages). Callers use it
 * where a status means "absent" rather than "failed" (a 404 `Branch not
 * protected`, a missing `.github/workflows` folder).
 */
export function isGitHubStatus(error: unknown, status: number, messages?: readonly string[]): error is DependencyError {
  if (!(error instanceof DependencyError) || error.code !== 'GITHUB_API_FAILED') return false;
  const context = error.context as Partial<GitHubErrorContext>;
  if (context.status !== status) return false;
  return messages === undefined || (context.githubMessage !== undefined && messages.includes(context.githubMessage));
}
