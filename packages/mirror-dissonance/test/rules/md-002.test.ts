import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CodeownersFile } from '../../src/artifacts/codeowners';
import {
  MAX_LISTED_PATHS,
  compileLoginPattern,
  compilePathDeclaration,
  md002,
} from '../../src/rules/md-002-automation-accountability';
import type {
  Artifacts,
  BranchProtection,
  EventContext,
  LocatedString,
  Policy,
  PullRequestFacts,
  RuleContext,
  RuleFinding,
} from '../../src/types';

const FIXTURES = join(__dirname, '..', 'fixtures', 'rules', 'md002');
const POLICY_FILE = '.github/phase-mirror/policy.yml';
const POLICY_TEXT = readFileSync(join(FIXTURES, 'policy.yml'), 'utf8');
const CODEOWNERS_TEXT = readFileSync(join(FIXTURES, 'CODEOWNERS'), 'utf8');
const PROTECTION_FILE = '.github/phase-mirror/branch-protection.json';
const PR_SOURCE = 'GET /repos/acme/widgets/pulls/42';

/** A policy list entry as the loader locates it: its value and the line of `- value` in policy.yml. */
function declared(value: string): LocatedString {
  const lines = POLICY_TEXT.split('\n');
  const index = lines.findIndex((line) => line.trim() === `- ${value}` || line.trim() === `- "${value}"`);
  if (index === -1) throw new Error(`fixture policy.yml does not declare ${value}`);
  return { value, path: POLICY_FILE, line: index + 1 };
}

function policy(overrides: Partial<Policy> = {}): Policy {
  return {
    source: POLICY_FILE,
    requiredStatusChecks: [declared('CI / test')],
    criticalPaths: [declared('src/payments/')],
    protectedPaths: [declared('infra/'), declared('deploy/**/*.yaml'), declared('.github/workflows/')],
    baseline: { path: '.github/phase-mirror/baseline.json', globs: [], threshold: 0.15 },
    automation: {
      authors: [declared('dependabot[bot]'), declared('*[bot]'), declared('release-agent')],
      branchPrefixes: [declared('agent/'), declared('renovate/')],
    },
    ...overrides,
  };
}

function protection(overrides: Partial<BranchProtection> = {}): BranchProtection {
  return {
    path: PROTECTION_FILE,
    source: 'file',
    branch: 'main',
    enabled: true,
    requiredContexts: [],
    strictStatusChecks: true,
    requirePullRequest: true,
    requiredApprovingReviewCount: 1,
    requireCodeOwnerReviews: true,
    dismissStaleReviews: true,
    enforceAdmins: true,
    requireLinearHistory: false,
    allowForcePushes: false,
    mergeQueueRequired: false,
    pushRestricted: false,
    ...overrides,
  };
}

function pullRequest(overrides: Partial<PullRequestFacts> = {}): PullRequestFacts {
  return {
    number: 42,
    author: 'dependabot[bot]',
    headRef: 'dependabot/npm_and_yarn/lodash-4.17.21',
    labels: ['dependencies'],
    source: PR_SOURCE,
    ...overrides,
  };
}

interface Options {
  event?: Partial<EventContext>;
  policy?: Policy;
  codeowners?: string | null;
  branchProtection?: BranchProtection;
  pullRequest?: PullRequestFacts;
}

function context(options: Options = {}): RuleContext {
  const codeowners = options.codeowners === null ? undefined : new CodeownersFile('.github/CODEOWNERS', options.codeowners ?? CODEOWNERS_TEXT);
  const artifacts: Artifacts = {
    root: '/repo',
    fileList: [],
    workflows: [],
    ...(codeowners !== undefined ? { codeowners } : {}),
    manifests: [],
    policy: options.policy ?? policy(),
    ...(options.branchProtection !== undefined ? { branchProtection: options.branchProtection } : {}),
    ...(options.pullRequest !== undefined ? { pullRequest: options.pullRequest } : {}),
    baselineCurrent: new Map(),
    skipped: [],
  };
  const event: EventContext = {
    mode: 'pull_request',
    eventName: 'pull_request',
    repository: 'acme/widgets',
    prNumber: 42,
    commitSha: '0123456789abcdef0123456789abcdef01234567',
    headRef: 'dependabot/npm_and_yarn/lodash-4.17.21',
    baseRef: 'main',
    author: 'dependabot[bot]',
    changedFiles: ['package.json', 'infra/main.tf'],
    strict: false,
    dryRun: false,
    ...options.event,
  };
  return { artifacts, event, options: { jobIntents: {} } };
}

