import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseOrgManifest, type OrgManifest } from '../../src/org/manifest';
import { parseOrgScanFile } from '../../src/org/state-file';
import type { OrgScan, RepositoryGovernanceState } from '../../src/org/state';
import { MAX_LISTED_WORKFLOWS, md101 } from '../../src/rules/md-101-org-protection-gap';
import type { Artifacts, RuleContext, RuleFinding } from '../../src/types';

const FIXTURES = join(__dirname, '..', 'fixtures', 'org');
const NOW = new Date('2025-05-01T12:00:00Z');
const MANIFEST_FILE = 'org/manifest.yml';
const STATES_FILE = 'org/states.json';

function context(organization?: { manifest: OrgManifest; states: OrgScan }): RuleContext {
  const artifacts: Artifacts = {
    root: '/repo',
    fileList: [],
    workflows: [],
    manifests: [],
    policy: {
      requiredStatusChecks: [],
      criticalPaths: [],
      protectedPaths: [],
      baseline: { path: '.github/phase-mirror/baseline.json', globs: [], threshold: 0.15 },
      automation: { authors: [], branchPrefixes: [] },
    },
    ...(organization === undefined ? {} : { organization }),
    baselineCurrent: new Map(),
    skipped: [],
  };
  return {
    artifacts,
    event: { mode: 'drift', eventName: 'schedule', repository: 'acme/.github', strict: false, dryRun: false },
    options: { jobIntents: {} },
  };
}

function manifest(text: string, now: Date = NOW): OrgManifest {
  return parseOrgManifest(MANIFEST_FILE, text, now);
}

function scan(repositories: RepositoryGovernanceState[], organization = 'acme'): OrgScan {
  return { organization, scannedAt: '2025-05-01T08:00:00Z', repositories, source: STATES_FILE };
}

function evaluate(manifestText: string, repositories: RepositoryGovernanceState[], now: Date = NOW): readonly RuleFinding[] {
  return md101.evaluate(context({ manifest: manifest(manifestText, now), states: scan(repositories) }));
}

/** A repository that meets STRICT. */
function compliant(repository: string, overrides: Partial<RepositoryGovernanceState> = {}): RepositoryGovernanceState {
  return {
    repository,
    visibility: 'private',
    archived: false,
    topics: [],
    language: 'TypeScript',
    defaultBranch: 'main',
    protection: {
      path: `GET /repos/${repository}/branches/main/protection`,
      source: 'api',
      branch: 'main',
      enabled: true,
      requiredContexts: ['ci/test', 'ci/lint'],
      strictStatusChecks: true,
      requirePullRequest: true,
      requiredApprovingReviewCount: 2,
      requireCodeOwnerReviews: true,
      dismissStaleReviews: true,
      enforceAdmins: true,
      requireLinearHistory: true,
      allowForcePushes: false,
      mergeQueueRequired: false,
      pushRestricted: false,
    },
    workflows: ['.github/workflows/ci.yml', '.github/workflows/codeql-analysis.yml'],
    defaultWorkflowPermissions: 'read',
    codeowners: { path: '.github/CODEOWNERS', errors: 0 },
    ...overrides,
  };
}

function withProtection(state: RepositoryGovernanceState, protection: Partial<RepositoryGovernanceState['protection']>): RepositoryGovernanceState {
  return { ...state, protection: { ...state.protection, ...protection } };
}

const STRICT = `version: 1
organization: acme
defaults:
  branchProtection:
    required: true
    requirePullRequest: true
    requiredApprovingReviewCount: 2
    requireCodeOwnerReviews: true
    enforceAdmins: true
    requireLinearHistory: true
    allowForcePushes: false
  requiredChecks: [ci/test, ci/lint]
  requiredWorkflows: [.github/workflows/ci.yml, "codeql*.yml"]
  defaultTokenPermissions: read
  codeowners:
    required: true
    allowErrors: false
`;

const keys = (findings: readonly RuleFinding[]): string[] => findings.map((finding) => finding.key);

describe('md101 metadata', () => {
  it('declares id, version, severity and FP tolerance, and says archived repositories are skipped', () => {
    expect(md101).toMatchObject({ id: 'MD-101', version: '1.0.0', severity: 'high', fpTolerance: { ceiling: 0.1, window: 20 } });
    expect(md101.title.length).toBeGreaterThan(0);
    expect(md101.description).toContain('Archived repositories are skipped');
  });
});

