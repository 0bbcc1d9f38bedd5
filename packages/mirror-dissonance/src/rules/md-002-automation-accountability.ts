/**
 * MD-002 — automation vs accountability. A change made by automation (a bot
 * login, an agent's branch) that touches accountable paths (CODEOWNERS-owned,
 * or declared protected by the policy) must still pass through the human
 * review the repository relies on: branch protection that requires review,
 * and, when the reviews are known, an approval from a person.
 */
import picomatch from 'picomatch';
import type { CodeownersFile } from '../artifacts/codeowners';
import { compareCodePoints } from '../hashing';
import type {
  AutomationPolicy,
  BranchProtection,
  EventContext,
  EvidenceInput,
  LocatedString,
  PullRequestFacts,
  Rule,
  RuleContext,
  RuleFinding,
  Severity,
} from '../types';

/** Accountable paths listed per finding; the rest are counted in one closing evidence line. */
export const MAX_LISTED_PATHS = 50;

/**
 * GitHub's merge-queue service. It is the actor of `merge_group` runs, not
 * the author of the change the queue is testing, so it never makes a change
 * "automation" by itself.
 */
export const MERGE_QUEUE_ACTOR = 'github-merge-queue[bot]';

/**
 * A compiled path declaration (policy `protectedPaths`, `probabilistic.paths`).
 * A glob (picomatch, `dot: true`) matches the files it names and everything
 * below a directory it names; a value without glob characters is compared
 * literally, so `infra`, `infra/` and `/infra/` all cover `infra/main.tf`.
 */
export interface PathDeclaration {
  declared: LocatedString;
  matches(file: string): boolean;
}

/**
 * Compiles a policy path (glob or literal, see `PathDeclaration`) once, so
 * that matching thousands of files costs one function call each.
 */
export function compilePathDeclaration(declared: LocatedString): PathDeclaration {
  const normalized = declared.value.trim().replace(/^(?:\.\/)+/, '').replace(/^\/+/, '').replace(/\/+$/, '');
  if (normalized === '') return { declared, matches: () => true };
  if (!picomatch.scan(normalized).isGlob) {
    const prefix = `${normalized}/`;
    return { declared, matches: (file) => file === normalized || file.startsWith(prefix) };
  }
  const options = { dot: true, windows: false };
  const exact = picomatch(normalized, options);
  const below = picomatch(`${normalized}/**`, options);
  return { declared, matches: (file) => exact(file) || below(file) };
}

/**
 * A login pattern as the policy writes it: `*` any text, `?` one character,
 * everything else literal (so `[bot]` is the literal suffix GitHub gives
 * apps), case-insensitive as GitHub logins are.
 */
export function compileLoginPattern(pattern: string): RegExp {
  let source = '';
  for (const char of pattern.trim()) {
    if (char === '*') source += '.*';
    else if (char === '?') source += '.';
    else source += char.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  return new RegExp(`^${source}$`, 'i');
}

/** Why the change counts as automation. */
interface AutomationMatch {
  /** Stable part of the finding key: the author's login (lowercase) or the branch prefix. */
  identity: string;
  /** How the title names the change. */
  label: string;
  evidence: EvidenceInput[];
}

function branchName(ref: string): string {
  return ref.startsWith('refs/heads/') ? ref.slice('refs/heads/'.length) : ref;
}

function distinct(values: readonly (string | undefined)[], normalize: (value: string) => string): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const value of values) {
    if (value === undefined || value.trim() === '') continue;
    const key = normalize(value.trim());
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(value.trim());
  }
  return out;
}

/**
 * Matches the change against the automation policy: the author (event, else
 * pull-request facts) against `authors`, the head branch (event and
 * pull-request facts) against `branchPrefixes`. The first matching author
 * entry and the first matching prefix entry (policy order) are evidence.
 */
function matchAutomation(
  automation: AutomationPolicy,
  event: EventContext,
  pullRequest: PullRequestFacts | undefined,
): AutomationMatch | undefined {
  const logins = distinct([event.author, pullRequest?.author], (login) => login.toLowerCase()).filter(
    (login) => login.toLowerCase() !== MERGE_QUEUE_ACTOR,
  );
  const refs = distinct([event.headRef, pullRequest?.headRef], branchName).map(branchName);
  let author: { declared: LocatedString; login: string } | undefined;
  for (const declared of automation.authors) {
    const pattern = compileLoginPattern(declared.value);
    const login = logins.find((candidate) => pattern.test(candidate));
    if (login !== undefined) {
      author = { declared, login };
      break;
    }
  }
  let prefix: { declared: LocatedString; ref: string } | undefined;
  for (const declared of automation.branchPrefixes) {
    const ref = refs.find((candidate) => candidate.startsWith(declared.value));
    if (ref !== undefined) {
      prefix = { declared, ref };
      break;
    }
  }
  const evidence: EvidenceInput[] = [];
  if (author !== undefined) {
    evidence.push({
      path: author.declared.path,
      line: author.declared.line,
      snippet: `automation author: ${author.declared.value} (matches ${author.login})`,
    });
  }
  if (prefix !== undefined) {
    evidence.push({
      path: prefix.declared.path,
      line: prefix.declared.line,
      snippet: `automation branch prefix: ${prefix.declared.value} (matches ${prefix.ref})`,
    });
  }
  if (author !== undefined) return { identity: author.login.toLowerCase(), label: `by ${author.login}`, evidence };
  if (prefix !== undefined) return { identity: prefix.declared.value, label: `on branch ${prefix.ref}`, evidence };
  return undefined;
}

