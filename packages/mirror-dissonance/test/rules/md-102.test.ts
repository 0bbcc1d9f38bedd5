import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseWorkflow } from '../../src/artifacts/workflow';
import { md102 } from '../../src/rules/md-102-merge-queue-trust';
import type {
  Artifacts,
  BranchProtection,
  EventContext,
  LocatedString,
  MergeQueuePolicy,
  Policy,
  RuleContext,
  RuleFinding,
} from '../../src/types';

const FIXTURES = join(__dirname, '..', 'fixtures', 'rules', 'md102');
const ALL = ['ci.yml', 'pr-checks.yml', 'triage.yml', 'queue.yml', 'e2e.yml', 'release.yml'];
const POLICY = '.phase-mirror.yml';
const PROTECTION = '.github/phase-mirror/branch-protection.json';
const API = 'GET /repos/acme/widgets/branches/main/protection';
const QUEUE_LINE = 30;

const WORKFLOWS = ALL.map((name) =>
  parseWorkflow(`.github/workflows/${name}`, readFileSync(join(FIXTURES, name), 'utf8')),
);

function located(values: readonly string[], path: string, firstLine: number): LocatedString[] {
  return values.map((value, i) => ({ value, path, line: firstLine + i }));
}

/** The strictest declaration: queue required, no admin bypass, linear history, no direct pushes. */
function queuePolicy(overrides: Partial<MergeQueuePolicy> = {}): MergeQueuePolicy {
  return {
    path: POLICY,
    line: QUEUE_LINE,
    requiredForDefaultBranch: true,
    allowBypassForAdmins: false,
    requireLinearHistory: true,
    allowDirectPushes: false,
    ...overrides,
  };
}

/** Protection that honours `queuePolicy()` and requires two checks CI produces on merge_group. */
function protection(overrides: Partial<BranchProtection> = {}): BranchProtection {
  return {
    path: PROTECTION,
    source: 'file',
    branch: 'main',
    enabled: true,
    requiredContexts: located(['lint', 'test (ubuntu-latest)'], PROTECTION, 5),
    strictStatusChecks: true,
    requirePullRequest: true,
    requiredApprovingReviewCount: 1,
    requireCodeOwnerReviews: true,
    dismissStaleReviews: true,
    enforceAdmins: true,
    requireLinearHistory: true,
    allowForcePushes: false,
    mergeQueueRequired: true,
    pushRestricted: false,
    ...overrides,
  };
}

function context(options: {
  mergeQueue?: MergeQueuePolicy;
  branchProtection?: BranchProtection;
  requiredStatusChecks?: readonly LocatedString[];
  workflows?: Artifacts['workflows'];
}): RuleContext {
  const policy: Policy = {
    source: POLICY,
    requiredStatusChecks: options.requiredStatusChecks ?? [],
    criticalPaths: [],
    protectedPaths: [],
    baseline: { path: '.github/phase-mirror/baseline.json', globs: [], threshold: 0.15 },
    ...(options.mergeQueue === undefined ? {} : { mergeQueue: options.mergeQueue }),
    automation: { authors: [], branchPrefixes: [] },
  };
  const workflows = options.workflows ?? WORKFLOWS;
  const artifacts: Artifacts = {
    root: '/repo',
    fileList: workflows.map((workflow) => workflow.path).sort(),
    workflows,
    manifests: [],
    policy,
    ...(options.branchProtection === undefined ? {} : { branchProtection: options.branchProtection }),
    baselineCurrent: new Map(),
    skipped: [],
  };
  const event: EventContext = {
    mode: 'pull_request',
    eventName: 'pull_request',
    repository: 'acme/widgets',
    strict: false,
    dryRun: false,
  };
  return { artifacts, event, options: { jobIntents: {} } };
}

function keys(findings: readonly RuleFinding[]): string[] {
  return findings.map((finding) => finding.key);
}