function evaluate(options: Options = {}): readonly RuleFinding[] {
  return md002.evaluate(context(options));
}

const DEPENDABOT_EVIDENCE = { path: POLICY_FILE, line: 17, snippet: 'automation author: dependabot[bot] (matches dependabot[bot])' };

describe('md002 metadata', () => {
  it('declares id, version, severity and FP tolerance', () => {
    expect(md002).toMatchObject({
      id: 'MD-002',
      version: '1.0.0',
      severity: 'high',
      fpTolerance: { ceiling: 0.1, window: 20 },
    });
    expect(md002.title.length).toBeGreaterThan(0);
    expect(md002.description).toContain('merge_group');
  });
});

describe('md002: recognising automation', () => {
  const unprotected = protection({ requiredApprovingReviewCount: 0, requireCodeOwnerReviews: false });

  it('stays silent for a person on a person\'s branch', () => {
    const findings = evaluate({ event: { author: 'alice', headRef: 'fix/login' }, branchProtection: unprotected });
    expect(findings).toEqual([]);
  });

  it('matches an exact author login case-insensitively and keys the finding on the lowercase login', () => {
    // Prepare: GitHub logins are case-insensitive; the event may carry any casing.
    const findings = evaluate({ event: { author: 'Dependabot[bot]' }, branchProtection: unprotected });
    // Assess
    expect(findings.map((finding) => finding.key)).toEqual(['automation:dependabot[bot]']);
    expect(findings[0].evidence[0]).toEqual({
      path: POLICY_FILE,
      line: 17,
      snippet: 'automation author: dependabot[bot] (matches Dependabot[bot])',
    });
  });

  it('treats "[bot]" in an author glob as the literal app suffix, not a character class', () => {
    // `*[bot]` must match `renovate[bot]` (line 18) but not a login ending in "b", "o" or "t".
    const renovate = evaluate({ event: { author: 'renovate[bot]', headRef: 'deps/x' }, branchProtection: unprotected });
    const robot = evaluate({ event: { author: 'robot', headRef: 'deps/x' }, branchProtection: unprotected });
    expect(renovate.map((finding) => [finding.key, finding.evidence[0]])).toEqual([
      ['automation:renovate[bot]', { path: POLICY_FILE, line: 18, snippet: 'automation author: *[bot] (matches renovate[bot])' }],
    ]);
    expect(robot).toEqual([]);
  });

  it('uses the pull request author when the event has none', () => {
    const findings = evaluate({
      event: { author: undefined, headRef: 'release/1.2' },
      pullRequest: pullRequest({ author: 'release-agent', headRef: 'release/1.2' }),
      branchProtection: unprotected,
    });
    expect(findings.map((finding) => finding.key)).toEqual(['automation:release-agent']);
  });

  it('matches a head-branch prefix and keys the finding on the prefix', () => {
    const findings = evaluate({ event: { author: 'alice', headRef: 'agent/fix-login' }, branchProtection: unprotected });
    expect(findings.map((finding) => [finding.key, finding.evidence[0]])).toEqual([
      ['automation:agent/', { path: POLICY_FILE, line: 21, snippet: 'automation branch prefix: agent/ (matches agent/fix-login)' }],
    ]);
    expect(findings[0].title).toMatch(/^Automation change on branch agent\/fix-login touches/);
  });

  it('strips refs/heads/ and keeps branch prefixes case-sensitive, as git refs are', () => {
    const qualified = evaluate({ event: { author: 'alice', headRef: 'refs/heads/renovate/eslint-9' }, branchProtection: unprotected });
    const otherCase = evaluate({ event: { author: 'alice', headRef: 'Agent/fix' }, branchProtection: unprotected });
    expect(qualified.map((finding) => finding.key)).toEqual(['automation:renovate/']);
    expect(otherCase).toEqual([]);
  });

  it('lists both the author and the prefix that matched, keyed on the author', () => {
    const findings = evaluate({ event: { author: 'release-agent', headRef: 'agent/release-1.2' }, branchProtection: unprotected });
    expect(findings.map((finding) => finding.key)).toEqual(['automation:release-agent']);
    expect(findings[0].evidence.slice(0, 2)).toEqual([
      { path: POLICY_FILE, line: 19, snippet: 'automation author: release-agent (matches release-agent)' },
      { path: POLICY_FILE, line: 21, snippet: 'automation branch prefix: agent/ (matches agent/release-1.2)' },
    ]);
  });

  it('does not take the merge-queue service for the author of the change it tests', () => {
    // Prepare: a merge_group run whose actor is the queue and whose head is the queue's branch.
    const queueRun: Partial<EventContext> = {
      mode: 'merge_group',
      eventName: 'merge_group',
      author: 'github-merge-queue[bot]',
      headRef: 'gh-readonly-queue/main/pr-42-0123456789abcdef0123456789abcdef01234567',
    };
    // Act
    const withoutFacts = evaluate({ event: queueRun, branchProtection: unprotected });
    const withFacts = evaluate({ event: queueRun, pullRequest: pullRequest(), branchProtection: unprotected });
    // Assess: the pull request facts name the real author.
    expect(withoutFacts).toEqual([]);
    expect(withFacts.map((finding) => finding.key)).toEqual(['automation:dependabot[bot]']);
  });

  it('stays silent in drift and calibration runs, which have no change under review', () => {
    for (const mode of ['drift', 'calibration'] as const) {
      expect(evaluate({ event: { mode, eventName: 'schedule', changedFiles: undefined }, branchProtection: unprotected })).toEqual([]);
    }
  });
});

