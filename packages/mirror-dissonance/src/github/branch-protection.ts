/**
 * The protection in force on a branch, read from the GitHub API: classic
 * branch protection merged with the active rulesets that target the branch.
 *
 * How the two sources merge (a setting is as strict as the stricter source,
 * because GitHub enforces both layers):
 * - `enabled`: classic protection exists, or at least one active rule applies.
 * - required contexts: classic `contexts[]` and `checks[].context`, then the
 *   contexts of every `required_status_checks` rule, deduplicated in that order;
 *   each located at the endpoint it came from (line 0).
 * - `strictStatusChecks`, `requirePullRequest`, `requireCodeOwnerReviews`,
 *   `dismissStaleReviews`, `requireLinearHistory`, `mergeQueueRequired`,
 *   `pushRestricted`: true when either source requires it (classic
 *   `restrictions` or a ruleset `update` rule restrict pushes).
 * - `requiredApprovingReviewCount`: the highest of the sources.
 * - `allowForcePushes`: false when classic protection forbids them or a
 *   `non_fast_forward` rule applies; true when nothing protects the branch.
 * - `enforceAdmins`: true only when the branch is protected, classic
 *   `enforce_admins` is on (if classic protection exists) and no applying
 *   ruleset lists repository admins (RepositoryRole 5) or organisation admins
 *   among its bypass actors, in any bypass mode.
 * - A `deletion` rule (and any other rule type) only makes the branch protected.
 * A branch that does not exist has no classic protection; the rules that
 * would apply to its name are still read (GitHub's rules endpoint allows it).
 */
import type { BranchProtection, LocatedString } from '../types';
import { readClassicProtection, type ClassicProtection } from '../artifacts/branch-protection';
import type { GitHubClient } from './client';
import { isGitHubStatus, unexpectedResponse } from './errors';
import { DependencyError } from '../errors';

export interface RepositoryRef {
  owner: string;
  repo: string;
}

const REPOSITORY_ROUTE = 'GET /repos/{owner}/{repo}';
const PROTECTION_ROUTE = 'GET /repos/{owner}/{repo}/branches/{branch}/protection';
const RULES_ROUTE = 'GET /repos/{owner}/{repo}/rules/branches/{branch}';
const RULESETS_ROUTE = 'GET /repos/{owner}/{repo}/rulesets';
const RULESET_ROUTE = 'GET /repos/{owner}/{repo}/rulesets/{ruleset_id}';
/** GitHub's id of the built-in repository admin role in `bypass_actors`. */
const ADMIN_ROLE_ID = 5;

