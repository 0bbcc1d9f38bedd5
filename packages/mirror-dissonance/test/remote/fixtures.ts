/**
 * Inputs for the remote-contract tests: the artifacts the collector reads
 * from the CLI's planted repository, enriched with every optional part
 * (branch protection, pull request, organisation, baseline, CODEOWNERS with
 * rejected lines, a skipped file), plus its event and settings.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadBranchProtection } from '../../src/artifacts/branch-protection';
import { CodeownersFile } from '../../src/artifacts/codeowners';
import { collectArtifacts } from '../../src/artifacts/collect';
import { createBaseline } from '../../src/baseline/baseline';
import { DEFAULT_SETTINGS, loadConfig } from '../../src/config/load-config';
import type { OracleInput } from '../../src/oracle/pipeline';
import { parseOrgManifest } from '../../src/org/manifest';
import { parseOrgScanFile } from '../../src/org/state-file';
import type { Artifacts, EventContext } from '../../src/types';

export const PLANTED = join(__dirname, '../../../cli/test/fixtures/planted');
const FIXTURES = join(__dirname, '..', 'fixtures');

export const REMOTE_EVENT: EventContext = {
  mode: 'pull_request',
  eventName: 'pull_request',
  repository: 'acme/planted',
  prNumber: 42,
  commitSha: 'a'.repeat(40),
  headRef: 'feature/login',
  baseRef: 'main',
  author: 'octocat',
  changedFiles: ['src/auth/login.ts', '.github/workflows/ci.yml'],
  strict: false,
  dryRun: false,
};

/** What `analyze` collects in the planted repository (no GitHub context). */
export async function plantedInput(): Promise<OracleInput> {
  const config = loadConfig(PLANTED);
  const artifacts = await collectArtifacts(PLANTED, { policy: config.policy });
  return { artifacts, event: REMOTE_EVENT, settings: config.settings };
}

/** The planted artifacts with every optional member set. */
export async function richInput(): Promise<OracleInput> {
  const base = await plantedInput();
  const now = new Date('2025-05-01T12:00:00Z');
  const current = new Map([
    ['src/auth/login.ts', 'b'.repeat(64)],
    ['.github/workflows/ci.yml', 'c'.repeat(64)],
  ]);
  const artifacts: Artifacts = {
    ...base.artifacts,
    codeowners: new CodeownersFile('.github/CODEOWNERS', readFileSync(join(FIXTURES, 'artifacts/codeowners/annotated.CODEOWNERS'), 'utf8')),
    branchProtection: loadBranchProtection(join(FIXTURES, 'artifacts/branch-protection/rest-full.json')),
    pullRequest: {
      number: 42,
      author: 'octocat',
      headRef: 'feature/login',
      labels: ['security'],
      reviews: [
        { user: 'hubot', state: 'APPROVED', submittedAt: '2025-04-30T10:00:00Z' },
        { user: 'monalisa', state: 'COMMENTED' },
      ],
      source: 'GET /repos/acme/planted/pulls/42',
    },
    organization: {
      manifest: parseOrgManifest('org/manifest.yml', readFileSync(join(FIXTURES, 'org/manifest.yml'), 'utf8'), now),
      states: parseOrgScanFile('org/states.json', readFileSync(join(FIXTURES, 'org/states.json'), 'utf8')),
    },
    baseline: createBaseline(['src/auth/**', '.github/workflows/**'], new Map([...current, ['src/auth/login.ts', 'd'.repeat(64)]]), now),
    baselineCurrent: current,
    skipped: [...base.artifacts.skipped, { path: 'assets/logo.png', reason: 'binary', detail: 'NUL byte at offset 12' }],
  };
  return {
    artifacts,
    event: REMOTE_EVENT,
    settings: {
      ...DEFAULT_SETTINGS,
      disabledRules: ['MD-006'],
      ruleOptions: { jobIntents: { ...DEFAULT_SETTINGS.ruleOptions.jobIntents, fuzz: { keywords: ['fuzz'], actions: ['acme/fuzz-*'], commands: ['\\bcargo fuzz\\b'] } } },
    },
  };
}