describe('md002: accountable paths', () => {
  const unprotected = protection({ requiredApprovingReviewCount: 0, requireCodeOwnerReviews: false });

  it('stays silent when the automation change touches no owned or protected path', () => {
    const findings = evaluate({ event: { changedFiles: ['package.json', 'package-lock.json', 'test/app.test.ts'] }, branchProtection: unprotected });
    expect(findings).toEqual([]);
  });

  it('stays silent when the repository declares nothing accountable', () => {
    const findings = evaluate({
      policy: policy({ protectedPaths: [] }),
      codeowners: null,
      event: { changedFiles: undefined },
    });
    expect(findings).toEqual([]);
  });

  it('lists owned paths at their CODEOWNERS line and protected paths at their policy line, sorted', () => {
    // Prepare: infra/main.tf is both owned (line 5) and protected (line 12); infra/sandbox is un-owned
    // by CODEOWNERS line 6 but still protected; the workflow and the deploy manifest are protected only.
    const changedFiles = [
      'src/payments/charge.ts',
      'infra/main.tf',
      'README.md',
      'infra/sandbox/dev.tf',
      '.github/workflows/ci.yml',
      'deploy/prod/app.yaml',
      'deploy/prod/notes.txt',
      'package.json',
      'infra/main.tf',
    ];
    // Act
    const findings = evaluate({ event: { changedFiles }, branchProtection: unprotected });
    // Assess
    expect(findings).toEqual([
      {
        key: 'automation:dependabot[bot]',
        severity: 'high',
        title:
          'Automation change by dependabot[bot] touches 6 accountable paths without the human review the policy requires: ' +
          'branch protection requires no review',
        evidence: [
          DEPENDABOT_EVIDENCE,
          { path: PROTECTION_FILE, line: 0, snippet: 'branch main: 0 required approving reviews; code-owner review not required' },
          { path: POLICY_FILE, line: 14, snippet: '.github/workflows/ci.yml is under protected path .github/workflows/' },
          { path: '.github/CODEOWNERS', line: 2, snippet: 'README.md owned by @acme/docs' },
          { path: POLICY_FILE, line: 13, snippet: 'deploy/prod/app.yaml is under protected path deploy/**/*.yaml' },
          { path: '.github/CODEOWNERS', line: 5, snippet: 'infra/main.tf owned by @acme/sre' },
          { path: POLICY_FILE, line: 12, snippet: 'infra/main.tf is under protected path infra/' },
          { path: POLICY_FILE, line: 12, snippet: 'infra/sandbox/dev.tf is under protected path infra/' },
          { path: '.github/CODEOWNERS', line: 4, snippet: 'src/payments/charge.ts owned by @acme/payments @alice' },
        ],
      },
    ]);
  });

  it('lists at most MAX_LISTED_PATHS paths and counts the rest at the automation policy line', () => {
    const changedFiles = Array.from({ length: MAX_LISTED_PATHS + 7 }, (_, i) => `infra/modules/m${String(i).padStart(3, '0')}.tf`);
    const [finding] = evaluate({ event: { changedFiles }, branchProtection: unprotected, codeowners: null });
    expect(finding.title).toContain(`touches ${MAX_LISTED_PATHS + 7} accountable paths`);
    expect(finding.evidence).toHaveLength(2 + MAX_LISTED_PATHS + 1);
    expect(finding.evidence[2]).toEqual({ path: POLICY_FILE, line: 12, snippet: 'infra/modules/m000.tf is under protected path infra/' });
    expect(finding.evidence[finding.evidence.length - 1]).toEqual({ path: POLICY_FILE, line: 17, snippet: '7 more accountable paths not listed' });
  });
});

