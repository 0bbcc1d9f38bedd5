/**
 * Building, serializing, size-checking and parsing a remote analysis request
 * (contract.ts). `parseRequest` is the function's trust boundary: every field
 * is checked and named in the error, workflows are parsed again from their
 * text, CODEOWNERS rules are parsed again, the baseline goes through
 * `parseBaseline`, org-scan states through their schema, and configured
 * job-intent patterns are compiled (linear regular expressions only) before
 * anything runs.
 */
import { CODEOWNERS_LOCATIONS, CodeownersFile, type CodeownersError, type CodeownersRule } from '../artifacts/codeowners';
import { parseWorkflow, type WorkflowFile } from '../artifacts/workflow';
import { parseBaseline, type IntegrityBaseline } from '../baseline/baseline';
import { InputError, PhaseMirrorError } from '../errors';
import { PROTECTION_SETTINGS, type Declared, type DeclaredList, type GovernanceRequirements, type OrgManifest } from '../org/manifest';
import { assertOrgScan } from '../org/state-file';
import type { OrgScan } from '../org/state';
import type { OracleInput } from '../oracle/pipeline';
import { compileJobIntents } from '../rules/job-intents';
import {
  MODES,
  type Artifacts,
  type BranchProtection,
  type EventContext,
  type JobIntent,
  type LocatedString,
  type OracleSettings,
  type Policy,
  type PullRequestFacts,
  type RepoFile,
  type SeverityThresholds,
  type SkippedFile,
} from '../types';
import { MAX_REMOTE_PAYLOAD_BYTES, REMOTE_PROTOCOL_VERSION, type RemoteAnalyzeRequest, type SerializedArtifacts } from './contract';
import { FieldChecker, fieldPath } from './fields';

const LABEL = 'remote analysis request';
const WORKFLOW_FILE = /^\.github\/workflows\/[^/]+\.ya?ml$/;
const SHA256_HEX = /^[0-9a-f]{64}$/;
const SKIP_REASONS = ['too_large', 'binary', 'unreadable', 'symlink_outside_root', 'symlink_loop'] as const;
const REVIEW_STATES = ['APPROVED', 'CHANGES_REQUESTED', 'COMMENTED', 'DISMISSED', 'PENDING'] as const;
/** CODEOWNERS files of 3 MB or more are ignored by GitHub: no line can be beyond that. */
const MAX_CODEOWNERS_LINE = 3 * 1024 * 1024;
const MAX_LINE = 100_000_000;
/** A repository-relative POSIX path: not absolute, no `..` segment, no NUL. */
const RELATIVE_PATH = /^(?!\/)(?!(?:.*\/)?\.\.(?:\/|$))[^\u0000]+$/;
const RELATIVE = { min: 1, max: 4096, pattern: RELATIVE_PATH, patternName: 'a repository-relative path (no leading "/", no ".." segment)' };
const NAME = { min: 1, max: 1024, singleLine: true } as const;

export interface ParsedRemoteRequest extends OracleInput {
  client?: { name: string; version: string };
}

/** The request for an analysis the caller collected (artifacts made JSON-safe). */
export function toRemoteRequest(input: OracleInput, client?: { name: string; version: string }): RemoteAnalyzeRequest {
  return {
    version: REMOTE_PROTOCOL_VERSION,
    artifacts: serializeArtifacts(input.artifacts),
    event: input.event,
    settings: input.settings,
    ...(client !== undefined ? { client } : {}),
  };
}

/** The request as the JSON text sent to the function. */
export function serializeRequest(input: OracleInput, client?: { name: string; version: string }): string {
  return JSON.stringify(toRemoteRequest(input, client));
}

export function serializeArtifacts(artifacts: Artifacts): SerializedArtifacts {
  return {
    root: artifacts.root,
    fileList: [...artifacts.fileList],
    workflows: artifacts.workflows.map((workflow) => ({ path: workflow.path, text: workflow.text })),
    ...(artifacts.codeowners !== undefined
      ? {
          codeowners: {
            path: artifacts.codeowners.path,
            rules: artifacts.codeowners.rules.map((rule) => ({ pattern: rule.pattern, owners: [...rule.owners], line: rule.line })),
            errors: artifacts.codeowners.errors.map((error) => ({ line: error.line, message: error.message })),
          },
        }
      : {}),
    manifests: artifacts.manifests.map((file) => ({ path: file.path, text: file.text, size: file.size })),
    policy: artifacts.policy,
    ...(artifacts.branchProtection !== undefined ? { branchProtection: artifacts.branchProtection } : {}),
    ...(artifacts.pullRequest !== undefined ? { pullRequest: artifacts.pullRequest } : {}),
    ...(artifacts.organization !== undefined ? { organization: { manifest: artifacts.organization.manifest, states: artifacts.organization.states } } : {}),
    ...(artifacts.baseline !== undefined ? { baseline: artifacts.baseline } : {}),
    baselineCurrent: [...artifacts.baselineCurrent.entries()],
    skipped: artifacts.skipped.map((entry) => ({ ...entry })),
  };
}