describe('md101.evaluate: inputs', () => {
  it('is silent without organisation inputs', () => {
    expect(md101.evaluate(context())).toEqual([]);
  });

  it('reports nothing for a repository that meets every requirement', () => {
    expect(evaluate(STRICT, [compliant('acme/api')])).toEqual([]);
  });
});

describe('md101.evaluate: each gap', () => {
  // A branch without required pull requests collects no approvals either, so that gap comes with a second one.
  const gaps: [string, RepositoryGovernanceState, string, string, number, string[]?][] = [
    ['pull requests not required', withProtection(compliant('acme/api'), { requirePullRequest: false }), 'branchProtection.requirePullRequest', 'high', 6, ['acme/api#branchProtection.requiredApprovingReviewCount']],
    ['too few approvals', withProtection(compliant('acme/api'), { requiredApprovingReviewCount: 1 }), 'branchProtection.requiredApprovingReviewCount', 'medium', 7],
    ['no code-owner reviews', withProtection(compliant('acme/api'), { requireCodeOwnerReviews: false }), 'branchProtection.requireCodeOwnerReviews', 'high', 8],
    ['admins not bound', withProtection(compliant('acme/api'), { enforceAdmins: false }), 'branchProtection.enforceAdmins', 'high', 9],
    ['no linear history', withProtection(compliant('acme/api'), { requireLinearHistory: false }), 'branchProtection.requireLinearHistory', 'medium', 10],
    ['force pushes allowed', withProtection(compliant('acme/api'), { allowForcePushes: true }), 'branchProtection.allowForcePushes', 'high', 11],
    ['a required check missing', withProtection(compliant('acme/api'), { requiredContexts: ['ci/test'] }), 'requiredChecks:ci/lint', 'medium', 12],
    ['a required workflow missing', compliant('acme/api', { workflows: ['.github/workflows/codeql.yml'] }), 'requiredWorkflows:.github/workflows/ci.yml', 'medium', 13],
    ['write token by default', compliant('acme/api', { defaultWorkflowPermissions: 'write' }), 'defaultTokenPermissions', 'high', 14],
    ['no CODEOWNERS', compliant('acme/api', { codeowners: { errors: 0 } }), 'codeowners.required', 'high', 16],
    ['CODEOWNERS with errors', compliant('acme/api', { codeowners: { path: 'CODEOWNERS', errors: 3 } }), 'codeowners.allowErrors', 'medium', 17],
    ['unprotected default branch', withProtection(compliant('acme/api'), { enabled: false }), 'branchProtection.required', 'high', 5],
  ];

  it.each(gaps)('reports %s as one finding at the declaring line', (_label, state, requirement, severity, line, also = []) => {
    const findings = evaluate(STRICT, [state]);

    expect(keys(findings)).toEqual([`acme/api#${requirement}`, ...also]);
    expect(findings[0]).toMatchObject({ key: `acme/api#${requirement}`, severity });
    expect(findings[0]!.evidence[0]).toMatchObject({ path: MANIFEST_FILE, line });
    expect(findings[0]!.evidence[1]).toMatchObject({ path: STATES_FILE, line: 0 });
  });

  it('gives exact titles and evidence for a weaker review setting', () => {
    const findings = evaluate(STRICT, [withProtection(compliant('acme/api'), { requiredApprovingReviewCount: 1 })]);

    expect(findings).toEqual([
      {
        key: 'acme/api#branchProtection.requiredApprovingReviewCount',
        severity: 'medium',
        title: 'acme/api: default branch "main" requires 1 approving review, the organisation requires 2',
        evidence: [
          { path: MANIFEST_FILE, line: 7, snippet: 'defaults: branchProtection.requiredApprovingReviewCount: 2' },
          {
            path: STATES_FILE,
            line: 0,
            snippet: 'acme/api: default branch "main" requires 1 approving review, the organisation requires 2 (GET /repos/acme/api/branches/main/protection)',
          },
        ],
      },
    ]);
  });

  it('gives exact evidence for a missing required check, a missing workflow and CODEOWNERS errors', () => {
    const state = compliant('acme/api', {
      workflows: ['.github/workflows/ci.yml'],
      codeowners: { path: 'docs/CODEOWNERS', errors: 1 },
    });
    const findings = evaluate(STRICT, [withProtection(state, { requiredContexts: [] })]);

    expect(findings.map((f) => [f.key, f.title, f.evidence.map((e) => e.snippet)])).toEqual([
      [
        'acme/api#requiredChecks:ci/test',
        'acme/api: default branch "main" does not require the status check "ci/test"',
        ['defaults: requiredChecks: ci/test', 'acme/api: default branch "main" requires no status checks (GET /repos/acme/api/branches/main/protection)'],
      ],
      [
        'acme/api#requiredChecks:ci/lint',
        'acme/api: default branch "main" does not require the status check "ci/lint"',
        ['defaults: requiredChecks: ci/lint', 'acme/api: default branch "main" requires no status checks (GET /repos/acme/api/branches/main/protection)'],
      ],
      [
        'acme/api#requiredWorkflows:codeql*.yml',
        'acme/api: required workflow "codeql*.yml" is missing',
        ['defaults: requiredWorkflows: codeql*.yml', 'acme/api: workflows: .github/workflows/ci.yml'],
      ],
      [
        'acme/api#codeowners.allowErrors',
        'acme/api: CODEOWNERS has 1 invalid line; the organisation allows none',
        ['defaults: codeowners.allowErrors: false', 'acme/api: docs/CODEOWNERS: GitHub reports 1 invalid line'],
      ],
    ]);
  });

  it('folds the settings and checks of an unprotected branch into one finding when protection is required', () => {
    const state = withProtection(compliant('acme/api'), { enabled: false, requiredContexts: [], requirePullRequest: false, allowForcePushes: true });

    const findings = evaluate(STRICT, [state]);

    expect(findings).toEqual([
      {
        key: 'acme/api#branchProtection.required',
        severity: 'high',
        title: 'acme/api: default branch "main" is not protected; the organisation requires protection',
        evidence: [
          { path: MANIFEST_FILE, line: 5, snippet: 'defaults: branchProtection.required: true' },
          { path: STATES_FILE, line: 0, snippet: 'acme/api: no branch protection or ruleset applies' },
        ],
      },
    ]);
  });

  it('checks each declared setting of an unprotected branch when protection is not declared required', () => {
    const text = 'version: 1\norganization: acme\ndefaults:\n  branchProtection:\n    enforceAdmins: true\n    allowForcePushes: false\n  requiredChecks: [ci/test]\n';
    const state = withProtection(compliant('acme/api'), { enabled: false, enforceAdmins: true, allowForcePushes: false, requiredContexts: ['ci/test'] });

    const findings = evaluate(text, [state]);

    expect(keys(findings)).toEqual(['acme/api#branchProtection.enforceAdmins', 'acme/api#branchProtection.allowForcePushes', 'acme/api#requiredChecks:ci/test']);
    expect(findings[0]!.evidence[1]!.snippet).toBe('acme/api: default branch "main" is not protected (GET /repos/acme/api/branches/main/protection)');
  });

  it('checks neither settings nor checks when protection is declared optional', () => {
    const text = 'version: 1\norganization: acme\ndefaults:\n  branchProtection:\n    required: false\n    enforceAdmins: true\n  requiredChecks: [ci/test]\n';
    const weak = withProtection(compliant('acme/weak'), { enforceAdmins: false, requiredContexts: [] });
    const unprotected = withProtection(compliant('acme/open'), { enabled: false });

    expect(evaluate(text, [weak, unprotected])).toEqual([]);
  });

  it('counts no approvals on a branch that does not require pull requests', () => {
    const text = 'version: 1\norganization: acme\ndefaults:\n  branchProtection:\n    requiredApprovingReviewCount: 1\n';
    const state = withProtection(compliant('acme/api'), { requirePullRequest: false, requiredApprovingReviewCount: 2 });

    const findings = evaluate(text, [state]);

    expect(keys(findings)).toEqual(['acme/api#branchProtection.requiredApprovingReviewCount']);
    expect(findings[0]!.title).toBe('acme/api: default branch "main" requires 0 approving reviews, the organisation requires 1');
  });

  it('requires nothing from settings declared permissively', () => {
    const text = `version: 1
organization: acme
defaults:
  branchProtection:
    requirePullRequest: false
    requiredApprovingReviewCount: 0
    requireCodeOwnerReviews: false
    enforceAdmins: false
    requireLinearHistory: false
    allowForcePushes: true
  defaultTokenPermissions: write
  codeowners: { required: false, allowErrors: true }
`;
    const state = compliant('acme/api', {
      protection: { ...compliant('acme/api').protection, enabled: false },
      defaultWorkflowPermissions: 'write',
      codeowners: { errors: 4 },
    });

    expect(evaluate(text, [state])).toEqual([]);
  });

  it('matches required workflows by path glob, file name glob and ./-prefixed path', () => {
    const text = 'version: 1\norganization: acme\ndefaults:\n  requiredWorkflows: [".github/workflows/release-*.yml", "scorecard.yml", ./.github/workflows/ci.yml]\n';
    const meets = compliant('acme/a', { workflows: ['.github/workflows/ci.yml', '.github/workflows/release-npm.yml', '.github/workflows/scorecard.yml'] });
    const misses = compliant('acme/b', { workflows: ['.github/workflows/ci.yml', 'release-npm.yml', '.github/workflows/sub/scorecard.yaml'] });

    const findings = evaluate(text, [meets, misses]);

    expect(keys(findings)).toEqual(['acme/b#requiredWorkflows:.github/workflows/release-*.yml', 'acme/b#requiredWorkflows:scorecard.yml']);
  });

  it('lists at most a bounded number of workflows in the evidence', () => {
    const text = 'version: 1\norganization: acme\ndefaults:\n  requiredWorkflows: [ci.yml]\n';
    const workflows = Array.from({ length: MAX_LISTED_WORKFLOWS + 3 }, (_, i) => `.github/workflows/w${String(i).padStart(2, '0')}.yml`);
    const none = compliant('acme/none', { workflows: [] });
    const many = compliant('acme/many', { workflows });

    const findings = evaluate(text, [many, none]);

    expect(findings[0]!.evidence[1]!.snippet).toMatch(/^acme\/many: workflows: \.github\/workflows\/w00\.yml, .*w19\.yml and 3 more$/);
    expect(findings[1]!.evidence[1]!.snippet).toBe('acme/none: workflows: none');
  });
});

