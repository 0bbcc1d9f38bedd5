/**
 * MD-003 — probabilistic components need an evaluation gate. Changes to the
 * paths the policy declares probabilistic (models, prompts, ML pipelines)
 * must be evaluated by a job the policy names, in a workflow that runs on the
 * event; a passing unit test suite says nothing about a prompt's behaviour.
 *
 * Scope: the changed files under the probabilistic paths. When the changed
 * files are unknown (a drift or scheduled run, no base ref), every file of the
 * repository under those paths is in scope: the run checks the repository as
 * it is, and any probabilistic component must be gated.
 *
 * Path filters: when the changed files are known, an evaluation job whose
 * workflow's trigger for the event has `paths` / `paths-ignore` filters that
 * skip this change does not gate it (finding `evaluation-filtered:<job>` at
 * the trigger line). GitHub ignores path filters on merge_group, and so does
 * this rule.
 */
import picomatch from 'picomatch';
import type { WorkflowFile, WorkflowJob, WorkflowTrigger } from '../artifacts/workflow';
import { sourceLineText, workflowRunsOn } from '../artifacts/workflow';
import type { EvidenceInput, LocatedString, Rule, RuleContext, RuleFinding } from '../types';
import { compilePathDeclaration } from './md-002-automation-accountability';
import { requiredCheckEvent } from './md-001-required-checks';

/** In-scope files listed per finding; the rest are counted in one closing evidence line. */
export const MAX_LISTED_FILES = 50;

/** GitHub allows reusable workflows to nest this deep. */
const MAX_CALL_DEPTH = 4;

/**
 * One element of a wildcard pattern: a literal character (lowercase), `?`
 * (exactly one character) or `*` (any text, possibly empty).
 */
type Token = string | typeof ONE | typeof STAR;
const ONE = Symbol('one');
const STAR = Symbol('star');

/**
 * Tokens of an evaluation-job glob: `*` any text (also across `/`, since job
 * names are not paths), `?` one character, every other character literal;
 * case-insensitive.
 */
function globTokens(glob: string): Token[] {
  const tokens: Token[] = [];
  for (const char of glob.trim().toLowerCase()) {
    if (char === '*') {
      if (tokens[tokens.length - 1] !== STAR) tokens.push(STAR);
    } else {
      tokens.push(char === '?' ? ONE : char);
    }
  }
  return tokens;
}

/**
 * Tokens of a job key or display name: literal text, and each `${{ ... }}`
 * expression (matrix values and other run-time values) as a wildcard for
 * any non-empty text.
 */
function nameTokens(name: string): Token[] {
  const tokens: Token[] = [];
  const text = name.toLowerCase();
  let index = 0;
  while (index < text.length) {
    if (text.startsWith('${{', index)) {
      const end = text.indexOf('}}', index + 3);
      if (end !== -1) {
        tokens.push(ONE, STAR);
        index = end + 2;
        continue;
      }
    }
    tokens.push(text[index]);
    index++;
  }
  return tokens;
}

/**
 * Whether some text matches both wildcard patterns. Dynamic programming over
 * suffixes: a `*` either ends or absorbs the other pattern's next element
 * (a character, a `?`, or the other `*` entirely). O(|a|·|b|).
 */
function patternsIntersect(a: readonly Token[], b: readonly Token[]): boolean {
  const width = b.length + 1;
  // ok[i * width + j]: a[i..] and b[j..] have a common match.
  const ok = new Uint8Array((a.length + 1) * width);
  ok[a.length * width + b.length] = 1;
  for (let j = b.length - 1; j >= 0; j--) ok[a.length * width + j] = b[j] === STAR ? ok[a.length * width + j + 1] : 0;
  for (let i = a.length - 1; i >= 0; i--) {
    ok[i * width + b.length] = a[i] === STAR ? ok[(i + 1) * width + b.length] : 0;
    for (let j = b.length - 1; j >= 0; j--) {
      const x = a[i];
      const y = b[j];
      let value: number;
      if (x === STAR || y === STAR) {
        value = ok[(i + 1) * width + j] | ok[i * width + j + 1];
      } else {
        value = x === ONE || y === ONE || x === y ? ok[(i + 1) * width + j + 1] : 0;
      }
      ok[i * width + j] = value;
    }
  }
  return ok[0] === 1;
}

