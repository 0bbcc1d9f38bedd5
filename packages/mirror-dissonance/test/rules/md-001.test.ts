import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseWorkflow } from '../../src/artifacts/workflow';
import { md001, requiredCheckEvent } from '../../src/rules/md-001-required-checks';
import type { Artifacts, BranchProtection, EventContext, LocatedString, Mode } from '../../src/types';
import { NO_GOVERNANCE, NO_OPTIONS, protectionFrom } from './builders';

const FIXTURES = join(__dirname, '..', 'fixtures', 'workflows', 'md001');
const ALL = ['ci.yml', 'pr-checks.yml', 'reusable.yml', 'release.yml', 'labeler.yml'];
const POLICY = '.phase-mirror.yml';
const PROTECTION = '.github/phase-mirror/branch-protection.json';

function located(values: readonly string[], path = POLICY, firstLine = 10): LocatedString[] {
  return values.map((value, i) => ({ value, path, line: firstLine + i }));
}

function artifactsFor(
  required: readonly LocatedString[],
  options: { fixtures?: readonly string[]; branchProtection?: BranchProtection } = {},
): Artifacts {
  const workflows = (options.fixtures ?? ALL).map((name) =>
    parseWorkflow(`.github/workflows/${name}`, readFileSync(join(FIXTURES, name), 'utf8')),
  );
  return {
    root: '/repo',
    fileList: workflows.map((workflow) => workflow.path).sort(),
    workflows,
    manifests: [],
    policy: {
      source: POLICY,
      requiredStatusChecks: required,
      criticalPaths: [],
      ...NO_GOVERNANCE,
      baseline: { path: '.github/phase-mirror/baseline.json', globs: [], threshold: 0.15 },
    },
    ...(options.branchProtection ? { branchProtection: options.branchProtection } : {}),
    baselineCurrent: new Map(),
    skipped: [],
  };
}

function event(mode: Mode, eventName: string): EventContext {
  return { mode, eventName, repository: 'acme/widgets', strict: false, dryRun: false };
}

const PR = event('pull_request', 'pull_request');

function orphans(artifacts: Artifacts, context: EventContext = PR): string[] {
  return md001.evaluate({ artifacts, event: context, options: NO_OPTIONS }).map((finding) => finding.key);
}

