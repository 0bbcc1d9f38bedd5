/**
 * The GitHub Actions workflow model. A workflow file is parsed once, with
 * source ranges, into a small typed structure that keeps the 1-based line of
 * everything a rule may point at (triggers, permissions, jobs, steps,
 * expressions inside scripts). Rules never re-parse YAML.
 */
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument } from 'yaml';
import type { Document, Node as YamlNode, YAMLMap, Pair } from 'yaml';
import { InputError } from '../errors';

export interface WorkflowTrigger {
  event: string;
  line: number;
  branches?: string[];
  types?: string[];
  /** `paths:` filter: the workflow runs when some changed file matches (`!` patterns exclude). */
  paths?: string[];
  /** `paths-ignore:` filter: the workflow is skipped when every changed file matches. */
  pathsIgnore?: string[];
}

export type PermissionLevel = 'read' | 'write' | 'none';

export interface PermissionsBlock {
  /** Line of the `permissions` key. */
  line: number;
  shorthand?: 'read-all' | 'write-all' | 'none';
  /** Level kept as written; `permissions: {}` ⇒ no scopes and no shorthand. */
  scopes: { name: string; level: string; line: number }[];
}

export interface WorkflowStep {
  /** 0-based position in the job's `steps`. */
  index: number;
  /** Line where the step mapping starts. */
  line: number;
  name?: string;
  id?: string;
  uses?: { value: string; line: number };
  /** `line` is the first content line of the script (after the `|`/`>` header for block scalars). */
  run?: { text: string; line: number };
  with: Record<string, { value: string; line: number }>;
  env: Record<string, { value: string; line: number }>;
}

export interface WorkflowJob {
  key: string;
  line: number;
  name?: { value: string; line: number };
  permissions?: PermissionsBlock;
  /**
   * `strategy.matrix`: each axis with its literal values; `include` entries
   * add their values to the axes they name; `exclude` is ignored. A matrix
   * given as an expression (`${{ fromJSON(...) }}`) is `{}`, and an axis
   * given as an expression has no known values (`[]`).
   */
  matrix?: Record<string, unknown[]>;
  /** Reusable workflow call (`jobs.<id>.uses`). */
  uses?: { value: string; line: number };
  steps: WorkflowStep[];
  /** `${{ secrets.X }}` references and `secrets: inherit`, with lines, anywhere in the job (including env/with/run) */
  secrets: { name: string; line: number }[];
  environment?: string;
  ifCondition?: string;
}

export interface WorkflowFile {
  path: string;
  text: string;
  name?: string;
  triggers: WorkflowTrigger[];
  permissions?: PermissionsBlock;
  jobs: WorkflowJob[];
  env: Record<string, { value: string; line: number }>;
}

/** A match of a pattern inside a `${{ ... }}` expression of a scalar, with its exact source line. */
export interface ExpressionMatch {
  /** The matched text (as written in the source). */
  match: string;
  /** The whole expression, `${{` to `}}`, as written in the source. */
  expression: string;
  line: number;
}