describe('md101.evaluate: classifications', () => {
  const CLASSIFIED = `version: 1
organization: acme
defaults:
  branchProtection:
    requiredApprovingReviewCount: 1
  requiredChecks: [ci/test]
classifications:
  - name: by-name
    match:
      names: ["SVC-*"]
    requirements:
      branchProtection:
        requiredApprovingReviewCount: 2
  - name: by-full-name
    match:
      names: ["acme/tool-*"]
    requirements:
      branchProtection:
        requiredApprovingReviewCount: 3
  - name: by-topic
    match:
      topics: [PCI, sox]
    requirements:
      branchProtection:
        requiredApprovingReviewCount: 4
  - name: by-language
    match:
      languages: [go]
    requirements:
      branchProtection:
        requiredApprovingReviewCount: 5
  - name: by-visibility
    match:
      visibility: [public]
    requirements:
      branchProtection:
        requiredApprovingReviewCount: 6
  - name: all-criteria
    match:
      names: ["lib-*"]
      visibility: [internal]
    requirements:
      requiredChecks: [ci/internal]
`;

  function required(findings: readonly RuleFinding[], repository: string): string | undefined {
    return findings.find((finding) => finding.key === `${repository}#branchProtection.requiredApprovingReviewCount`)?.title.replace(/.*requires /, '');
  }

  it('applies a classification by name glob (case-insensitive), by owner/name glob, topic, language and visibility', () => {
    const weak = (repository: string, overrides: Partial<RepositoryGovernanceState> = {}): RepositoryGovernanceState =>
      withProtection(compliant(repository, { language: 'Rust', ...overrides }), { requiredApprovingReviewCount: 0, requiredContexts: ['ci/test'] });
    const repositories = [
      weak('acme/plain'),
      weak('acme/svc-api'),
      weak('acme/tool-x'),
      weak('other/tool-x'),
      weak('acme/card', { topics: ['pci'] }),
      weak('acme/gateway', { language: 'Go' }),
      weak('acme/site', { visibility: 'public' }),
    ];

    const findings = evaluate(CLASSIFIED, repositories);

    expect(required(findings, 'acme/plain')).toBe('1');
    expect(required(findings, 'acme/svc-api')).toBe('2');
    expect(required(findings, 'acme/tool-x')).toBe('3');
    expect(required(findings, 'other/tool-x')).toBe('1');
    expect(required(findings, 'acme/card')).toBe('4');
    expect(required(findings, 'acme/gateway')).toBe('5');
    expect(required(findings, 'acme/site')).toBe('6');
  });

  it('applies a classification only when every given criterion holds', () => {
    const internalLib = withProtection(compliant('acme/lib-a', { visibility: 'internal', language: 'Rust' }), { requiredContexts: ['ci/test'] });
    const privateLib = withProtection(compliant('acme/lib-b', { visibility: 'private', language: 'Rust' }), { requiredContexts: ['ci/test'] });
    const noLanguage: RepositoryGovernanceState = { ...compliant('acme/x', { visibility: 'private' }), language: undefined };

    const findings = evaluate(CLASSIFIED, [internalLib, privateLib, withProtection(noLanguage, { requiredContexts: ['ci/test'] })]);

    expect(keys(findings)).toContain('acme/lib-a#requiredChecks:ci/internal');
    expect(keys(findings).filter((key) => key.startsWith('acme/lib-') || key.startsWith('acme/x#'))).toEqual(['acme/lib-a#requiredChecks:ci/internal']);
  });

  it('replaces an inherited list instead of adding to it', () => {
    const internalLib = withProtection(compliant('acme/lib-a', { visibility: 'internal', language: 'Rust' }), { requiredContexts: ['ci/internal'] });

    const findings = evaluate(CLASSIFIED, [internalLib]);

    expect(keys(findings).filter((key) => key.startsWith('acme/lib-a'))).toEqual([]);
  });

  it('applies matching classifications in manifest order, later ones overriding field by field', () => {
    const both = withProtection(compliant('acme/svc-pay', { topics: ['sox'], language: 'Go' }), {
      requiredApprovingReviewCount: 0,
      requiredContexts: ['ci/test'],
    });
    const reordered = CLASSIFIED.replace('  - name: by-name\n    match:\n      names: ["SVC-*"]\n    requirements:\n      branchProtection:\n        requiredApprovingReviewCount: 2\n', '').replace(
      'classifications:\n',
      'classifications:\n  - name: by-language-first\n    match:\n      languages: [go]\n    requirements:\n      branchProtection:\n        requiredApprovingReviewCount: 9\n',
    ) + '  - name: by-name\n    match:\n      names: ["SVC-*"]\n    requirements:\n      branchProtection:\n        requiredApprovingReviewCount: 2\n';

    const inOrder = evaluate(CLASSIFIED, [both]);
    const nameLast = evaluate(reordered, [both]);

    expect(required(inOrder, 'acme/svc-pay')).toBe('5');
    expect(inOrder[0]!.evidence[0]).toEqual({ path: MANIFEST_FILE, line: 31, snippet: 'classification "by-language": branchProtection.requiredApprovingReviewCount: 5' });
    expect(required(nameLast, 'acme/svc-pay')).toBe('2');
  });

  it('reports classifications that match no active repository, and archived repositories not at all', () => {
    const archived = compliant('acme/site', { visibility: 'public', archived: true, protection: { ...compliant('x/y').protection, enabled: false } });
    const plain = withProtection(compliant('acme/plain', { language: 'Rust' }), { requiredContexts: ['ci/test'] });

    const findings = evaluate(CLASSIFIED, [archived, plain]);

    expect(keys(findings)).toEqual([
      'classification:by-name#unmatched',
      'classification:by-full-name#unmatched',
      'classification:by-topic#unmatched',
      'classification:by-language#unmatched',
      'classification:by-visibility#unmatched',
      'classification:all-criteria#unmatched',
    ]);
    expect(findings.every((finding) => finding.severity === 'low')).toBe(true);
    expect(findings[4]!.evidence).toEqual([
      { path: MANIFEST_FILE, line: 32, snippet: 'classification "by-visibility" match: {"visibility":["public"]}' },
      { path: STATES_FILE, line: 0, snippet: 'acme: 1 active repository scanned at 2025-05-01T08:00:00Z' },
    ]);
  });

  it('reports duplicate classification names with every declaration, keeping keys unique', () => {
    const text = `version: 1
organization: acme
defaults: {}
classifications:
  - name: twin
    match: { topics: [a] }
    requirements: {}
  - name: twin
    match: { topics: [b] }
    requirements: {}
`;

    const findings = evaluate(text, [compliant('acme/api')]);

    expect(findings).toEqual([
      {
        key: 'classification:twin#duplicate',
        severity: 'low',
        title: 'Classification "twin" is declared 2 times; findings cannot tell them apart',
        evidence: [
          { path: MANIFEST_FILE, line: 5, snippet: 'classification "twin"' },
          { path: MANIFEST_FILE, line: 8, snippet: 'classification "twin"' },
        ],
      },
      expect.objectContaining({ key: 'classification:twin#unmatched' }),
      expect.objectContaining({ key: 'classification:twin#unmatched~2' }),
    ]);
  });
});