/** A changed file that needs accountable review, with the evidence of why. */
interface AccountablePath {
  file: string;
  owned: boolean;
  evidence: EvidenceInput[];
}

/**
 * The changed files that are accountable: owned by CODEOWNERS (the deciding
 * rule lists owners) or covered by a protected-path declaration (the first
 * in policy order). Sorted and de-duplicated for a deterministic report.
 */
function accountablePaths(
  changedFiles: readonly string[],
  codeowners: CodeownersFile | undefined,
  protectedPaths: readonly PathDeclaration[],
): AccountablePath[] {
  const out: AccountablePath[] = [];
  for (const file of [...new Set(changedFiles)].sort()) {
    const evidence: EvidenceInput[] = [];
    const match = codeowners?.ownersOf(file);
    const owned = codeowners !== undefined && match !== undefined && match.owners.length > 0;
    if (owned) evidence.push({ path: codeowners.path, line: match.line, snippet: `${file} owned by ${match.owners.join(' ')}` });
    const protectedBy = protectedPaths.find((declaration) => declaration.matches(file))?.declared;
    if (protectedBy !== undefined) {
      evidence.push({ path: protectedBy.path, line: protectedBy.line, snippet: `${file} is under protected path ${protectedBy.value}` });
    }
    if (evidence.length > 0) out.push({ file, owned, evidence });
  }
  return out;
}

/** Whether a login is automation: a policy author pattern, or a GitHub App (`[bot]` suffix). */
function isAutomationLogin(login: string, authorPatterns: readonly RegExp[]): boolean {
  return /\[bot\]$/i.test(login) || authorPatterns.some((pattern) => pattern.test(login));
}

type ReviewVerdict = { known: false } | { known: true; approvedByHuman: boolean; summary: string; source: string };

/**
 * The latest review state per reviewer, as GitHub counts it: APPROVED,
 * CHANGES_REQUESTED and DISMISSED replace a reviewer's earlier state;
 * COMMENTED and PENDING do not. An approval counts when its reviewer is not
 * automation.
 */
function reviewVerdict(pullRequest: PullRequestFacts | undefined, authorPatterns: readonly RegExp[]): ReviewVerdict {
  if (pullRequest?.reviews === undefined) return { known: false };
  const latest = new Map<string, { user: string; state: string }>();
  for (const review of pullRequest.reviews) {
    if (review.state === 'COMMENTED' || review.state === 'PENDING') continue;
    latest.set(review.user.toLowerCase(), { user: review.user, state: review.state });
  }
  const states = [...latest.entries()].sort(([a], [b]) => compareCodePoints(a, b)).map(([, entry]) => entry);
  const approvedByHuman = states.some((entry) => entry.state === 'APPROVED' && !isAutomationLogin(entry.user, authorPatterns));
  const summary =
    states.length === 0
      ? 'no approving review from a person (no review decision yet)'
      : `no approving review from a person (latest reviews: ${states.map((entry) => `${entry.user} ${entry.state}`).join(', ')})`;
  return { known: true, approvedByHuman, summary, source: pullRequest.source };
}

type ProtectionVerdict = { ok: true } | { ok: false; reason: string; evidence?: EvidenceInput };

/**
 * Condition (a) when the touched paths are unknown: the protection in force
 * requires review whatever the change touches — one approving review, or
 * code-owner review when only CODEOWNERS makes paths accountable.
 */
function reviewRequiredForAnyPath(protection: BranchProtection | undefined, hasProtectedPaths: boolean): boolean {
  if (protection === undefined || !protection.enabled) return false;
  return protection.requiredApprovingReviewCount >= 1 || (protection.requireCodeOwnerReviews && !hasProtectedPaths);
}

/**
 * Condition (a): the branch protection in force requires review of the
 * touched paths. One approving review covers every path; code-owner review
 * alone covers only paths that have a code owner, so a touched protected
 * path without one (`unownedProtected` counts them) is not covered.
 */