describe('md002: the human review the policy requires', () => {
  const changedFiles = ['infra/main.tf'];
  const PATH_EVIDENCE = [
    { path: '.github/CODEOWNERS', line: 5, snippet: 'infra/main.tf owned by @acme/sre' },
    { path: POLICY_FILE, line: 12, snippet: 'infra/main.tf is under protected path infra/' },
  ];

  it('passes when protection requires an approving review and the reviews are not known', () => {
    expect(evaluate({ event: { changedFiles }, branchProtection: protection({ requireCodeOwnerReviews: false }) })).toEqual([]);
  });

  it('passes when protection requires review and a person approved', () => {
    const reviews = [
      { user: 'dependabot[bot]', state: 'COMMENTED' as const },
      { user: 'alice', state: 'APPROVED' as const },
    ];
    const findings = evaluate({ event: { changedFiles }, branchProtection: protection(), pullRequest: pullRequest({ reviews }) });
    expect(findings).toEqual([]);
  });

  it('reports "no human approval yet" when only automation approved', () => {
    // Prepare: an app and a policy automation author (any casing) approve; a person requests changes.
    const reviews = [
      { user: 'renovate-approve[bot]', state: 'APPROVED' as const },
      { user: 'Release-Agent', state: 'APPROVED' as const },
      { user: 'bob', state: 'CHANGES_REQUESTED' as const },
    ];
    // Act
    const findings = evaluate({ event: { changedFiles }, branchProtection: protection(), pullRequest: pullRequest({ reviews }) });
    // Assess
    expect(findings).toEqual([
      {
        key: 'automation:dependabot[bot]',
        severity: 'high',
        title:
          'Automation change by dependabot[bot] touches 1 accountable path without the human review the policy requires: ' +
          'no human has approved it yet',
        evidence: [
          DEPENDABOT_EVIDENCE,
          {
            path: PR_SOURCE,
            line: 0,
            snippet: 'no approving review from a person (latest reviews: bob CHANGES_REQUESTED, Release-Agent APPROVED, renovate-approve[bot] APPROVED)',
          },
          ...PATH_EVIDENCE,
        ],
      },
    ]);
  });

  it('counts the latest decision of each reviewer: a dismissal revokes, a later comment does not', () => {
    const dismissed = [
      { user: 'alice', state: 'APPROVED' as const },
      { user: 'alice', state: 'DISMISSED' as const },
    ];
    const commented = [
      { user: 'carol', state: 'APPROVED' as const },
      { user: 'carol', state: 'COMMENTED' as const },
      { user: 'carol', state: 'PENDING' as const },
    ];
    const revoked = evaluate({ event: { changedFiles }, branchProtection: protection(), pullRequest: pullRequest({ reviews: dismissed }) });
    const kept = evaluate({ event: { changedFiles }, branchProtection: protection(), pullRequest: pullRequest({ reviews: commented }) });
    expect(revoked.map((finding) => finding.evidence[1].snippet)).toEqual(['no approving review from a person (latest reviews: alice DISMISSED)']);
    expect(kept).toEqual([]);
  });

  it('reports a change with no review decision at all when reviews are known', () => {
    const [finding] = evaluate({ event: { changedFiles }, branchProtection: protection(), pullRequest: pullRequest({ reviews: [] }) });
    expect(finding.evidence[1]).toEqual({ path: PR_SOURCE, line: 0, snippet: 'no approving review from a person (no review decision yet)' });
  });

  it('reports both conditions when protection is unknown and no person approved', () => {
    const findings = evaluate({ event: { changedFiles }, pullRequest: pullRequest({ reviews: [] }) });
    expect(findings).toEqual([
      {
        key: 'automation:dependabot[bot]',
        severity: 'high',
        title:
          'Automation change by dependabot[bot] touches 1 accountable path without the human review the policy requires: ' +
          'branch protection is unknown, so required review cannot be established, and no human has approved it yet',
        evidence: [
          DEPENDABOT_EVIDENCE,
          { path: PR_SOURCE, line: 0, snippet: 'no approving review from a person (no review decision yet)' },
          ...PATH_EVIDENCE,
        ],
      },
    ]);
  });

  it('reports an unprotected base branch even when a person approved', () => {
    const findings = evaluate({
      event: { changedFiles },
      branchProtection: protection({ enabled: false, branch: undefined, requiredApprovingReviewCount: 0, requireCodeOwnerReviews: false }),
      pullRequest: pullRequest({ reviews: [{ user: 'alice', state: 'APPROVED' }] }),
    });
    expect(findings.map((finding) => [finding.title, finding.evidence[1]])).toEqual([
      [
        'Automation change by dependabot[bot] touches 1 accountable path without the human review the policy requires: ' +
          'the base branch has no protection requiring review',
        { path: PROTECTION_FILE, line: 0, snippet: 'the base branch: no branch protection or active ruleset applies' },
      ],
    ]);
  });

  it('accepts code-owner review alone when every touched path has a code owner', () => {
    const codeOwnerOnly = protection({ requiredApprovingReviewCount: 0, requireCodeOwnerReviews: true });
    const findings = evaluate({ event: { changedFiles: ['infra/main.tf', 'src/payments/charge.ts'] }, branchProtection: codeOwnerOnly });
    expect(findings).toEqual([]);
  });

  it('reports code-owner review alone when a touched protected path has no code owner', () => {
    // Prepare: infra/sandbox/ is un-owned by CODEOWNERS line 6, so no code owner is requested for it.
    const codeOwnerOnly = protection({ requiredApprovingReviewCount: 0, requireCodeOwnerReviews: true });
    // Act
    const findings = evaluate({ event: { changedFiles: ['infra/main.tf', 'infra/sandbox/dev.tf'] }, branchProtection: codeOwnerOnly });
    // Assess
    const two = evaluate({
      event: { changedFiles: ['infra/sandbox/a.tf', 'deploy/prod/app.yaml'] },
      branchProtection: codeOwnerOnly,
    });
    expect(two[0].title).toMatch(/and 2 touched protected paths have no code owner$/);
    expect(findings.map((finding) => [finding.title, finding.evidence])).toEqual([
      [
        'Automation change by dependabot[bot] touches 2 accountable paths without the human review the policy requires: ' +
          'branch protection requires only code-owner review and 1 touched protected path has no code owner',
        [
          DEPENDABOT_EVIDENCE,
          { path: PROTECTION_FILE, line: 0, snippet: 'branch main: 0 required approving reviews; code-owner review required' },
          ...PATH_EVIDENCE,
          { path: POLICY_FILE, line: 12, snippet: 'infra/sandbox/dev.tf is under protected path infra/' },
        ],
      ],
    ]);
  });

  it('is critical in a strict merge-queue run and high otherwise', () => {
    const unprotected = protection({ requiredApprovingReviewCount: 0, requireCodeOwnerReviews: false });
    const strictQueue = evaluate({ event: { changedFiles, mode: 'merge_group', eventName: 'merge_group', strict: true }, branchProtection: unprotected });
    const lenientQueue = evaluate({ event: { changedFiles, mode: 'merge_group', eventName: 'merge_group' }, branchProtection: unprotected });
    const strictPullRequest = evaluate({ event: { changedFiles, strict: true }, branchProtection: unprotected });
    expect([strictQueue[0].severity, lenientQueue[0].severity, strictPullRequest[0].severity]).toEqual(['critical', 'high', 'high']);
  });

  it('keeps the same key when unrelated lines of the policy move', () => {
    const moved = policy({
      automation: {
        authors: [{ value: 'dependabot[bot]', path: POLICY_FILE, line: 40 }],
        branchPrefixes: [],
      },
    });
    const before = evaluate({ event: { changedFiles } });
    const after = evaluate({ event: { changedFiles }, policy: moved });
    expect(after.map((finding) => finding.key)).toEqual(before.map((finding) => finding.key));
    expect(after[0].evidence[0].line).toBe(40);
  });
});