/** Size of a payload in bytes (UTF-8 for text). */
export function payloadBytes(payload: string | Uint8Array): number {
  return typeof payload === 'string' ? Buffer.byteLength(payload, 'utf8') : payload.byteLength;
}

/**
 * Refuses a payload over `limit` bytes (default 5 MB) before anything is sent.
 * @throws InputError (INPUT_INVALID, flag --remote) naming the size and the limit
 */
export function assertPayloadSize(payload: string | Uint8Array, limit: number = MAX_REMOTE_PAYLOAD_BYTES): void {
  const size = payloadBytes(payload);
  if (size <= limit) return;
  throw new InputError(
    'INPUT_INVALID',
    `the remote analysis request is ${formatBytes(size)} (${size} bytes), over the ${formatBytes(limit)} (${limit} bytes) limit of a remote analysis: ` +
      'exclude large generated files from the repository walk (.gitignore), or run the analysis locally without --remote',
    { location: { flag: '--remote' }, context: { size, limit } },
  );
}

/** `5 MB`, `5.3 MB`, `812 KB`: binary units, one decimal when not whole. */
export function formatBytes(bytes: number): string {
  const units: [number, string][] = [
    [1024 * 1024, 'MB'],
    [1024, 'KB'],
  ];
  for (const [size, unit] of units) {
    if (bytes >= size) {
      const value = bytes / size;
      return `${Number.isInteger(value) ? value : value.toFixed(1)} ${unit}`;
    }
  }
  return `${bytes} B`;
}

/**
 * Parses and checks a request (the JSON value the function was invoked with,
 * or its text) into the pipeline's input.
 * @throws InputError (INPUT_INVALID) naming the field of the first problem
 */
export function parseRequest(payload: unknown): ParsedRemoteRequest {
  const check = new FieldChecker(LABEL);
  let value = payload;
  if (typeof payload === 'string' || payload instanceof Uint8Array) {
    try {
      value = JSON.parse(typeof payload === 'string' ? payload : Buffer.from(payload).toString('utf8'));
    } catch (error) {
      check.fail('', `is not valid JSON (${(error as Error).message})`);
    }
  }
  const root = check.object(value, '', ['version', 'artifacts', 'event', 'settings', 'client'], ['version', 'artifacts', 'event', 'settings']);
  if (root.version !== REMOTE_PROTOCOL_VERSION) {
    check.fail('version', `must be ${REMOTE_PROTOCOL_VERSION} (this function speaks version ${REMOTE_PROTOCOL_VERSION} of the remote analysis contract)`);
  }
  let client: ParsedRemoteRequest['client'];
  if (root.client !== undefined) {
    const raw = check.object(root.client, 'client', ['name', 'version'], ['name', 'version']);
    client = { name: check.string(raw.name, 'client.name', { ...NAME, max: 100 }), version: check.string(raw.version, 'client.version', { ...NAME, max: 100 }) };
  }
  const settings = parseSettings(check, root.settings, 'settings');
  const event = parseEvent(check, root.event, 'event');
  const artifacts = parseArtifacts(check, root.artifacts, 'artifacts');
  return { artifacts, event, settings, ...(client !== undefined ? { client } : {}) };
}

/* ---------- event ---------- */

function parseEvent(check: FieldChecker, value: unknown, field: string): EventContext {
  const raw = check.object(
    value,
    field,
    ['mode', 'eventName', 'repository', 'prNumber', 'commitSha', 'headRef', 'baseRef', 'author', 'changedFiles', 'strict', 'dryRun'],
    ['mode', 'eventName', 'repository', 'strict', 'dryRun'],
  );
  const at = (key: string): string => fieldPath(field, key);
  const optional = (key: 'commitSha' | 'headRef' | 'baseRef' | 'author'): Partial<EventContext> => {
    const text = check.optionalString(raw[key], at(key), { ...NAME, max: 256 });
    return text === undefined ? {} : { [key]: text };
  };
  return {
    mode: check.oneOf(raw.mode, at('mode'), MODES),
    eventName: check.string(raw.eventName, at('eventName'), { ...NAME, max: 100 }),
    repository: check.string(raw.repository, at('repository'), { ...NAME, max: 256 }),
    ...(raw.prNumber !== undefined ? { prNumber: check.integer(raw.prNumber, at('prNumber'), 1) } : {}),
    ...optional('commitSha'),
    ...optional('headRef'),
    ...optional('baseRef'),
    ...optional('author'),
    ...(raw.changedFiles !== undefined ? { changedFiles: check.stringArray(raw.changedFiles, at('changedFiles'), RELATIVE) } : {}),
    strict: check.boolean(raw.strict, at('strict')),
    dryRun: check.boolean(raw.dryRun, at('dryRun')),
  };
}

