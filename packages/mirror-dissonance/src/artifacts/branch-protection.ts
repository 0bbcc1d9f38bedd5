import { readFileSync } from 'node:fs';
import { InputError } from '../errors';
import { parseYamlSource } from '../config/yaml-source';
import type { BranchProtection, LocatedString } from '../types';

export type Segments = readonly (string | number)[];

/** Reports a malformed value at `segments` (a path into the protection object); never returns. */
export type ProtectionFail = (message: string, segments: Segments) => never;

/** Classic branch protection read from the REST shape; contexts keep where they were found. */
export interface ClassicProtection {
  contexts: readonly { value: string; segments: Segments }[];
  strictStatusChecks: boolean;
  requirePullRequest: boolean;
  requiredApprovingReviewCount: number;
  requireCodeOwnerReviews: boolean;
  dismissStaleReviews: boolean;
  enforceAdmins: boolean;
  requireLinearHistory: boolean;
  allowForcePushes: boolean;
  pushRestricted: boolean;
}

/** Top-level members of `GET /repos/{o}/{r}/branches/{b}/protection`; one of them marks the full object. */
const PROTECTION_MEMBERS = [
  'url',
  'required_status_checks',
  'required_pull_request_reviews',
  'enforce_admins',
  'required_linear_history',
  'allow_force_pushes',
  'allow_deletions',
  'restrictions',
  'required_signatures',
  'required_conversation_resolution',
  'block_creations',
  'lock_branch',
  'allow_fork_syncing',
];

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * Reads `required_status_checks` (the object at `prefix`): `strict`,
 * `contexts[]` and `checks[].context`, deduplicated in order of appearance.
 * `null` means status checks are not required.
 */
export function readStatusChecks(
  checks: unknown,
  prefix: Segments,
  fail: ProtectionFail,
): { contexts: { value: string; segments: Segments }[]; strict: boolean } {
  if (checks === null || checks === undefined) return { contexts: [], strict: false };
  if (!isRecord(checks) || (!('contexts' in checks) && !('checks' in checks))) {
    fail('expected required_status_checks with contexts[] or checks[]', prefix);
  }
  const record = checks as Record<string, unknown>;
  const found = new Map<string, { value: string; segments: Segments }>();
  const contexts = record.contexts ?? [];
  if (!Array.isArray(contexts)) fail('contexts must be an array of strings', [...prefix, 'contexts']);
  (contexts as unknown[]).forEach((context, index) => {
    const segments = [...prefix, 'contexts', index];
    if (typeof context !== 'string') fail('a required context must be a string', segments);
    if (!found.has(context as string)) found.set(context as string, { value: context as string, segments });
  });
  const list = record.checks ?? [];
  if (!Array.isArray(list)) fail('checks must be an array', [...prefix, 'checks']);
  (list as unknown[]).forEach((check, index) => {
    const segments = [...prefix, 'checks', index, 'context'];
    const context = isRecord(check) ? check.context : undefined;
    if (typeof context !== 'string') fail('each check needs a string context', segments);
    if (!found.has(context as string)) found.set(context as string, { value: context as string, segments });
  });
  const strict = record.strict ?? false;
  if (typeof strict !== 'boolean') fail('strict must be a boolean', [...prefix, 'strict']);
  return { contexts: [...found.values()], strict: strict as boolean };
}

/** `{ "enabled": boolean }` as GET returns it, or a plain boolean as PUT takes it; absent or null is off. */
function readToggle(record: Record<string, unknown>, name: string, fail: ProtectionFail): boolean {
  const value = record[name];
  if (value === undefined || value === null) return false;
  if (typeof value === 'boolean') return value;
  if (isRecord(value) && typeof value.enabled === 'boolean') return value.enabled;
  return fail(`${name} must be {"enabled": boolean} or a boolean`, isRecord(value) ? [name, 'enabled'] : [name]);
}

function readBoolean(record: Record<string, unknown>, name: string, prefix: Segments, fail: ProtectionFail): boolean {
  const value = record[name] ?? false;
  if (typeof value !== 'boolean') fail(`${name} must be a boolean`, [...prefix, name]);
  return value as boolean;
}

/**
 * Reads a classic protection object in the REST shape. Sections GitHub omits
 * when disabled (`required_status_checks`, `required_pull_request_reviews`,
 * `restrictions`) read as off when absent or null, as do absent toggles.
 * Shared by the file reader (errors with file:line) and the API reader
 * (errors naming the endpoint).
 */
