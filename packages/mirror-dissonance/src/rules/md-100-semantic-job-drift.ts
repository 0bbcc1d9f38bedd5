/**
 * MD-100 — semantic job drift. A job's name is a promise reviewers and
 * branch protection rely on: a required check called `test` is trusted to
 * test. This rule flags jobs whose key or name claims an intent (test, lint,
 * security, build, deploy, or any configured intent) while none of their
 * steps does it, and jobs named for a non-production environment (staging,
 * dev, preview...) that target production.
 *
 * Not judged for intents: jobs that call a reusable workflow
 * (`jobs.<id>.uses`) and jobs without steps, since their work is defined
 * elsewhere. What counts as doing an intent is described in `job-intents.ts`;
 * commands that only print (`echo`) or install tools (`npm ci`, `pip install
 * ruff`) never count.
 */
import type { WorkflowFile, WorkflowJob, WorkflowStep } from '../artifacts/workflow';
import { sourceLineText } from '../artifacts/workflow';
import type { EvidenceInput, Rule, RuleContext, RuleFinding } from '../types';
import type { CompiledJobIntent, ShellCommand } from './job-intents';
import {
  analyzeCommand,
  COMMAND_INPUTS,
  compileJobIntents,
  isInertCommand,
  normalizedAction,
  scriptBasename,
  shellCommands,
  wordsOf,
} from './job-intents';

/** Words of a job key or name that claim a non-production environment. */
const NON_PRODUCTION_WORDS: readonly string[] = ['staging', 'stage', 'dev', 'development', 'preview', 'qa', 'sandbox'];
/** Words that name production; a job named for both (`promote-staging-to-prod`) is about production by design. */
const PRODUCTION_WORDS: ReadonlySet<string> = new Set(['production', 'prod', 'prd']);
/** A production word preceded by one of these is not production (`pre-prod`, `non-production`). */
const NEGATING_WORDS: ReadonlySet<string> = new Set(['pre', 'non', 'not']);

/** Last word of a `with`/`env` key or shell variable that names a deployment target. */
const TARGET_KEY_WORDS: ReadonlySet<string> = new Set([
  'env', 'environment', 'stage', 'context', 'cluster', 'namespace', 'slot', 'workspace', 'target', 'profile',
  'project', 'account', 'alias', 'app',
]);
/** First words of variables that set a runtime mode, not a target (`NODE_ENV=production` builds for staging too). */
const RUNTIME_MODE_WORDS: ReadonlySet<string> = new Set([
  'node', 'rails', 'rack', 'flask', 'mix', 'babel', 'aspnetcore', 'dotnet', 'django', 'php', 'python', 'ruby',
  'go', 'next', 'vite', 'webpack', 'react', 'vue', 'nuxt', 'symfony', 'laravel', 'expo', 'build',
]);