/* ---------- settings ---------- */

function parseSettings(check: FieldChecker, value: unknown, field: string): OracleSettings {
  const raw = check.object(value, field, ['thresholds', 'circuitBreaker', 'l0', 'disabledRules', 'ruleOptions'], ['thresholds', 'circuitBreaker', 'l0', 'disabledRules', 'ruleOptions']);
  const thresholdsField = fieldPath(field, 'thresholds');
  const thresholds = check.object(raw.thresholds, thresholdsField, ['default', 'strict'], ['default', 'strict']);
  const severity = (input: unknown, at: string): SeverityThresholds => {
    const levels = check.object(input, at, ['critical', 'high', 'medium'], ['critical', 'high', 'medium']);
    return {
      critical: check.integer(levels.critical, fieldPath(at, 'critical'), 0),
      high: check.integer(levels.high, fieldPath(at, 'high'), 0),
      medium: check.integer(levels.medium, fieldPath(at, 'medium'), 0),
    };
  };
  const breakerField = fieldPath(field, 'circuitBreaker');
  const breaker = check.object(raw.circuitBreaker, breakerField, ['threshold', 'strictThreshold'], ['threshold', 'strictThreshold']);
  const l0Field = fieldPath(field, 'l0');
  const l0 = check.object(raw.l0, l0Field, ['driftBound', 'contractionWitnessMin'], ['driftBound', 'contractionWitnessMin']);
  const optionsField = fieldPath(field, 'ruleOptions');
  const options = check.object(raw.ruleOptions, optionsField, ['jobIntents'], ['jobIntents']);
  const intentsField = fieldPath(optionsField, 'jobIntents');
  const jobIntents = check.record(
    options.jobIntents,
    intentsField,
    (name, at) => check.string(name, at, { min: 1, max: 64, singleLine: true }),
    (intent, at): JobIntent => {
      const entry = check.object(intent, at, ['keywords', 'actions', 'commands'], ['keywords', 'actions', 'commands']);
      const keywords = check.stringArray(entry.keywords, fieldPath(at, 'keywords'), { min: 1, max: 200 });
      if (keywords.length === 0) check.fail(fieldPath(at, 'keywords'), 'must have at least one keyword');
      return {
        keywords,
        actions: check.stringArray(entry.actions, fieldPath(at, 'actions'), { min: 1, max: 500 }),
        commands: check.stringArray(entry.commands, fieldPath(at, 'commands'), { min: 1, max: 1000 }),
      };
    },
  );
  try {
    // The patterns run against workflow scripts: only linear regular expressions are accepted.
    compileJobIntents(jobIntents);
  } catch (error) {
    if (!(error instanceof PhaseMirrorError)) throw error;
    const where = (error.location.field ?? '').replace(/^rules\.options\.jobIntents\.?/, '');
    const [name, ...rest] = where.split('.');
    const at = name ? `${fieldPath(intentsField, name)}${rest.length ? `.${rest.join('.')}` : ''}` : intentsField;
    check.fail(at, `is not usable: ${error.message}`);
  }
  return {
    thresholds: { default: severity(thresholds.default, fieldPath(thresholdsField, 'default')), strict: severity(thresholds.strict, fieldPath(thresholdsField, 'strict')) },
    circuitBreaker: {
      threshold: check.integer(breaker.threshold, fieldPath(breakerField, 'threshold'), 1),
      strictThreshold: check.integer(breaker.strictThreshold, fieldPath(breakerField, 'strictThreshold'), 1),
    },
    l0: {
      driftBound: check.number(l0.driftBound, fieldPath(l0Field, 'driftBound'), { min: 0, exclusiveMin: true }),
      contractionWitnessMin: check.integer(l0.contractionWitnessMin, fieldPath(l0Field, 'contractionWitnessMin'), 1),
    },
    disabledRules: check.stringArray(raw.disabledRules, fieldPath(field, 'disabledRules'), { pattern: /^MD-[0-9]{3}$/, patternName: 'a rule id such as MD-001' }),
    ruleOptions: { jobIntents },
  };
}

/* ---------- artifacts ---------- */

