/**
 * The integrity baseline: a committed JSON file pinning the SHA-256 of every
 * file matching some globs (default `.github/phase-mirror/baseline.json`).
 * MD-005 and the L0 drift check compare it with the files as they are now.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import picomatch from 'picomatch';
import { InputError } from '../errors';
import { sha256Hex } from '../hashing';

/** Where the baseline is committed unless the policy says otherwise. */
export const DEFAULT_BASELINE_PATH = '.github/phase-mirror/baseline.json';

export interface IntegrityBaseline {
  version: 1;
  /** ISO 8601 date-time the baseline was created. */
  createdAt: string;
  globs: string[];
  /** POSIX repository-relative path → lowercase sha256 hex of the file's bytes. */
  files: Record<string, string>;
}

export interface BaselineDrift {
  /** Current files matching the baseline's globs that the baseline does not pin. */
  added: string[];
  /** Pinned files that no longer exist (or no longer match). */
  removed: string[];
  modified: { path: string; oldHash: string; newHash: string }[];
  /** Number of files the baseline pins. */
  declared: number;
  /**
   * (added + removed + modified) / declared. With an empty baseline
   * (declared = 0) there is nothing to divide by: the magnitude is 0 when
   * nothing changed, else the number of changes, so any file appearing under
   * an empty baseline's globs counts as drift of at least 1.
   */
  magnitude: number;
}

const SHA256_HEX = /^[0-9a-f]{64}$/;
const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;
const BASELINE_FIELDS = new Set(['version', 'createdAt', 'globs', 'files']);

/** Compiles the baseline globs once. Dot files are included (`.github/**`). */
export function compileBaselineGlobs(globs: readonly string[]): (file: string) => boolean {
  if (globs.length === 0) return () => false;
  return picomatch([...globs], { dot: true });
}

export interface HashBaselineOptions {
  /**
   * Paths never hashed even when a glob matches, typically the baseline file
   * itself (it changes every time the baseline is regenerated).
   * @default none
   */
  exclude?: readonly string[];
}

/**
 * SHA-256 of the bytes of every file of `fileList` matching any of `globs`, in
 * `fileList` order. `fileList` comes from the walker (POSIX, relative, inside
 * `root`), so only matching files are read, once each.
 */
export function hashBaselineFiles(
  root: string,
  fileList: readonly string[],
  globs: readonly string[],
  options: HashBaselineOptions = {},
): Map<string, string> {
  const matches = compileBaselineGlobs(globs);
  const excluded = new Set(options.exclude ?? []);
  const hashes = new Map<string, string>();
  for (const file of fileList) {
    if (!matches(file) || excluded.has(file)) continue;
    let bytes: Buffer;
    try {
      bytes = fs.readFileSync(path.join(root, file));
    } catch (error) {
      throw new InputError('FILE_UNREADABLE', `cannot read ${file} to hash it for the integrity baseline: ${(error as Error).message}`, {
        location: { file },
        context: { root, operation: 'hash baseline file' },
        cause: error,
      });
    }
    hashes.set(file, sha256Hex(bytes));
  }
  return hashes;
}

/** A new baseline pinning `hashes`, with keys sorted so the file diffs cleanly. */
export function createBaseline(globs: readonly string[], hashes: ReadonlyMap<string, string>, now: Date): IntegrityBaseline {
  const files: Record<string, string> = {};
  for (const key of [...hashes.keys()].sort()) files[key] = hashes.get(key) as string;
  return { version: 1, createdAt: now.toISOString(), globs: [...globs], files };
}

/** Pretty JSON (2 spaces, fixed member order, sorted files, trailing newline): the committed form. */
export function serializeBaseline(baseline: IntegrityBaseline): string {
  const files: Record<string, string> = {};
  for (const key of Object.keys(baseline.files).sort()) files[key] = baseline.files[key];
  const ordered = { version: baseline.version, createdAt: baseline.createdAt, globs: [...baseline.globs], files };
  return `${JSON.stringify(ordered, null, 2)}\n`;
}

/**
 * Parses and validates a committed baseline. Every defect is an InputError
 * BASELINE_INVALID naming the file and the field (`version`, `createdAt`,
 * `globs[1]`, `files["a.txt"]`...); JSON syntax errors carry line and column.
 */
