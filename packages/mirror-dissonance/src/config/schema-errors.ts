/**
 * Turning JSON Schema (ajv) errors into located InputErrors, and compiling the
 * shipped schemas that are only needed on some runs (organisation manifest,
 * org-scan states). Every YAML/JSON input that must name file, line and field
 * (configuration, policy, manifest, states) reports schema errors through here.
 */
import type { ErrorObject } from 'ajv';
import type Ajv2020 from 'ajv/dist/2020';
import { InputError, type ErrorCode } from '../errors';
import { readShippedSchemaText } from './shipped-schema';
import type { YamlSource } from './yaml-source';

/** A compiled validation function (ajv's shape). */
export interface SchemaValidateFunction {
  (data: unknown): boolean;
  errors?: ErrorObject[] | null;
}

/** Errors listed after the first one in a message; all of them are in the error's context. */
const MAX_LISTED_OTHERS = 3;

let sharedAjv: Ajv2020 | undefined;
const compiled = new Map<string, SchemaValidateFunction>();

/**
 * The validator of a schema shipped in `schemas/`, compiled on first use
 * (ajv 2020, strict, allErrors, with formats) and cached for the process.
 * Requiring and compiling ajv costs ~100 ms, so it is paid only by runs that
 * read the input the schema describes.
 */
export function shippedSchemaValidator(fileName: string): SchemaValidateFunction {
  const cached = compiled.get(fileName);
  if (cached !== undefined) return cached;
  if (sharedAjv === undefined) {
    const { default: Ajv } = require('ajv/dist/2020') as typeof import('ajv/dist/2020');
    const { default: addFormats } = require('ajv-formats') as typeof import('ajv-formats');
    sharedAjv = new Ajv({ allErrors: true, strict: true });
    addFormats(sharedAjv);
  }
  const validate = sharedAjv.compile(JSON.parse(readShippedSchemaText(fileName)) as object);
  compiled.set(fileName, validate);
  return validate;
}

/**
 * Path segments (object keys, array indexes) of the value an ajv error is
 * about; for an unknown or missing field the field itself is appended.
 */
export function instanceSegments(error: ErrorObject): (string | number)[] {
  const segments: (string | number)[] = error.instancePath
    .split('/')
    .slice(1)
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((part) => (/^\d+$/.test(part) ? Number(part) : part));
  if (error.keyword === 'additionalProperties') {
    segments.push(String((error.params as { additionalProperty: string }).additionalProperty));
  } else if (error.keyword === 'required') {
    segments.push(String((error.params as { missingProperty: string }).missingProperty));
  }
  return segments;
}

/** One line a person can act on: `field: what is wrong`. */
export function describeAjvError(error: ErrorObject): string {
  const at = instanceSegments(error).join('.') || '(document)';
  switch (error.keyword) {
    case 'additionalProperties':
      return `${at}: unknown field`;
    case 'required':
      return `${at}: required field is missing`;
    case 'enum':
      return `${at}: must be one of ${(error.params as { allowedValues: unknown[] }).allowedValues.join(', ')}`;
    case 'const':
      return `${at}: must be ${JSON.stringify((error.params as { allowedValue: unknown }).allowedValue)}`;
    default:
      return `${at}: ${error.message ?? error.keyword}`;
  }
}

/**
 * Validates a parsed YAML/JSON document and returns its plain value.
 * @throws InputError with `code` naming the file, the line and the field of the first violation
 *   (the next few are listed in the message, all of them in the error's context).
 */
export function validateYamlSource(validate: SchemaValidateFunction, source: YamlSource, code: ErrorCode): unknown {
  const value: unknown = source.doc.toJS();
  if (validate(value)) return value;
  const errors = validate.errors ?? [];
  const first = errors[0];
  if (first === undefined) {
    throw new InputError(code, 'does not match its schema', { location: { file: source.path, line: 1, field: '(document)' } });
  }
  const segments = instanceSegments(first);
  const field = segments.length ? segments.join('.') : '(document)';
  const others =
    errors.length > 1
      ? ` (and ${errors.length - 1} more: ${errors.slice(1, 1 + MAX_LISTED_OTHERS).map(describeAjvError).join('; ')})`
      : '';
  throw new InputError(code, `${describeAjvError(first)}${others}`, {
    location: { file: source.path, line: source.lineOf(segments), field },
    context: { errors: errors.map(describeAjvError) },
  });
}