function parseArtifacts(check: FieldChecker, value: unknown, field: string): Artifacts {
  const raw = check.object(
    value,
    field,
    ['root', 'fileList', 'workflows', 'codeowners', 'manifests', 'policy', 'branchProtection', 'pullRequest', 'organization', 'baseline', 'baselineCurrent', 'skipped'],
    ['root', 'fileList', 'workflows', 'manifests', 'policy', 'baselineCurrent', 'skipped'],
  );
  const at = (key: string): string => fieldPath(field, key);
  const policy = parsePolicy(check, raw.policy, at('policy'));
  const artifacts: Artifacts = {
    root: check.string(raw.root, at('root'), { min: 1, max: 4096, singleLine: true }),
    fileList: check.stringArray(raw.fileList, at('fileList'), RELATIVE),
    workflows: check.array(raw.workflows, at('workflows'), (entry, entryField) => parseWorkflowEntry(check, entry, entryField)),
    manifests: check.array(raw.manifests, at('manifests'), (entry, entryField) => parseRepoFile(check, entry, entryField)),
    policy,
    baselineCurrent: parseBaselineCurrent(check, raw.baselineCurrent, at('baselineCurrent')),
    skipped: check.array(raw.skipped, at('skipped'), (entry, entryField): SkippedFile => {
      const skipped = check.object(entry, entryField, ['path', 'reason', 'detail'], ['path', 'reason', 'detail']);
      return {
        path: check.string(skipped.path, fieldPath(entryField, 'path'), RELATIVE),
        reason: check.oneOf(skipped.reason, fieldPath(entryField, 'reason'), SKIP_REASONS),
        detail: check.string(skipped.detail, fieldPath(entryField, 'detail'), { max: 4096 }),
      };
    }),
  };
  if (raw.codeowners !== undefined) artifacts.codeowners = parseCodeowners(check, raw.codeowners, at('codeowners'));
  if (raw.branchProtection !== undefined) artifacts.branchProtection = parseBranchProtection(check, raw.branchProtection, at('branchProtection'));
  if (raw.pullRequest !== undefined) artifacts.pullRequest = parsePullRequest(check, raw.pullRequest, at('pullRequest'));
  if (raw.organization !== undefined) {
    const organization = check.object(raw.organization, at('organization'), ['manifest', 'states'], ['manifest', 'states']);
    artifacts.organization = {
      manifest: parseOrgManifest(check, organization.manifest, fieldPath(at('organization'), 'manifest')),
      states: parseOrgScan(check, organization.states, fieldPath(at('organization'), 'states')),
    };
  }
  if (raw.baseline !== undefined) artifacts.baseline = parseBaselineValue(check, raw.baseline, at('baseline'), policy.baseline.path);
  return artifacts;
}

function parseWorkflowEntry(check: FieldChecker, value: unknown, field: string): WorkflowFile {
  const raw = check.object(value, field, ['path', 'text'], ['path', 'text']);
  const path = check.string(raw.path, fieldPath(field, 'path'), { pattern: WORKFLOW_FILE, patternName: 'a file in .github/workflows/ ending in .yml or .yaml' });
  const text = check.string(raw.text, fieldPath(field, 'text'));
  try {
    return parseWorkflow(path, text);
  } catch (error) {
    if (!(error instanceof PhaseMirrorError)) throw error;
    return check.fail(fieldPath(field, 'text'), `does not parse as a workflow: ${error.describe()}`);
  }
}

function parseRepoFile(check: FieldChecker, value: unknown, field: string): RepoFile {
  const raw = check.object(value, field, ['path', 'text', 'size'], ['path', 'text', 'size']);
  return {
    path: check.string(raw.path, fieldPath(field, 'path'), RELATIVE),
    text: check.string(raw.text, fieldPath(field, 'text')),
    size: check.integer(raw.size, fieldPath(field, 'size'), 0),
  };
}

function parseBaselineCurrent(check: FieldChecker, value: unknown, field: string): Map<string, string> {
  const pairs = check.array(value, field, (entry, entryField): [string, string] => {
    if (!Array.isArray(entry) || entry.length !== 2) check.fail(entryField, 'must be a [path, sha256] pair');
    return [
      check.string(entry[0], `${entryField}[0]`, RELATIVE),
      check.string(entry[1], `${entryField}[1]`, { pattern: SHA256_HEX, patternName: '64 lowercase hex characters' }),
    ];
  });
  const current = new Map<string, string>();
  pairs.forEach(([path, hash], index) => {
    if (current.has(path)) check.fail(`${fieldPath(field, index)}[0]`, 'repeats a path listed earlier');
    current.set(path, hash);
  });
  return current;
}