export function parseBaseline(file: string, text: string): IntegrityBaseline {
  const source = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  let value: unknown;
  try {
    value = JSON.parse(source);
  } catch (error) {
    const offset = jsonErrorOffset(source, (error as Error).message);
    const { line, column } = lineColumn(source, offset);
    throw new InputError('BASELINE_INVALID', `integrity baseline is not valid JSON: ${(error as Error).message}`, {
      location: { file, line, column },
      cause: error,
    });
  }
  const invalid = (field: string, message: string): InputError =>
    new InputError('BASELINE_INVALID', `integrity baseline: ${message}`, { location: { file, field } });

  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw invalid('(root)', 'must be a JSON object');
  }
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if (!BASELINE_FIELDS.has(key)) throw invalid(key, `unknown field ${JSON.stringify(key)}`);
  }
  if (record.version !== 1) {
    throw invalid('version', `version must be 1, got ${JSON.stringify(record.version) ?? 'nothing'}`);
  }
  const createdAt = record.createdAt;
  if (typeof createdAt !== 'string' || !ISO_DATE_TIME.test(createdAt) || Number.isNaN(Date.parse(createdAt))) {
    throw invalid('createdAt', `createdAt must be an ISO 8601 date-time, got ${JSON.stringify(createdAt) ?? 'nothing'}`);
  }
  const globs = record.globs;
  if (!Array.isArray(globs) || globs.length === 0) {
    throw invalid('globs', 'globs must be a non-empty array of glob strings');
  }
  globs.forEach((glob, index) => {
    if (typeof glob !== 'string' || glob.trim().length === 0) {
      throw invalid(`globs[${index}]`, `globs[${index}] must be a non-empty string`);
    }
  });
  const files = record.files;
  if (files === null || typeof files !== 'object' || Array.isArray(files)) {
    throw invalid('files', 'files must be an object mapping paths to sha256 hex');
  }
  const pinned: Record<string, string> = {};
  for (const [key, hash] of Object.entries(files as Record<string, unknown>)) {
    const field = `files[${JSON.stringify(key)}]`;
    if (!isRelativePosixPath(key)) {
      throw invalid(field, `${JSON.stringify(key)} is not a relative POSIX path inside the repository`);
    }
    if (typeof hash !== 'string' || !SHA256_HEX.test(hash)) {
      throw invalid(field, `${field} must be 64 lowercase hex characters (sha256), got ${JSON.stringify(hash)}`);
    }
    pinned[key] = hash;
  }
  return { version: 1, createdAt, globs: globs as string[], files: pinned };
}

/**
 * Differences between the baseline and the current hashes. Only current files
 * matching the baseline's own globs count as added; lists are sorted by path.
 */
export function compareBaseline(baseline: IntegrityBaseline, current: ReadonlyMap<string, string>): BaselineDrift {
  const matches = compileBaselineGlobs(baseline.globs);
  const added: string[] = [];
  const removed: string[] = [];
  const modified: BaselineDrift['modified'] = [];
  for (const [file, newHash] of current) {
    const oldHash = Object.prototype.hasOwnProperty.call(baseline.files, file) ? baseline.files[file] : undefined;
    if (oldHash === undefined) {
      if (matches(file)) added.push(file);
    } else if (oldHash !== newHash) {
      modified.push({ path: file, oldHash, newHash });
    }
  }
  const pinned = Object.keys(baseline.files);
  for (const file of pinned) {
    if (!current.has(file)) removed.push(file);
  }
  added.sort(comparePaths);
  removed.sort(comparePaths);
  modified.sort((a, b) => comparePaths(a.path, b.path));
  const declared = pinned.length;
  const changes = added.length + removed.length + modified.length;
  const magnitude = declared === 0 ? changes : changes / declared;
  return { added, removed, modified, declared, magnitude };
}

