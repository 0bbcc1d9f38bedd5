import type { WorkflowFile } from '../artifacts/workflow';
/**
 * Encodes the `permissions:` blocks of workflows into the 16-bit mask the L0
 * `permission_bits` invariant checks.
 *
 * Layout (bit = write access granted to that scope group somewhere):
 *
 *   bit  0  actions                 bit  6  id-token
 *   bit  1  attestations            bit  7  issues
 *   bit  2  checks, statuses        bit  8  packages
 *   bit  3  contents                bit  9  pages
 *   bit  4  deployments             bit 10  pull-requests, repository-projects
 *   bit  5  discussions             bit 11  security-events
 *   bit 12  reserved: UNKNOWN — a scope name or level the oracle does not model
 *   bits 13–15 reserved, always 0
 *
 * `models` is a known read-only scope: `read`/`none` set nothing, `write` is
 * not a level it has and counts as unknown. `write-all` sets bits 0–11;
 * `read-all` and `none` set nothing. Anything unknown sets bit 12, which the
 * L0 check rejects: the oracle fails closed on a capability it cannot reason
 * about instead of ignoring it.
 */

export interface PermissionScopeSpec {
  name: string;
  level: string;
  line: number;
}

/** A parsed `permissions:` block (workflow- or job-level) and the file it is in. */
export interface PermissionSpec {
  path: string;
  line: number;
  shorthand?: 'read-all' | 'write-all' | 'none';
  scopes: readonly PermissionScopeSpec[];
}

export interface UnknownPermissionScope {
  name: string;
  level: string;
  path: string;
  line: number;
}

export interface PermissionMaskResult {
  mask: number;
  unknownScopes: UnknownPermissionScope[];
}

/** Bit index of each scope the oracle models. */
export const PERMISSION_SCOPE_BITS: ReadonlyMap<string, number> = new Map([
  ['actions', 0],
  ['attestations', 1],
  ['checks', 2],
  ['statuses', 2],
  ['contents', 3],
  ['deployments', 4],
  ['discussions', 5],
  ['id-token', 6],
  ['issues', 7],
  ['packages', 8],
  ['pages', 9],
  ['pull-requests', 10],
  ['repository-projects', 10],
  ['security-events', 11],
]);

/** Known scopes that only have `read` and `none`. */
const READ_ONLY_SCOPES: ReadonlySet<string> = new Set(['models']);

/** Bits 0–11: write access to every modelled scope group. */
export const WRITE_ALL_MASK = 0x0fff;
/** Bit 12: a scope or level the oracle does not model. */
export const UNKNOWN_PERMISSION_BIT = 1 << 12;

/**
 * Computes the union of write capabilities granted by `blocks` as a mask, and
 * lists every scope (or shorthand) the oracle does not model, with its file
 * and line, so the L0 failure can point at it.
 */
export function encodePermissionMask(blocks: readonly PermissionSpec[]): PermissionMaskResult {
  let mask = 0;
  const unknownScopes: UnknownPermissionScope[] = [];
  for (const block of blocks) {
    const shorthand: string | undefined = block.shorthand;
    if (shorthand === 'write-all') {
      mask |= WRITE_ALL_MASK;
    } else if (shorthand !== undefined && shorthand !== 'read-all' && shorthand !== 'none') {
      mask |= UNKNOWN_PERMISSION_BIT;
      unknownScopes.push({ name: 'permissions', level: shorthand, path: block.path, line: block.line });
    }
    for (const scope of block.scopes) {
      const bit = PERMISSION_SCOPE_BITS.get(scope.name);
      const known =
        bit !== undefined
          ? scope.level === 'write' || scope.level === 'read' || scope.level === 'none'
          : READ_ONLY_SCOPES.has(scope.name) && (scope.level === 'read' || scope.level === 'none');
      if (!known) {
        mask |= UNKNOWN_PERMISSION_BIT;
        unknownScopes.push({ name: scope.name, level: scope.level, path: block.path, line: scope.line });
      } else if (bit !== undefined && scope.level === 'write') {
        mask |= 1 << bit;
      }
    }
  }
  return { mask, unknownScopes };
}

/** Every `permissions` block of the workflows (workflow and job level), with its file, for the mask. */
export function workflowPermissionSpecs(workflows: readonly WorkflowFile[]): PermissionSpec[] {
  const specs: PermissionSpec[] = [];
  for (const workflow of workflows) {
    if (workflow.permissions) specs.push({ path: workflow.path, ...workflow.permissions });
    for (const job of workflow.jobs) if (job.permissions) specs.push({ path: workflow.path, ...job.permissions });
  }
  return specs;
}
