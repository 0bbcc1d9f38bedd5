import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  createGitHubClient,
  fetchBranchProtection,
  fetchDefaultBranch,
  fetchPullRequestFacts,
  loadBranchProtection,
  parseOrgManifest,
  parseOrgScanFile,
  pullRequestFactsFromPayload,
  scanOrganization,
  InputError,
  UsageError,
  type BranchProtection,
  type EventContext,
  type GitHubClient,
  type OrganizationInputs,
  type PullRequestFacts,
} from '@phase-mirror/mirror-dissonance';
import { progress, type Io } from './io';

export interface GitHubInputOptions {
  branchProtection?: string;
  orgManifest?: string;
  orgStates?: string;
}

export interface GitHubInputs {
  branchProtection?: BranchProtection;
  pullRequest?: PullRequestFacts;
  organization?: OrganizationInputs;
  /** Changed files from the API when git could not tell (no base ref). */
  changedFiles?: string[];
}

/**
 * What the rules need from GitHub, from files when given (`--branch-protection`,
 * `--org-states`), from the event payload, and from the REST API when
 * `GITHUB_TOKEN` is set. An API failure is an error (exit 2), never a
 * silently missing input.
 */
export async function gatherGitHubInputs(event: EventContext, options: GitHubInputOptions, io: Io): Promise<GitHubInputs> {
  const token = io.env.GITHUB_TOKEN?.trim() || undefined;
  let client: GitHubClient | undefined;
  const api = (): GitHubClient => {
    client ??= createGitHubClient({ token: token as string, ...(io.env.GITHUB_API_URL ? { baseUrl: io.env.GITHUB_API_URL } : {}) });
    return client;
  };
  const repo = token !== undefined ? splitRepository(event.repository) : undefined;
  const inputs: GitHubInputs = {};

  if (options.branchProtection !== undefined) {
    inputs.branchProtection = loadBranchProtection(resolve(io.cwd, options.branchProtection));
  } else if (repo !== undefined) {
    const branch = event.baseRef ?? (await fetchDefaultBranch(api(), repo));
    progress(io, `reading branch protection of ${event.repository}@${branch}`);
    inputs.branchProtection = await fetchBranchProtection(api(), repo, branch);
  }

  const payloadPath = io.env.GITHUB_EVENT_PATH?.trim() || undefined;
  if (repo !== undefined && event.prNumber !== undefined) {
    progress(io, `reading pull request #${event.prNumber}`);
    const fetched = await fetchPullRequestFacts(api(), repo, event.prNumber);
    inputs.pullRequest = fetched.facts;
    if (event.changedFiles === undefined) inputs.changedFiles = fetched.changedFiles;
  } else if (payloadPath !== undefined) {
    const facts = pullRequestFactsFromPayload(payloadPath, JSON.parse(readFileSync(payloadPath, 'utf8')) as unknown);
    if (facts !== undefined) inputs.pullRequest = facts;
  }

  if (options.orgManifest !== undefined) {
    const manifestFile = resolve(io.cwd, options.orgManifest);
    const manifest = parseOrgManifest(manifestFile, readInput(manifestFile, '--org-manifest'), new Date());
    let states;
    if (options.orgStates !== undefined) {
      const statesFile = resolve(io.cwd, options.orgStates);
      states = parseOrgScanFile(statesFile, readInput(statesFile, '--org-states'));
    } else if (token !== undefined) {
      states = await scanOrganization(api(), manifest.organization, {
        onProgress: (done, total) => progress(io, `scanned ${done}/${total} repositories of ${manifest.organization}`),
      });
    } else {
      throw new UsageError('--org-manifest needs repository states: pass --org-states FILE (from `phase-mirror org-scan`) or set GITHUB_TOKEN', {
        location: { flag: '--org-states' },
      });
    }
    inputs.organization = { manifest, states };
  } else if (options.orgStates !== undefined) {
    throw new UsageError('--org-states is only used with --org-manifest', { location: { flag: '--org-states' } });
  }
  return inputs;
}

/** `owner/name` for the API; a bare folder name cannot be looked up. */
export function splitRepository(repository: string): { owner: string; repo: string } {
  const match = /^([A-Za-z0-9-]+)\/([A-Za-z0-9._-]+)$/.exec(repository);
  if (match === null) {
    throw new UsageError(`GITHUB_TOKEN is set but the repository "${repository}" is not owner/name; pass --repository OWNER/NAME`, {
      location: { flag: '--repository' },
    });
  }
  return { owner: match[1] as string, repo: match[2] as string };
}

function readInput(file: string, flag: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new InputError('FILE_UNREADABLE', `cannot read file: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, {
      location: { file, flag },
      cause: error,
    });
  }
}
