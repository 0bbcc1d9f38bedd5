import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseWorkflow } from '../../src/artifacts/workflow';
import type { WorkflowFile } from '../../src/artifacts/workflow';
import { MAX_LISTED_FILES, jobNameMatchesGlob, md003, pathFiltersRun } from '../../src/rules/md-003-probabilistic-gate';
import type { Artifacts, EventContext, LocatedString, Policy, RuleContext, RuleFinding } from '../../src/types';

const FIXTURES = join(__dirname, '..', 'fixtures', 'rules', 'md003');
const POLICY_FILE = '.github/phase-mirror/policy.yml';
const POLICY_TEXT = readFileSync(join(FIXTURES, 'policy.yml'), 'utf8');
const ALL_WORKFLOWS = ['ci.yml', 'model-eval.yml', 'nightly-eval.yml', 'prompt-gate.yml', 'reusable-scoring.yml'];

const FILES = [
  '.github/workflows/ci.yml',
  'README.md',
  'models/classifier/weights.onnx',
  'models/ranker/config.json',
  'prompts/system.txt',
  'src/app.py',
  'src/ranking/score.py',
  'src/ranking/sub/helper.py',
];

/** A policy list entry as the loader locates it: its value and the line of `- value` in policy.yml. */
function declared(value: string): LocatedString {
  const index = POLICY_TEXT.split('\n').findIndex((line) => line.trim() === `- ${value}`);
  if (index === -1) throw new Error(`fixture policy.yml does not declare ${value}`);
  return { value, path: POLICY_FILE, line: index + 1 };
}

const PATHS = [declared('models/**'), declared('prompts/'), declared('src/ranking/*.py')];
const JOBS = [declared('evaluate*golden*'), declared('prompts / score ?rompts')];

function workflow(name: string): WorkflowFile {
  return parseWorkflow(`.github/workflows/${name}`, readFileSync(join(FIXTURES, 'workflows', name), 'utf8'));
}

function policy(probabilistic: Policy['probabilistic']): Policy {
  return {
    source: POLICY_FILE,
    requiredStatusChecks: [declared('CI / Unit tests')],
    criticalPaths: [],
    protectedPaths: [],
    baseline: { path: '.github/phase-mirror/baseline.json', globs: [], threshold: 0.15 },
    automation: { authors: [], branchPrefixes: [] },
    ...(probabilistic !== undefined ? { probabilistic } : {}),
  };
}

interface Options {
  workflows?: readonly string[];
  extraWorkflows?: readonly WorkflowFile[];
  probabilistic?: Policy['probabilistic'] | null;
  event?: Partial<EventContext>;
  files?: readonly string[];
}

function context(options: Options = {}): RuleContext {
  const workflows = [...(options.workflows ?? ALL_WORKFLOWS).map(workflow), ...(options.extraWorkflows ?? [])];
  const probabilistic = options.probabilistic === null ? undefined : (options.probabilistic ?? { paths: PATHS, evaluationJobs: JOBS });
  const artifacts: Artifacts = {
    root: '/repo',
    fileList: options.files ?? FILES,
    workflows,
    manifests: [],
    policy: policy(probabilistic),
    baselineCurrent: new Map(),
    skipped: [],
  };
  const event: EventContext = {
    mode: 'pull_request',
    eventName: 'pull_request',
    repository: 'acme/assistant',
    prNumber: 7,
    baseRef: 'main',
    author: 'alice',
    changedFiles: ['prompts/system.txt', 'src/app.py'],
    strict: false,
    dryRun: false,
    ...options.event,
  };
  return { artifacts, event, options: { jobIntents: {} } };
}

function evaluate(options: Options = {}): readonly RuleFinding[] {
  return md003.evaluate(context(options));
}

const MERGE_GROUP: Partial<EventContext> = { mode: 'merge_group', eventName: 'merge_group' };

describe('md003 metadata', () => {
  it('declares id, version, severity and FP tolerance', () => {
    expect(md003).toMatchObject({
      id: 'MD-003',
      version: '1.0.0',
      severity: 'high',
      fpTolerance: { ceiling: 0.1, window: 20 },
    });
    expect(md003.title.length).toBeGreaterThan(0);
    expect(md003.description.length).toBeGreaterThan(0);
  });
});