function comparePaths(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function isRelativePosixPath(file: string): boolean {
  if (file.length === 0 || file.startsWith('/') || file.includes('\\') || file.includes('\0')) return false;
  return file.split('/').every((segment) => segment !== '' && segment !== '.' && segment !== '..');
}

/**
 * Offset of a JSON syntax error: the position V8 reports when it does
 * ("... in JSON at position 12"), otherwise the offset our own scanner finds
 * (V8 omits it for "Unexpected token" errors).
 */
function jsonErrorOffset(text: string, message: string): number {
  const reported = /at position (\d+)/.exec(message);
  if (reported !== null) return Number(reported[1]);
  return jsonSyntaxErrorOffset(text) ?? text.length;
}

/**
 * Offset of the first character at which `text` stops being JSON (its length
 * when it ends too early), or undefined when it is valid JSON. Exported for
 * tests, which check it against the positions V8 reports.
 */
export function jsonSyntaxErrorOffset(text: string): number | undefined {
  return new JsonScanner(text).errorOffset();
}

/** 1-based line and column of a character offset. */
function lineColumn(text: string, offset: number): { line: number; column: number } {
  const end = Math.min(Math.max(offset, 0), text.length);
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < end; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: end - lineStart + 1 };
}

/** Minimal RFC 8259 recogniser that returns where the text stops being JSON. */
class JsonScanner {
  private pos = 0;

  constructor(private readonly text: string) {}

  /** Offset of the first character that cannot continue a JSON text (text length at a premature end). */
  errorOffset(): number | undefined {
    try {
      this.whitespace();
      this.value();
      this.whitespace();
      if (this.pos < this.text.length) this.fail();
      return undefined;
    } catch (offset) {
      return offset as number;
    }
  }

  private fail(): never {
    throw this.pos;
  }

  private whitespace(): void {
    while (this.pos < this.text.length && ' \t\n\r'.includes(this.text[this.pos])) this.pos++;
  }

  private expect(literal: string): void {
    for (const char of literal) {
      if (this.text[this.pos] !== char) this.fail();
      this.pos++;
    }
  }

  private value(): void {
    const char = this.text[this.pos];
    if (char === '{') return this.object();
    if (char === '[') return this.array();
    if (char === '"') return this.string();
    if (char === 't') return this.expect('true');
    if (char === 'f') return this.expect('false');
    if (char === 'n') return this.expect('null');
    if (char === '-' || (char !== undefined && char >= '0' && char <= '9')) return this.number();
    this.fail();
  }

  private object(): void {
    this.pos++;
    this.whitespace();
    if (this.text[this.pos] === '}') {
      this.pos++;
      return;
    }
    for (;;) {
      if (this.text[this.pos] !== '"') this.fail();
      this.string();
      this.whitespace();
      this.expect(':');
      this.whitespace();
      this.value();
      this.whitespace();
      if (this.text[this.pos] === ',') {
        this.pos++;
        this.whitespace();
        continue;
      }
      this.expect('}');
      return;
    }
  }

  private array(): void {
    this.pos++;
    this.whitespace();
    if (this.text[this.pos] === ']') {
      this.pos++;
      return;
    }
    for (;;) {
      this.value();
      this.whitespace();
      if (this.text[this.pos] === ',') {
        this.pos++;
        this.whitespace();
        continue;
      }
      this.expect(']');
      return;
    }
  }

  private string(): void {
    this.pos++;
    for (;;) {
      const code = this.text.charCodeAt(this.pos);
      if (Number.isNaN(code) || code < 0x20) this.fail();
      if (code === 0x22) {
        this.pos++;
        return;
      }
      if (code === 0x5c) {
        this.pos++;
        const escape = this.text[this.pos];
        if (escape === 'u') {
          this.pos++;
          for (let i = 0; i < 4; i++) {
            if (!/[0-9a-fA-F]/.test(this.text[this.pos] ?? '')) this.fail();
            this.pos++;
          }
          continue;
        }
        if (escape === undefined || !'"\\/bfnrt'.includes(escape)) this.fail();
      }
      this.pos++;
    }
  }

  private number(): void {
    if (this.text[this.pos] === '-') this.pos++;
    if (this.text[this.pos] === '0') this.pos++;
    else this.digits();
    if (this.text[this.pos] === '.') {
      this.pos++;
      this.digits();
    }
    if (this.text[this.pos] === 'e' || this.text[this.pos] === 'E') {
      this.pos++;
      if (this.text[this.pos] === '+' || this.text[this.pos] === '-') this.pos++;
      this.digits();
    }
  }

  private digits(): void {
    const start = this.pos;
    while (this.pos < this.text.length && this.text[this.pos] >= '0' && this.text[this.pos] <= '9') this.pos++;
    if (this.pos === start) this.fail();
  }
}
