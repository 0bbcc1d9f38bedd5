/**
 * MD-004 — accountability. Every path the policy declares critical must have
 * a CODEOWNERS owner, so a change to it always requests a named reviewer; in
 * strict mode the change itself must be attributable (author and commit).
 */
import picomatch from 'picomatch';
import type { CodeownersFile, CodeownersMatch } from '../artifacts/codeowners';
import type { EvidenceInput, LocatedString, Rule, RuleContext, RuleFinding } from '../types';

/** Unowned files listed per finding; the rest are counted in one closing evidence line. */
export const MAX_LISTED_FILES = 50;

/**
 * A compiled critical-path declaration. A glob matches the files it names and
 * everything below a directory it names (`infra` and `infra/` both cover
 * `infra/main.tf`); a pattern without glob characters is compared literally.
 */
interface CriticalPath {
  declared: LocatedString;
  /** The pattern without a leading `./` or `/` and without a trailing `/`. */
  normalized: string;
  matches(file: string): boolean;
}

function compileCriticalPath(declared: LocatedString): CriticalPath {
  const normalized = declared.value.trim().replace(/^(?:\.\/)+/, '').replace(/^\/+/, '').replace(/\/+$/, '');
  if (!picomatch.scan(normalized).isGlob) {
    const prefix = `${normalized}/`;
    return { declared, normalized, matches: (file) => file === normalized || file.startsWith(prefix) };
  }
  const options = { dot: true, windows: false };
  const exact = picomatch(normalized, options);
  const below = picomatch(`${normalized}/**`, options);
  return { declared, normalized, matches: (file) => exact(file) || below(file) };
}

/** First declaration of each value wins, so a duplicated entry yields one finding. */
function uniqueDeclarations(declared: readonly LocatedString[]): LocatedString[] {
  const seen = new Map<string, LocatedString>();
  for (const entry of declared) if (!seen.has(entry.value)) seen.set(entry.value, entry);
  return [...seen.values()];
}

function declarationEvidence(declared: LocatedString): EvidenceInput {
  return { path: declared.path, line: declared.line, snippet: `critical path: ${declared.value}` };
}

/**
 * Who owns a path that no file matched: the declared path itself, and when it
 * names a directory, its contents (so `/infra/` in CODEOWNERS owns `infra`).
 */
function ownerOfDeclaredPath(codeowners: CodeownersFile, path: string): CodeownersMatch | undefined {
  return codeowners.ownersOf(path) ?? codeowners.ownersOf(`${path}/`);
}

interface Unowned {
  file: string;
  /** The rule that un-owned the file (a pattern with no owners), if any. */
  rule?: CodeownersMatch;
}

function unownedEvidence(codeowners: CodeownersFile, unowned: Unowned): EvidenceInput {
  if (unowned.rule !== undefined) {
    return {
      path: codeowners.path,
      line: unowned.rule.line,
      snippet: `${unowned.file}: un-owned by CODEOWNERS rule "${unowned.rule.pattern}", which lists no owners`,
    };
  }
  return { path: unowned.file, line: 0, snippet: `${unowned.file}: no CODEOWNERS rule matches` };
}

function evaluateCriticalPath(critical: CriticalPath, fileList: readonly string[], codeowners: CodeownersFile | undefined): RuleFinding | undefined {
  const { declared } = critical;
  if (codeowners === undefined) {
    return {
      key: `critical-path:${declared.value}#no-codeowners`,
      title: `Critical path "${declared.value}" has no owner: the repository has no CODEOWNERS file`,
      evidence: [declarationEvidence(declared)],
    };
  }
  const matched = fileList.filter((file) => critical.matches(file));
  const unowned: Unowned[] = [];
  if (matched.length === 0) {
    const match = ownerOfDeclaredPath(codeowners, critical.normalized);
    if (match === undefined) unowned.push({ file: critical.normalized });
    else if (match.owners.length === 0) unowned.push({ file: critical.normalized, rule: match });
  } else {
    for (const file of matched) {
      const match = codeowners.ownersOf(file);
      if (match === undefined) unowned.push({ file });
      else if (match.owners.length === 0) unowned.push({ file, rule: match });
    }
  }
  if (unowned.length === 0) return undefined;
  const evidence: EvidenceInput[] = [declarationEvidence(declared)];
  for (const entry of unowned.slice(0, MAX_LISTED_FILES)) evidence.push(unownedEvidence(codeowners, entry));
  if (unowned.length > MAX_LISTED_FILES) {
    evidence.push({
      path: declared.path,
      line: declared.line,
      snippet: `${unowned.length - MAX_LISTED_FILES} more unowned files under ${declared.value} not listed`,
    });
  }
  const count = unowned.length === 1 ? '1 file has' : `${unowned.length} files have`;
  return {
    key: `critical-path:${declared.value}#unowned`,
    title: `Critical path "${declared.value}": ${count} no CODEOWNERS owner in ${codeowners.path}`,
    evidence,
  };
}

function strictFindings(context: RuleContext): RuleFinding[] {
  const { event, artifacts } = context;
  if (!event.strict) return [];
  const source = artifacts.policy.source ?? '.phase-mirror.yml';
  const findings: RuleFinding[] = [];
  if (event.author === undefined || event.author.trim() === '') {
    findings.push({
      key: 'strict#missing-author',
      title: 'Strict mode: the change has no author, so it cannot be attributed',
      severity: 'critical',
      evidence: [
        {
          path: source,
          line: 1,
          snippet: 'strict mode requires the change author; none came from --author, the event payload or GITHUB_ACTOR',
        },
      ],
    });
  }
  if (event.commitSha === undefined || event.commitSha.trim() === '') {
    findings.push({
      key: 'strict#missing-commit-sha',
      title: 'Strict mode: the change has no commit SHA, so the decision cannot be tied to a commit',
      severity: 'critical',
      evidence: [
        {
          path: source,
          line: 1,
          snippet: 'strict mode requires the commit SHA; none came from --sha, the event payload or GITHUB_SHA',
        },
      ],
    });
  }
  return findings;
}

export const md004: Rule = {
  id: 'MD-004',
  version: '1.0.0',
  title: 'Critical paths must have an accountable owner',
  description:
    'Every path the policy declares critical must have a CODEOWNERS owner (the last matching rule, GitHub semantics), ' +
    'so changes to it request a named reviewer. In strict mode the change must also carry its author and commit SHA.',
  severity: 'high',
  fpTolerance: { ceiling: 0.1, window: 20 },
  evaluate(context: RuleContext): readonly RuleFinding[] {
    const { artifacts } = context;
    const findings: RuleFinding[] = [];
    for (const declared of uniqueDeclarations(artifacts.policy.criticalPaths)) {
      const finding = evaluateCriticalPath(compileCriticalPath(declared), artifacts.fileList, artifacts.codeowners);
      if (finding !== undefined) findings.push(finding);
    }
    findings.push(...strictFindings(context));
    return findings;
  },
};