describe('md101.evaluate: exemptions', () => {
  const EXEMPT = `${STRICT}exemptions:
  - repository: acme/api
    requirements: [branchProtection.enforceAdmins, requiredChecks:ci/lint]
    reason: Admin release pushes until the migration.
    approver: alice
    expires: 2025-06-30
  - repository: "tool-*"
    requirements: [codeowners, requiredWorkflows]
    reason: Tools have no owners yet.
    approver: bob
    expires: 2025-04-30
  - repository: acme/ghost
    requirements: [defaultTokenPermissions]
    reason: Never existed.
    approver: carol
    expires: 2030-01-01
  - repository: acme/sandbox
    requirements: [branchProtection.required]
    reason: Playground.
    approver: dave
    expires: 2030-01-01
`;

  it('waives the named requirements while the exemption is valid', () => {
    const api = withProtection(compliant('acme/api'), { enforceAdmins: false, requiredContexts: ['ci/test'] });
    const sandbox = withProtection(compliant('acme/sandbox'), { enabled: false });
    const tool = compliant('acme/tool-a');

    const findings = evaluate(EXEMPT, [api, sandbox, tool], new Date('2025-04-15T00:00:00Z'));

    expect(keys(findings)).toEqual(['exemption:acme/ghost:defaultTokenPermissions#unmatched']);
  });

  it('waives only the named entry of a list and the named setting of a group', () => {
    const api = withProtection(compliant('acme/api'), { enforceAdmins: false, requireCodeOwnerReviews: false, requiredContexts: [] });

    const findings = evaluate(EXEMPT, [api], new Date('2025-04-15T00:00:00Z'));

    expect(keys(findings).filter((key) => key.startsWith('acme/api'))).toEqual([
      'acme/api#branchProtection.requireCodeOwnerReviews',
      'acme/api#requiredChecks:ci/test',
    ]);
  });

  it('waives a whole group through its name', () => {
    const tool = compliant('acme/tool-a', { codeowners: { errors: 2 }, workflows: [] });

    const findings = evaluate(EXEMPT, [tool], new Date('2025-04-15T00:00:00Z'));

    expect(keys(findings).filter((key) => key.startsWith('acme/'))).toEqual([]);
  });

  it('makes protection optional when branchProtection.required is waived', () => {
    const sandbox = withProtection(compliant('acme/sandbox'), { enforceAdmins: false, requiredContexts: [] });

    const findings = evaluate(EXEMPT, [sandbox], new Date('2025-04-15T00:00:00Z'));

    expect(keys(findings).filter((key) => key.startsWith('acme/sandbox'))).toEqual([]);
  });

  it('reports an expired exemption and the gaps it no longer waives, pointing at the exemption', () => {
    const tool = compliant('acme/tool-a', { codeowners: { errors: 0 } });

    const findings = evaluate(EXEMPT, [tool], NOW);

    expect(findings).toContainEqual({
      key: 'acme/tool-a#codeowners.required',
      severity: 'high',
      title: 'acme/tool-a: has no CODEOWNERS file; the organisation requires one',
      evidence: [
        { path: MANIFEST_FILE, line: 16, snippet: 'defaults: codeowners.required: true' },
        { path: STATES_FILE, line: 0, snippet: 'acme/tool-a: no CODEOWNERS file in .github/, the root or docs/' },
        { path: MANIFEST_FILE, line: 24, snippet: 'exemption approved by bob expired 2025-04-30 and no longer waives codeowners.required' },
      ],
    });
    expect(findings).toContainEqual({
      key: 'exemption:tool-*:codeowners,requiredWorkflows#expired',
      severity: 'medium',
      title: 'Exemption for tool-* (codeowners, requiredWorkflows) expired on 2025-04-30',
      evidence: [
        {
          path: MANIFEST_FILE,
          line: 24,
          snippet: 'exemption for tool-* (codeowners, requiredWorkflows) approved by bob, expired 2025-04-30: Tools have no owners yet.',
        },
      ],
    });
  });

  it('reports exemptions that match no active repository, with the scan as evidence', () => {
    const archivedApi = { ...compliant('acme/api'), archived: true };

    const findings = evaluate(EXEMPT, [archivedApi, compliant('acme/sandbox')], new Date('2025-04-15T00:00:00Z'));

    expect(findings).toEqual([
      {
        key: 'exemption:acme/api:branchProtection.enforceAdmins,requiredChecks:ci/lint#unmatched',
        severity: 'low',
        title: 'Exemption for acme/api (branchProtection.enforceAdmins, requiredChecks:ci/lint) matches no active repository',
        evidence: [
          { path: MANIFEST_FILE, line: 19, snippet: 'exemption for acme/api (branchProtection.enforceAdmins, requiredChecks:ci/lint) approved by alice' },
          { path: STATES_FILE, line: 0, snippet: 'acme: 1 active repository scanned at 2025-05-01T08:00:00Z' },
        ],
      },
      expect.objectContaining({ key: 'exemption:tool-*:codeowners,requiredWorkflows#unmatched', severity: 'low' }),
      expect.objectContaining({ key: 'exemption:acme/ghost:defaultTokenPermissions#unmatched', severity: 'low' }),
    ]);
  });
});

