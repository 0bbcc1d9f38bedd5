/**
 * `org-scan` from the GitHub API: the governance state of every repository of
 * an organisation (archived ones included, flagged), for MD-101 to check
 * against the organisation manifest. One failed repository fails the scan:
 * a scan with silently missing repositories would hide gaps.
 */
import { DependencyError, PhaseMirrorError, UsageError } from '../errors';
import type { OrgScan, RepositoryGovernanceState } from '../org/state';
import type { GitHubClient } from './client';
import { fetchBranchProtection } from './branch-protection';
import { isGitHubStatus, unexpectedResponse } from './errors';

export interface ScanOrganizationOptions {
  /** Repositories scanned at once; requests of one repository are sequential. @default 8 */
  concurrency?: number;
  /** Called after each repository with the number done and the total. */
  onProgress?: (done: number, total: number) => void;
}

const REPOS_ROUTE = 'GET /orgs/{org}/repos';
const CONTENTS_ROUTE = 'GET /repos/{owner}/{repo}/contents/{path}';
const WORKFLOW_PERMISSIONS_ROUTE = 'GET /repos/{owner}/{repo}/actions/permissions/workflow';
const CODEOWNERS_ERRORS_ROUTE = 'GET /repos/{owner}/{repo}/codeowners/errors';
/** Where GitHub looks for CODEOWNERS, in its order of precedence. */
export const CODEOWNERS_LOCATIONS = ['.github/CODEOWNERS', 'CODEOWNERS', 'docs/CODEOWNERS'] as const;
const VISIBILITIES = ['public', 'private', 'internal'] as const;

interface ListedRepository {
  owner: string;
  name: string;
  fullName: string;
  visibility: RepositoryGovernanceState['visibility'];
  archived: boolean;
  topics: string[];
  language?: string;
  defaultBranch: string;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * Lists the organisation's repositories (`type=all`) and reads, for each, the
 * protection of its default branch, its workflow files, its default workflow
 * token permissions and its CODEOWNERS (path and error count). Results are
 * sorted by repository name; `source` is `GitHub API`.
 */
export async function scanOrganization(client: GitHubClient, org: string, options: ScanOrganizationOptions = {}): Promise<OrgScan> {
  const concurrency = options.concurrency ?? 8;
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new UsageError(`org scan concurrency must be a positive integer, got ${concurrency}`, { context: { option: 'concurrency' } });
  }
  const scannedAt = new Date().toISOString();
  const listPath = client.describe(REPOS_ROUTE, { org, type: 'all', per_page: 100 });
  const listed = ((await client.octokit.paginate(REPOS_ROUTE, { org, type: 'all', per_page: 100 })) as unknown[]).map((repo, index) =>
    toListed(repo, index, listPath),
  );

  const states: RepositoryGovernanceState[] = new Array(listed.length);
  let next = 0;
  let done = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    while (!failed && next < listed.length) {
      const index = next++;
      const repository = listed[index]!;
      try {
        states[index] = await scanRepository(client, repository);
      } catch (error) {
        failed = true;
        throw inRepository(error, org, repository.fullName);
      }
      done++;
      options.onProgress?.(done, listed.length);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, listed.length) }, () => worker()));

  states.sort((a, b) => (a.repository < b.repository ? -1 : a.repository > b.repository ? 1 : 0));
  return { organization: org, scannedAt, repositories: states, source: 'GitHub API' };
}

function inRepository(error: unknown, org: string, repository: string): Error {
  if (error instanceof PhaseMirrorError) {
    return new DependencyError('GITHUB_API_FAILED', `org scan of ${org} failed at repository ${repository}: ${error.message}`, {
      context: { ...error.context, repository },
      cause: error,
    });
  }
  return error as Error;
}

function toListed(repo: unknown, index: number, path: string): ListedRepository {
  const fail = (detail: string) => unexpectedResponse(path, `repository ${index} ${detail}`);
  if (!isRecord(repo) || typeof repo.name !== 'string' || typeof repo.full_name !== 'string') throw fail('has no name');
  const owner = isRecord(repo.owner) && typeof repo.owner.login === 'string' ? repo.owner.login : undefined;
  if (owner === undefined) throw fail(`(${repo.full_name}) has no owner.login`);
  const visibility = repo.visibility;
  if (typeof visibility !== 'string' || !(VISIBILITIES as readonly string[]).includes(visibility)) {
    throw fail(`(${repo.full_name}) has an unknown visibility ${JSON.stringify(visibility)}`);
  }
  if (typeof repo.default_branch !== 'string') throw fail(`(${repo.full_name}) has no default_branch`);
  const topics = repo.topics ?? [];
  if (!Array.isArray(topics) || !topics.every((topic) => typeof topic === 'string')) throw fail(`(${repo.full_name}) has invalid topics`);
  return {
    owner,
    name: repo.name,
    fullName: repo.full_name,
    visibility: visibility as ListedRepository['visibility'],
    archived: repo.archived === true,
    topics: [...(topics as string[])].sort(),
    ...(typeof repo.language === 'string' ? { language: repo.language } : {}),
    defaultBranch: repo.default_branch,
  };
}

