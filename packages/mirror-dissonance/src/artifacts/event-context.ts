/**
 * Resolves the event the oracle runs for — mode, repository, PR, commit,
 * refs, author, changed files — from CLI flags first and the GitHub Actions
 * environment (variables and the event payload) second, so the same command
 * works on a laptop and in a workflow.
 */
import { readFileSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { InputError, UsageError } from '../errors';
import { MODES, type EventContext, type Mode } from '../types';
import { changedFiles } from './git';

/** What the CLI passes; every member is optional and wins over the environment. */
export interface EventFlags {
  mode?: string;
  eventName?: string;
  repository?: string;
  pr?: string;
  sha?: string;
  headRef?: string;
  base?: string;
  author?: string;
  strict?: boolean;
  dryRun?: boolean;
}

/** GitHub event names and the mode each implies when `--mode` is not given. */
const EVENT_MODES: Readonly<Record<string, Mode>> = {
  pull_request: 'pull_request',
  pull_request_target: 'pull_request',
  merge_group: 'merge_group',
  schedule: 'drift',
  workflow_dispatch: 'drift',
  push: 'drift',
};

/** The fields of a GitHub event payload the oracle reads. */
interface PayloadFacts {
  prNumber?: number;
  author?: string;
  headSha?: string;
  headRef?: string;
  baseRef?: string;
  repository?: string;
}

/**
 * Builds the EventContext. Precedence per field: flag, event payload
 * (`GITHUB_EVENT_PATH`), then the plain variables (`GITHUB_SHA`,
 * `GITHUB_HEAD_REF`/`GITHUB_REF`, `GITHUB_BASE_REF`, `GITHUB_ACTOR`,
 * `GITHUB_REPOSITORY`). Empty variables count as unset (GitHub sets
 * `GITHUB_BASE_REF=""` outside pull requests).
 *
 * Mode: `--mode`, else derived from the event name (pull_request and
 * pull_request_target ⇒ pull_request, merge_group ⇒ merge_group, schedule,
 * workflow_dispatch and push ⇒ drift), else `pull_request` when no event is
 * known. Changed files are computed with git when a base ref is known and
 * stay undefined otherwise.
 *
 * @throws UsageError (flag `--mode`) for an unknown mode, or for an event
 *   name that implies no mode without `--mode`; (flag `--pr`) for a PR
 *   number that is not a positive integer.
 * @throws InputError `FILE_UNREADABLE` / `INPUT_INVALID` (location.file =
 *   the payload path) when `GITHUB_EVENT_PATH` cannot be read or parsed;
 *   `GIT_FAILED` from `changedFiles`.
 */
export function resolveEventContext(input: EventFlags, env: NodeJS.ProcessEnv, root: string): EventContext {
  const eventName = input.eventName ?? nonEmpty(env.GITHUB_EVENT_NAME);
  const mode = resolveMode(input.mode, eventName);
  const eventPath = nonEmpty(env.GITHUB_EVENT_PATH);
  const payload = eventPath === undefined ? {} : readPayload(eventPath);
  const prNumber = input.pr !== undefined ? parsePrFlag(input.pr) : payload.prNumber;
  const baseRef = input.base ?? payload.baseRef ?? nonEmpty(env.GITHUB_BASE_REF);
  const context: EventContext = {
    mode,
    eventName: eventName ?? mode,
    repository: input.repository ?? nonEmpty(env.GITHUB_REPOSITORY) ?? payload.repository ?? basename(resolve(root)),
    prNumber,
    commitSha: checkCommitSha(input.sha, '--sha') ?? checkCommitSha(payload.headSha, eventPath) ?? checkCommitSha(nonEmpty(env.GITHUB_SHA), 'GITHUB_SHA'),
    headRef: input.headRef ?? payload.headRef ?? nonEmpty(env.GITHUB_HEAD_REF) ?? branchOf(nonEmpty(env.GITHUB_REF)),
    baseRef,
    author: input.author ?? payload.author ?? nonEmpty(env.GITHUB_ACTOR),
    changedFiles: baseRef === undefined ? undefined : changedFiles(root, baseRef),
    strict: input.strict ?? false,
    dryRun: input.dryRun ?? false,
  };
  return dropUndefined(context);
}

const COMMIT_SHA = /^[0-9a-f]{7,64}$/;

/**
 * A commit id is 7 to 64 hex digits (abbreviated SHA-1 up to SHA-256); a ref
 * name like `HEAD` is refused here rather than producing a report that fails
 * schema validation later. Uppercase hex is normalized.
 */
function checkCommitSha(value: string | undefined, source: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const sha = value.toLowerCase();
  if (COMMIT_SHA.test(sha)) return sha;
  const message = `commit SHA "${value}" is not 7 to 64 hex digits`;
  if (source === '--sha') throw new UsageError(message, { location: { flag: '--sha' } });
  throw new InputError('INPUT_INVALID', message, { location: source?.startsWith('GITHUB_') ? { field: source } : { file: source ?? 'event payload' } });
}

function resolveMode(flag: string | undefined, eventName: string | undefined): Mode {
  if (flag !== undefined) {
    const mode = MODES.find((candidate) => candidate === flag);
    if (mode === undefined) {
      throw new UsageError(`unknown mode "${flag}"; valid modes: ${MODES.join(', ')}`, {
        location: { flag: '--mode' },
        context: { value: flag, valid: [...MODES] },
      });
    }
    return mode;
  }
  if (eventName === undefined) return 'pull_request';
  const mode = EVENT_MODES[eventName];
  if (mode === undefined) {
    throw new UsageError(
      `event "${eventName}" implies no mode; pass --mode (${MODES.join(', ')})`,
      { location: { flag: '--mode' }, context: { eventName, valid: [...MODES] } },
    );
  }
  return mode;
}

function parsePrFlag(value: string): number {
  if (!/^[1-9][0-9]*$/.test(value.trim()) || !Number.isSafeInteger(Number(value.trim()))) {
    throw new UsageError(`--pr must be a positive integer, got "${value}"`, {
      location: { flag: '--pr' },
      context: { value },
    });
  }
  return Number(value.trim());
}

function readPayload(path: string): PayloadFacts {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = error instanceof Error && 'code' in error ? String(error.code) : String(error);
    throw new InputError('FILE_UNREADABLE', `cannot read the event payload GITHUB_EVENT_PATH=${path}: ${code}`, {
      location: { file: path },
      cause: error,
    });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new InputError('INPUT_INVALID', `event payload ${path} is not valid JSON: ${(error as Error).message}`, {
      location: { file: path },
      cause: error,
    });
  }
  if (!isRecord(parsed)) {
    throw new InputError('INPUT_INVALID', `event payload ${path} is not a JSON object`, { location: { file: path } });
  }
  const facts: PayloadFacts = {};
  const field = (value: unknown, name: string): string | undefined => {
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'string') {
      throw new InputError('INPUT_INVALID', `event payload ${path}: ${name} must be a string`, {
        location: { file: path, field: name },
      });
    }
    return nonEmpty(value);
  };
  const pullRequest = parsed.pull_request;
  if (isRecord(pullRequest)) {
    const number = pullRequest.number;
    if (number !== undefined) {
      if (typeof number !== 'number' || !Number.isSafeInteger(number) || number < 1) {
        throw new InputError('INPUT_INVALID', `event payload ${path}: pull_request.number must be a positive integer`, {
          location: { file: path, field: 'pull_request.number' },
        });
      }
      facts.prNumber = number;
    }
    facts.author = field(isRecord(pullRequest.user) ? pullRequest.user.login : undefined, 'pull_request.user.login');
    const head = isRecord(pullRequest.head) ? pullRequest.head : {};
    facts.headSha = field(head.sha, 'pull_request.head.sha');
    facts.headRef = field(head.ref, 'pull_request.head.ref');
    facts.baseRef = field(isRecord(pullRequest.base) ? pullRequest.base.ref : undefined, 'pull_request.base.ref');
  }
  const mergeGroup = parsed.merge_group;
  if (isRecord(mergeGroup)) {
    facts.headSha ??= field(mergeGroup.head_sha, 'merge_group.head_sha');
    facts.headRef ??= branchOf(field(mergeGroup.head_ref, 'merge_group.head_ref'));
    facts.baseRef ??= branchOf(field(mergeGroup.base_ref, 'merge_group.base_ref'));
  }
  if (isRecord(parsed.repository)) {
    facts.repository = field(parsed.repository.full_name, 'repository.full_name');
  }
  return facts;
}

/** `refs/heads/x` ⇒ `x`; other refs (`refs/pull/1/merge`, tags) name no branch. A bare name is kept. */
function branchOf(ref: string | undefined): string | undefined {
  if (ref === undefined) return undefined;
  if (ref.startsWith('refs/heads/')) return nonEmpty(ref.slice('refs/heads/'.length));
  return ref.startsWith('refs/') ? undefined : ref;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Optional members are omitted rather than present as undefined, so the context serializes cleanly. */
function dropUndefined(context: EventContext): EventContext {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(context)) if (value !== undefined) out[key] = value;
  return out as unknown as EventContext;
}