export function readClassicProtection(record: Record<string, unknown>, fail: ProtectionFail): ClassicProtection {
  const statusChecks = readStatusChecks(record.required_status_checks, ['required_status_checks'], fail);
  const reviews = record.required_pull_request_reviews;
  if (reviews !== undefined && reviews !== null && !isRecord(reviews)) {
    fail('required_pull_request_reviews must be an object or null', ['required_pull_request_reviews']);
  }
  const reviewPrefix = ['required_pull_request_reviews'];
  let requiredApprovingReviewCount = 0;
  if (isRecord(reviews)) {
    const count = reviews.required_approving_review_count ?? 0;
    if (typeof count !== 'number' || !Number.isInteger(count) || count < 0) {
      fail('required_approving_review_count must be a non-negative integer', [...reviewPrefix, 'required_approving_review_count']);
    }
    requiredApprovingReviewCount = count as number;
  }
  const restrictions = record.restrictions;
  if (restrictions !== undefined && restrictions !== null && !isRecord(restrictions)) {
    fail('restrictions must be an object or null', ['restrictions']);
  }
  return {
    contexts: statusChecks.contexts,
    strictStatusChecks: statusChecks.strict,
    requirePullRequest: isRecord(reviews),
    requiredApprovingReviewCount,
    requireCodeOwnerReviews: isRecord(reviews) ? readBoolean(reviews, 'require_code_owner_reviews', reviewPrefix, fail) : false,
    dismissStaleReviews: isRecord(reviews) ? readBoolean(reviews, 'dismiss_stale_reviews', reviewPrefix, fail) : false,
    enforceAdmins: readToggle(record, 'enforce_admins', fail),
    requireLinearHistory: readToggle(record, 'required_linear_history', fail),
    allowForcePushes: readToggle(record, 'allow_force_pushes', fail),
    pushRestricted: isRecord(restrictions),
  };
}

/**
 * Reads a branch-protection JSON (`--branch-protection FILE`) in the shape
 * GitHub's REST API returns (`GET /repos/{o}/{r}/branches/{b}/protection`)
 * into the full `BranchProtection` (`source: 'file'`), each required context
 * with its line. Either the full protection object or its
 * `required_status_checks` member alone is accepted; with the member alone
 * the other settings read as off. The branch is taken from the object's
 * `url` when present.
 */
export function loadBranchProtection(file: string): BranchProtection {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new InputError('FILE_UNREADABLE', `cannot read branch protection: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, {
      location: { file, flag: '--branch-protection' },
      cause: error,
    });
  }
  const source = parseYamlSource(file, text);
  const value: unknown = source.doc.toJS();
  if (!isRecord(value)) {
    throw new InputError('INPUT_INVALID', 'branch protection must be a JSON object', { location: { file, line: 1 } });
  }
  const fail: ProtectionFail = (message, segments) => {
    throw new InputError('INPUT_INVALID', message, { location: { file, line: source.lineOf(segments), field: segments.join('.') || '(document)' } });
  };
  const full = PROTECTION_MEMBERS.some((member) => member in value);
  let classic: ClassicProtection;
  if (full) {
    classic = readClassicProtection(value, fail);
  } else {
    const statusChecks = readStatusChecks(value, [], fail);
    classic = {
      contexts: statusChecks.contexts,
      strictStatusChecks: statusChecks.strict,
      requirePullRequest: false,
      requiredApprovingReviewCount: 0,
      requireCodeOwnerReviews: false,
      dismissStaleReviews: false,
      enforceAdmins: false,
      requireLinearHistory: false,
      allowForcePushes: false,
      pushRestricted: false,
    };
  }
  const requiredContexts: LocatedString[] = classic.contexts.map((context) => ({ value: context.value, path: file, line: source.lineOf(context.segments) }));
  const branch = typeof value.url === 'string' ? /\/branches\/(.+)\/protection\/?$/.exec(value.url)?.[1] : undefined;
  const { contexts: _contexts, ...settings } = classic;
  return {
    path: file,
    source: 'file',
    ...(branch === undefined ? {} : { branch: decodeURIComponent(branch) }),
    enabled: true,
    requiredContexts,
    ...settings,
    mergeQueueRequired: false,
  };
}
