/**
 * MD-006 — permission boundary. Flags workflows where code or data from a
 * pull request can reach a privileged token or secrets: broad write
 * permissions in PR-reachable workflows, PR workflows left on the default
 * token, pull_request_target/workflow_run jobs that check out the PR head,
 * untrusted event text interpolated into shell scripts, and unpinned
 * third-party actions in jobs holding secrets or write access.
 */
import type { WorkflowFile, WorkflowJob } from '../artifacts/workflow';
import { findInExpressions, sourceLineText } from '../artifacts/workflow';
import type { Rule, RuleContext, RuleFinding, Severity } from '../types';
import {
  actionName,
  isPinnedToSha,
  isThirdPartyAction,
  jobMayWrite,
  OccurrenceKeys,
  PR_REACHABLE_EVENTS,
  PR_TRIGGER_EVENTS,
  PRIVILEGED_EVENTS,
  triggeredByAny,
} from './workflow-events';

/** `with.ref` values that point a checkout at the pull request's own code. */
const UNTRUSTED_REF =
  /github\.event\.pull_request\.head\.(?:sha|ref)(?![\w-])|github\.head_ref(?![\w-])|github\.event\.workflow_run\.head_(?:sha|branch)(?![\w-])|refs\/pull\//;

/** Event fields an outsider controls; interpolated into `run:` they are shell injection. */
const UNTRUSTED_INPUT = new RegExp(
  '(?<![\\w.])github\\.(?:head_ref|event\\.(?:' +
    [
      'pull_request\\.(?:title|body|head\\.(?:ref|label|repo\\.default_branch))',
      'issue\\.(?:title|body)',
      'comment\\.body',
      'review\\.body',
      'review_comment\\.body',
      'pages(?:\\.\\*|\\[[^\\]]*\\])\\.page_name',
      'commits(?:\\.\\*|\\[[^\\]]*\\])\\.(?:message|author\\.(?:email|name))',
      'head_commit\\.(?:message|author\\.(?:email|name))',
      'workflow_run\\.(?:head_branch|head_commit\\.message)',
    ].join('|') +
    '))(?![\\w-])',
  'g',
);

function isCheckout(uses: string): boolean {
  const name = uses.trim().toLowerCase();
  return name === 'actions/checkout' || name.startsWith('actions/checkout@');
}

class Md006Evaluation {
  readonly findings: RuleFinding[] = [];
  private readonly keys = new OccurrenceKeys();

  constructor(private readonly workflow: WorkflowFile) {}

  run(): RuleFinding[] {
    const workflow = this.workflow;
    if (triggeredByAny(workflow, PR_REACHABLE_EVENTS)) this.broadPermissions();
    this.defaultPermissions();
    const privileged = triggeredByAny(workflow, PRIVILEGED_EVENTS);
    for (const job of workflow.jobs) {
      if (privileged) this.untrustedCheckout(job);
      this.scriptInjection(job);
      this.unpinnedActions(job);
    }
    return this.findings;
  }

  private broadPermissions(): void {
    const { workflow } = this;
    const block = workflow.permissions;
    if (block?.shorthand === 'write-all') {
      this.add(`${workflow.path}#workflow#write-all`, 'high', block.line,
        'Workflow reachable from pull requests grants write-all permissions');
    }
    for (const scope of block?.scopes ?? []) {
      if (scope.level.trim().toLowerCase() !== 'write') continue;
      this.add(`${workflow.path}#workflow#write:${scope.name}`, 'medium', scope.line,
        `Workflow reachable from pull requests grants ${scope.name}: write to every job`);
    }
    for (const job of workflow.jobs) {
      if (job.permissions?.shorthand !== 'write-all') continue;
      this.add(`${workflow.path}#${job.key}#write-all`, 'high', job.permissions.line,
        `Job ${job.key} in a workflow reachable from pull requests grants write-all permissions`);
    }
  }

  private defaultPermissions(): void {
    const { workflow } = this;
    if (workflow.permissions !== undefined) return;
    if (workflow.jobs.every((job) => job.permissions !== undefined)) return;
    const trigger = workflow.triggers.find((t) => PR_TRIGGER_EVENTS.includes(t.event));
    if (trigger === undefined) return;
    this.add(`${workflow.path}#default-permissions`, 'medium', trigger.line,
      `Workflow triggered by ${trigger.event} declares no permissions: jobs get the repository default token`);
  }

  private untrustedCheckout(job: WorkflowJob): void {
    const { workflow } = this;
    for (const step of job.steps) {
      const ref = step.with.ref;
      if (step.uses === undefined || !isCheckout(step.uses.value) || ref === undefined) continue;
      if (!UNTRUSTED_REF.test(ref.value)) continue;
      const privileged = job.secrets.length > 0 || jobMayWrite(workflow, job);
      this.add(this.keys.next(`${workflow.path}#${job.key}#checkout-head`), privileged ? 'critical' : 'high', ref.line,
        `Job ${job.key} checks out pull-request code in a privileged workflow` +
          (privileged ? ' with secrets or a write token' : ''));
    }
  }

  private scriptInjection(job: WorkflowJob): void {
    const { workflow } = this;
    for (const step of job.steps) {
      if (step.run === undefined) continue;
      for (const occurrence of findInExpressions(workflow, step.run, UNTRUSTED_INPUT)) {
        this.add(this.keys.next(`${workflow.path}#${job.key}#injection:${occurrence.match}`), 'high', occurrence.line,
          `Untrusted ${occurrence.match} is interpolated into a run script in job ${job.key}`);
      }
    }
  }

  private unpinnedActions(job: WorkflowJob): void {
    const { workflow } = this;
    if (job.secrets.length === 0 && !jobMayWrite(workflow, job)) return;
    const uses = [job.uses, ...job.steps.map((step) => step.uses)];
    for (const use of uses) {
      if (use === undefined || !isThirdPartyAction(use.value) || isPinnedToSha(use.value)) continue;
      const name = actionName(use.value);
      this.add(this.keys.next(`${workflow.path}#${job.key}#unpinned:${name}`), 'medium', use.line,
        `Third-party ${name} is not pinned to a commit SHA in job ${job.key}, which holds secrets or a write token`);
    }
  }

  private add(key: string, severity: Severity, line: number, title: string): void {
    this.findings.push({
      key,
      severity,
      title,
      evidence: [{ path: this.workflow.path, line, snippet: sourceLineText(this.workflow, line) }],
    });
  }
}

/** MD-006: pull-request code and data stay outside the secrets and write-token boundary. */
export const md006: Rule = {
  id: 'MD-006',
  version: '1.0.0',
  title: 'Permission boundary',
  description:
    'Pull-request code or data must not reach secrets or a write token: no broad write permissions in ' +
    'PR-reachable workflows, explicit permissions on PR workflows, no checkout of the PR head in ' +
    'pull_request_target/workflow_run jobs, no untrusted event text in run scripts, and third-party ' +
    'actions pinned to a commit SHA wherever secrets or write access are present.',
  severity: 'high',
  fpTolerance: { ceiling: 0.05, window: 20 },
  evaluate({ artifacts }: RuleContext): readonly RuleFinding[] {
    return artifacts.workflows.flatMap((workflow) => new Md006Evaluation(workflow).run());
  },
};