describe('md002: unknown changed files', () => {
  const UNKNOWN = { changedFiles: undefined, baseRef: undefined };

  it('reports one high finding instead of passing silently', () => {
    const findings = evaluate({ event: { ...UNKNOWN, strict: true, mode: 'merge_group', eventName: 'merge_group' } });
    expect(findings).toEqual([
      {
        key: 'changed-files-unknown',
        severity: 'high',
        title:
          'Automation change by dependabot[bot] could not be checked: the changed files are unknown (no base ref), ' +
          'so accountable paths it may touch cannot be verified',
        evidence: [DEPENDABOT_EVIDENCE],
      },
    ]);
  });

  it('still reports when protection requires only code-owner review and protected paths are declared', () => {
    const codeOwnerOnly = protection({ requiredApprovingReviewCount: 0, requireCodeOwnerReviews: true });
    const findings = evaluate({ event: UNKNOWN, branchProtection: codeOwnerOnly });
    expect(findings.map((finding) => finding.key)).toEqual(['changed-files-unknown']);
  });

  it('passes when review is required whatever the change touches and no known review contradicts it', () => {
    const codeOwnerOnly = protection({ requiredApprovingReviewCount: 0, requireCodeOwnerReviews: true });
    // One required approval covers any path.
    expect(evaluate({ event: UNKNOWN, branchProtection: protection() })).toEqual([]);
    // Code-owner review covers every accountable path when only CODEOWNERS makes paths accountable.
    expect(evaluate({ event: UNKNOWN, branchProtection: codeOwnerOnly, policy: policy({ protectedPaths: [] }) })).toEqual([]);
  });

  it('reports when the base branch is unprotected', () => {
    const disabled = protection({ enabled: false, requiredApprovingReviewCount: 0, requireCodeOwnerReviews: false });
    expect(evaluate({ event: UNKNOWN, branchProtection: disabled }).map((finding) => finding.key)).toEqual(['changed-files-unknown']);
  });

  it('reports when protection requires review but the known reviews hold no human approval', () => {
    const findings = evaluate({
      event: UNKNOWN,
      branchProtection: protection(),
      pullRequest: pullRequest({ reviews: [{ user: 'dependabot[bot]', state: 'APPROVED' }] }),
    });
    expect(findings.map((finding) => finding.key)).toEqual(['changed-files-unknown']);
  });
});