function parseBaselineValue(check: FieldChecker, value: unknown, field: string, file: string): IntegrityBaseline {
  check.object(value, field, ['version', 'createdAt', 'globs', 'files'], ['version', 'createdAt', 'globs', 'files']);
  try {
    // The committed-file validator checks every field (version, createdAt, globs, each hash).
    return parseBaseline(file, JSON.stringify(value));
  } catch (error) {
    if (!(error instanceof PhaseMirrorError)) throw error;
    const inner = error.location.field;
    return check.fail(inner === undefined || inner === '(root)' ? field : `${field}.${inner}`, `is invalid: ${error.message}`);
  }
}

/** Rebuilds the CODEOWNERS file from its rules (each on its line) and checks it parses back to exactly them. */
function parseCodeowners(check: FieldChecker, value: unknown, field: string): CodeownersFile {
  const raw = check.object(value, field, ['path', 'rules', 'errors'], ['path', 'rules', 'errors']);
  const path = check.oneOf(raw.path, fieldPath(field, 'path'), CODEOWNERS_LOCATIONS);
  const rulesField = fieldPath(field, 'rules');
  const rules = check.array(raw.rules, rulesField, (entry, at): CodeownersRule => {
    const rule = check.object(entry, at, ['pattern', 'owners', 'line'], ['pattern', 'owners', 'line']);
    return {
      // Escaped spaces (`My\ Images/`) are part of a pattern: the round trip below is the real check.
      pattern: check.string(rule.pattern, fieldPath(at, 'pattern'), { min: 1, max: 4096, singleLine: true }),
      owners: check.stringArray(rule.owners, fieldPath(at, 'owners'), { min: 1, max: 320, pattern: /^\S+$/, patternName: 'one owner without whitespace' }),
      line: check.integer(rule.line, fieldPath(at, 'line'), 1, MAX_CODEOWNERS_LINE),
    };
  });
  const errors = check.array(raw.errors, fieldPath(field, 'errors'), (entry, at): CodeownersError => {
    const error = check.object(entry, at, ['line', 'message'], ['line', 'message']);
    return { line: check.integer(error.line, fieldPath(at, 'line'), 1, MAX_CODEOWNERS_LINE), message: check.string(error.message, fieldPath(at, 'message'), { max: 4096 }) };
  });
  const lines: string[] = [];
  const used = new Set<number>();
  rules.forEach((rule, index) => {
    if (index > 0 && rule.line <= rules[index - 1]!.line) check.fail(fieldPath(fieldPath(rulesField, index), 'line'), 'must be greater than the previous rule\'s line');
    used.add(rule.line);
  });
  errors.forEach((error, index) => {
    if (used.has(error.line)) check.fail(fieldPath(fieldPath(fieldPath(field, 'errors'), index), 'line'), 'is the line of a rule');
  });
  const last = rules.at(-1)?.line ?? 0;
  for (let line = 1; line <= last; line++) lines.push('');
  for (const rule of rules) lines[rule.line - 1] = [rule.pattern, ...rule.owners].join(' ');
  const file = new CodeownersFile(path, lines.join('\n'));
  rules.forEach((rule, index) => {
    const parsed = file.rules[index];
    const same = parsed !== undefined && parsed.line === rule.line && parsed.pattern === rule.pattern && parsed.owners.join(' ') === rule.owners.join(' ');
    if (!same) check.fail(fieldPath(rulesField, index), 'is not a rule GitHub accepts (it does not parse back to the same pattern and owners)');
  });
  if (file.rules.length !== rules.length) check.fail(rulesField, 'do not parse back to the same rules');
  // Rejected lines carry no rule; their messages come from the caller's parse of the file.
  (file as { errors: readonly CodeownersError[] }).errors = errors;
  return file;
}

/* ---------- policy ---------- */

function parseLocated(check: FieldChecker, value: unknown, field: string): LocatedString[] {
  return check.array(value, field, (entry, at): LocatedString => {
    const located = check.object(entry, at, ['value', 'path', 'line'], ['value', 'path', 'line']);
    return {
      value: check.string(located.value, fieldPath(at, 'value'), { min: 1, max: 4096 }),
      path: check.string(located.path, fieldPath(at, 'path'), NAME),
      line: check.integer(located.line, fieldPath(at, 'line'), 0, MAX_LINE),
    };
  });
}