describe('md101.evaluate: organisation and order', () => {
  it('reports a manifest written for another organisation', () => {
    const findings = md101.evaluate(context({ manifest: manifest(STRICT), states: scan([compliant('other/api')], 'Other') }));

    expect(findings).toEqual([
      {
        key: 'organization#mismatch',
        severity: 'medium',
        title: 'The organisation manifest governs acme, but the scanned states are of Other',
        evidence: [
          { path: MANIFEST_FILE, line: 2, snippet: 'organization: acme' },
          { path: STATES_FILE, line: 0, snippet: 'scanned organization: Other' },
        ],
      },
    ]);
  });

  it('accepts the organisation name in another case', () => {
    expect(md101.evaluate(context({ manifest: manifest(STRICT), states: scan([compliant('ACME/api')], 'ACME') }))).toEqual([]);
  });

  it('evaluates the fixture organisation: repositories by name, then manifest problems', () => {
    const org = {
      manifest: parseOrgManifest(MANIFEST_FILE, readFileSync(join(FIXTURES, 'manifest.yml'), 'utf8'), NOW),
      states: parseOrgScanFile(STATES_FILE, readFileSync(join(FIXTURES, 'states.json'), 'utf8')),
    };

    const findings = md101.evaluate(context(org));

    expect(findings.map((finding) => [finding.key, finding.severity, finding.evidence[0]!.line])).toEqual([
      ['acme/svc-billing#branchProtection.requiredApprovingReviewCount', 'medium', 46],
      ['acme/svc-billing#defaultTokenPermissions', 'high', 19],
      ['acme/svc-billing#codeowners.required', 'high', 21],
      ['acme/web#branchProtection.required', 'high', 6],
      ['acme/web#requiredWorkflows:codeql*.yml', 'medium', 18],
      ['acme/web#codeowners.allowErrors', 'medium', 22],
      ['classification:mainframes#unmatched', 'low', 53],
      ['exemption:svc-billing:codeowners#expired', 'medium', 64],
      ['exemption:acme/retired-*:requiredWorkflows#unmatched', 'low', 69],
    ]);
    expect(findings[0]!.evidence[0]!.snippet).toBe('classification "go-services": branchProtection.requiredApprovingReviewCount: 3');
    expect(findings[2]!.evidence[2]).toEqual({
      path: MANIFEST_FILE,
      line: 64,
      snippet: 'exemption approved by bob expired 2024-01-31 and no longer waives codeowners.required',
    });
  });

  it('returns the same findings whatever the order of the scanned repositories', () => {
    const org = {
      manifest: parseOrgManifest(MANIFEST_FILE, readFileSync(join(FIXTURES, 'manifest.yml'), 'utf8'), NOW),
      states: parseOrgScanFile(STATES_FILE, readFileSync(join(FIXTURES, 'states.json'), 'utf8')),
    };
    const reversed = { ...org, states: { ...org.states, repositories: [...org.states.repositories].reverse() } };

    const first = md101.evaluate(context(org));
    const second = md101.evaluate(context(reversed));

    expect(second).toEqual(first);
    expect(org.states.repositories[0]!.repository).toBe('acme/web');
  });
});
