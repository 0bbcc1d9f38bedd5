/**
 * MD-001 — required checks. Every status-check context the repository
 * declares as required (policy file, branch protection) must be produced by
 * a job of a workflow that runs on the event; otherwise pull requests or the
 * merge queue wait forever on a check nothing reports (or the requirement is
 * quietly meaningless).
 */
import type { WorkflowFile, WorkflowJob } from '../artifacts/workflow';
import { sourceLineText, workflowRunsOn } from '../artifacts/workflow';
import type { EventContext, EvidenceInput, LocatedString, Rule, RuleContext, RuleFinding } from '../types';

/** GitHub allows reusable workflows to nest this deep. */
const MAX_CALL_DEPTH = 4;
const EXPRESSION = /\$\{\{[\s\S]*?\}\}/g;
const MATRIX_REFERENCE = /\$\{\{[^}]*\bmatrix\b/;
const ANY_TEXT = '.+';

/**
 * The event whose workflows must produce the required checks: the merge
 * queue's `merge_group` in merge_group mode, the triggering event in
 * pull_request mode, and `pull_request` for drift and calibration runs,
 * since required checks gate pull requests.
 */
export function requiredCheckEvent(event: EventContext): string {
  if (event.mode === 'merge_group') return 'merge_group';
  if (event.mode === 'pull_request') return event.eventName;
  return 'pull_request';
}

/** Required contexts from the policy and branch protection, first declaration wins. */
function requiredContexts(context: RuleContext): LocatedString[] {
  const { policy, branchProtection } = context.artifacts;
  const seen = new Map<string, LocatedString>();
  for (const located of [...policy.requiredStatusChecks, ...(branchProtection?.requiredContexts ?? [])]) {
    if (!seen.has(located.value)) seen.set(located.value, located);
  }
  return [...seen.values()];
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Regex source of a display name: literal text, every `${{ ... }}` matching any non-empty text. */
function namePattern(name: string): string {
  let out = '';
  let last = 0;
  for (const m of name.matchAll(EXPRESSION)) {
    out += escapeRegExp(name.slice(last, m.index)) + ANY_TEXT;
    last = (m.index ?? 0) + m[0].length;
  }
  return out + escapeRegExp(name.slice(last));
}

/** A job as it produces check runs. */
interface Producer {
  workflow: WorkflowFile;
  job: WorkflowJob;
  matcher: RegExp;
}

class CheckRunNames {
  private readonly byPath = new Map<string, WorkflowFile>();

  constructor(workflows: readonly WorkflowFile[]) {
    for (const workflow of workflows) this.byPath.set(workflow.path.replace(/^\.\//, ''), workflow);
  }

  /**
   * Regex sources of the check-run names a job produces: its `name` or key
   * (a matrix job whose name does not use the matrix gets `(values)`
   * appended), and for a reusable-workflow call `<caller> / <called job>`.
   */
  jobPatterns(job: WorkflowJob, depth: number, visiting: Set<string>): string[] {
    const displayName = job.name?.value ?? job.key;
    let base = namePattern(displayName);
    if (job.matrix !== undefined && !MATRIX_REFERENCE.test(displayName)) base += ` \\(${ANY_TEXT}\\)`;
    if (job.uses === undefined) return [base];
    const callee = job.uses.value.startsWith('./') ? this.byPath.get(job.uses.value.slice(2).replace(/@.*$/, '')) : undefined;
    if (callee === undefined || depth >= MAX_CALL_DEPTH || visiting.has(callee.path)) return [`${base} / ${ANY_TEXT}`];
    visiting.add(callee.path);
    const nested = callee.jobs.flatMap((calleeJob) =>
      this.jobPatterns(calleeJob, depth + 1, visiting).map((inner) => `${base} / ${inner}`),
    );
    visiting.delete(callee.path);
    return nested;
  }

  producer(workflow: WorkflowFile, job: WorkflowJob): Producer {
    const patterns = this.jobPatterns(job, 0, new Set([workflow.path]));
    const workflowName = escapeRegExp(workflow.name ?? workflow.path);
    const alternatives = patterns.flatMap((pattern) => [pattern, `${workflowName} / ${pattern}`]);
    return { workflow, job, matcher: new RegExp(`^(?:${alternatives.join('|')})$`) };
  }
}

/** A job of a workflow, as a producer of check runs. */
export interface CheckProducer {
  workflow: WorkflowFile;
  job: WorkflowJob;
}

/** A required context that no job of a workflow running on the event produces. */
export interface OrphanContext {
  context: LocatedString;
  /** Jobs that would produce it but whose workflows do not run on the event, in workflow then job order. */
  elsewhere: readonly CheckProducer[];
}

/**
 * The required contexts that no job of a workflow triggered by `eventName`
 * produces, in the order given, each with the jobs that would produce it in
 * workflows that do not run on that event. Names are matched as GitHub
 * reports check runs: job name or key, `${{ }}` expressions as any text,
 * matrix values appended to matrix jobs, `<caller> / <called job>` for local
 * reusable workflows, optionally prefixed by `<workflow name> / `. Shared by
 * MD-001 and MD-102 so both rules read check names the same way.
 */
export function orphanContexts(
  workflows: readonly WorkflowFile[],
  contexts: readonly LocatedString[],
  eventName: string,
): OrphanContext[] {
  if (contexts.length === 0) return [];
  const names = new CheckRunNames(workflows);
  const running: Producer[] = [];
  const idle: Producer[] = [];
  for (const workflow of workflows) {
    const target = workflowRunsOn(workflow, eventName) ? running : idle;
    for (const job of workflow.jobs) target.push(names.producer(workflow, job));
  }
  const orphans: OrphanContext[] = [];
  for (const required of contexts) {
    if (running.some((producer) => producer.matcher.test(required.value))) continue;
    const elsewhere = idle
      .filter((producer) => producer.matcher.test(required.value))
      .map(({ workflow, job }) => ({ workflow, job }));
    orphans.push({ context: required, elsewhere });
  }
  return orphans;
}

/** MD-001: every required status-check context has a producing job on the event. */
export const md001: Rule = {
  id: 'MD-001',
  version: '1.0.0',
  title: 'Required checks are produced',
  description:
    'Every required status-check context (policy, branch protection) must be produced by a job of a ' +
    'workflow that runs on the event, by job name or as "<workflow name> / <job name>".',
  severity: 'medium',
  fpTolerance: { ceiling: 0.1, window: 20 },
  evaluate(context: RuleContext): readonly RuleFinding[] {
    const eventName = requiredCheckEvent(context.event);
    const severity = context.event.mode === 'merge_group' ? 'high' : 'medium';
    return orphanContexts(context.artifacts.workflows, requiredContexts(context), eventName).map(
      ({ context: required, elsewhere }) => {
        const evidence: EvidenceInput[] = [{ path: required.path, line: required.line, snippet: required.value }];
        for (const { workflow, job } of elsewhere) {
          evidence.push({ path: workflow.path, line: job.line, snippet: sourceLineText(workflow, job.line) });
        }
        return {
          key: `context:${required.value}`,
          severity,
          title: `Required status check "${required.value}" is not produced by any workflow that runs on ${eventName}`,
          evidence,
        };
      },
    );
  },
};