/** `--prod` (vercel, netlify, and friends). */
const PROD_SWITCH = /(?<![\w-])--prod(?![\w-])/g;
/** A target-selecting flag and its value: `--environment production`, `--stage=prod`, `-n prod`. */
const TARGET_FLAG =
  /(?<![\w-])(?:--(?:env|environment|stage|context|kube-context|namespace|cluster|profile|config-env|slot|workspace|project|app|alias)|-[en])(?:=|\s+)["']?([\w.:/-]+)/dg;
/** Commands that select a target by a positional word: `kubectl config use-context prod`, `terraform workspace select prod`. */
const TARGET_PHRASE = /\b(?:use-context|kubectx|kubens|workspace\s+(?:select|new)|cdk\s+deploy)\s+["']?([\w.:/*-]+)/dgi;
/** A shell or env-file assignment: `ENV=production`, `export DEPLOY_ENV=prod`. */
const ASSIGNMENT = /(?<![\w.-])([A-Za-z_][A-Za-z0-9_]*)=["']?([\w.:/-]+)/dg;

/** Whether a value names production: a `prod`/`production`/`prd` word (not `pre-prod`), or exactly `live`. */
function isProductionName(value: string): boolean {
  const words = wordsOf(value.replace(/\$\{\{|\}\}/g, ' '));
  if (words.length === 1 && words[0] === 'live') return true;
  return words.some((word, i) => PRODUCTION_WORDS.has(word) && (i === 0 || !NEGATING_WORDS.has(words[i - 1])));
}

/** Whether a `with`/`env` key or variable name selects a deployment target. */
function isTargetKey(key: string): boolean {
  const words = wordsOf(key);
  if (words.length === 0 || !TARGET_KEY_WORDS.has(words[words.length - 1])) return false;
  return words.length === 1 || !RUNTIME_MODE_WORDS.has(words[0]);
}

/** A place in a step's text (script or input value) that targets production. */
interface TextHit {
  /** 0-based line within the text. */
  index: number;
  /** Text to find on the source line. */
  needle: string;
}

/** Production targets written in one command or value, by flag, phrase or assignment. */
function productionHits(text: string, lineAt: (offset: number) => number): TextHit[] {
  const hits: TextHit[] = [];
  for (const m of text.matchAll(PROD_SWITCH)) hits.push({ index: lineAt(m.index ?? 0), needle: m[0] });
  for (const pattern of [TARGET_FLAG, TARGET_PHRASE]) {
    for (const m of text.matchAll(pattern)) {
      if (!isProductionName(m[1])) continue;
      hits.push({ index: lineAt(m.indices?.[1]?.[0] ?? m.index ?? 0), needle: m[1] });
    }
  }
  for (const m of text.matchAll(ASSIGNMENT)) {
    if (!isTargetKey(m[1]) || !isProductionName(m[2])) continue;
    hits.push({ index: lineAt(m.index ?? 0), needle: m[0] });
  }
  return hits;
}

/** 0-based line of each offset of a plain value (a `with`/`env` value). */
function valueLineAt(text: string): (offset: number) => number {
  return (offset) => {
    let line = 0;
    for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) line++;
    return line;
  };
}

/** What a job's steps do, read once per job. */
interface JobWork {
  /** Normalized `uses:` of non-local steps. */
  actions: string[];
  /** Words of local actions' directory names (`./.github/actions/run-tests` ⇒ run, tests). */
  localActionWords: string[][];
  /** Texts of the commands the job runs (echo/printf excluded). */
  commands: string[];
  /** Words of the scripts and tasks those commands invoke. */
  scriptWords: string[][];
}

/** A script a step runs: its commands and where the script starts in the source. */
interface StepScript {
  commands: ShellCommand[];
  line: number;
}

function stepScripts(step: WorkflowStep): StepScript[] {
  const scripts: StepScript[] = [];
  if (step.run !== undefined) scripts.push({ commands: shellCommands(step.run.text), line: step.run.line });
  if (step.uses !== undefined) {
    for (const [key, input] of Object.entries(step.with)) {
      if (COMMAND_INPUTS.has(key.toLowerCase())) scripts.push({ commands: shellCommands(input.value), line: input.line });
    }
  }
  return scripts;
}

function jobWork(job: WorkflowJob): JobWork {
  const work: JobWork = { actions: [], localActionWords: [], commands: [], scriptWords: [] };
  for (const step of job.steps) {
    if (step.uses !== undefined) {
      const action = normalizedAction(step.uses.value);
      if (action !== undefined) work.actions.push(action);
      else work.localActionWords.push(wordsOf(scriptBasename(step.uses.value.replace(/@.*$/, ''))));
    }
    for (const script of stepScripts(step)) {
      for (const command of script.commands) {
        const analysis = analyzeCommand(command.text);
        if (analysis.inert || analysis.install) continue;
        work.commands.push(command.text);
        for (const name of analysis.scriptNames) work.scriptWords.push(wordsOf(name));
      }
    }
  }
  return work;
}

/** Cheap checks first: actions and script names, then the command patterns. */
function fulfils(work: JobWork, intent: CompiledJobIntent): boolean {
  return (
    work.actions.some((action) => intent.matchesAction(action)) ||
    work.localActionWords.some((words) => intent.claimedBy(words)) ||
    work.scriptWords.some((words) => intent.claimedBy(words)) ||
    work.commands.some((command) => intent.commands.some((pattern) => pattern.test(command)))
  );
}

/** The workflow's source lines, for locating what the workflow model does not carry a line for. */
class SourceLines {
  readonly lines: string[];

  constructor(workflow: WorkflowFile) {
    this.lines = workflow.text.split(/\r?\n/);
  }

  /** The 1-based line's text, untrimmed ('' out of range). */
  text(line: number): string {
    return this.lines[line - 1] ?? '';
  }

  /** Last line (1-based) of the job's body: lines indented deeper than the job key. */
  jobEnd(job: WorkflowJob): number {
    const keyIndent = indentOf(this.text(job.line));
    let end = job.line;
    for (let line = job.line + 1; line <= this.lines.length; line++) {
      const text = this.text(line);
      if (isBlankOrComment(text)) continue;
      if (indentOf(text) <= keyIndent) break;
      end = line;
    }
    return end;
  }

  /**
   * Line of the job's environment name: the `environment:` line when the
   * value is on it, else the `name:` line below it.
   */
  environmentLine(job: WorkflowJob, end: number): number {
    let bodyIndent = -1;
    for (let line = job.line + 1; line <= end; line++) {
      const text = this.text(line);
      if (isBlankOrComment(text)) continue;
      if (bodyIndent === -1) bodyIndent = indentOf(text);
      if (indentOf(text) !== bodyIndent) continue;
      const m = /^\s*["']?environment["']?\s*:(.*)$/.exec(text);
      if (m === null) continue;
      if (m[1].replace(/\s#.*$/, '').trim() !== '') return line;
      for (let inner = line + 1; inner <= end; inner++) {
        const innerText = this.text(inner);
        if (isBlankOrComment(innerText)) continue;
        if (indentOf(innerText) <= bodyIndent) break;
        if (/^\s*["']?name["']?\s*:/.test(innerText)) return inner;
      }
      return line;
    }
    return job.line;
  }

  /**
   * The source line of a hit inside a scalar starting at `base`: `base +
   * index` when that line holds the needle (literal block scripts, single
   * lines), else the first line from `base` to `limit` holding it (folded or
   * quoted scalars), else `base`.
   */
  locate(base: number, hit: TextHit, limit: number): number {
    const candidate = base + hit.index;
    if (this.text(candidate).includes(hit.needle)) return candidate;
    for (let line = base; line <= limit; line++) {
      if (this.text(line).includes(hit.needle)) return line;
    }
    return base;
  }
}

function indentOf(text: string): number {
  return text.length - text.trimStart().length;
}

function isBlankOrComment(text: string): boolean {
  const trimmed = text.trim();
  return trimmed === '' || trimmed.startsWith('#');
}

class Md100Evaluation {
  private readonly findings: RuleFinding[] = [];
  private sourceLines: SourceLines | undefined;

  constructor(
    private readonly workflow: WorkflowFile,
    private readonly intents: readonly CompiledJobIntent[],
  ) {}

  run(): RuleFinding[] {
    for (const job of this.workflow.jobs) {
      const keyWords = wordsOf(job.key);
      const nameWords = job.name === undefined ? [] : wordsOf(job.name.value);
      this.intentDrift(job, keyWords, nameWords);
      this.environmentMismatch(job, [...keyWords, ...nameWords]);
    }
    return this.findings;
  }

  private get source(): SourceLines {
    this.sourceLines ??= new SourceLines(this.workflow);
    return this.sourceLines;
  }

  private intentDrift(job: WorkflowJob, keyWords: readonly string[], nameWords: readonly string[]): void {
    if (job.uses !== undefined || job.steps.length === 0) return;
    let work: JobWork | undefined;
    for (const intent of this.intents) {
      const inKey = intent.claimedBy(keyWords);
      if (!inKey && !intent.claimedBy(nameWords)) continue;
      work ??= jobWork(job);
      if (fulfils(work, intent)) continue;
      const line = inKey || job.name === undefined ? job.line : job.name.line;
      this.findings.push({
        key: `${this.workflow.path}#${job.key}#intent:${intent.name}`,
        severity: 'medium',
        title: `Job ${job.key} is named for ${intent.name} but none of its steps does it (no ${intent.name} action, command or script)`,
        evidence: [this.evidence(line)],
      });
    }
  }

  private environmentMismatch(job: WorkflowJob, words: readonly string[]): void {
    const claimed = NON_PRODUCTION_WORDS.find((word) => words.includes(word));
    if (claimed === undefined || words.some((word) => PRODUCTION_WORDS.has(word))) return;
    const lines = this.productionLines(job);
    if (lines.length === 0) return;
    this.findings.push({
      key: `${this.workflow.path}#${job.key}#environment-mismatch`,
      severity: 'high',
      title: `Job ${job.key} is named for ${claimed} but targets production`,
      evidence: lines.map((line) => this.evidence(line)),
    });
  }

  /** Source lines of the job that target production, ascending and distinct. */
  private productionLines(job: WorkflowJob): number[] {
    const found = new Set<number>();
    const source = this.source;
    const end = source.jobEnd(job);
    if (job.environment !== undefined && isProductionName(job.environment)) found.add(source.environmentLine(job, end));
    job.steps.forEach((step, i) => {
      const limit = i + 1 < job.steps.length ? job.steps[i + 1].line - 1 : end;
      for (const script of stepScripts(step)) {
        for (const command of script.commands) {
          if (isInertCommand(command.text)) continue;
          for (const hit of productionHits(command.text, (offset) => command.lineAt(offset))) {
            found.add(source.locate(script.line, hit, limit));
          }
        }
      }
      const values = [
        ...Object.entries(step.with).filter(([key]) => step.uses === undefined || !COMMAND_INPUTS.has(key.toLowerCase())),
        ...Object.entries(step.env),
      ];
      for (const [key, input] of values) {
        if (isTargetKey(key) && isProductionName(input.value)) found.add(input.line);
        for (const hit of productionHits(input.value, valueLineAt(input.value))) {
          found.add(source.locate(input.line, hit, limit));
        }
      }
    });
    for (const secret of job.secrets) {
      if (isProductionName(secret.name)) found.add(secret.line);
    }
    return [...found].sort((a, b) => a - b);
  }

  private evidence(line: number): EvidenceInput {
    return { path: this.workflow.path, line, snippet: sourceLineText(this.workflow, line) };
  }
}

/** MD-100: a job's name matches what its steps do, and non-production jobs stay out of production. */
export const md100: Rule = {
  id: 'MD-100',
  version: '1.0.0',
  title: 'Semantic job drift',
  description:
    'A job whose key or name claims an intent (test, lint, security, build, deploy, or a configured intent) ' +
    'must have a step that does it: a known action, a known command, or a script or task named for it. ' +
    'Jobs calling reusable workflows or without steps are not judged. A job named for staging, dev, preview, ' +
    'qa or sandbox must not target production (environment, --prod or target flags, target variables, ' +
    'production secrets).',
  severity: 'medium',
  fpTolerance: { ceiling: 0.15, window: 20 },
  evaluate({ artifacts, options }: RuleContext): readonly RuleFinding[] {
    const intents = compileJobIntents(options.jobIntents);
    return artifacts.workflows.flatMap((workflow) => new Md100Evaluation(workflow, intents).run());
  },
};