async function scanRepository(client: GitHubClient, listed: ListedRepository): Promise<RepositoryGovernanceState> {
  const ref = { owner: listed.owner, repo: listed.name };
  const { requiredContexts, ...protection } = await fetchBranchProtection(client, ref, listed.defaultBranch);
  const workflows = await listWorkflows(client, ref);
  const defaultWorkflowPermissions = await workflowPermissions(client, ref);
  const codeowners = await codeownersState(client, ref);
  return {
    repository: listed.fullName,
    visibility: listed.visibility,
    archived: listed.archived,
    topics: listed.topics,
    ...(listed.language === undefined ? {} : { language: listed.language }),
    defaultBranch: listed.defaultBranch,
    protection: { ...protection, requiredContexts: requiredContexts.map((context) => context.value) },
    workflows,
    defaultWorkflowPermissions,
    codeowners,
  };
}

/** Contents of `path`, or undefined when it does not exist (404, including an empty repository). */
async function contentsOrAbsent(client: GitHubClient, ref: { owner: string; repo: string }, path: string): Promise<unknown> {
  try {
    return (await client.octokit.request(CONTENTS_ROUTE, { ...ref, path })).data;
  } catch (error) {
    if (isGitHubStatus(error, 404)) return undefined;
    throw error;
  }
}

async function listWorkflows(client: GitHubClient, ref: { owner: string; repo: string }): Promise<string[]> {
  const data = await contentsOrAbsent(client, ref, '.github/workflows');
  // A file (not a folder) at .github/workflows holds no workflows either.
  if (data === undefined || !Array.isArray(data)) return [];
  const path = client.describe(CONTENTS_ROUTE, { ...ref, path: '.github/workflows' });
  return data
    .map((entry, index) => {
      if (!isRecord(entry) || typeof entry.type !== 'string' || typeof entry.path !== 'string') throw unexpectedResponse(path, `entry ${index} has no type or path`);
      return entry.type === 'file' && /\.ya?ml$/.test(entry.path) ? entry.path : undefined;
    })
    .filter((entry): entry is string => entry !== undefined)
    .sort();
}

async function workflowPermissions(client: GitHubClient, ref: { owner: string; repo: string }): Promise<'read' | 'write'> {
  const { data } = await client.octokit.request(WORKFLOW_PERMISSIONS_ROUTE, ref);
  const value: unknown = (data as { default_workflow_permissions?: unknown }).default_workflow_permissions;
  if (value !== 'read' && value !== 'write') {
    throw unexpectedResponse(client.describe(WORKFLOW_PERMISSIONS_ROUTE, ref), `default_workflow_permissions is ${JSON.stringify(value)}, expected read or write`);
  }
  return value;
}

async function codeownersState(client: GitHubClient, ref: { owner: string; repo: string }): Promise<RepositoryGovernanceState['codeowners']> {
  let data: unknown;
  try {
    data = (await client.octokit.request(CODEOWNERS_ERRORS_ROUTE, ref)).data;
  } catch (error) {
    // GitHub answers 404 when the repository has no CODEOWNERS file.
    if (isGitHubStatus(error, 404)) return { errors: 0 };
    throw error;
  }
  const errorsPath = client.describe(CODEOWNERS_ERRORS_ROUTE, ref);
  const errors = isRecord(data) ? data.errors : undefined;
  if (!Array.isArray(errors)) throw unexpectedResponse(errorsPath, 'errors[] is missing');
  for (const location of CODEOWNERS_LOCATIONS) {
    if ((await contentsOrAbsent(client, ref, location)) !== undefined) return { path: location, errors: errors.length };
  }
  throw unexpectedResponse(errorsPath, `GitHub validates a CODEOWNERS file but none exists at ${CODEOWNERS_LOCATIONS.join(', ')}`);
}