describe('md102 metadata', () => {
  it('declares its identity, default severity and FP tolerance', () => {
    expect(md102).toMatchObject({
      id: 'MD-102',
      version: '1.0.0',
      severity: 'high',
      fpTolerance: { ceiling: 0.1, window: 20 },
    });
    expect(md102.title.length).toBeGreaterThan(0);
    expect(md102.description).toContain('merge_group');
  });
});

describe('md102 without a declared merge queue', () => {
  it('stays silent even when protection is off and checks never run on merge_group', () => {
    // Prepare
    const ctx = context({
      branchProtection: protection({ enabled: false, enforceAdmins: false, allowForcePushes: true }),
      requiredStatusChecks: located(['Docs'], POLICY, 10),
    });
    // Act / Assess
    expect(md102.evaluate(ctx)).toEqual([]);
  });

  it('stays silent without branch protection either', () => {
    expect(md102.evaluate(context({}))).toEqual([]);
  });
});

describe('md102 without branch protection', () => {
  it('reports exactly one unverifiable chain at the mergeQueue line instead of passing', () => {
    // Prepare: even an orphan check is not reported: nothing about protection is known.
    const ctx = context({ mergeQueue: queuePolicy(), requiredStatusChecks: located(['Docs'], POLICY, 10) });
    // Act
    const findings = md102.evaluate(ctx);
    // Assess
    expect(findings).toEqual([
      {
        key: 'protection-unknown',
        severity: 'high',
        title:
          'The merge-queue trust chain cannot be verified without branch protection ' +
          '(pass --branch-protection or run with GITHUB_TOKEN)',
        evidence: [{ path: POLICY, line: QUEUE_LINE, snippet: 'mergeQueue: declared, branch protection not provided' }],
      },
    ]);
  });

  it('reports it for the most permissive declaration too', () => {
    const ctx = context({
      mergeQueue: queuePolicy({ requiredForDefaultBranch: false, allowBypassForAdmins: true, requireLinearHistory: false, allowDirectPushes: true }),
    });
    expect(keys(md102.evaluate(ctx))).toEqual(['protection-unknown']);
  });
});

describe('md102 against a protection that honours the policy', () => {
  it('finds nothing', () => {
    const ctx = context({
      mergeQueue: queuePolicy(),
      branchProtection: protection(),
      requiredStatusChecks: located(['CI / lint', 'test (windows-latest)', 'E2E / Run e2e', 'Queue / E2E / Run e2e'], POLICY, 10),
    });
    expect(md102.evaluate(ctx)).toEqual([]);
  });

  it('finds nothing when the policy tolerates everything the protection allows', () => {
    // Prepare: the weakest protection, and a policy that declares none of it required.
    const ctx = context({
      mergeQueue: queuePolicy({ requiredForDefaultBranch: false, allowBypassForAdmins: true, requireLinearHistory: false, allowDirectPushes: true }),
      branchProtection: protection({
        requiredContexts: located(['Docs'], PROTECTION, 5),
        requirePullRequest: false,
        enforceAdmins: false,
        requireLinearHistory: false,
        allowForcePushes: true,
        mergeQueueRequired: false,
      }),
    });
    // Act / Assess: Docs never runs on merge_group, but no queue is required anywhere.
    expect(md102.evaluate(ctx)).toEqual([]);
  });
});

