/**
 * MD-102 — merge-queue trust chain. The policy's `mergeQueue` block declares
 * how changes reach the default branch (through the merge queue, no admin
 * bypass, no direct or force pushes, linear history). That declaration is
 * only true if the branch protection in force says the same and if every
 * required check actually reports on `merge_group`: a required check that
 * never runs in the queue stalls it, or gets bypassed to unblock it.
 */
import type { WorkflowFile } from '../artifacts/workflow';
import { sourceLineText } from '../artifacts/workflow';
import type {
  BranchProtection,
  EvidenceInput,
  LocatedString,
  MergeQueuePolicy,
  Rule,
  RuleContext,
  RuleFinding,
  Severity,
} from '../types';
import { orphanContexts } from './md-001-required-checks';
import { PR_TRIGGER_EVENTS } from './workflow-events';

const MERGE_GROUP = 'merge_group';

/** A required context with where the policy and the protection declare it. */
interface RequiredContext {
  value: string;
  /** The first declaration, policy before protection. */
  first: LocatedString;
  policy?: LocatedString;
  protection?: LocatedString;
}

/** Policy contexts first, then protection contexts, each value once with both declarations. */
function requiredContexts(
  policyContexts: readonly LocatedString[],
  protection: BranchProtection,
): RequiredContext[] {
  const byValue = new Map<string, RequiredContext>();
  for (const located of policyContexts) {
    if (!byValue.has(located.value)) byValue.set(located.value, { value: located.value, first: located, policy: located });
  }
  for (const located of protection.requiredContexts) {
    const known = byValue.get(located.value);
    if (known === undefined) byValue.set(located.value, { value: located.value, first: located, protection: located });
    else if (known.protection === undefined) known.protection = located;
  }
  return [...byValue.values()];
}

class Md102Evaluation {
  readonly findings: RuleFinding[] = [];

  constructor(
    private readonly queue: MergeQueuePolicy,
    private readonly protection: BranchProtection,
  ) {}

  /**
   * Protection settings against the declared chain. A disabled protection
   * while the queue is required or direct pushes are forbidden is one
   * critical finding that subsumes the queue and push settings.
   */
  settings(): void {
    const { queue, protection } = this;
    if (!protection.enabled && (queue.requiredForDefaultBranch || !queue.allowDirectPushes)) {
      const declared = [
        ...(queue.requiredForDefaultBranch ? ['requiredForDefaultBranch: true'] : []),
        ...(queue.allowDirectPushes ? [] : ['allowDirectPushes: false']),
      ];
      this.add('protection-disabled', 'critical',
        `Branch protection is disabled${this.branch()}, but the merge-queue policy requires the queue or forbids direct pushes`,
        `mergeQueue: ${declared.join(', ')}`,
        `protection: none (no branch protection or active ruleset${this.branch()})`);
      return;
    }
    if (queue.requiredForDefaultBranch && !protection.mergeQueueRequired) {
      this.add('merge-queue-not-required', 'high',
        `The policy requires the merge queue${this.branch()}, but branch protection does not`,
        'mergeQueue: requiredForDefaultBranch: true', 'merge_queue: not required');
    }
    this.adminBypass();
    if (!queue.allowDirectPushes) {
      if (!protection.requirePullRequest && !protection.pushRestricted) {
        this.add('direct-pushes', 'high',
          `The policy forbids direct pushes${this.branch()}, but branch protection neither requires a pull request nor restricts pushes`,
          'mergeQueue: allowDirectPushes: false', 'required_pull_request_reviews: none, restrictions: none');
      }
      this.forcePushes();
    }
    this.linearHistory();
  }

  private adminBypass(): void {
    if (this.queue.allowBypassForAdmins || this.protection.enforceAdmins) return;
    this.add('admin-bypass', 'high',
      `The policy forbids admins to bypass the merge queue${this.branch()}, but branch protection does not bind admins`,
      'mergeQueue: allowBypassForAdmins: false', 'enforce_admins: false');
  }

  private forcePushes(): void {
    if (!this.protection.allowForcePushes) return;
    this.add('force-pushes', 'high',
      `The policy forbids direct pushes${this.branch()}, but branch protection allows force pushes`,
      'mergeQueue: allowDirectPushes: false', 'allow_force_pushes: true');
  }