function parsePolicy(check: FieldChecker, value: unknown, field: string): Policy {
  const raw = check.object(
    value,
    field,
    ['source', 'requiredStatusChecks', 'criticalPaths', 'protectedPaths', 'baseline', 'mergeQueue', 'automation', 'probabilistic'],
    ['requiredStatusChecks', 'criticalPaths', 'protectedPaths', 'baseline', 'automation'],
  );
  const at = (key: string): string => fieldPath(field, key);
  const baseline = check.object(raw.baseline, at('baseline'), ['path', 'globs', 'threshold'], ['path', 'globs', 'threshold']);
  const automation = check.object(raw.automation, at('automation'), ['authors', 'branchPrefixes'], ['authors', 'branchPrefixes']);
  const policy: Policy = {
    ...(raw.source !== undefined ? { source: check.string(raw.source, at('source'), NAME) } : {}),
    requiredStatusChecks: parseLocated(check, raw.requiredStatusChecks, at('requiredStatusChecks')),
    criticalPaths: parseLocated(check, raw.criticalPaths, at('criticalPaths')),
    protectedPaths: parseLocated(check, raw.protectedPaths, at('protectedPaths')),
    baseline: {
      path: check.string(baseline.path, fieldPath(at('baseline'), 'path'), RELATIVE),
      globs: check.stringArray(baseline.globs, fieldPath(at('baseline'), 'globs'), { min: 1, max: 4096 }),
      threshold: check.number(baseline.threshold, fieldPath(at('baseline'), 'threshold'), { min: 0 }),
    },
    automation: {
      authors: parseLocated(check, automation.authors, fieldPath(at('automation'), 'authors')),
      branchPrefixes: parseLocated(check, automation.branchPrefixes, fieldPath(at('automation'), 'branchPrefixes')),
    },
  };
  if (raw.mergeQueue !== undefined) {
    const queueField = at('mergeQueue');
    const keys = ['requiredForDefaultBranch', 'allowBypassForAdmins', 'requireLinearHistory', 'allowDirectPushes'] as const;
    const queue = check.object(raw.mergeQueue, queueField, ['path', 'line', ...keys], ['path', 'line', ...keys]);
    policy.mergeQueue = {
      path: check.string(queue.path, fieldPath(queueField, 'path'), NAME),
      line: check.integer(queue.line, fieldPath(queueField, 'line'), 0, MAX_LINE),
      requiredForDefaultBranch: check.boolean(queue.requiredForDefaultBranch, fieldPath(queueField, 'requiredForDefaultBranch')),
      allowBypassForAdmins: check.boolean(queue.allowBypassForAdmins, fieldPath(queueField, 'allowBypassForAdmins')),
      requireLinearHistory: check.boolean(queue.requireLinearHistory, fieldPath(queueField, 'requireLinearHistory')),
      allowDirectPushes: check.boolean(queue.allowDirectPushes, fieldPath(queueField, 'allowDirectPushes')),
    };
  }
  if (raw.probabilistic !== undefined) {
    const probabilistic = check.object(raw.probabilistic, at('probabilistic'), ['paths', 'evaluationJobs'], ['paths', 'evaluationJobs']);
    policy.probabilistic = {
      paths: parseLocated(check, probabilistic.paths, fieldPath(at('probabilistic'), 'paths')),
      evaluationJobs: parseLocated(check, probabilistic.evaluationJobs, fieldPath(at('probabilistic'), 'evaluationJobs')),
    };
  }
  return policy;
}

/* ---------- GitHub facts ---------- */

const PROTECTION_FLAGS = [
  'strictStatusChecks',
  'requirePullRequest',
  'requireCodeOwnerReviews',
  'dismissStaleReviews',
  'enforceAdmins',
  'requireLinearHistory',
  'allowForcePushes',
  'mergeQueueRequired',
  'pushRestricted',
] as const;

function parseBranchProtection(check: FieldChecker, value: unknown, field: string): BranchProtection {
  const required = ['path', 'source', 'enabled', 'requiredContexts', 'requiredApprovingReviewCount', ...PROTECTION_FLAGS];
  const raw = check.object(value, field, [...required, 'branch'], required);
  const at = (key: string): string => fieldPath(field, key);
  const protection: BranchProtection = {
    path: check.string(raw.path, at('path'), NAME),
    source: check.oneOf(raw.source, at('source'), ['file', 'api'] as const),
    ...(raw.branch !== undefined ? { branch: check.string(raw.branch, at('branch'), { ...NAME, max: 256 }) } : {}),
    enabled: check.boolean(raw.enabled, at('enabled')),
    requiredContexts: parseLocated(check, raw.requiredContexts, at('requiredContexts')),
    requiredApprovingReviewCount: check.integer(raw.requiredApprovingReviewCount, at('requiredApprovingReviewCount'), 0, 100),
    strictStatusChecks: false,
    requirePullRequest: false,
    requireCodeOwnerReviews: false,
    dismissStaleReviews: false,
    enforceAdmins: false,
    requireLinearHistory: false,
    allowForcePushes: false,
    mergeQueueRequired: false,
    pushRestricted: false,
  };
  for (const flag of PROTECTION_FLAGS) protection[flag] = check.boolean(raw[flag], at(flag));
  return protection;
}