describe('md001', () => {
  it('declares its identity, default severity and FP tolerance', () => {
    expect(md001).toMatchObject({
      id: 'MD-001',
      version: '1.0.0',
      severity: 'medium',
      fpTolerance: { ceiling: 0.1, window: 20 },
    });
  });

  it('finds nothing when no check is required', () => {
    expect(orphans(artifactsFor([]))).toEqual([]);
  });

  it('accepts contexts produced by job keys, job names and "<workflow name> / <job name>"', () => {
    const required = located(['lint', 'CI / lint', 'Docs', 'PR Checks / Docs']);
    expect(orphans(artifactsFor(required))).toEqual([]);
  });

  it('matches matrix expressions in job names as any text', () => {
    const required = located(['test (ubuntu-latest)', 'CI / test (windows-latest)', 'test (macos-14)']);
    expect(orphans(artifactsFor(required))).toEqual([]);
  });

  it('expects matrix values appended to a matrix job whose name does not use the matrix', () => {
    // Prepare: `build` has a matrix but no name, so GitHub reports `build (18)`, never `build`.
    const required = located(['build (18)', 'CI / build (20)', 'build', 'test']);
    // Act / Assess
    expect(orphans(artifactsFor(required))).toEqual(['context:build', 'context:test']);
  });

  it('names reusable-workflow jobs "<caller> / <called job>", locally resolved or any for remote calls', () => {
    const required = located(['Unit / Run unit', 'PR Checks / Unit / Run integration', 'call-remote / scan', 'Run unit']);
    const findings = md001.evaluate({ artifacts: artifactsFor(required), event: PR, options: NO_OPTIONS });
    expect(findings.map((f) => f.key)).toEqual(['context:Run unit']);
    // The callee's own job never runs on pull_request by itself: point at it.
    expect(findings[0].evidence).toEqual([
      { path: POLICY, line: 13, snippet: 'Run unit' },
      { path: '.github/workflows/reusable.yml', line: 4, snippet: 'run:' },
    ]);
  });

  it('follows nested local calls and stops at a workflow calling itself', () => {
    // Prepare: a matrix caller -> outer (calls itself and inner) -> inner.
    const caller = parseWorkflow(
      '.github/workflows/caller.yml',
      'on: pull_request\njobs:\n  gate:\n    strategy:\n      matrix:\n        shard: [1, 2]\n    uses: ./.github/workflows/outer.yml\n',
    );
    const outer = parseWorkflow(
      '.github/workflows/outer.yml',
      'on: workflow_call\njobs:\n  again:\n    uses: ./.github/workflows/outer.yml\n  nested:\n    uses: ./.github/workflows/inner.yml@main\n',
    );
    const inner = parseWorkflow(
      '.github/workflows/inner.yml',
      'on: workflow_call\njobs:\n  check:\n    runs-on: ubuntu-latest\n    steps:\n      - run: "true"\n',
    );
    const artifacts = { ...artifactsFor(located(['gate (1) / nested / check', 'gate (2) / again / anything', 'gate / nested / check'])), workflows: [caller, outer, inner] };
    // Act / Assess
    expect(orphans(artifacts)).toEqual(['context:gate / nested / check']);
  });

  it('reports an orphan context at its declaration, medium on pull requests', () => {
    const findings = md001.evaluate({ artifacts: artifactsFor(located(['lint', 'security-scan'])), event: PR, options: NO_OPTIONS });
    expect(findings).toEqual([
      {
        key: 'context:security-scan',
        severity: 'medium',
        title: 'Required status check "security-scan" is not produced by any workflow that runs on pull_request',
        evidence: [{ path: POLICY, line: 11, snippet: 'security-scan' }],
      },
    ]);
  });

  it('adds the line of a same-named job whose workflow does not run on the event', () => {
    const required = located(['Publish', '.github/workflows/release.yml / Publish']);
    const findings = md001.evaluate({ artifacts: artifactsFor(required), event: PR, options: NO_OPTIONS });
    expect(findings.map((f) => [f.key, f.evidence])).toEqual([
      [
        'context:Publish',
        [
          { path: POLICY, line: 10, snippet: 'Publish' },
          { path: '.github/workflows/release.yml', line: 5, snippet: 'publish:' },
        ],
      ],
      [
        'context:.github/workflows/release.yml / Publish',
        [
          { path: POLICY, line: 11, snippet: '.github/workflows/release.yml / Publish' },
          { path: '.github/workflows/release.yml', line: 5, snippet: 'publish:' },
        ],
      ],
    ]);
  });

  it('checks the merge queue against merge_group workflows and escalates to high', () => {
    // Prepare: Docs runs on pull_request only; lint runs on both.
    const required = located(['lint', 'Docs']);
    // Act
    const findings = md001.evaluate({ artifacts: artifactsFor(required), event: event('merge_group', 'merge_group'), options: NO_OPTIONS });
    // Assess
    expect(findings.map((f) => [f.key, f.severity, f.evidence.map((e) => `${e.path}:${e.line}`)])).toEqual([
      ['context:Docs', 'high', [`${POLICY}:11`, '.github/workflows/pr-checks.yml:4']],
    ]);
    expect(findings[0].title).toContain('runs on merge_group');
  });

  it('keeps pull_request and pull_request_target apart, per the workflow triggers', () => {
    const required = located(['label', 'Docs']);
    expect(orphans(artifactsFor(required), PR)).toEqual(['context:label']);
    expect(orphans(artifactsFor(required), event('pull_request', 'pull_request_target'))).toEqual(['context:Docs']);
  });

  it('judges drift and calibration runs against pull_request workflows', () => {
    const required = located(['Docs', 'Publish']);
    expect(orphans(artifactsFor(required), event('drift', 'schedule'))).toEqual(['context:Publish']);
    expect(requiredCheckEvent(event('calibration', 'workflow_dispatch'))).toBe('pull_request');
    expect(requiredCheckEvent(event('merge_group', 'pull_request'))).toBe('merge_group');
    expect(requiredCheckEvent(event('pull_request', 'pull_request_target'))).toBe('pull_request_target');
  });

  it('merges branch-protection contexts with the policy, keeping the first declaration of each', () => {
    // Prepare
    const branchProtection: BranchProtection = protectionFrom(PROTECTION, {
      requiredContexts: located(['security-scan', 'lint', 'deploy-gate'], PROTECTION, 3),
    });
    const artifacts = artifactsFor(located(['security-scan']), { branchProtection });
    // Act
    const findings = md001.evaluate({ artifacts, event: PR, options: NO_OPTIONS });
    // Assess
    expect(findings.map((f) => [f.key, f.evidence[0]])).toEqual([
      ['context:security-scan', { path: POLICY, line: 10, snippet: 'security-scan' }],
      ['context:deploy-gate', { path: PROTECTION, line: 5, snippet: 'deploy-gate' }],
    ]);
  });

  it('treats regex characters in names literally', () => {
    const required = located(['CI / lint', 'CI . lint', 'lin.']);
    expect(orphans(artifactsFor(required))).toEqual(['context:CI . lint', 'context:lin.']);
  });

  it('reports every context when no workflow exists', () => {
    expect(orphans(artifactsFor(located(['lint']), { fixtures: [] }))).toEqual(['context:lint']);
  });
});