const EXPRESSION = /\$\{\{[\s\S]*?\}\}/g;
const SECRET_REFERENCE = /\bsecrets\s*(?:\.\s*([A-Za-z_][A-Za-z0-9_-]*)|\[\s*(['"])([^'"]+)\2\s*\])/g;
const PERMISSION_SHORTHANDS: ReadonlySet<string> = new Set(['read-all', 'write-all', 'none']);

/**
 * Parse one workflow file. Throws `InputError` (`WORKFLOW_PARSE`) at the
 * first problem: malformed YAML, a document that is not a mapping, a missing
 * `on` or `jobs`, or a section GitHub would reject (jobs/steps of the wrong
 * shape, an unknown permissions shorthand). The key `on` is read as the string
 * "on" even under a `%YAML 1.1` directive, as GitHub does.
 */
export function parseWorkflow(path: string, text: string): WorkflowFile {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  const parser = new WorkflowParser(path, text, lineCounter, doc);
  return parser.parse();
}

/** Offsets at which each line of `text` starts (index 0 ⇒ line 1). */
export function lineStartsOf(text: string): number[] {
  const starts = [0];
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  return starts;
}

/** 1-based line of a character offset, given the line starts of the text. */
export function lineOfTextOffset(lineStarts: readonly number[], offset: number): number {
  let low = 0;
  let high = lineStarts.length - 1;
  while (low < high) {
    const mid = (low + high + 1) >> 1;
    if (lineStarts[mid] <= offset) low = mid;
    else high = mid - 1;
  }
  return low + 1;
}

const lineStartCache = new WeakMap<WorkflowFile, number[]>();

function cachedLineStarts(workflow: WorkflowFile): number[] {
  let starts = lineStartCache.get(workflow);
  if (starts === undefined) {
    starts = lineStartsOf(workflow.text);
    lineStartCache.set(workflow, starts);
  }
  return starts;
}

/** The text of a 1-based source line of the workflow, trimmed (empty when out of range). */
export function sourceLineText(workflow: WorkflowFile, line: number): string {
  const starts = cachedLineStarts(workflow);
  if (line < 1 || line > starts.length) return '';
  const end = line < starts.length ? starts[line] - 1 : workflow.text.length;
  return workflow.text.slice(starts[line - 1], end).replace(/\r$/, '').trim();
}

/**
 * Every match of `pattern` inside the `${{ ... }}` expressions of a scalar
 * taken from this workflow (a `run` script, a `with` value), each at its
 * exact source line, also inside multi-line scripts and multi-line
 * expressions. The scalar's source starts on `scalar.line` and holds the
 * same expressions in the same order as its value, so each expression of
 * the value is the next source expression from that line that reads the
 * same once whitespace, quotes and backslashes are ignored (YAML folding and
 * escaping change only those). An expression not found that way (a YAML
 * escape sequence inside it) is reported on `scalar.line`.
 * `pattern` must have the global flag.
 */
export function findInExpressions(
  workflow: WorkflowFile,
  scalar: { text: string; line: number },
  pattern: RegExp,
): ExpressionMatch[] {
  if (!pattern.global) throw new TypeError('findInExpressions needs a global RegExp');
  const wanted = scalar.text.match(EXPRESSION);
  if (wanted === null) return [];
  const starts = cachedLineStarts(workflow);
  const source = new RegExp(EXPRESSION.source, 'g');
  let cursor = starts[Math.min(Math.max(scalar.line, 1), starts.length) - 1];
  const out: ExpressionMatch[] = [];
  for (const expression of wanted) {
    const target = comparable(expression);
    source.lastIndex = cursor;
    let found = source.exec(workflow.text);
    while (found !== null && comparable(found[0]) !== target) found = source.exec(workflow.text);
    if (found !== null) cursor = found.index + found[0].length;
    const written = found === null ? expression : found[0];
    pattern.lastIndex = 0;
    for (let m = pattern.exec(written); m !== null; m = pattern.exec(written)) {
      const line = found === null ? scalar.line : lineOfTextOffset(starts, found.index + m.index);
      out.push({ match: m[0], expression: written, line });
      if (m[0].length === 0) pattern.lastIndex++;
    }
  }
  return out;
}

function comparable(expression: string): string {
  return expression.replace(/[\s'"\\]/g, '');
}

/**
 * Whether the workflow is triggered by `eventName`: exact match on the
 * trigger names (`pull_request_target` only for `pull_request_target`,
 * `merge_group` only for `merge_group`), in any of the `on` forms.
 */
export function workflowRunsOn(workflow: WorkflowFile, eventName: string): boolean {
  return workflow.triggers.some((trigger) => trigger.event === eventName);
}

/* ------------------------------------------------------------------ */

type Located<T> = { value: T; line: number };

class WorkflowParser {
  constructor(
    private readonly path: string,
    private readonly text: string,
    private readonly lineCounter: LineCounter,
    private readonly doc: Document.Parsed,
  ) {}

  parse(): WorkflowFile {
    const firstError = this.doc.errors[0];
    if (firstError !== undefined) {
      throw this.error(`invalid YAML: ${firstError.message}`, firstError.pos[0]);
    }
    const root = this.doc.contents;
    if (root === null) throw this.error('workflow is empty: expected a mapping with `on` and `jobs`', 0);
    if (!isMap(root)) throw this.error(`workflow must be a mapping, found ${describeNode(root)}`, start(root));

    let on: Pair | undefined;
    let jobs: Pair | undefined;
    let name: string | undefined;
    let permissions: PermissionsBlock | undefined;
    let env: Record<string, Located<string>> = {};
    for (const pair of root.items) {
      const key = this.keyName(pair);
      if (key === 'on') on = pair;
      else if (key === 'jobs') jobs = pair;
      else if (key === 'name') name = this.scalarString(pair.value);
      else if (key === 'permissions') permissions = this.permissions(pair);
      else if (key === 'env') env = this.stringMap(pair.value);
    }
    if (on === undefined) throw this.error('workflow has no `on` key: it declares no trigger', start(root));
    if (jobs === undefined) throw this.error('workflow has no `jobs` key', start(root));

    return {
      path: this.path,
      text: this.text,
      ...(name !== undefined ? { name } : {}),
      triggers: this.triggers(on),
      ...(permissions !== undefined ? { permissions } : {}),
      jobs: this.jobs(jobs),
      env,
    };
  }

  private triggers(on: Pair): WorkflowTrigger[] {
    const value = this.resolve(on.value);
    if (value === null || value === undefined) throw this.error('`on` is empty: it declares no trigger', this.keyOffset(on));
    if (isScalar(value)) {
      const event = this.scalarString(value);
      if (event === undefined || event === '') throw this.error('`on` is empty: it declares no trigger', start(value));
      return [{ event, line: this.lineOf(start(value)) }];
    }
    if (isSeq(value)) {
      return value.items.map((item) => {
        const node = this.resolve(item);
        const event = isScalar(node) ? this.scalarString(node) : undefined;
        if (event === undefined || event === '') {
          throw this.error('`on` list entries must be event names', node ? start(node) : start(value));
        }
        return { event, line: this.lineOf(start(node as YamlNode)) };
      });
    }
    const triggers: WorkflowTrigger[] = [];
    for (const pair of (value as YAMLMap).items) {
      const trigger: WorkflowTrigger = { event: this.keyName(pair), line: this.lineOf(this.keyOffset(pair)) };
      const filters = this.resolve(pair.value);
      if (isMap(filters)) {
        for (const filter of filters.items) {
          const filterName = this.keyName(filter);
          if (filterName === 'branches') trigger.branches = this.stringList(filter.value);
          else if (filterName === 'types') trigger.types = this.stringList(filter.value);
          else if (filterName === 'paths') trigger.paths = this.stringList(filter.value);
          else if (filterName === 'paths-ignore') trigger.pathsIgnore = this.stringList(filter.value);
        }
      }
      triggers.push(trigger);
    }
    return triggers;
  }

  private permissions(pair: Pair): PermissionsBlock {
    const line = this.lineOf(this.keyOffset(pair));
    const value = this.resolve(pair.value);
    if (isMap(value)) {
      return {
        line,
        scopes: value.items.map((scope) => ({
          name: this.keyName(scope),
          level: this.scalarString(scope.value) ?? '',
          line: this.lineOf(this.keyOffset(scope)),
        })),
      };
    }
    const shorthand = isScalar(value) ? this.scalarString(value) : undefined;
    if (shorthand === undefined || !PERMISSION_SHORTHANDS.has(shorthand)) {
      throw this.error(
        '`permissions` must be read-all, write-all or a mapping of scopes',
        value ? start(value) : this.keyOffset(pair),
      );
    }
    return { line, shorthand: shorthand as PermissionsBlock['shorthand'], scopes: [] };
  }

  private jobs(pair: Pair): WorkflowJob[] {
    const value = this.resolve(pair.value);
    if (!isMap(value)) {
      throw this.error('`jobs` must be a mapping of job ids to jobs', value ? start(value) : this.keyOffset(pair));
    }
    if (value.items.length === 0) throw this.error('`jobs` declares no job', start(value));
    return value.items.map((jobPair) => this.job(jobPair));
  }

  private job(pair: Pair): WorkflowJob {
    const key = this.keyName(pair);
    const body = this.resolve(pair.value);
    if (!isMap(body)) throw this.error(`job \`${key}\` must be a mapping`, body ? start(body) : this.keyOffset(pair));
    const job: WorkflowJob = { key, line: this.lineOf(this.keyOffset(pair)), steps: [], secrets: [] };
    for (const item of body.items) {
      const field = this.keyName(item);
      switch (field) {
        case 'name':
          job.name = this.located(item);
          break;
        case 'permissions':
          job.permissions = this.permissions(item);
          break;
        case 'strategy':
          job.matrix = this.matrix(item.value);
          if (job.matrix === undefined) delete job.matrix;
          break;
        case 'uses':
          job.uses = this.located(item);
          break;
        case 'steps':
          job.steps = this.steps(item);
          break;
        case 'environment':
          job.environment = this.environment(item.value);
          if (job.environment === undefined) delete job.environment;
          break;
        case 'if':
          job.ifCondition = this.scalarString(item.value);
          if (job.ifCondition === undefined) delete job.ifCondition;
          break;
        default:
          break;
      }
    }
    this.collectSecrets(body, job.secrets, new Set());
    return job;
  }

  private matrix(strategyNode: unknown): Record<string, unknown[]> | undefined {
    const strategy = this.resolve(strategyNode);
    if (!isMap(strategy)) return undefined;
    const matrixPair = strategy.items.find((item) => this.keyName(item) === 'matrix');
    if (matrixPair === undefined) return undefined;
    const matrix = this.resolve(matrixPair.value);
    const out: Record<string, unknown[]> = {};
    if (!isMap(matrix)) return out;
    const include: unknown[] = [];
    for (const axis of matrix.items) {
      const axisName = this.keyName(axis);
      const values = this.resolve(axis.value);
      if (axisName === 'include') {
        if (isSeq(values)) include.push(...(values.toJSON() as unknown[]));
      } else if (axisName !== 'exclude') {
        out[axisName] = isSeq(values) ? (values.toJSON() as unknown[]) : [];
      }
    }
    for (const entry of include) {
      if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) continue;
      for (const [axisName, axisValue] of Object.entries(entry as Record<string, unknown>)) {
        const list = (out[axisName] ??= []);
        const serialized = JSON.stringify(axisValue);
        if (!list.some((known) => JSON.stringify(known) === serialized)) list.push(axisValue);
      }
    }
    return out;
  }

  private environment(node: unknown): string | undefined {
    const value = this.resolve(node);
    if (isMap(value)) {
      const namePair = value.items.find((item) => this.keyName(item) === 'name');
      return namePair === undefined ? undefined : this.scalarString(namePair.value);
    }
    return this.scalarString(value);
  }

  private steps(pair: Pair): WorkflowStep[] {
    const value = this.resolve(pair.value);
    if (!isSeq(value)) throw this.error('`steps` must be a list', value ? start(value) : this.keyOffset(pair));
    return value.items.map((item, index) => {
      const node = this.resolve(item);
      if (!isMap(node)) throw this.error(`step ${index + 1} must be a mapping`, node ? start(node) : start(value));
      const step: WorkflowStep = { index, line: this.lineOf(start(node)), with: {}, env: {} };
      for (const field of node.items) {
        switch (this.keyName(field)) {
          case 'name':
            step.name = this.scalarString(field.value);
            if (step.name === undefined) delete step.name;
            break;
          case 'id':
            step.id = this.scalarString(field.value);
            if (step.id === undefined) delete step.id;
            break;
          case 'uses':
            step.uses = this.located(field);
            break;
          case 'run':
            step.run = this.script(field);
            break;
          case 'with':
            step.with = this.stringMap(field.value);
            break;
          case 'env':
            step.env = this.stringMap(field.value);
            break;
          default:
            break;
        }
      }
      return step;
    });
  }

  /** A `run` script: its value and the line of its first content line. */
  private script(pair: Pair): { text: string; line: number } {
    const node = this.resolve(pair.value);
    if (!isScalar(node)) throw this.error('`run` must be a string', node ? start(node) : this.keyOffset(pair));
    const text = this.scalarString(node) ?? '';
    const [begin, end] = [node.range?.[0] ?? 0, node.range?.[1] ?? 0];
    if (node.type !== 'BLOCK_LITERAL' && node.type !== 'BLOCK_FOLDED') return { text, line: this.lineOf(begin) };
    const headerEnd = this.text.indexOf('\n', begin);
    const contentStart = headerEnd === -1 ? end : headerEnd + 1;
    const firstContent = this.text.slice(contentStart, end).search(/\S/);
    return { text, line: this.lineOf(firstContent === -1 ? contentStart : contentStart + firstContent) };
  }

  /** Every `secrets.X` in expressions (and in `if:` conditions) and `secrets: inherit`, in source order. */
  private collectSecrets(node: unknown, out: { name: string; line: number }[], seen: Set<unknown>, implicit = false): void {
    const value = this.resolve(node);
    if (value === null || value === undefined || seen.has(value)) return;
    if (isScalar(value)) {
      if (typeof value.value !== 'string' || value.range === undefined || value.range === null) return;
      const [begin, end] = value.range;
      const raw = this.text.slice(begin, end);
      if (implicit) {
        this.secretsIn(raw, begin, out);
        return;
      }
      const expressions = new RegExp(EXPRESSION.source, 'g');
      for (let m = expressions.exec(raw); m !== null; m = expressions.exec(raw)) this.secretsIn(m[0], begin + m.index, out);
      return;
    }
    seen.add(value);
    if (isSeq(value)) {
      for (const item of value.items) this.collectSecrets(item, out, seen);
      return;
    }
    if (isMap(value)) {
      for (const pair of value.items) {
        const key = isScalar(pair.key) ? this.keyName(pair) : '';
        const pairValue = this.resolve(pair.value);
        if (key === 'secrets' && isScalar(pairValue) && pairValue.value === 'inherit') {
          out.push({ name: 'inherit', line: this.lineOf(start(pairValue)) });
          continue;
        }
        this.collectSecrets(pair.value, out, seen, key === 'if');
      }
    }
  }

  private secretsIn(fragment: string, offset: number, out: { name: string; line: number }[]): void {
    const references = new RegExp(SECRET_REFERENCE.source, 'g');
    for (let m = references.exec(fragment); m !== null; m = references.exec(fragment)) {
      out.push({ name: m[1] ?? m[3], line: this.lineOf(offset + m.index) });
    }
  }

  /* ---------- node helpers ---------- */

  /** Follows aliases (anchors are allowed in workflows); lines then point at the anchor. */
  private resolve(node: unknown): YamlNode | null | undefined {
    if (isAlias(node)) return node.resolve(this.doc) as YamlNode | undefined;
    return node as YamlNode | null | undefined;
  }

  /**
   * A mapping key as GitHub reads it: always its source text for
   * non-string scalars, so `on` stays "on" when a YAML 1.1 schema would
   * have made it `true`.
   */
  private keyName(pair: Pair): string {
    const key = this.resolve(pair.key);
    if (isScalar(key)) {
      if (typeof key.value === 'string') return key.value;
      if (key.range) return this.text.slice(key.range[0], key.range[1]).trim();
      return String(key.value);
    }
    throw this.error('mapping keys must be plain scalars', key ? start(key) : 0);
  }

  private keyOffset(pair: Pair): number {
    return start(pair.key as YamlNode);
  }

  private scalarString(node: unknown): string | undefined {
    const value = this.resolve(node);
    if (!isScalar(value) || value.value === null || value.value === undefined) return undefined;
    return String(value.value);
  }

  private located(pair: Pair): Located<string> {
    const node = this.resolve(pair.value);
    const value = this.scalarString(node);
    if (value === undefined) {
      throw this.error(`\`${this.keyName(pair)}\` must be a string`, node ? start(node) : this.keyOffset(pair));
    }
    return { value, line: this.lineOf(start(node as YamlNode)) };
  }

  private stringList(node: unknown): string[] {
    const value = this.resolve(node);
    if (isSeq(value)) {
      return value.items.map((item) => this.scalarString(item)).filter((item): item is string => item !== undefined);
    }
    const single = this.scalarString(value);
    return single === undefined ? [] : [single];
  }

  /** `env`/`with` mappings; values stringified as GitHub passes them. An expression in place of the mapping has no keys. */
  private stringMap(node: unknown): Record<string, Located<string>> {
    const value = this.resolve(node);
    const out: Record<string, Located<string>> = {};
    if (!isMap(value)) return out;
    for (const pair of value.items) {
      const item = this.resolve(pair.value);
      const text = isScalar(item)
        ? (this.scalarString(item) ?? '')
        : item === null || item === undefined
          ? ''
          : JSON.stringify(item.toJSON());
      out[this.keyName(pair)] = { value: text, line: this.lineOf(item ? start(item) : this.keyOffset(pair)) };
    }
    return out;
  }

  private lineOf(offset: number): number {
    return this.lineCounter.linePos(offset).line;
  }

  private error(message: string, offset: number): InputError {
    const { line, col } = this.lineCounter.linePos(offset);
    return new InputError('WORKFLOW_PARSE', message, {
      location: { file: this.path, line: Math.max(line, 1), column: Math.max(col, 1) },
    });
  }
}

function start(node: YamlNode): number {
  return node.range?.[0] ?? 0;
}

function describeNode(node: YamlNode): string {
  return isSeq(node) ? 'a list' : isScalar(node) ? `a scalar (${JSON.stringify(node.value)})` : 'an alias';
}