  private linearHistory(): void {
    if (!this.queue.requireLinearHistory || this.protection.requireLinearHistory) return;
    this.add('linear-history', 'medium',
      `The policy requires a linear history${this.branch()}, but branch protection does not`,
      'mergeQueue: requireLinearHistory: true', 'required_linear_history: false');
  }

  /**
   * Required checks that no job reports on merge_group, when the queue is
   * required by the policy or by the protection (otherwise no merge_group
   * event runs). Evidence, declarations first: the policy line, the
   * protection (its line, or 0 when it does not list the check), the queue
   * policy, and the trigger line of each pull-request workflow that
   * produces the check but does not run in the queue.
   */
  checks(policyContexts: readonly LocatedString[], workflows: readonly WorkflowFile[]): void {
    const { queue, protection } = this;
    if (!queue.requiredForDefaultBranch && !protection.mergeQueueRequired) return;
    const contexts = requiredContexts(policyContexts, protection);
    const byFirst = new Map(contexts.map((required) => [required.first, required]));
    for (const { context, elsewhere } of orphanContexts(workflows, [...byFirst.keys()], MERGE_GROUP)) {
      // orphanContexts returns the very LocatedString objects it was given.
      const required = byFirst.get(context) as RequiredContext;
      const evidence: EvidenceInput[] = [];
      if (required.policy !== undefined) {
        evidence.push({ path: required.policy.path, line: required.policy.line, snippet: required.value });
      }
      evidence.push(
        required.protection === undefined
          ? this.protectionEvidence(`required_status_checks: ${required.value} not listed`, 0)
          : this.protectionEvidence(`required_status_checks: ${required.value}`, required.protection.line),
      );
      evidence.push(this.queueEvidence('mergeQueue: required status checks must report on merge_group'));
      const seen = new Set<string>();
      for (const { workflow } of elsewhere) {
        const trigger = workflow.triggers.find((t) => PR_TRIGGER_EVENTS.includes(t.event));
        if (trigger === undefined || seen.has(workflow.path)) continue;
        seen.add(workflow.path);
        evidence.push({ path: workflow.path, line: trigger.line, snippet: sourceLineText(workflow, trigger.line) });
      }
      this.findings.push({
        key: `check-not-on-merge-group:${required.value}`,
        severity: 'high',
        title: `Required status check "${required.value}" is not produced by any workflow that runs on merge_group: the merge queue stalls or is bypassed`,
        evidence,
      });
    }
  }

  private branch(): string {
    return this.protection.branch === undefined ? '' : ` on ${this.protection.branch}`;
  }

  private queueEvidence(snippet: string): EvidenceInput {
    return { path: this.queue.path, line: this.queue.line, snippet };
  }

  private protectionEvidence(snippet: string, line: number): EvidenceInput {
    return { path: this.protection.path, line, snippet };
  }

  private add(key: string, severity: Severity, title: string, declared: string, observed: string): void {
    this.findings.push({
      key,
      severity,
      title,
      evidence: [this.queueEvidence(declared), this.protectionEvidence(observed, 0)],
    });
  }
}

/** MD-102: the declared merge-queue trust chain holds in branch protection and in the workflows. */
export const md102: Rule = {
  id: 'MD-102',
  version: '1.0.0',
  title: 'Merge-queue trust chain',
  description:
    'The merge-queue policy (queue required, no admin bypass, no direct or force pushes, linear history) ' +
    'must match the branch protection in force, and every required status check must be produced by a ' +
    'workflow that runs on merge_group. Without branch protection the chain cannot be verified.',
  severity: 'high',
  fpTolerance: { ceiling: 0.1, window: 20 },
  evaluate({ artifacts }: RuleContext): readonly RuleFinding[] {
    const queue = artifacts.policy.mergeQueue;
    if (queue === undefined) return [];
    const protection = artifacts.branchProtection;
    if (protection === undefined) {
      return [
        {
          key: 'protection-unknown',
          severity: 'high',
          title:
            'The merge-queue trust chain cannot be verified without branch protection ' +
            '(pass --branch-protection or run with GITHUB_TOKEN)',
          evidence: [{ path: queue.path, line: queue.line, snippet: 'mergeQueue: declared, branch protection not provided' }],
        },
      ];
    }
    const evaluation = new Md102Evaluation(queue, protection);
    evaluation.settings();
    evaluation.checks(artifacts.policy.requiredStatusChecks, artifacts.workflows);
    return evaluation.findings;
  },
};
