/**
 * Helpers shared by the workflow rules: which events expose a workflow to
 * pull-request authors, what token permissions a job effectively has, how
 * third-party actions are recognised, and stable finding keys.
 */
import type { PermissionsBlock, WorkflowFile, WorkflowJob } from '../artifacts/workflow';
import { workflowRunsOn } from '../artifacts/workflow';

/** Events whose runs can be started by, or carry data from, a pull-request author. */
export const PR_REACHABLE_EVENTS: readonly string[] = [
  'pull_request',
  'pull_request_target',
  'workflow_run',
  'issue_comment',
  'pull_request_review',
  'pull_request_review_comment',
];

/** Events that run a pull request's workflow directly. */
export const PR_TRIGGER_EVENTS: readonly string[] = ['pull_request', 'pull_request_target'];

/**
 * Events that run in the base repository's privileged context (secrets and a
 * token that may be write) while handling code or data from a pull request.
 */
export const PRIVILEGED_EVENTS: readonly string[] = ['pull_request_target', 'workflow_run'];

/** Whether any of the workflow's triggers is one of `events`. */
export function triggeredByAny(workflow: WorkflowFile, events: readonly string[]): boolean {
  return events.some((event) => workflowRunsOn(workflow, event));
}

/** Whether a permissions block grants any write access (`write-all` or a `write` scope). */
export function grantsWrite(block: PermissionsBlock): boolean {
  if (block.shorthand === 'write-all') return true;
  return block.scopes.some((scope) => scope.level.trim().toLowerCase() === 'write');
}

/** The permissions a job's token gets: the job's own block, else the workflow's, else none declared. */
export function effectivePermissions(workflow: WorkflowFile, job: WorkflowJob): PermissionsBlock | undefined {
  return job.permissions ?? workflow.permissions;
}

/**
 * Whether the job's token may write. With no `permissions` anywhere, the
 * token gets the repository default, which may be write; that only matters
 * in privileged events (pull_request_target, workflow_run), where it is
 * counted as write. Elsewhere an undeclared block is not counted.
 */
export function jobMayWrite(workflow: WorkflowFile, job: WorkflowJob): boolean {
  const block = effectivePermissions(workflow, job);
  if (block !== undefined) return grantsWrite(block);
  return triggeredByAny(workflow, PRIVILEGED_EVENTS);
}

/** `owner/repo[/path]` of a `uses:` value without its `@ref`. */
export function actionName(uses: string): string {
  const at = uses.lastIndexOf('@');
  return at === -1 ? uses : uses.slice(0, at);
}

/**
 * A `uses:` value that is neither local (`./`), a Docker image (`docker://`)
 * nor owned by GitHub (`actions/`, `github/`).
 */
export function isThirdPartyAction(uses: string): boolean {
  const value = uses.trim();
  if (value.startsWith('./') || value.startsWith('docker://')) return false;
  const owner = value.split('/', 1)[0].toLowerCase();
  return owner !== 'actions' && owner !== 'github';
}

const FULL_SHA_REF = /@[0-9a-fA-F]{40}$/;

/** Whether a `uses:` value is pinned to a full 40-hex commit SHA. */
export function isPinnedToSha(uses: string): boolean {
  return FULL_SHA_REF.test(uses.trim());
}

/**
 * Hands out stable keys for repeated identical problems: the first use of
 * a base key returns it unchanged, later ones append `#2`, `#3`...
 */
export class OccurrenceKeys {
  private readonly counts = new Map<string, number>();

  next(base: string): string {
    const count = (this.counts.get(base) ?? 0) + 1;
    this.counts.set(base, count);
    return count === 1 ? base : `${base}#${count}`;
  }
}