function protectionVerdict(protection: BranchProtection | undefined, unownedProtected: number): ProtectionVerdict {
  if (protection === undefined) {
    return { ok: false, reason: 'branch protection is unknown, so required review cannot be established' };
  }
  const where = protection.branch === undefined ? 'the base branch' : `branch ${protection.branch}`;
  const stateEvidence = (snippet: string): EvidenceInput => ({ path: protection.path, line: 0, snippet });
  if (!protection.enabled) {
    return {
      ok: false,
      reason: `${where} has no protection requiring review`,
      evidence: stateEvidence(`${where}: no branch protection or active ruleset applies`),
    };
  }
  if (protection.requiredApprovingReviewCount >= 1) return { ok: true };
  if (protection.requireCodeOwnerReviews) {
    if (unownedProtected === 0) return { ok: true };
    const detail = `${unownedProtected} touched protected ${unownedProtected === 1 ? 'path has' : 'paths have'} no code owner`;
    return {
      ok: false,
      reason: `branch protection requires only code-owner review and ${detail}`,
      evidence: stateEvidence(`${where}: 0 required approving reviews; code-owner review required`),
    };
  }
  return {
    ok: false,
    reason: 'branch protection requires no review',
    evidence: stateEvidence(`${where}: 0 required approving reviews; code-owner review not required`),
  };
}

function plural(count: number, singular: string, pluralForm: string): string {
  return `${count} ${count === 1 ? singular : pluralForm}`;
}

/** MD-002: automation changes to accountable paths still get the human review the policy requires. */
export const md002: Rule = {
  id: 'MD-002',
  version: '1.0.0',
  title: 'Automation changes to accountable paths need human review',
  description:
    'A change by automation (a policy automation author, or a head branch with an automation prefix) that touches ' +
    'CODEOWNERS-owned or policy-protected paths must be gated by branch protection requiring review and, when the ' +
    'reviews are known, approved by a person. Applies to pull_request and merge_group runs; drift and calibration ' +
    'runs have no change under review.',
  severity: 'high',
  fpTolerance: { ceiling: 0.1, window: 20 },
  evaluate(context: RuleContext): readonly RuleFinding[] {
    const { event, artifacts } = context;
    if (event.mode !== 'pull_request' && event.mode !== 'merge_group') return [];
    const { policy, codeowners, branchProtection, pullRequest } = artifacts;
    const automation = matchAutomation(policy.automation, event, pullRequest);
    if (automation === undefined) return [];
    const protectedPaths = policy.protectedPaths.map(compilePathDeclaration);
    const hasOwnedPaths = codeowners?.rules.some((rule) => rule.owners.length > 0) ?? false;
    // Nothing in the repository is accountable: an automation change cannot bypass review of it.
    if (protectedPaths.length === 0 && !hasOwnedPaths) return [];

    const authorPatterns = policy.automation.authors.map((declared) => compileLoginPattern(declared.value));
    const reviews = reviewVerdict(pullRequest, authorPatterns);
    const humanOk = !reviews.known || reviews.approvedByHuman;

    if (event.changedFiles === undefined) {
      // Accountability may not depend on the files: one required approval covers every path.
      if (reviewRequiredForAnyPath(branchProtection, protectedPaths.length > 0) && humanOk) return [];
      return [
        {
          key: 'changed-files-unknown',
          severity: 'high',
          title: `Automation change ${automation.label} could not be checked: the changed files are unknown (no base ref), so accountable paths it may touch cannot be verified`,
          evidence: automation.evidence,
        },
      ];
    }

    const touched = accountablePaths(event.changedFiles, codeowners, protectedPaths);
    if (touched.length === 0) return [];
    const unownedProtected = touched.filter((path) => !path.owned).length;
    const protection = protectionVerdict(branchProtection, unownedProtected);
    if (protection.ok && humanOk) return [];

    const reasons: string[] = [];
    const evidence: EvidenceInput[] = [...automation.evidence];
    if (!protection.ok) {
      reasons.push(protection.reason);
      if (protection.evidence !== undefined) evidence.push(protection.evidence);
    }
    if (reviews.known && !reviews.approvedByHuman) {
      reasons.push('no human has approved it yet');
      evidence.push({ path: reviews.source, line: 0, snippet: reviews.summary });
    }
    for (const path of touched.slice(0, MAX_LISTED_PATHS)) evidence.push(...path.evidence);
    if (touched.length > MAX_LISTED_PATHS) {
      const anchor = automation.evidence[0];
      evidence.push({
        path: anchor.path,
        line: anchor.line,
        snippet: `${touched.length - MAX_LISTED_PATHS} more accountable paths not listed`,
      });
    }
    const severity: Severity = event.strict && event.mode === 'merge_group' ? 'critical' : 'high';
    return [
      {
        key: `automation:${automation.identity}`,
        severity,
        title:
          `Automation change ${automation.label} touches ${plural(touched.length, 'accountable path', 'accountable paths')} ` +
          `without the human review the policy requires: ${reasons.join(', and ')}`,
        evidence,
      },
    ];
  },
};