describe('md003: scope', () => {
  it('stays silent when the policy declares no probabilistic components', () => {
    expect(evaluate({ probabilistic: null, workflows: ['ci.yml'] })).toEqual([]);
    expect(evaluate({ probabilistic: { paths: [], evaluationJobs: JOBS }, workflows: ['ci.yml'] })).toEqual([]);
  });

  it('stays silent when the change touches no probabilistic path', () => {
    const findings = evaluate({ workflows: ['ci.yml'], event: { changedFiles: ['src/app.py', 'src/ranking/sub/helper.py', 'README.md'] } });
    expect(findings).toEqual([]);
  });

  it('checks every probabilistic file of the repository when the changed files are unknown', () => {
    // Prepare: a scheduled drift run has no base; the repository as it is must be gated.
    const drift: Partial<EventContext> = { mode: 'drift', eventName: 'schedule', changedFiles: undefined, baseRef: undefined };
    // Act
    const findings = evaluate({ workflows: ['ci.yml', 'nightly-eval.yml'], event: drift });
    // Assess: drift runs are checked against the pull_request workflows, the event checks gate.
    expect(findings).toEqual([
      {
        key: 'no-evaluation-gate',
        severity: 'high',
        title:
          'Probabilistic components (4 files) without an evaluation gate: no job matching probabilistic.evaluationJobs runs on pull_request',
        evidence: [
          { path: POLICY_FILE, line: 6, snippet: 'probabilistic path: models/**' },
          { path: POLICY_FILE, line: 7, snippet: 'probabilistic path: prompts/' },
          { path: POLICY_FILE, line: 8, snippet: 'probabilistic path: src/ranking/*.py' },
          { path: 'models/classifier/weights.onnx', line: 0, snippet: 'models/classifier/weights.onnx: probabilistic component' },
          { path: 'models/ranker/config.json', line: 0, snippet: 'models/ranker/config.json: probabilistic component' },
          { path: 'prompts/system.txt', line: 0, snippet: 'prompts/system.txt: probabilistic component' },
          { path: 'src/ranking/score.py', line: 0, snippet: 'src/ranking/score.py: probabilistic component' },
          { path: POLICY_FILE, line: 10, snippet: 'evaluation job: evaluate*golden*' },
          { path: POLICY_FILE, line: 11, snippet: 'evaluation job: prompts / score ?rompts' },
        ],
      },
    ]);
  });

  it('passes a drift run when an evaluation job runs on pull_request', () => {
    const drift: Partial<EventContext> = { mode: 'drift', eventName: 'schedule', changedFiles: undefined };
    expect(evaluate({ event: drift })).toEqual([]);
  });
});

