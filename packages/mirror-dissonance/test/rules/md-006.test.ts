import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseWorkflow } from '../../src/artifacts/workflow';
import { md006 } from '../../src/rules/md-006-permission-boundary';
import type { Artifacts, EventContext, RuleFinding } from '../../src/types';
import { NO_GOVERNANCE, NO_OPTIONS } from './builders';

const FIXTURES = join(__dirname, '..', 'fixtures', 'workflows', 'md006');

function artifactsFor(...fixtures: string[]): Artifacts {
  const workflows = fixtures.map((name) =>
    parseWorkflow(`.github/workflows/${name}`, readFileSync(join(FIXTURES, name), 'utf8')),
  );
  return {
    root: '/repo',
    fileList: workflows.map((workflow) => workflow.path).sort(),
    workflows,
    manifests: [],
    policy: {
      requiredStatusChecks: [],
      criticalPaths: [],
      ...NO_GOVERNANCE,
      baseline: { path: '.github/phase-mirror/baseline.json', globs: [], threshold: 0.15 },
    },
    baselineCurrent: new Map(),
    skipped: [],
  };
}

const EVENT: EventContext = {
  mode: 'pull_request',
  eventName: 'pull_request',
  repository: 'acme/widgets',
  strict: false,
  dryRun: false,
};

function evaluate(...fixtures: string[]): RuleFinding[] {
  return [...md006.evaluate({ artifacts: artifactsFor(...fixtures), event: EVENT, options: NO_OPTIONS })];
}

/** key → [severity, line] of the single evidence, the shape every MD-006 finding has. */
function summary(findings: readonly RuleFinding[]): Record<string, [string | undefined, number]> {
  const out: Record<string, [string | undefined, number]> = {};
  for (const finding of findings) {
    expect(finding.evidence).toHaveLength(1);
    expect(out[finding.key]).toBeUndefined();
    out[finding.key] = [finding.severity, finding.evidence[0].line];
  }
  return out;
}

