import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseWorkflow } from '../../src/artifacts/workflow';
import type { WorkflowFile } from '../../src/artifacts/workflow';
import { InputError } from '../../src/errors';
import { DEFAULT_JOB_INTENTS } from '../../src/rules/job-intents';
import { md100 } from '../../src/rules/md-100-semantic-job-drift';
import type { Artifacts, EventContext, JobIntent, RuleContext, RuleFinding } from '../../src/types';

const FIXTURES = join(__dirname, '..', 'fixtures', 'rules', 'md100');

function fixture(name: string): WorkflowFile {
  return parseWorkflow(`.github/workflows/${name}`, readFileSync(join(FIXTURES, name), 'utf8'));
}

function context(workflows: WorkflowFile[], jobIntents: Readonly<Record<string, JobIntent>> = DEFAULT_JOB_INTENTS): RuleContext {
  const artifacts: Artifacts = {
    root: '/repo',
    fileList: workflows.map((workflow) => workflow.path).sort(),
    workflows,
    manifests: [],
    policy: {
      requiredStatusChecks: [],
      criticalPaths: [],
      protectedPaths: [],
      automation: { authors: [], branchPrefixes: [] },
      baseline: { path: '.github/phase-mirror/baseline.json', globs: [], threshold: 0.15 },
    },
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
  return { artifacts, event, options: { jobIntents } };
}

function evaluate(names: string[], jobIntents?: Readonly<Record<string, JobIntent>>): RuleFinding[] {
  return [...md100.evaluate(context(names.map(fixture), jobIntents))];
}

function evaluateText(text: string, jobIntents?: Readonly<Record<string, JobIntent>>): RuleFinding[] {
  return [...md100.evaluate(context([parseWorkflow('.github/workflows/ci.yml', text)], jobIntents))];
}

/** key (without the workflow path) → [severity, evidence lines]. Keys must be unique. */
function summary(findings: readonly RuleFinding[]): Record<string, [string | undefined, number[]]> {
  const out: Record<string, [string | undefined, number[]]> = {};
  for (const finding of findings) {
    const key = finding.key.replace(/^\.github\/workflows\/[^#]+#/, '');
    expect(out[key]).toBeUndefined();
    out[key] = [finding.severity, finding.evidence.map((evidence) => evidence.line)];
  }
  return out;
}

describe('md100', () => {
  it('declares its identity, default severity and FP tolerance', () => {
    expect(md100).toMatchObject({
      id: 'MD-100',
      version: '1.0.0',
      severity: 'medium',
      fpTolerance: { ceiling: 0.15, window: 20 },
    });
    expect(md100.title.length).toBeGreaterThan(0);
    expect(md100.description.length).toBeGreaterThan(0);
  });

  describe('the canonical cases', () => {
    it('is silent for a build job that runs npm run build and flags a test job that only echoes', () => {
      // Prepare
      const text = [
        'on: pull_request',
        'jobs:',
        '  build:',
        '    runs-on: ubuntu-latest',
        '    steps:',
        '      - run: npm run build',
        '  test:',
        '    runs-on: ubuntu-latest',
        '    steps:',
        '      - run: echo ok',
        '',
      ].join('\n');
      // Act
      const findings = evaluateText(text);
      // Assess
      expect(findings).toEqual([
        {
          key: '.github/workflows/ci.yml#test#intent:test',
          severity: 'medium',
          title: 'Job test is named for test but none of its steps does it (no test action, command or script)',
          evidence: [{ path: '.github/workflows/ci.yml', line: 7, snippet: 'test:' }],
        },
      ]);
    });

    it('checks a job claiming several intents once per intent', () => {
      const text = [
        'on: push',
        'jobs:',
        '  lint-test-and-build:',
        '    runs-on: ubuntu-latest',
        '    steps:',
        '      - run: npx eslint .',
        '      - run: echo "tests and build skipped"',
        '',
      ].join('\n');
      expect(summary(evaluateText(text))).toEqual({
        'lint-test-and-build#intent:build': ['medium', [3]],
        'lint-test-and-build#intent:test': ['medium', [3]],
      });
    });

    it('keys findings by workflow, job and intent, independent of line numbers', () => {
      const base = 'on: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ok\n';
      const shifted = 'on: push\n\n# comment\n\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ok\n';
      const [a] = evaluateText(base);
      const [b] = evaluateText(shifted);
      expect(a.key).toBe(b.key);
      expect([a.evidence[0].line, b.evidence[0].line]).toEqual([3, 6]);
    });
  });

  describe('test intent', () => {
    it('is silent for jobs that test through commands, scripts, actions, wrappers and local actions', () => {
      expect(evaluate(['test-negative.yml'])).toEqual([]);
    });

    it('flags test jobs that only echo, build, comment, lint or set up, at the key or name line', () => {
      // Prepare / Act
      const findings = evaluate(['test-positive.yml']);
      // Assess
      expect(summary(findings)).toEqual({
        'test#intent:test': ['medium', [4]],
        'unit-tests#intent:test': ['medium', [11]],
        'runTests#intent:test': ['medium', [18]],
        'check#intent:test': ['medium', [26]],
        'test-and-lint#intent:test': ['medium', [30]],
        'tests#intent:test': ['medium', [34]],
      });
      const named = findings.find((finding) => finding.key.endsWith('#check#intent:test'));
      expect(named?.evidence).toEqual([
        { path: '.github/workflows/test-positive.yml', line: 26, snippet: 'name: Unit tests' },
      ]);
    });
  });

  describe('lint intent', () => {
    it('is silent for jobs that lint with linters, formatters, type checks, make targets and lint actions', () => {
      expect(evaluate(['lint-negative.yml'])).toEqual([]);
    });

    it('flags lint jobs that build, echo, emit with tsc or use an unrelated action', () => {
      const findings = evaluate(['lint-positive.yml']);
      expect(summary(findings)).toEqual({
        'lint#intent:lint': ['medium', [4]],
        'quality#intent:lint': ['medium', [10]],
        'typecheck#intent:lint': ['medium', [14]],
        'lint-docs#intent:lint': ['medium', [18]],
      });
      expect(findings[1].evidence[0].snippet).toBe('name: Lint & format');
    });
  });

  describe('security intent', () => {
    it('is silent for jobs running CodeQL, scanners, audits and review actions', () => {
      expect(evaluate(['security-negative.yml'])).toEqual([]);
    });

    it('flags security jobs that echo, only install or run tests', () => {
      expect(summary(evaluate(['security-positive.yml']))).toEqual({
        'security#intent:security': ['medium', [4]],
        'codeql#intent:security': ['medium', [8]],
        'checks#intent:security': ['medium', [14]],
      });
    });
  });

  describe('build intent', () => {
    it('is silent for jobs that build with package scripts, compilers, images and make', () => {
      expect(evaluate(['build-negative.yml'])).toEqual([]);
    });

    it('flags build jobs that echo, lint, type-check without emitting or only upload', () => {
      expect(summary(evaluate(['build-positive.yml']))).toEqual({
        'build#intent:build': ['medium', [4]],
        'build-docs#intent:build': ['medium', [8]],
        'compile#intent:build': ['medium', [12]],
        'artifacts#intent:build': ['medium', [17]],
      });
    });
  });

  describe('deploy intent', () => {
    it('is silent for jobs that deploy, release or publish across platforms', () => {
      expect(evaluate(['deploy-negative.yml'])).toEqual([]);
    });

    it('flags deploy jobs that only authenticate, echo or pack', () => {
      expect(summary(evaluate(['deploy-positive.yml']))).toEqual({
        'deploy#intent:deploy': ['medium', [6]],
        'deploy-azure#intent:deploy': ['medium', [14]],
        'release#intent:deploy': ['medium', [18]],
        'finalize#intent:deploy': ['medium', [23]],
      });
    });
  });

  describe('jobs whose work is elsewhere', () => {
    it('does not judge reusable-workflow calls or jobs without steps, but still checks their environment', () => {
      const findings = evaluate(['not-judged.yml']);
      expect(summary(findings)).toEqual({
        'deploy-staging#environment-mismatch': ['high', [14]],
      });
      expect(findings[0].evidence[0].snippet).toBe('token: ${{ secrets.PROD_DEPLOY_TOKEN }}');
    });
  });

  describe('environment mismatch', () => {
    it('flags non-production jobs that target production, at each line that does', () => {
      // Prepare / Act
      const findings = evaluate(['environment-positive.yml']);
      // Assess
      expect(summary(findings)).toEqual({
        'deploy-staging#environment-mismatch': ['high', [7]],
        'deploy-preview#environment-mismatch': ['high', [15]],
        'dev-deploy#environment-mismatch': ['high', [19]],
        'qa#environment-mismatch': ['high', [29]],
        'stage-deploy#environment-mismatch': ['high', [35, 39]],
        'sandbox-migrate#environment-mismatch': ['high', [44]],
        'preview#environment-mismatch': ['high', [50]],
        'staging-infra#environment-mismatch': ['high', [55]],
        'staging-secrets#environment-mismatch': ['high', [61]],
        'developmentDeploy#environment-mismatch': ['high', [66]],
        'preview-vercel#environment-mismatch': ['high', [73]],
        'dev-ssh#environment-mismatch': ['high', [82]],
      });
    });

    it('carries the targeting line as the snippet and names the claimed environment', () => {
      const findings = evaluate(['environment-positive.yml']);
      const byJob = (job: string) => findings.find((finding) => finding.key.endsWith(`#${job}#environment-mismatch`));
      expect(byJob('deploy-staging')).toEqual({
        key: '.github/workflows/environment-positive.yml#deploy-staging#environment-mismatch',
        severity: 'high',
        title: 'Job deploy-staging is named for staging but targets production',
        evidence: [{ path: '.github/workflows/environment-positive.yml', line: 7, snippet: 'environment: production' }],
      });
      expect(byJob('deploy-preview')?.evidence[0].snippet).toBe(
        'vercel deploy --prebuilt --prod --token=${{ secrets.VERCEL_TOKEN }}',
      );
      expect(byJob('dev-deploy')?.evidence[0].snippet).toBe('name: prod');
      expect(byJob('qa')?.evidence[0].snippet).toBe('kube-context: prod');
      expect(byJob('stage-deploy')?.evidence.map((evidence) => evidence.snippet)).toEqual([
        'DEPLOY_ENV: production',
        '--stage prod \\',
      ]);
      expect(byJob('preview')?.evidence[0].snippet).toBe('--namespace prod');
      expect(byJob('developmentDeploy')?.title).toBe('Job developmentDeploy is named for development but targets production');
    });

    it('is silent for staging jobs on staging, runtime modes, jobs named for production, pre-prod, echoes and comments', () => {
      expect(evaluate(['environment-negative.yml'])).toEqual([]);
    });

    it('reports a job mismatch and an intent drift independently', () => {
      const text = [
        'on: workflow_dispatch',
        'jobs:',
        '  deploy-staging:',
        '    runs-on: ubuntu-latest',
        '    environment: prod',
        '    steps:',
        '      - run: echo deploying',
        '',
      ].join('\n');
      expect(summary(evaluateText(text))).toEqual({
        'deploy-staging#intent:deploy': ['medium', [3]],
        'deploy-staging#environment-mismatch': ['high', [5]],
      });
    });

    it('points at the environment line when its name is given by an expression mapping', () => {
      const text = [
        'on: workflow_dispatch',
        'jobs:',
        '  preview:',
        '    runs-on: ubuntu-latest',
        '    environment:',
        '      url: https://example.com',
        "      name: ${{ inputs.live && 'production' || 'preview' }}",
        '    steps:',
        '      - run: ./deploy.sh',
        '',
      ].join('\n');
      expect(summary(evaluateText(text))).toEqual({ 'preview#environment-mismatch': ['high', [7]] });
    });
  });

  describe('evidence lines the workflow model does not carry', () => {
    it('falls back to the environment line for a flow mapping and to the job line for a flow-style job', () => {
      const text = [
        'on: workflow_dispatch',
        'jobs:',
        '  staging:',
        '    runs-on: ubuntu-latest',
        '    environment:',
        '      { name: production }',
        '    steps:',
        '      - run: ./deploy.sh',
        '  dev: { runs-on: ubuntu-latest, environment: prod, steps: [{ run: ./deploy.sh }] }',
        '',
      ].join('\n');
      expect(summary(evaluateText(text))).toEqual({
        'staging#environment-mismatch': ['high', [5]],
        'dev#environment-mismatch': ['high', [9]],
      });
    });

    it('falls back to the script line when YAML escapes hide the written text', () => {
      const text = [
        'on: workflow_dispatch',
        'jobs:',
        '  preview:',
        '    runs-on: ubuntu-latest',
        '    steps:',
        '      - run: "vercel deploy \\x2D-prod"',
        '',
      ].join('\n');
      expect(summary(evaluateText(text))).toEqual({ 'preview#environment-mismatch': ['high', [6]] });
    });
  });

  describe('configured intents', () => {
    const DOCS: JobIntent = { keywords: ['docs', 'documentation'], actions: ['actions/deploy-pages'], commands: ['\\bmkdocs\\s+build\\b'] };

    it('uses only the intents given in options, replacing the defaults', () => {
      expect(summary(evaluate(['custom.yml'], { docs: DOCS }))).toEqual({
        'documentation#intent:docs': ['medium', [8]],
      });
    });

    it('extends the defaults when options merge them with new intents', () => {
      expect(summary(evaluate(['custom.yml'], { ...DEFAULT_JOB_INTENTS, docs: DOCS }))).toEqual({
        'documentation#intent:docs': ['medium', [8]],
        'smoke-test#intent:test': ['medium', [12]],
        'test#intent:test': ['medium', [16]],
      });
    });

    it('lets a configured intent override a default one, with multi-word keywords', () => {
      const intents = {
        ...DEFAULT_JOB_INTENTS,
        test: { ...DEFAULT_JOB_INTENTS.test, commands: [...DEFAULT_JOB_INTENTS.test.commands, '\\bbin/smoke\\b'] },
        smoke: { keywords: ['smoke test'], actions: [], commands: ['\\bbin/smoke\\b'] },
      };
      expect(summary(evaluate(['custom.yml'], intents))).toEqual({ 'test#intent:test': ['medium', [16]] });
    });

    it('judges no intent when none is configured but still checks environments', () => {
      expect(evaluate(['test-positive.yml', 'custom.yml'], {})).toEqual([]);
      expect(summary(evaluate(['not-judged.yml'], {}))).toEqual({ 'deploy-staging#environment-mismatch': ['high', [14]] });
    });

    it('throws a configuration error naming the field of an invalid command', () => {
      const bad = { docs: { ...DOCS, commands: ['(unclosed'] } };
      expect(() => evaluate(['custom.yml'], bad)).toThrow(InputError);
      try {
        evaluate(['custom.yml'], bad);
      } catch (error) {
        expect((error as InputError).code).toBe('CONFIG_INVALID');
        expect((error as InputError).location.field).toBe('rules.options.jobIntents.docs.commands[0]');
      }
    });
  });

  describe('scale', () => {
    it('evaluates 100 workflows of 40 jobs and 60 000 commands well within budget', () => {
      // Prepare
      const jobs: string[] = [];
      for (let j = 0; j < 20; j++) {
        jobs.push(
          `  test-${j}:`,
          '    runs-on: ubuntu-latest',
          '    steps:',
          '      - run: |',
          ...Array.from({ length: 30 }, (_, k) => `          echo step ${k} && ./tools/setup-${k}.sh --flag value`),
          '          npm run test',
          `  deploy-staging-${j}:`,
          '    runs-on: ubuntu-latest',
          '    environment: staging',
          '    steps:',
          '      - run: ./deploy.sh --env staging',
        );
      }
      const text = ['on: push', 'jobs:', ...jobs, ''].join('\n');
      const workflows = Array.from({ length: 100 }, (_, i) => parseWorkflow(`.github/workflows/w${i}.yml`, text));
      // Act
      const findings = md100.evaluate(context(workflows));
      // Assess (speed is measured by `npm run bench`, not asserted here)
      expect(findings).toEqual([]);
    });
  });
});
