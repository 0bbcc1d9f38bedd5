/**
 * Checking JSON values that cross a trust boundary (a remote analysis request
 * or response) field by field. Every failure is an InputError naming the
 * field by its path (`artifacts.workflows[2].text`,
 * `settings.ruleOptions.jobIntents["deploy"].commands[0]`); values are never
 * echoed, so a message cannot carry file contents or snippets.
 */
import { InputError, type PhaseMirrorError } from '../errors';

/** `parent.child` for identifiers, `parent["odd key"]` otherwise. */
export function fieldPath(parent: string, key: string | number): string {
  if (typeof key === 'number') return `${parent}[${key}]`;
  if (/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(key)) return parent === '' ? key : `${parent}.${key}`;
  return `${parent}[${JSON.stringify(key)}]`;
}

/** Control characters other than tab, line feed and carriage return. */
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;
/** Keys a plain object must never take from untrusted JSON. */
const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

export interface StringRules {
  /** Minimum length in UTF-16 units. @default 0 */
  min?: number;
  max?: number;
  pattern?: RegExp;
  /** What `pattern` means, for the message. */
  patternName?: string;
  /** Allow tab/CR/LF only; no other control characters. @default false (any text) */
  singleLine?: boolean;
}

export class FieldChecker {
  /**
   * @param label what is being checked, the start of every message (`remote analysis request`)
   * @param make the error of a failure (default InputError INPUT_INVALID naming the field)
   */
  constructor(
    readonly label: string,
    private readonly make: (message: string, field: string) => PhaseMirrorError = (message, field) =>
      new InputError('INPUT_INVALID', message, { location: { field } }),
  ) {}

  fail(field: string, message: string): never {
    const where = field === '' ? '(root)' : field;
    throw this.make(`${this.label}: ${where} ${message}`, where);
  }

  /** A plain JSON object with only `allowed` keys and every `required` one. */
  object(value: unknown, field: string, allowed: readonly string[], required: readonly string[] = []): Record<string, unknown> {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) this.fail(field, `must be an object, got ${kindOf(value)}`);
    const record = value as Record<string, unknown>;
    for (const key of Object.keys(record)) {
      if (!allowed.includes(key)) this.fail(fieldPath(field, key), 'is not a known field');
    }
    for (const key of required) {
      if (record[key] === undefined) this.fail(fieldPath(field, key), 'is required');
    }
    return record;
  }

  /** A JSON object used as a map: every key checked by `key`, every value by `item`. */
  record<T>(value: unknown, field: string, key: (name: string, field: string) => void, item: (value: unknown, field: string) => T): Record<string, T> {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) this.fail(field, `must be an object, got ${kindOf(value)}`);
    const out: Record<string, T> = {};
    for (const [name, entry] of Object.entries(value as Record<string, unknown>)) {
      const entryField = fieldPath(field, name);
      if (FORBIDDEN_KEYS.has(name)) this.fail(entryField, 'is a reserved name');
      key(name, entryField);
      out[name] = item(entry, entryField);
    }
    return out;
  }

  string(value: unknown, field: string, rules: StringRules = {}): string {
    if (typeof value !== 'string') this.fail(field, `must be a string, got ${kindOf(value)}`);
    const min = rules.min ?? 0;
    if (value.length < min) this.fail(field, min === 1 ? 'must not be empty' : `must have at least ${min} characters`);
    if (rules.max !== undefined && value.length > rules.max) this.fail(field, `must have at most ${rules.max} characters (has ${value.length})`);
    if (rules.singleLine === true && (CONTROL.test(value) || /[\r\n]/.test(value))) this.fail(field, 'must be one line without control characters');
    if (rules.pattern !== undefined && !rules.pattern.test(value)) this.fail(field, `must be ${rules.patternName ?? `of the form ${rules.pattern.source}`}`);
    return value;
  }

  optionalString(value: unknown, field: string, rules: StringRules = {}): string | undefined {
    return value === undefined ? undefined : this.string(value, field, rules);
  }

  boolean(value: unknown, field: string): boolean {
    if (typeof value !== 'boolean') this.fail(field, `must be true or false, got ${kindOf(value)}`);
    return value;
  }

  /** A safe integer in [min, max]. */
  integer(value: unknown, field: string, min: number, max: number = Number.MAX_SAFE_INTEGER): number {
    if (typeof value !== 'number' || !Number.isSafeInteger(value)) this.fail(field, `must be an integer, got ${kindOf(value)}`);
    if (value < min || value > max) this.fail(field, `must be from ${min} to ${max}, got ${value}`);
    return value;
  }

  /** A finite number; `exclusiveMin` rejects `min` itself. */
  number(value: unknown, field: string, bounds: { min?: number; exclusiveMin?: boolean; max?: number } = {}): number {
    if (typeof value !== 'number' || !Number.isFinite(value)) this.fail(field, `must be a finite number, got ${kindOf(value)}`);
    if (bounds.min !== undefined && (bounds.exclusiveMin === true ? value <= bounds.min : value < bounds.min)) {
      this.fail(field, `must be ${bounds.exclusiveMin === true ? 'greater than' : 'at least'} ${bounds.min}, got ${value}`);
    }
    if (bounds.max !== undefined && value > bounds.max) this.fail(field, `must be at most ${bounds.max}, got ${value}`);
    return value;
  }

  oneOf<T extends string>(value: unknown, field: string, options: readonly T[]): T {
    if (typeof value !== 'string' || !(options as readonly string[]).includes(value)) {
      const got = typeof value === 'string' && value.length <= 40 && !CONTROL.test(value) ? JSON.stringify(value) : kindOf(value);
      this.fail(field, `must be one of ${options.map((option) => JSON.stringify(option)).join(', ')}, got ${got}`);
    }
    return value as T;
  }

  array<T>(value: unknown, field: string, item: (value: unknown, field: string) => T, max?: number): T[] {
    if (!Array.isArray(value)) this.fail(field, `must be an array, got ${kindOf(value)}`);
    if (max !== undefined && value.length > max) this.fail(field, `must have at most ${max} entries (has ${value.length})`);
    return value.map((entry, index) => item(entry, fieldPath(field, index)));
  }

  stringArray(value: unknown, field: string, rules: StringRules = {}, max?: number): string[] {
    return this.array(value, field, (entry, entryField) => this.string(entry, entryField, rules), max);
  }
}

/** What a value is, for messages: a type name, never the value itself. */
export function kindOf(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'number' && !Number.isFinite(value)) return 'a non-finite number';
  if (typeof value === 'number' && !Number.isInteger(value)) return 'a fractional number';
  return `a ${typeof value}`;
}