function parsePullRequest(check: FieldChecker, value: unknown, field: string): PullRequestFacts {
  const raw = check.object(value, field, ['number', 'author', 'headRef', 'labels', 'reviews', 'source'], ['number', 'author', 'headRef', 'labels', 'source']);
  const at = (key: string): string => fieldPath(field, key);
  return {
    number: check.integer(raw.number, at('number'), 1),
    author: check.string(raw.author, at('author'), { ...NAME, max: 256 }),
    headRef: check.string(raw.headRef, at('headRef'), { ...NAME, max: 256 }),
    labels: check.stringArray(raw.labels, at('labels'), { max: 256 }),
    ...(raw.reviews !== undefined
      ? {
          reviews: check.array(raw.reviews, at('reviews'), (entry, reviewField) => {
            const review = check.object(entry, reviewField, ['user', 'state', 'submittedAt'], ['user', 'state']);
            const submittedAt = check.optionalString(review.submittedAt, fieldPath(reviewField, 'submittedAt'), { ...NAME, max: 64 });
            return {
              user: check.string(review.user, fieldPath(reviewField, 'user'), { ...NAME, max: 256 }),
              state: check.oneOf(review.state, fieldPath(reviewField, 'state'), REVIEW_STATES),
              ...(submittedAt !== undefined ? { submittedAt } : {}),
            };
          }),
        }
      : {}),
    source: check.string(raw.source, at('source'), NAME),
  };
}

/* ---------- organisation (MD-101) ---------- */

function parseOrgScan(check: FieldChecker, value: unknown, field: string): OrgScan {
  const raw = check.object(value, field, ['organization', 'scannedAt', 'source', 'repositories'], ['organization', 'scannedAt', 'source', 'repositories']);
  check.string(raw.source, fieldPath(field, 'source'), NAME);
  try {
    return assertOrgScan(value, field);
  } catch (error) {
    if (!(error instanceof PhaseMirrorError)) throw error;
    const inner = error.location.field;
    return check.fail(inner === undefined || inner === '(document)' ? field : `${field}.${inner}`, `does not match the org-scan schema: ${error.message}`);
  }
}

function parseOrgManifest(check: FieldChecker, value: unknown, field: string): OrgManifest {
  const raw = check.object(
    value,
    field,
    ['path', 'version', 'organization', 'organizationLine', 'defaults', 'classifications', 'exemptions'],
    ['path', 'version', 'organization', 'organizationLine', 'defaults', 'classifications', 'exemptions'],
  );
  const at = (key: string): string => fieldPath(field, key);
  if (raw.version !== 1) check.fail(at('version'), 'must be 1');
  return {
    path: check.string(raw.path, at('path'), NAME),
    version: 1,
    organization: check.string(raw.organization, at('organization'), { ...NAME, max: 256 }),
    organizationLine: check.integer(raw.organizationLine, at('organizationLine'), 0, MAX_LINE),
    defaults: parseRequirements(check, raw.defaults, at('defaults')),
    classifications: check.array(raw.classifications, at('classifications'), (entry, entryField) => {
      const classification = check.object(entry, entryField, ['name', 'line', 'match', 'requirements'], ['name', 'line', 'match', 'requirements']);
      const matchField = fieldPath(entryField, 'match');
      const match = check.object(classification.match, matchField, ['names', 'topics', 'languages', 'visibility']);
      const list = (key: 'names' | 'topics' | 'languages'): Record<string, string[]> =>
        match[key] === undefined ? {} : { [key]: check.stringArray(match[key], fieldPath(matchField, key), { min: 1, max: 256 }) };
      return {
        name: check.string(classification.name, fieldPath(entryField, 'name'), { ...NAME, max: 256 }),
        line: check.integer(classification.line, fieldPath(entryField, 'line'), 0, MAX_LINE),
        match: {
          ...list('names'),
          ...list('topics'),
          ...list('languages'),
          ...(match.visibility !== undefined
            ? {
                visibility: check.array(match.visibility, fieldPath(matchField, 'visibility'), (item, itemField) =>
                  check.oneOf(item, itemField, ['public', 'private', 'internal'] as const),
                ),
              }
            : {}),
        },
        requirements: parseRequirements(check, classification.requirements, fieldPath(entryField, 'requirements')),
      };
    }),
    exemptions: check.array(raw.exemptions, at('exemptions'), (entry, entryField) => {
      const keys = ['repository', 'requirements', 'reason', 'approver', 'expires', 'expired', 'line'];
      const exemption = check.object(entry, entryField, keys, keys);
      return {
        repository: check.string(exemption.repository, fieldPath(entryField, 'repository'), { ...NAME, max: 256 }),
        requirements: check.stringArray(exemption.requirements, fieldPath(entryField, 'requirements'), {
          pattern: REQUIREMENT_NAME,
          patternName: 'a requirement name (branchProtection[.<setting>], requiredChecks[:<context>], requiredWorkflows[:<pattern>], defaultTokenPermissions, codeowners[.required|.allowErrors])',
        }) as OrgManifest['exemptions'][number]['requirements'][number][],
        reason: check.string(exemption.reason, fieldPath(entryField, 'reason'), { min: 1, max: 4096 }),
        approver: check.string(exemption.approver, fieldPath(entryField, 'approver'), { ...NAME, max: 256 }),
        expires: check.string(exemption.expires, fieldPath(entryField, 'expires'), { pattern: /^\d{4}-\d{2}-\d{2}$/, patternName: 'a date YYYY-MM-DD' }),
        expired: check.boolean(exemption.expired, fieldPath(entryField, 'expired')),
        line: check.integer(exemption.line, fieldPath(entryField, 'line'), 0, MAX_LINE),
      };
    }),
  };
}