describe('compileLoginPattern', () => {
  it('reads * and ? as wildcards, everything else literally, ignoring case', () => {
    const pattern = compileLoginPattern('ci-?.bot*');
    expect(['ci-1.bot', 'CI-a.BOT-x'].map((login) => pattern.test(login))).toEqual([true, true]);
    expect(['ci-12.bot', 'ci-1xbot'].map((login) => pattern.test(login))).toEqual([false, false]);
  });
});

describe('compilePathDeclaration', () => {
  function matcher(value: string): (file: string) => boolean {
    return compilePathDeclaration({ value, path: POLICY_FILE, line: 1 }).matches;
  }

  it('covers everything under a literal directory, written with or without slashes', () => {
    for (const value of ['infra', 'infra/', '/infra/', './infra']) {
      const matches = matcher(value);
      expect([matches('infra'), matches('infra/main.tf'), matches('infra/a/b.tf'), matches('infrastructure/x')]).toEqual([true, true, true, false]);
    }
  });

  it('matches globs against dot files and below the directories they name', () => {
    const yaml = matcher('deploy/**/*.yaml');
    const hidden = matcher('.github/*');
    expect([yaml('deploy/prod/app.yaml'), yaml('deploy/app.yaml'), yaml('deploy/prod/app.yml')]).toEqual([true, true, false]);
    expect([hidden('.github/CODEOWNERS'), hidden('.github/workflows/ci.yml')]).toEqual([true, true]);
  });

  it('treats the repository root as covering every file', () => {
    expect(matcher('/')('any/file.txt')).toBe(true);
  });
});
