/**
 * A generated organisation for the org-scan replay: `count` repositories in
 * the shapes GitHub returns, cycling through four governance profiles, with
 * the listing paginated 100 per page.
 */
import type { RepositoryGovernanceState } from '../../src/org/state';
import type { RecordedExchange } from './replay-server';

const PAGE = 100;

function name(index: number): string {
  return `svc-${String(index).padStart(4, '0')}`;
}

/** The recorded exchanges of the organisation and the states a scan must find, sorted by name. */
export function syntheticOrganization(org: string, count: number): { exchanges: RecordedExchange[]; expected: RepositoryGovernanceState[] } {
  const exchanges: RecordedExchange[] = [];
  const expected: RepositoryGovernanceState[] = [];
  const pages = Math.ceil(count / PAGE);
  // Listed newest first, as GitHub's default sort (created) would: the scan must sort by name.
  const order = Array.from({ length: count }, (_, index) => count - 1 - index);
  for (let page = 1; page <= pages; page++) {
    const slice = order.slice((page - 1) * PAGE, page * PAGE);
    const link = (target: number) => `<{{base}}/organizations/77/repos?type=all&per_page=${PAGE}&page=${target}>`;
    const links = [page < pages ? `${link(page + 1)}; rel="next"` : undefined, `${link(pages)}; rel="last"`].filter(Boolean).join(', ');
    exchanges.push({
      method: 'GET',
      path: page === 1 ? `/orgs/${org}/repos` : '/organizations/77/repos',
      query: page === 1 ? { type: 'all', per_page: String(PAGE) } : { type: 'all', per_page: String(PAGE), page: String(page) },
      status: 200,
      headers: { link: links },
      body: slice.map((index) => ({
        id: 10_000 + index,
        name: name(index),
        full_name: `${org}/${name(index)}`,
        owner: { login: org, id: 77, type: 'Organization' },
        private: index % 4 !== 0,
        visibility: index % 4 === 0 ? 'public' : index % 4 === 1 ? 'private' : 'internal',
        archived: index % 10 === 9,
        topics: index % 2 === 0 ? ['service', `team-${index % 5}`] : [],
        language: index % 3 === 0 ? null : 'TypeScript',
        default_branch: index % 7 === 0 ? 'trunk' : 'main',
      })),
    });
  }

  for (let index = 0; index < count; index++) {
    const repo = `/repos/${org}/${name(index)}`;
    const branch = index % 7 === 0 ? 'trunk' : 'main';
    const profile = index % 4;
    const protectionPath = `${repo}/branches/${branch}/protection`;
    // 0: classic only; 1: ruleset without admin bypass; 2: nothing; 3: classic + ruleset letting admins bypass.
    if (profile === 0 || profile === 3) {
      exchanges.push({
        method: 'GET',
        path: protectionPath,
        status: 200,
        body: {
          url: `https://api.github.com${protectionPath}`,
          required_status_checks: { strict: true, contexts: ['ci'], checks: [{ context: 'ci', app_id: 15368 }] },
          required_pull_request_reviews: { required_approving_review_count: 1, require_code_owner_reviews: profile === 0, dismiss_stale_reviews: false },
          enforce_admins: { enabled: true },
          required_linear_history: { enabled: false },
          allow_force_pushes: { enabled: false },
          allow_deletions: { enabled: false },
        },
      });
    } else {
      exchanges.push({ method: 'GET', path: protectionPath, status: 404, body: { message: 'Branch not protected' } });
    }
    const rulesetId = 500 + index;
    const rules = profile === 1 || profile === 3 ? [{ type: 'required_status_checks', ruleset_id: rulesetId, parameters: { required_status_checks: [{ context: 'security' }] } }] : [];
    exchanges.push({ method: 'GET', path: `${repo}/rules/branches/${branch}`, query: { per_page: '100' }, status: 200, body: rules });
    if (rules.length > 0) {
      exchanges.push(
        {
          method: 'GET',
          path: `${repo}/rulesets`,
          query: { includes_parents: 'true', per_page: '100' },
          status: 200,
          body: [{ id: rulesetId, name: 'security gate', target: 'branch', enforcement: 'active' }],
        },
        {
          method: 'GET',
          path: `${repo}/rulesets/${rulesetId}`,
          query: { includes_parents: 'true' },
          status: 200,
          body: { id: rulesetId, name: 'security gate', bypass_actors: profile === 3 ? [{ actor_id: 5, actor_type: 'RepositoryRole', bypass_mode: 'always' }] : [] },
        },
      );
    }
    const workflows = index % 5 === 0 ? [] : [`.github/workflows/ci.yml`, `.github/workflows/release.yml`];
    exchanges.push(
      index % 5 === 0
        ? { method: 'GET', path: `${repo}/contents/.github%2Fworkflows`, status: 404, body: { message: 'Not Found' } }
        : {
            method: 'GET',
            path: `${repo}/contents/.github%2Fworkflows`,
            status: 200,
            body: workflows.map((path) => ({ type: 'file', path, name: path.slice('.github/workflows/'.length) })),
          },
      { method: 'GET', path: `${repo}/actions/permissions/workflow`, status: 200, body: { default_workflow_permissions: index % 6 === 0 ? 'write' : 'read' } },
    );
    const hasCodeowners = index % 3 !== 2;
    exchanges.push(
      hasCodeowners
        ? { method: 'GET', path: `${repo}/codeowners/errors`, status: 200, body: { errors: index % 8 === 0 ? [{ line: 1, path: '.github/CODEOWNERS' }] : [] } }
        : { method: 'GET', path: `${repo}/codeowners/errors`, status: 404, body: { message: 'Not Found' } },
    );
    if (hasCodeowners) exchanges.push({ method: 'GET', path: `${repo}/contents/.github%2FCODEOWNERS`, status: 200, body: { type: 'file', path: '.github/CODEOWNERS' } });

    const classic = profile === 0 || profile === 3;
    expected.push({
      repository: `${org}/${name(index)}`,
      visibility: index % 4 === 0 ? 'public' : index % 4 === 1 ? 'private' : 'internal',
      archived: index % 10 === 9,
      topics: index % 2 === 0 ? ['service', `team-${index % 5}`] : [],
      ...(index % 3 === 0 ? {} : { language: 'TypeScript' }),
      defaultBranch: branch,
      protection: {
        path: `GET ${protectionPath}`,
        source: 'api',
        branch,
        enabled: profile !== 2,
        requiredContexts: [...(classic ? ['ci'] : []), ...(rules.length > 0 ? ['security'] : [])],
        strictStatusChecks: classic,
        requirePullRequest: classic,
        requiredApprovingReviewCount: classic ? 1 : 0,
        requireCodeOwnerReviews: profile === 0,
        dismissStaleReviews: false,
        enforceAdmins: profile === 0 || profile === 1,
        requireLinearHistory: false,
        allowForcePushes: !classic,
        mergeQueueRequired: false,
        pushRestricted: false,
      },
      workflows,
      defaultWorkflowPermissions: index % 6 === 0 ? 'write' : 'read',
      codeowners: hasCodeowners ? { path: '.github/CODEOWNERS', errors: index % 8 === 0 ? 1 : 0 } : { errors: 0 },
    });
  }
  return { exchanges, expected: expected.sort((a, b) => (a.repository < b.repository ? -1 : 1)) };
}