/**
 * Whether an evaluation-job glob (`*`, `?`, case-insensitive) can match a job
 * key or name whose `${{ ... }}` expressions stand for any non-empty text:
 * `eval (gpt-4)` matches the name `eval (${{ matrix.model }})`.
 */
export function jobNameMatchesGlob(glob: string, name: string): boolean {
  return patternsIntersect(globTokens(glob), nameTokens(name));
}

interface EvaluationGlob {
  declared: LocatedString;
  tokens: Token[];
}

/**
 * The names a job answers to: its key and display name (a matrix job whose
 * name does not use the matrix also as `<name> (…)`, the check-run form), and
 * for a call to a local reusable workflow, the called jobs' names on their own
 * and as `<caller> / <called job>`.
 */
class JobNames {
  private readonly byPath = new Map<string, WorkflowFile>();

  constructor(workflows: readonly WorkflowFile[]) {
    for (const workflow of workflows) this.byPath.set(workflow.path.replace(/^\.\//, ''), workflow);
  }

  of(job: WorkflowJob, depth: number, visiting: Set<string>): string[] {
    const display = job.name?.value ?? job.key;
    const names = new Set([job.key, display]);
    if (job.matrix !== undefined && !/\$\{\{[^}]*\bmatrix\b/.test(display)) names.add(`${display} (\${{ matrix }})`);
    if (job.uses === undefined || !job.uses.value.startsWith('./')) return [...names];
    const callee = this.byPath.get(job.uses.value.slice(2).replace(/@.*$/, ''));
    if (callee === undefined || depth >= MAX_CALL_DEPTH || visiting.has(callee.path)) return [...names];
    visiting.add(callee.path);
    for (const calleeJob of callee.jobs) {
      for (const inner of this.of(calleeJob, depth + 1, visiting)) {
        names.add(inner);
        names.add(`${display} / ${inner}`);
      }
    }
    visiting.delete(callee.path);
    return [...names];
  }
}

function jobMatches(names: readonly string[], globs: readonly EvaluationGlob[]): boolean {
  return names.some((name) => {
    const tokens = nameTokens(name);
    return globs.some((glob) => patternsIntersect(glob.tokens, tokens));
  });
}

/**
 * Whether a trigger's path filters let the workflow run for these changed
 * files, with GitHub's semantics: `paths` needs one file whose last matching
 * pattern is positive (`!` patterns exclude); `paths-ignore` skips the run
 * only when every file is ignored.
 */
export function pathFiltersRun(trigger: WorkflowTrigger, changedFiles: readonly string[]): boolean {
  if (trigger.paths !== undefined) {
    const patterns = trigger.paths.map((p) => ({ negated: p.startsWith('!'), match: picomatch(p.replace(/^!/, ''), { dot: true }) }));
    return changedFiles.some((file) => {
      let included = false;
      for (const pattern of patterns) if (pattern.match(file)) included = !pattern.negated;
      return included;
    });
  }
  if (trigger.pathsIgnore !== undefined) {
    const patterns = trigger.pathsIgnore.map((p) => ({ negated: p.startsWith('!'), match: picomatch(p.replace(/^!/, ''), { dot: true }) }));
    return !changedFiles.every((file) => {
      let ignored = false;
      for (const pattern of patterns) if (pattern.match(file)) ignored = !pattern.negated;
      return ignored;
    });
  }
  return true;
}

/** MD-003: changes to probabilistic components are gated by an evaluation job that runs on the event. */
export const md003: Rule = {
  id: 'MD-003',
  version: '1.0.0',
  title: 'Probabilistic components need an evaluation gate',
  description:
    'Files under the policy\'s probabilistic paths (changed files, or every such file when the change is unknown) must be ' +
    'evaluated by a job named in probabilistic.evaluationJobs (globs on the job key or name, case-insensitive, ' +
    'expressions as wildcards) in a workflow that runs on the event.',
  severity: 'high',
  fpTolerance: { ceiling: 0.1, window: 20 },
  evaluate(context: RuleContext): readonly RuleFinding[] {
    const { event, artifacts } = context;
    const probabilistic = artifacts.policy.probabilistic;
    if (probabilistic === undefined || probabilistic.paths.length === 0) return [];

    const declarations = probabilistic.paths.map(compilePathDeclaration);
    const involved = new Set<LocatedString>();
    const inScope: string[] = [];
    const candidates = event.changedFiles === undefined ? artifacts.fileList : [...new Set(event.changedFiles)].sort();
    for (const file of candidates) {
      let matched = false;
      for (const declaration of declarations) {
        if (!declaration.matches(file)) continue;
        matched = true;
        involved.add(declaration.declared);
      }
      if (matched) inScope.push(file);
    }
    if (inScope.length === 0) return [];

    const eventName = requiredCheckEvent(event);
    const globs: EvaluationGlob[] = probabilistic.evaluationJobs.map((declared) => ({ declared, tokens: globTokens(declared.value) }));
    const names = new JobNames(artifacts.workflows);
    const idle: EvidenceInput[] = [];
    const filtered: { workflow: WorkflowFile; job: WorkflowJob; trigger: WorkflowTrigger }[] = [];
    for (const workflow of artifacts.workflows) {
      const running = workflowRunsOn(workflow, eventName);
      const trigger = workflow.triggers.find((t) => t.event === eventName);
      const skipped =
        running && trigger !== undefined && eventName !== 'merge_group' && event.changedFiles !== undefined && !pathFiltersRun(trigger, event.changedFiles);
      for (const job of workflow.jobs) {
        if (!jobMatches(names.of(job, 0, new Set([workflow.path])), globs)) continue;
        if (running && !skipped) return [];
        if (skipped && trigger !== undefined) filtered.push({ workflow, job, trigger });
        else idle.push({ path: workflow.path, line: job.line, snippet: sourceLineText(workflow, job.line) });
      }
    }
    if (filtered.length > 0) {
      return filtered.map(({ workflow, job, trigger }) => ({
        key: `evaluation-filtered:${workflow.path}#${job.key}`,
        severity: 'high',
        title: `Evaluation job ${job.key} does not run for this change: the path filters of ${workflow.path} on ${eventName} skip it`,
        evidence: [
          { path: workflow.path, line: trigger.line, snippet: sourceLineText(workflow, trigger.line) },
          { path: workflow.path, line: job.line, snippet: sourceLineText(workflow, job.line) },
          ...probabilistic.evaluationJobs.map((declared) => ({ path: declared.path, line: declared.line, snippet: `evaluation job: ${declared.value}` })),
        ],
      }));
    }

    const involvedPaths = probabilistic.paths.filter((declared) => involved.has(declared));
    const changed = event.changedFiles !== undefined;
    const evidence: EvidenceInput[] = involvedPaths.map((declared) => ({
      path: declared.path,
      line: declared.line,
      snippet: `probabilistic path: ${declared.value}`,
    }));
    const fileNote = changed ? 'changed probabilistic component' : 'probabilistic component';
    for (const file of inScope.slice(0, MAX_LISTED_FILES)) evidence.push({ path: file, line: 0, snippet: `${file}: ${fileNote}` });
    if (inScope.length > MAX_LISTED_FILES) {
      const anchor = involvedPaths[0];
      evidence.push({
        path: anchor.path,
        line: anchor.line,
        snippet: `${inScope.length - MAX_LISTED_FILES} more probabilistic files not listed`,
      });
    }
    for (const declared of probabilistic.evaluationJobs) {
      evidence.push({ path: declared.path, line: declared.line, snippet: `evaluation job: ${declared.value}` });
    }
    evidence.push(...idle);

    const count = inScope.length === 1 ? '1 file' : `${inScope.length} files`;
    const subject = changed ? `Probabilistic components changed (${count})` : `Probabilistic components (${count})`;
    const idleNote = idle.length > 0 ? ` (matching jobs exist only in workflows that do not run on ${eventName})` : '';
    return [
      {
        key: 'no-evaluation-gate',
        severity: 'high',
        title: `${subject} without an evaluation gate: no job matching probabilistic.evaluationJobs runs on ${eventName}${idleNote}`,
        evidence,
      },
    ];
  },
};