describe('md003: evaluation gate', () => {
  it('passes when a matrix job whose name matches an evaluation glob runs on the event', () => {
    // `Evaluate ${{ matrix.model }} on the golden set` matches `evaluate*golden*` case-insensitively.
    expect(evaluate({ workflows: ['ci.yml', 'model-eval.yml'] })).toEqual([]);
  });

  it('passes the merge queue through a local reusable workflow named "<caller> / <called job>"', () => {
    // prompt-gate.yml (merge_group) calls reusable-scoring.yml, whose job is `Score ${{ inputs.suite }}`.
    expect(evaluate({ workflows: ['ci.yml', 'prompt-gate.yml', 'reusable-scoring.yml'], event: MERGE_GROUP })).toEqual([]);
  });

  it('reports changed probabilistic files with no evaluation job on the event, pointing at jobs that do not run on it', () => {
    // Prepare: in the merge queue only CI runs; the evaluation job exists but runs on pull_request only.
    const event = { ...MERGE_GROUP, changedFiles: ['src/app.py', 'prompts/system.txt', 'models/ranker/config.json'] };
    // Act
    const findings = evaluate({ workflows: ['ci.yml', 'model-eval.yml', 'nightly-eval.yml', 'reusable-scoring.yml'], event });
    // Assess
    expect(findings).toEqual([
      {
        key: 'no-evaluation-gate',
        severity: 'high',
        title:
          'Probabilistic components changed (2 files) without an evaluation gate: no job matching probabilistic.evaluationJobs ' +
          'runs on merge_group (matching jobs exist only in workflows that do not run on merge_group)',
        evidence: [
          { path: POLICY_FILE, line: 6, snippet: 'probabilistic path: models/**' },
          { path: POLICY_FILE, line: 7, snippet: 'probabilistic path: prompts/' },
          { path: 'models/ranker/config.json', line: 0, snippet: 'models/ranker/config.json: changed probabilistic component' },
          { path: 'prompts/system.txt', line: 0, snippet: 'prompts/system.txt: changed probabilistic component' },
          { path: POLICY_FILE, line: 10, snippet: 'evaluation job: evaluate*golden*' },
          { path: POLICY_FILE, line: 11, snippet: 'evaluation job: prompts / score ?rompts' },
          { path: '.github/workflows/model-eval.yml', line: 10, snippet: 'evaluate:' },
        ],
      },
    ]);
  });

  it('uses the triggering event of a pull_request run: pull_request_target runs do not count pull_request workflows', () => {
    const findings = evaluate({ workflows: ['ci.yml', 'model-eval.yml'], event: { eventName: 'pull_request_target' } });
    expect(findings.map((finding) => [finding.key, finding.evidence[finding.evidence.length - 1]])).toEqual([
      ['no-evaluation-gate', { path: '.github/workflows/model-eval.yml', line: 10, snippet: 'evaluate:' }],
    ]);
  });

  it('reports a gate that names no evaluation job at all', () => {
    const findings = evaluate({ probabilistic: { paths: PATHS, evaluationJobs: [] } });
    expect(findings.map((finding) => finding.evidence.map((evidence) => evidence.line))).toEqual([[7, 0]]);
  });

  it('lists at most MAX_LISTED_FILES files and counts the rest at the first probabilistic path', () => {
    const changedFiles = Array.from({ length: MAX_LISTED_FILES + 3 }, (_, i) => `prompts/p${String(i).padStart(3, '0')}.txt`);
    const [finding] = evaluate({ workflows: ['ci.yml'], event: { changedFiles } });
    expect(finding.title).toContain(`(${MAX_LISTED_FILES + 3} files)`);
    expect(finding.evidence).toHaveLength(1 + MAX_LISTED_FILES + 1 + JOBS.length);
    expect(finding.evidence[1 + MAX_LISTED_FILES]).toEqual({ path: POLICY_FILE, line: 7, snippet: '3 more probabilistic files not listed' });
  });

  it('says "1 file" for a single changed component and keeps its key when lines move', () => {
    const moved = [{ ...PATHS[1], line: 70 }];
    const [finding] = evaluate({ workflows: ['ci.yml'], probabilistic: { paths: moved, evaluationJobs: JOBS } });
    expect(finding.key).toBe('no-evaluation-gate');
    expect(finding.title).toMatch(/^Probabilistic components changed \(1 file\) without/);
    expect(finding.evidence[0]).toEqual({ path: POLICY_FILE, line: 70, snippet: 'probabilistic path: prompts/' });
  });

  it('matches evaluation globs against job keys, and a matrix job by its check-run name "<name> (…)"', () => {
    const matrixJob = parseWorkflow(
      '.github/workflows/eval.yml',
      [
        'on: pull_request',
        'jobs:',
        '  model-eval:',
        '    strategy:',
        '      matrix:',
        '        model: [classifier, ranker]',
        '    runs-on: ubuntu-latest',
        '    steps:',
        '      - run: make eval',
        '',
      ].join('\n'),
    );
    const byKey = { paths: PATHS, evaluationJobs: [{ value: 'MODEL-EVAL', path: POLICY_FILE, line: 10 }] };
    const byCheckRun = { paths: PATHS, evaluationJobs: [{ value: 'model-eval (ranker)', path: POLICY_FILE, line: 10 }] };
    const other = { paths: PATHS, evaluationJobs: [{ value: 'model-evaluation', path: POLICY_FILE, line: 10 }] };
    expect(evaluate({ workflows: [], extraWorkflows: [matrixJob], probabilistic: byKey })).toEqual([]);
    expect(evaluate({ workflows: [], extraWorkflows: [matrixJob], probabilistic: byCheckRun })).toEqual([]);
    expect(evaluate({ workflows: [], extraWorkflows: [matrixJob], probabilistic: other }).map((f) => f.key)).toEqual(['no-evaluation-gate']);
  });

  it('follows nested local calls, stops at a workflow that calls itself, and counts remote calls by their caller', () => {
    const outer = parseWorkflow(
      '.github/workflows/outer.yml',
      'on: pull_request\njobs:\n  again:\n    uses: ./.github/workflows/outer.yml\n  nested:\n    uses: ./.github/workflows/inner.yml@main\n',
    );
    const inner = parseWorkflow('.github/workflows/inner.yml', 'on: workflow_call\njobs:\n  judge:\n    name: LLM judge\n    runs-on: ubuntu-latest\n    steps:\n      - run: make judge\n');
    const remote = parseWorkflow('.github/workflows/remote.yml', 'on: pull_request\njobs:\n  shared-eval:\n    uses: acme/evals/.github/workflows/eval.yml@v2\n');
    const gate = (value: string) => ({ paths: PATHS, evaluationJobs: [{ value, path: POLICY_FILE, line: 10 }] });
    expect(evaluate({ workflows: [], extraWorkflows: [outer, inner], probabilistic: gate('nested / llm judge') })).toEqual([]);
    // `again` calls its own workflow: it is not expanded, so only its own key names it.
    expect(evaluate({ workflows: [], extraWorkflows: [outer, inner], probabilistic: gate('again / nested / judge') }).map((f) => f.key)).toEqual(['no-evaluation-gate']);
    expect(evaluate({ workflows: [], extraWorkflows: [outer, inner], probabilistic: gate('again') })).toEqual([]);
    expect(evaluate({ workflows: [], extraWorkflows: [remote], probabilistic: gate('shared-eval') })).toEqual([]);
    expect(evaluate({ workflows: [], extraWorkflows: [remote], probabilistic: gate('judge') }).map((f) => f.key)).toEqual(['no-evaluation-gate']);
  });

  it('reports an evaluation job whose path filters skip the change, at the trigger line', () => {
    // model-eval.yml filters on models/** and prompts/**: a change to src/ranking/score.py does not start it.
    const findings = evaluate({ workflows: ['model-eval.yml'], event: { changedFiles: ['src/ranking/score.py'] } });
    expect(findings.map((f) => f.key)).toEqual(['evaluation-filtered:.github/workflows/model-eval.yml#evaluate']);
    expect(findings[0]!.evidence.slice(0, 2)).toEqual([
      { path: '.github/workflows/model-eval.yml', line: 3, snippet: 'pull_request:' },
      { path: '.github/workflows/model-eval.yml', line: 10, snippet: 'evaluate:' },
    ]);
  });

  it('accepts an evaluation job whose path filters match the change', () => {
    expect(evaluate({ workflows: ['model-eval.yml'], event: { changedFiles: ['models/ranker.onnx', 'src/ranking/score.py'] } })).toEqual([]);
  });

  it('does not judge path filters when the changed files are unknown', () => {
    expect(evaluate({ workflows: ['model-eval.yml'], event: { changedFiles: undefined } })).toEqual([]);
  });
});