interface RulesSummary {
  contexts: string[];
  strict: boolean;
  pullRequest: boolean;
  approvals: number;
  codeOwners: boolean;
  dismissStale: boolean;
  linearHistory: boolean;
  noForcePush: boolean;
  mergeQueue: boolean;
  update: boolean;
  rulesetIds: number[];
  count: number;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * Reads the protection of `branch` from the API (`source: 'api'`, `path` the
 * classic protection request). Needs a token that can read branch protection
 * and ruleset bypass actors ("Administration: read" or admin rights).
 */
export async function fetchBranchProtection(client: GitHubClient, repo: RepositoryRef, branch: string): Promise<BranchProtection> {
  const params = { owner: repo.owner, repo: repo.repo, branch };
  const path = client.describe(PROTECTION_ROUTE, params);
  const classic = await fetchClassic(client, params, path);
  const rulesPath = client.describe(RULES_ROUTE, params);
  const rules = await client.octokit.paginate(RULES_ROUTE, { ...params, per_page: 100 });
  const summary = summarizeRules(rules as unknown[], rulesPath);
  const bypassing = summary.rulesetIds.length === 0 ? [] : await rulesetsLettingAdminsBypass(client, repo, summary.rulesetIds);

  const contexts = new Map<string, LocatedString>();
  for (const context of classic?.contexts ?? []) contexts.set(context.value, { value: context.value, path, line: 0 });
  for (const context of summary.contexts) if (!contexts.has(context)) contexts.set(context, { value: context, path: rulesPath, line: 0 });

  const enabled = classic !== undefined || summary.count > 0;
  return {
    path,
    source: 'api',
    branch,
    enabled,
    requiredContexts: [...contexts.values()],
    strictStatusChecks: (classic?.strictStatusChecks ?? false) || summary.strict,
    requirePullRequest: (classic?.requirePullRequest ?? false) || summary.pullRequest,
    requiredApprovingReviewCount: Math.max(classic?.requiredApprovingReviewCount ?? 0, summary.approvals),
    requireCodeOwnerReviews: (classic?.requireCodeOwnerReviews ?? false) || summary.codeOwners,
    dismissStaleReviews: (classic?.dismissStaleReviews ?? false) || summary.dismissStale,
    enforceAdmins: enabled && (classic === undefined || classic.enforceAdmins) && bypassing.length === 0,
    requireLinearHistory: (classic?.requireLinearHistory ?? false) || summary.linearHistory,
    allowForcePushes: !(classic !== undefined && !classic.allowForcePushes) && !summary.noForcePush,
    mergeQueueRequired: summary.mergeQueue,
    pushRestricted: (classic?.pushRestricted ?? false) || summary.update,
  };
}

/** The repository's default branch, for runs that know no base ref. */
export async function fetchDefaultBranch(client: GitHubClient, repo: RepositoryRef): Promise<string> {
  const params = { owner: repo.owner, repo: repo.repo };
  const { data } = await client.octokit.request(REPOSITORY_ROUTE, params);
  const branch: unknown = (data as { default_branch?: unknown }).default_branch;
  if (typeof branch !== 'string' || branch === '') throw unexpectedResponse(client.describe(REPOSITORY_ROUTE, params), 'default_branch is missing');
  return branch;
}

async function fetchClassic(client: GitHubClient, params: { owner: string; repo: string; branch: string }, path: string): Promise<ClassicProtection | undefined> {
  let data: unknown;
  try {
    data = (await client.octokit.request(PROTECTION_ROUTE, params)).data;
  } catch (error) {
    if (isGitHubStatus(error, 404, ['Branch not protected', 'Branch not found'])) return undefined;
    throw error;
  }
  if (!isRecord(data)) throw unexpectedResponse(path, 'the protection is not an object');
  return readClassicProtection(data, (message, segments) => {
    throw unexpectedResponse(path, `${segments.join('.') || '(body)'}: ${message}`);
  });
}

function summarizeRules(rules: readonly unknown[], path: string): RulesSummary {
  const summary: RulesSummary = {
    contexts: [],
    strict: false,
    pullRequest: false,
    approvals: 0,
    codeOwners: false,
    dismissStale: false,
    linearHistory: false,
    noForcePush: false,
    mergeQueue: false,
    update: false,
    rulesetIds: [],
    count: rules.length,
  };
  const ids = new Set<number>();
  rules.forEach((rule, index) => {
    const where = (detail: string) => unexpectedResponse(path, `rule ${index} ${detail}`);
    if (!isRecord(rule) || typeof rule.type !== 'string') throw where('has no type');
    if (typeof rule.ruleset_id !== 'number') throw where(`(${rule.type}) has no ruleset_id`);
    ids.add(rule.ruleset_id);
    const parameters = isRecord(rule.parameters) ? rule.parameters : {};
    switch (rule.type) {
      case 'required_status_checks': {
        const checks = parameters.required_status_checks;
        if (!Array.isArray(checks)) throw where('(required_status_checks) has no parameters.required_status_checks[]');
        for (const check of checks) {
          if (!isRecord(check) || typeof check.context !== 'string') throw where('(required_status_checks) has a check without a string context');
          if (!summary.contexts.includes(check.context)) summary.contexts.push(check.context);
        }
        summary.strict ||= parameters.strict_required_status_checks_policy === true;
        break;
      }
      case 'pull_request': {
        const count = parameters.required_approving_review_count ?? 0;
        if (typeof count !== 'number' || !Number.isInteger(count) || count < 0) throw where('(pull_request) has an invalid required_approving_review_count');
        summary.pullRequest = true;
        summary.approvals = Math.max(summary.approvals, count);
        summary.codeOwners ||= parameters.require_code_owner_review === true;
        summary.dismissStale ||= parameters.dismiss_stale_reviews_on_push === true;
        break;
      }
      case 'required_linear_history':
        summary.linearHistory = true;
        break;
      case 'non_fast_forward':
        summary.noForcePush = true;
        break;
      case 'merge_queue':
        summary.mergeQueue = true;
        break;
      case 'update':
        summary.update = true;
        break;
      default:
        // deletion, creation, required_signatures, code_scanning...: the branch is protected, no field to set.
        break;
    }
  });
  summary.rulesetIds = [...ids].sort((a, b) => a - b);
  return summary;
}

/** Names of the applying rulesets whose bypass actors include repository or organisation admins. */
async function rulesetsLettingAdminsBypass(client: GitHubClient, repo: RepositoryRef, rulesetIds: readonly number[]): Promise<string[]> {
  const listed = await client.octokit.paginate(RULESETS_ROUTE, { owner: repo.owner, repo: repo.repo, includes_parents: true, per_page: 100 });
  const names = new Map<number, string>();
  for (const ruleset of listed as unknown[]) {
    if (isRecord(ruleset) && typeof ruleset.id === 'number' && typeof ruleset.name === 'string') names.set(ruleset.id, ruleset.name);
  }
  const bypassing: string[] = [];
  for (const id of rulesetIds) {
    const params = { owner: repo.owner, repo: repo.repo, ruleset_id: id, includes_parents: true };
    const path = client.describe(RULESET_ROUTE, params);
    const { data } = await client.octokit.request(RULESET_ROUTE, params);
    const detail: unknown = data;
    if (!isRecord(detail)) throw unexpectedResponse(path, 'the ruleset is not an object');
    const name = names.get(id) ?? (typeof detail.name === 'string' ? detail.name : `#${id}`);
    const actors = detail.bypass_actors;
    if (!Array.isArray(actors)) {
      throw new DependencyError(
        'GITHUB_API_FAILED',
        `ruleset "${name}" (id ${id}) does not show its bypass actors to this token, so whether admins can bypass it is unknown: ` +
          'reading them needs "Administration: read" (fine-grained token or GitHub App) or admin rights on the repository (classic token)',
        { context: { status: 200, endpoint: path } },
      );
    }
    const admins = actors.some(
      (actor) => isRecord(actor) && (actor.actor_type === 'OrganizationAdmin' || (actor.actor_type === 'RepositoryRole' && actor.actor_id === ADMIN_ROLE_ID)),
    );
    if (admins) bypassing.push(name);
  }
  return bypassing;
}
