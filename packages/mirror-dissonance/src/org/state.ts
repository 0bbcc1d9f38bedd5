/**
 * The governance state of an organisation's repositories, as `phase-mirror
 * org-scan` reads it from the GitHub API (or a file in the same JSON shape).
 * MD-101 checks it against the organisation manifest.
 */
import type { BranchProtection } from '../types';

export interface RepositoryGovernanceState {
  /** `owner/name`. */
  repository: string;
  visibility: 'public' | 'private' | 'internal';
  archived: boolean;
  topics: readonly string[];
  /** Primary language as GitHub reports it; undefined when none. */
  language?: string;
  defaultBranch: string;
  /** Protection of the default branch; `enabled: false` when unprotected. */
  protection: Omit<BranchProtection, 'requiredContexts'> & { requiredContexts: readonly string[] };
  /** Paths of the files under `.github/workflows/`. */
  workflows: readonly string[];
  /** Default GITHUB_TOKEN permissions of the repository's workflows. */
  defaultWorkflowPermissions: 'read' | 'write';
  codeowners: {
    /** Path of the CODEOWNERS file in force, undefined when none. */
    path?: string;
    /** Lines GitHub reports as invalid (`GET /repos/o/r/codeowners/errors`). */
    errors: number;
  };
}

/** The JSON `org-scan` writes (`schemas/org-scan.schema.json`). */
export interface OrgScan {
  organization: string;
  scannedAt: string;
  repositories: readonly RepositoryGovernanceState[];
  /** Where the states were read from, for evidence (file path or `GitHub API`). */
  source: string;
}