describe('md006', () => {
  it('declares its identity, default severity and FP tolerance', () => {
    expect(md006).toMatchObject({
      id: 'MD-006',
      version: '1.0.0',
      severity: 'high',
      fpTolerance: { ceiling: 0.05, window: 20 },
    });
    expect(md006.title.length).toBeGreaterThan(0);
    expect(md006.description.length).toBeGreaterThan(0);
  });

  describe('broad write permissions in PR-reachable workflows', () => {
    it('flags workflow-level write-all as high at the permissions line', () => {
      // Prepare / Act
      const findings = evaluate('pr-write-all.yml');
      // Assess
      expect(summary(findings)).toEqual({
        '.github/workflows/pr-write-all.yml#workflow#write-all': ['high', 5],
      });
      expect(findings[0].evidence[0]).toEqual({
        path: '.github/workflows/pr-write-all.yml',
        line: 5,
        snippet: 'permissions: write-all',
      });
    });

    it('flags each workflow-level write scope as medium and job-level write-all as high', () => {
      expect(summary(evaluate('pr-write-scopes.yml'))).toEqual({
        '.github/workflows/pr-write-scopes.yml#workflow#write:pull-requests': ['medium', 7],
        '.github/workflows/pr-write-scopes.yml#workflow#write:issues': ['medium', 8],
        '.github/workflows/pr-write-scopes.yml#comment#write-all': ['high', 16],
      });
    });

    it('ignores write permissions in workflows no pull request can reach', () => {
      expect(evaluate('push-write-all.yml')).toEqual([]);
    });
  });

  describe('PR workflows on the default token', () => {
    it('flags a PR workflow without permissions where a job has none, once, at the pull_request trigger', () => {
      const findings = evaluate('pr-no-permissions.yml');
      expect(summary(findings)).toEqual({
        '.github/workflows/pr-no-permissions.yml#default-permissions': ['medium', 5],
      });
      expect(findings[0].evidence[0].snippet).toBe('pull_request:');
    });

    it('accepts a PR workflow where every job declares its permissions', () => {
      expect(evaluate('pr-job-permissions.yml')).toEqual([]);
    });
  });

  describe('privileged checkout of the pull request head', () => {
    it('is critical on pull_request_target without any permissions, the default token counting as write', () => {
      const findings = evaluate('prt-checkout-head.yml');
      expect(summary(findings)).toEqual({
        '.github/workflows/prt-checkout-head.yml#default-permissions': ['medium', 2],
        '.github/workflows/prt-checkout-head.yml#build#checkout-head': ['critical', 9],
      });
      const checkout = findings.find((f) => f.key.endsWith('#checkout-head'));
      expect(checkout?.evidence[0].snippet).toBe('ref: ${{ github.event.pull_request.head.sha }}');
    });

    it('is high for read-only jobs without secrets, critical with secrets or a write scope, absent for base refs', () => {
      expect(summary(evaluate('prt-checkout-scoped.yml'))).toEqual({
        '.github/workflows/prt-checkout-scoped.yml#readonly#checkout-head': ['high', 13],
        '.github/workflows/prt-checkout-scoped.yml#readonly#checkout-head#2': ['high', 16],
        '.github/workflows/prt-checkout-scoped.yml#with-secrets#checkout-head': ['critical', 29],
        '.github/workflows/prt-checkout-scoped.yml#with-write#checkout-head': ['critical', 40],
      });
    });

    it('covers workflow_run head_sha and head_branch checkouts', () => {
      expect(summary(evaluate('workflow-run-checkout.yml'))).toEqual({
        '.github/workflows/workflow-run-checkout.yml#report#checkout-head': ['high', 13],
        '.github/workflows/workflow-run-checkout.yml#unscoped#checkout-head': ['critical', 22],
      });
    });

    it('ignores a head checkout in an unprivileged pull_request workflow', () => {
      expect(evaluate('pr-checkout-head.yml')).toEqual([]);
    });
  });

  describe('untrusted event text in run scripts', () => {
    const findings = evaluate('injection.yml');
    const byKey = summary(findings);
    const path = '.github/workflows/injection.yml';

    it('flags each occurrence at its exact line, also inside multi-line and folded scripts', () => {
      expect(byKey).toEqual({
        [`${path}#triage#injection:github.event.issue.title`]: ['high', 13],
        [`${path}#triage#injection:github.event.issue.body`]: ['high', 17],
        [`${path}#triage#injection:github.event.comment.body`]: ['high', 20],
        [`${path}#triage#injection:github.event.issue.title#2`]: ['high', 21],
        [`${path}#triage#injection:github.event.commits[0].message`]: ['high', 26],
        [`${path}#triage#injection:github.event.head_commit.author.email`]: ['high', 27],
        [`${path}#branch#injection:github.head_ref`]: ['high', 35],
        [`${path}#branch#injection:github.event.pull_request.head.ref`]: ['high', 36],
        [`${path}#branch#injection:github.event.pull_request.head.repo.default_branch`]: ['high', 36],
        [`${path}#branch#injection:github.event.workflow_run.head_branch`]: ['high', 38],
        [`${path}#branch#injection:github.event.pages.*.page_name`]: ['high', 38],
        [`${path}#branch#injection:github.event.review.body`]: ['high', 39],
        [`${path}#branch#injection:github.event.review_comment.body`]: ['high', 39],
        [`${path}#branch#injection:github.event.pull_request.body`]: ['high', 39],
        [`${path}#branch#injection:github.event.pull_request.head.label`]: ['high', 40],
        [`${path}#branch#injection:github.event.workflow_run.head_commit.message`]: ['high', 40],
        [`${path}#branch#injection:github.event.commits.*.author.name`]: ['high', 41],
        [`${path}#branch#injection:github.event.head_commit.message`]: ['high', 41],
        [`${path}#branch#injection:github.event.head_commit.author.name`]: ['high', 42],
      });
    });

    it('quotes the offending source line as evidence', () => {
      const body = findings.find((f) => f.key === `${path}#triage#injection:github.event.issue.body`);
      expect(body?.evidence[0].snippet).toBe('echo "body ${{ github.event.issue.body }}"');
    });

    it('leaves safe fields, env indirection, non-run inputs and look-alike names alone', () => {
      const lines = findings.map((f) => f.evidence[0].line);
      for (const safeLine of [16, 19, 23, 30, 37]) expect(lines).not.toContain(safeLine);
      expect(findings.filter((f) => f.evidence[0].line === 42)).toHaveLength(1);
    });
  });

  describe('third-party actions not pinned to a commit SHA', () => {
    it('flags unpinned third-party steps and reusable workflows in jobs with secrets or write scopes', () => {
      expect(summary(evaluate('unpinned.yml'))).toEqual({
        '.github/workflows/unpinned.yml#publish#unpinned:pnpm/action-setup': ['medium', 13],
        '.github/workflows/unpinned.yml#publish#unpinned:some-org/deploy-action': ['medium', 15],
        '.github/workflows/unpinned.yml#publish#unpinned:some-org/deploy-action#2': ['medium', 16],
        '.github/workflows/unpinned.yml#call#unpinned:some-org/shared/.github/workflows/release.yml': ['medium', 24],
        '.github/workflows/unpinned.yml#writer#unpinned:stefanzweifel/git-auto-commit-action': ['medium', 37],
      });
    });

    it('counts a job without permissions on pull_request_target as holding a write token', () => {
      expect(summary(evaluate('prt-unpinned.yml'))).toEqual({
        '.github/workflows/prt-unpinned.yml#default-permissions': ['medium', 2],
        '.github/workflows/prt-unpinned.yml#welcome#unpinned:some-org/welcome-action': ['medium', 7],
      });
    });
  });

  it('keeps keys stable when unrelated lines move', () => {
    // Prepare: the same workflow shifted down by a comment block.
    const text = readFileSync(join(FIXTURES, 'prt-checkout-scoped.yml'), 'utf8');
    const shifted = parseWorkflow('.github/workflows/prt-checkout-scoped.yml', `# a\n# b\n# c\n${text}`);
    const artifacts = { ...artifactsFor('prt-checkout-scoped.yml'), workflows: [shifted] };
    // Act
    const moved = md006.evaluate({ artifacts, event: EVENT, options: NO_OPTIONS });
    // Assess
    expect(moved.map((f) => f.key)).toEqual(evaluate('prt-checkout-scoped.yml').map((f) => f.key));
    expect(moved.map((f) => f.evidence[0].line)).toEqual([16, 19, 32, 43]);
  });

  it('evaluates every workflow of the repository', () => {
    expect(evaluate('pr-write-all.yml', 'push-write-all.yml', 'prt-checkout-head.yml')).toHaveLength(3);
  });
});