describe('md102 protection-disabled', () => {
  it('is critical when the policy requires the queue, and subsumes the other settings', () => {
    // Prepare: a disabled protection also reports every setting as off.
    const ctx = context({
      mergeQueue: queuePolicy({ allowDirectPushes: true }),
      branchProtection: protection({
        enabled: false,
        requiredContexts: [],
        requirePullRequest: false,
        enforceAdmins: false,
        requireLinearHistory: false,
        mergeQueueRequired: false,
      }),
    });
    // Act
    const findings = md102.evaluate(ctx);
    // Assess
    expect(findings).toEqual([
      {
        key: 'protection-disabled',
        severity: 'critical',
        title: 'Branch protection is disabled on main, but the merge-queue policy requires the queue or forbids direct pushes',
        evidence: [
          { path: POLICY, line: QUEUE_LINE, snippet: 'mergeQueue: requiredForDefaultBranch: true' },
          { path: PROTECTION, line: 0, snippet: 'protection: none (no branch protection or active ruleset on main)' },
        ],
      },
    ]);
  });

  it('is critical when the policy only forbids direct pushes', () => {
    const ctx = context({
      mergeQueue: queuePolicy({ requiredForDefaultBranch: false, allowBypassForAdmins: true, requireLinearHistory: false }),
      branchProtection: protection({ enabled: false, requiredContexts: [], mergeQueueRequired: false }),
    });
    const findings = md102.evaluate(ctx);
    expect(findings.map((f) => [f.key, f.severity, f.evidence[0].snippet])).toEqual([
      ['protection-disabled', 'critical', 'mergeQueue: allowDirectPushes: false'],
    ]);
  });

  it('names both declarations when the policy requires the queue and forbids direct pushes', () => {
    const ctx = context({ mergeQueue: queuePolicy(), branchProtection: protection({ enabled: false, requiredContexts: [] }) });
    expect(md102.evaluate(ctx)[0].evidence[0]).toEqual({
      path: POLICY,
      line: QUEUE_LINE,
      snippet: 'mergeQueue: requiredForDefaultBranch: true, allowDirectPushes: false',
    });
  });

  it('is not reported when the policy neither requires the queue nor forbids direct pushes', () => {
    // Prepare: the remaining declarations are still compared with the (absent) protection.
    const ctx = context({
      mergeQueue: queuePolicy({ requiredForDefaultBranch: false, allowDirectPushes: true }),
      branchProtection: protection({
        enabled: false,
        requiredContexts: [],
        requirePullRequest: false,
        enforceAdmins: false,
        requireLinearHistory: false,
        mergeQueueRequired: false,
      }),
    });
    // Act / Assess
    expect(md102.evaluate(ctx).map((f) => [f.key, f.severity])).toEqual([
      ['admin-bypass', 'high'],
      ['linear-history', 'medium'],
    ]);
  });

  it('leaves the branch out of the title when the protection does not name it', () => {
    const { branch: _unnamed, ...unnamed } = protection({ enabled: false, requiredContexts: [] });
    const findings = md102.evaluate(context({ mergeQueue: queuePolicy(), branchProtection: unnamed }));
    expect(findings[0].title).toBe(
      'Branch protection is disabled, but the merge-queue policy requires the queue or forbids direct pushes',
    );
    expect(findings[0].evidence[1].snippet).toBe('protection: none (no branch protection or active ruleset)');
  });
});

describe('md102 merge-queue-not-required', () => {
  it('is high when the policy requires the queue and the protection does not', () => {
    const ctx = context({
      mergeQueue: queuePolicy(),
      branchProtection: protection({ mergeQueueRequired: false }),
    });
    expect(md102.evaluate(ctx)).toEqual([
      {
        key: 'merge-queue-not-required',
        severity: 'high',
        title: 'The policy requires the merge queue on main, but branch protection does not',
        evidence: [
          { path: POLICY, line: QUEUE_LINE, snippet: 'mergeQueue: requiredForDefaultBranch: true' },
          { path: PROTECTION, line: 0, snippet: 'merge_queue: not required' },
        ],
      },
    ]);
  });

  it('is not reported when the policy does not require the queue', () => {
    const ctx = context({
      mergeQueue: queuePolicy({ requiredForDefaultBranch: false }),
      branchProtection: protection({ mergeQueueRequired: false }),
    });
    expect(md102.evaluate(ctx)).toEqual([]);
  });
});