const REQUIREMENT_NAME = new RegExp(
  `^(?:branchProtection(?:\\.(?:${PROTECTION_SETTINGS.join('|')}))?|requiredChecks(?::.+)?|requiredWorkflows(?::.+)?|defaultTokenPermissions|codeowners(?:\\.(?:required|allowErrors))?)$`,
);

function parseRequirements(check: FieldChecker, value: unknown, field: string): GovernanceRequirements {
  const raw = check.object(value, field, ['line', 'branchProtection', 'requiredChecks', 'requiredWorkflows', 'defaultTokenPermissions', 'codeowners'], ['line']);
  const at = (key: string): string => fieldPath(field, key);
  const declared = <T>(input: unknown, entryField: string, read: (item: unknown, itemField: string) => T): Declared<T> => {
    const entry = check.object(input, entryField, ['value', 'line'], ['value', 'line']);
    return { value: read(entry.value, fieldPath(entryField, 'value')), line: check.integer(entry.line, fieldPath(entryField, 'line'), 0, MAX_LINE) };
  };
  const bool = (item: unknown, itemField: string): boolean => check.boolean(item, itemField);
  const list = (input: unknown, listField: string): DeclaredList => {
    const entry = check.object(input, listField, ['line', 'items'], ['line', 'items']);
    return {
      line: check.integer(entry.line, fieldPath(listField, 'line'), 0, MAX_LINE),
      items: check.array(entry.items, fieldPath(listField, 'items'), (item, itemField) =>
        declared(item, itemField, (text, textField) => check.string(text, textField, { min: 1, max: 4096 })),
      ),
    };
  };
  const requirements: GovernanceRequirements = { line: check.integer(raw.line, at('line'), 0, MAX_LINE) };
  if (raw.branchProtection !== undefined) {
    const protectionField = at('branchProtection');
    const protection = check.object(raw.branchProtection, protectionField, PROTECTION_SETTINGS);
    const out: Record<string, Declared<boolean | number>> = {};
    for (const setting of PROTECTION_SETTINGS) {
      if (protection[setting] === undefined) continue;
      out[setting] =
        setting === 'requiredApprovingReviewCount'
          ? declared(protection[setting], fieldPath(protectionField, setting), (item, itemField) => check.integer(item, itemField, 0, 100))
          : declared(protection[setting], fieldPath(protectionField, setting), bool);
    }
    requirements.branchProtection = out as GovernanceRequirements['branchProtection'];
  }
  if (raw.requiredChecks !== undefined) requirements.requiredChecks = list(raw.requiredChecks, at('requiredChecks'));
  if (raw.requiredWorkflows !== undefined) requirements.requiredWorkflows = list(raw.requiredWorkflows, at('requiredWorkflows'));
  if (raw.defaultTokenPermissions !== undefined) {
    requirements.defaultTokenPermissions = declared(raw.defaultTokenPermissions, at('defaultTokenPermissions'), (item, itemField) =>
      check.oneOf(item, itemField, ['read', 'write'] as const),
    );
  }
  if (raw.codeowners !== undefined) {
    const codeownersField = at('codeowners');
    const codeowners = check.object(raw.codeowners, codeownersField, ['required', 'allowErrors']);
    requirements.codeowners = {
      ...(codeowners.required !== undefined ? { required: declared(codeowners.required, fieldPath(codeownersField, 'required'), bool) } : {}),
      ...(codeowners.allowErrors !== undefined ? { allowErrors: declared(codeowners.allowErrors, fieldPath(codeownersField, 'allowErrors'), bool) } : {}),
    };
  }
  return requirements;
}
