/** The GitHub context source: protection, rulesets, pull-request facts and organisation scans over the REST API. */
export { createGitHubClient, type GitHubClient, type GitHubClientOptions } from './client';
export { isGitHubStatus, permissionFor, type GitHubErrorContext } from './errors';
export { fetchBranchProtection, fetchDefaultBranch, type RepositoryRef } from './branch-protection';
export { fetchPullRequestFacts, pullRequestFactsFromPayload, PULL_REQUEST_FILES_CAP } from './pull-request';
export { scanOrganization, CODEOWNERS_LOCATIONS, type ScanOrganizationOptions } from './org-scan';