describe('md102 admin-bypass', () => {
  it('is high when admins are not bound although the policy forbids their bypass', () => {
    const ctx = context({ mergeQueue: queuePolicy(), branchProtection: protection({ enforceAdmins: false }) });
    expect(md102.evaluate(ctx)).toEqual([
      {
        key: 'admin-bypass',
        severity: 'high',
        title: 'The policy forbids admins to bypass the merge queue on main, but branch protection does not bind admins',
        evidence: [
          { path: POLICY, line: QUEUE_LINE, snippet: 'mergeQueue: allowBypassForAdmins: false' },
          { path: PROTECTION, line: 0, snippet: 'enforce_admins: false' },
        ],
      },
    ]);
  });

  it('is not reported when the policy allows admins to bypass', () => {
    const ctx = context({
      mergeQueue: queuePolicy({ allowBypassForAdmins: true }),
      branchProtection: protection({ enforceAdmins: false }),
    });
    expect(md102.evaluate(ctx)).toEqual([]);
  });
});

describe('md102 direct-pushes and force-pushes', () => {
  it('reports direct pushes when neither a pull request nor a push restriction is required', () => {
    const ctx = context({
      mergeQueue: queuePolicy(),
      branchProtection: protection({ requirePullRequest: false, pushRestricted: false }),
    });
    expect(md102.evaluate(ctx)).toEqual([
      {
        key: 'direct-pushes',
        severity: 'high',
        title:
          'The policy forbids direct pushes on main, but branch protection neither requires a pull request nor restricts pushes',
        evidence: [
          { path: POLICY, line: QUEUE_LINE, snippet: 'mergeQueue: allowDirectPushes: false' },
          { path: PROTECTION, line: 0, snippet: 'required_pull_request_reviews: none, restrictions: none' },
        ],
      },
    ]);
  });

  it('accepts push restrictions instead of a required pull request', () => {
    const ctx = context({
      mergeQueue: queuePolicy(),
      branchProtection: protection({ requirePullRequest: false, pushRestricted: true }),
    });
    expect(md102.evaluate(ctx)).toEqual([]);
  });

  it('reports allowed force pushes separately, even with pull requests required', () => {
    const ctx = context({ mergeQueue: queuePolicy(), branchProtection: protection({ allowForcePushes: true }) });
    expect(md102.evaluate(ctx)).toEqual([
      {
        key: 'force-pushes',
        severity: 'high',
        title: 'The policy forbids direct pushes on main, but branch protection allows force pushes',
        evidence: [
          { path: POLICY, line: QUEUE_LINE, snippet: 'mergeQueue: allowDirectPushes: false' },
          { path: PROTECTION, line: 0, snippet: 'allow_force_pushes: true' },
        ],
      },
    ]);
  });

  it('reports both when pushes are open and force pushes allowed', () => {
    const ctx = context({
      mergeQueue: queuePolicy(),
      branchProtection: protection({ requirePullRequest: false, allowForcePushes: true }),
    });
    expect(keys(md102.evaluate(ctx))).toEqual(['direct-pushes', 'force-pushes']);
  });

  it('reports neither when the policy allows direct pushes', () => {
    const ctx = context({
      mergeQueue: queuePolicy({ allowDirectPushes: true }),
      branchProtection: protection({ requirePullRequest: false, allowForcePushes: true }),
    });
    expect(md102.evaluate(ctx)).toEqual([]);
  });
});

describe('md102 linear-history', () => {
  it('is medium when the policy requires a linear history and the protection does not', () => {
    const ctx = context({ mergeQueue: queuePolicy(), branchProtection: protection({ requireLinearHistory: false }) });
    expect(md102.evaluate(ctx)).toEqual([
      {
        key: 'linear-history',
        severity: 'medium',
        title: 'The policy requires a linear history on main, but branch protection does not',
        evidence: [
          { path: POLICY, line: QUEUE_LINE, snippet: 'mergeQueue: requireLinearHistory: true' },
          { path: PROTECTION, line: 0, snippet: 'required_linear_history: false' },
        ],
      },
    ]);
  });

  it('is not reported when the policy does not require it', () => {
    const ctx = context({
      mergeQueue: queuePolicy({ requireLinearHistory: false }),
      branchProtection: protection({ requireLinearHistory: false }),
    });
    expect(md102.evaluate(ctx)).toEqual([]);
  });
});