describe('pathFiltersRun', () => {
  const trigger = (filters: { paths?: string[]; pathsIgnore?: string[] }) => ({ event: 'pull_request', line: 1, ...filters });

  it('runs with paths when one file matches, honouring ! exclusions in order', () => {
    expect(pathFiltersRun(trigger({ paths: ['models/**'] }), ['README.md', 'models/a.onnx'])).toBe(true);
    expect(pathFiltersRun(trigger({ paths: ['models/**', '!models/docs/**'] }), ['models/docs/x.md'])).toBe(false);
    expect(pathFiltersRun(trigger({ paths: ['models/**'] }), ['src/a.ts'])).toBe(false);
  });

  it('skips with paths-ignore only when every file is ignored', () => {
    expect(pathFiltersRun(trigger({ pathsIgnore: ['docs/**'] }), ['docs/a.md'])).toBe(false);
    expect(pathFiltersRun(trigger({ pathsIgnore: ['docs/**'] }), ['docs/a.md', 'src/a.ts'])).toBe(true);
    expect(pathFiltersRun(trigger({}), ['anything'])).toBe(true);
  });
});

describe('jobNameMatchesGlob', () => {
  it('reads * and ? as wildcards, case-insensitively, with * crossing " / "', () => {
    expect(jobNameMatchesGlob('EVAL*', 'eval-models')).toBe(true);
    expect(jobNameMatchesGlob('ci / eval ?', 'CI / Eval 1')).toBe(true);
    expect(jobNameMatchesGlob('*eval*', 'CI / model eval / score')).toBe(true);
    expect(jobNameMatchesGlob('eval?', 'eval')).toBe(false);
    expect(jobNameMatchesGlob('**eval**', 'model eval')).toBe(true);
    expect(jobNameMatchesGlob('eval', 'evaluate')).toBe(false);
  });

  it('treats each ${{ }} expression of the name as any non-empty text', () => {
    expect(jobNameMatchesGlob('eval (gpt-4)', 'eval (${{ matrix.model }})')).toBe(true);
    expect(jobNameMatchesGlob('eval ()', 'eval (${{ matrix.model }})')).toBe(false);
    expect(jobNameMatchesGlob('deploy*', 'eval-${{ matrix.model }}')).toBe(false);
    expect(jobNameMatchesGlob('a*b', '${{ x }}c${{ y }}')).toBe(true);
    expect(jobNameMatchesGlob('*c', '${{ x }}d')).toBe(false);
  });

  it('reads an unterminated expression literally', () => {
    expect(jobNameMatchesGlob('eval ${{ x', 'eval ${{ x')).toBe(true);
    expect(jobNameMatchesGlob('eval y', 'eval ${{ x')).toBe(false);
  });
});