describe('md102 check-not-on-merge-group', () => {
  it('reports a protection context produced on pull_request only at its line first, with the trigger line', () => {
    // Prepare: Docs is produced by two jobs of PR Checks, which runs on push and pull_request.
    const ctx = context({
      mergeQueue: queuePolicy(),
      branchProtection: protection({ requiredContexts: located(['lint', 'Docs'], PROTECTION, 5) }),
    });
    // Act
    const findings = md102.evaluate(ctx);
    // Assess: one trigger line per workflow, however many jobs produce the check.
    expect(findings).toEqual([
      {
        key: 'check-not-on-merge-group:Docs',
        severity: 'high',
        title:
          'Required status check "Docs" is not produced by any workflow that runs on merge_group: the merge queue stalls or is bypassed',
        evidence: [
          { path: PROTECTION, line: 6, snippet: 'required_status_checks: Docs' },
          { path: POLICY, line: QUEUE_LINE, snippet: 'mergeQueue: required status checks must report on merge_group' },
          { path: '.github/workflows/pr-checks.yml', line: 5, snippet: 'pull_request:' },
        ],
      },
    ]);
  });

  it('reports a policy context at its declaring line, noting the protection does not list it', () => {
    const ctx = context({
      mergeQueue: queuePolicy(),
      branchProtection: protection(),
      requiredStatusChecks: located(['lint', 'label'], POLICY, 10),
    });
    expect(md102.evaluate(ctx)).toEqual([
      {
        key: 'check-not-on-merge-group:label',
        severity: 'high',
        title:
          'Required status check "label" is not produced by any workflow that runs on merge_group: the merge queue stalls or is bypassed',
        evidence: [
          { path: POLICY, line: 11, snippet: 'label' },
          { path: PROTECTION, line: 0, snippet: 'required_status_checks: label not listed' },
          { path: POLICY, line: QUEUE_LINE, snippet: 'mergeQueue: required status checks must report on merge_group' },
          { path: '.github/workflows/triage.yml', line: 1, snippet: 'on: pull_request_target' },
        ],
      },
    ]);
  });

  it('reports a context declared in both places once, with both declaring lines', () => {
    const ctx = context({
      mergeQueue: queuePolicy(),
      branchProtection: protection({ requiredContexts: located(['Docs', 'lint'], PROTECTION, 7) }),
      requiredStatusChecks: located(['lint', 'Docs'], POLICY, 10),
    });
    const findings = md102.evaluate(ctx);
    expect(findings.map((f) => [f.key, f.evidence.map((e) => `${e.path}:${e.line}`)])).toEqual([
      [
        'check-not-on-merge-group:Docs',
        [`${POLICY}:11`, `${PROTECTION}:7`, `${POLICY}:${QUEUE_LINE}`, '.github/workflows/pr-checks.yml:5'],
      ],
    ]);
  });

  it('adds no trigger line for checks produced only outside pull requests or by nothing', () => {
    // Prepare: Publish runs on tag pushes; "Run e2e" alone is the callee's own name; nothing produces "audit".
    const ctx = context({
      mergeQueue: queuePolicy(),
      branchProtection: protection({ requiredContexts: located(['Publish', 'Run e2e', 'audit'], PROTECTION, 5) }),
    });
    const findings = md102.evaluate(ctx);
    expect(findings.map((f) => [f.key, f.evidence.map((e) => `${e.path}:${e.line}`)])).toEqual([
      ['check-not-on-merge-group:Publish', [`${PROTECTION}:5`, `${POLICY}:${QUEUE_LINE}`]],
      ['check-not-on-merge-group:Run e2e', [`${PROTECTION}:6`, `${POLICY}:${QUEUE_LINE}`]],
      ['check-not-on-merge-group:audit', [`${PROTECTION}:7`, `${POLICY}:${QUEUE_LINE}`]],
    ]);
  });

  it('matches like MD-001: matrix wildcards, "<workflow> / <job>" and local reusable workflows', () => {
    const ctx = context({
      mergeQueue: queuePolicy(),
      branchProtection: protection({
        requiredContexts: located(
          ['test (macos-14)', 'CI / test (windows-latest)', 'E2E / Run e2e', 'Queue / E2E / Run e2e', 'CI / Docs', 'E2E'],
          PROTECTION,
          5,
        ),
      }),
    });
    expect(keys(md102.evaluate(ctx))).toEqual(['check-not-on-merge-group:CI / Docs', 'check-not-on-merge-group:E2E']);
  });

  it('checks the queue the protection requires even when the policy does not require it', () => {
    const ctx = context({
      mergeQueue: queuePolicy({ requiredForDefaultBranch: false }),
      branchProtection: protection({ requiredContexts: located(['Docs'], PROTECTION, 5), mergeQueueRequired: true }),
    });
    expect(keys(md102.evaluate(ctx))).toEqual(['check-not-on-merge-group:Docs']);
  });

  it('checks the queue the policy requires even when protection is disabled', () => {
    const ctx = context({
      mergeQueue: queuePolicy(),
      branchProtection: protection({ enabled: false, requiredContexts: [], mergeQueueRequired: false }),
      requiredStatusChecks: located(['Docs'], POLICY, 10),
    });
    expect(keys(md102.evaluate(ctx))).toEqual(['protection-disabled', 'check-not-on-merge-group:Docs']);
  });

  it('reports every required check when no workflow exists', () => {
    const ctx = context({ mergeQueue: queuePolicy(), branchProtection: protection(), workflows: [] });
    expect(keys(md102.evaluate(ctx))).toEqual([
      'check-not-on-merge-group:lint',
      'check-not-on-merge-group:test (ubuntu-latest)',
    ]);
  });

  it('points at line 0 of the API request for contexts read from the API', () => {
    const ctx = context({
      mergeQueue: queuePolicy(),
      branchProtection: protection({ path: API, source: 'api', requiredContexts: located(['Docs'], API, 0) }),
    });
    expect(md102.evaluate(ctx)[0].evidence.slice(0, 2)).toEqual([
      { path: API, line: 0, snippet: 'required_status_checks: Docs' },
      { path: POLICY, line: QUEUE_LINE, snippet: 'mergeQueue: required status checks must report on merge_group' },
    ]);
  });
});

describe('md102 with several gaps', () => {
  it('reports settings first, then checks, with line-independent keys', () => {
    // Prepare: every setting off and one orphan check.
    const weak = {
      requirePullRequest: false,
      enforceAdmins: false,
      requireLinearHistory: false,
      allowForcePushes: true,
      mergeQueueRequired: false,
    };
    const first = context({
      mergeQueue: queuePolicy(),
      branchProtection: protection({ ...weak, requiredContexts: located(['Docs'], PROTECTION, 5) }),
    });
    const moved = context({
      mergeQueue: queuePolicy({ line: 44 }),
      branchProtection: protection({ ...weak, requiredContexts: located(['Docs'], PROTECTION, 9) }),
    });
    // Act
    const findings = md102.evaluate(first);
    // Assess
    expect(findings.map((f) => [f.key, f.severity])).toEqual([
      ['merge-queue-not-required', 'high'],
      ['admin-bypass', 'high'],
      ['direct-pushes', 'high'],
      ['force-pushes', 'high'],
      ['linear-history', 'medium'],
      ['check-not-on-merge-group:Docs', 'high'],
    ]);
    expect(keys(md102.evaluate(moved))).toEqual(keys(findings));
  });
});
