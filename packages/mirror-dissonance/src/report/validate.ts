/**
 * Schema validation of reports before they are written (DESIGN §4).
 *
 * Compiling the schema with ajv costs ~150 ms (require + compile), paid on every
 * CLI call, so the build (`scripts/stamp-schema.js`) generates ajv standalone
 * code into `dist/report-validator.js` (~5 ms to load). It is used only when the
 * schema hash it was generated from equals the hash of the schema file loaded at
 * runtime; otherwise (running from sources, or a schema edited after the build,
 * which the L0 schema_hash invariant reports separately) the shipped schema is
 * compiled, so validation is always against the schema file on disk.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { ErrorObject } from 'ajv';
import type Ajv2020 from 'ajv/dist/2020';
import { DependencyError, IntegrityError } from '../errors';
import { PACKAGE_ROOT } from '../package-root';
import type { DissonanceReport } from '../types';
import { loadReportSchema } from './schema';

/** A compiled validation function (ajv's shape, also what the standalone module exports). */
export interface ReportValidateFunction {
  (data: unknown): boolean;
  errors?: ErrorObject[] | null;
}

export type ReportValidatorSource = 'standalone' | 'compiled';

export interface ResolvedReportValidator {
  validate: ReportValidateFunction;
  source: ReportValidatorSource;
}

/** Most errors listed in the message; all of them are in the error's context. */
const MAX_LISTED_ERRORS = 50;

/** Path of the generated standalone validator (same from src/report and dist/report). */
export function standaloneValidatorPath(): string {
  return path.join(PACKAGE_ROOT, 'dist', 'report-validator.js');
}

/**
 * Creates the ajv instance used for the report schema. The standalone generator
 * in scripts/stamp-schema.js uses the same options.
 */
export function createReportAjv(): Ajv2020 {
  // Loaded lazily: requiring ajv alone costs ~60 ms, avoided when the standalone validator is used.
  const { default: Ajv } = require('ajv/dist/2020') as typeof import('ajv/dist/2020');
  const { default: addFormats } = require('ajv-formats') as typeof import('ajv-formats');
  const ajv = new Ajv({ allErrors: true });
  addFormats(ajv);
  return ajv;
}

/** Compiles the shipped report schema. */
export function compileReportValidator(): ReportValidateFunction {
  return createReportAjv().compile(loadReportSchema().schema);
}

/**
 * Picks the validator: the generated standalone module when present and built
 * from the same schema bytes, else a compile of the shipped schema.
 * @throws DependencyError (REPORT_INVALID) when the standalone module exists but cannot be loaded.
 */
export function resolveReportValidator(standaloneFile: string = standaloneValidatorPath()): ResolvedReportValidator {
  if (existsSync(standaloneFile)) {
    let loaded: unknown;
    try {
      loaded = require(standaloneFile);
    } catch (error) {
      throw new DependencyError('REPORT_INVALID', `cannot load the generated report validator: ${(error as Error).message}`, {
        location: { file: standaloneFile },
        cause: error,
      });
    }
    if (typeof loaded !== 'function') {
      throw new DependencyError('REPORT_INVALID', 'the generated report validator does not export a function', {
        location: { file: standaloneFile },
      });
    }
    const generated = loaded as ReportValidateFunction & { schemaSha256?: unknown };
    if (generated.schemaSha256 === loadReportSchema().sha256) {
      return { validate: generated, source: 'standalone' };
    }
  }
  return { validate: compileReportValidator(), source: 'compiled' };
}

let cached: ResolvedReportValidator | undefined;

/** Which validator this process uses (resolved on first use). */
export function reportValidatorSource(): ReportValidatorSource {
  cached ??= resolveReportValidator();
  return cached.source;
}

/**
 * Asserts that a value is a schema-valid report; every report is checked before
 * it is written or sent.
 * @throws IntegrityError (REPORT_INVALID) listing every violation as `<instancePath>: <message>`.
 */
export function validateReport(report: unknown): asserts report is DissonanceReport {
  cached ??= resolveReportValidator();
  const { validate } = cached;
  if (validate(report)) return;
  const errors = validate.errors ?? [];
  const lines = errors.map(describeSchemaError);
  const listed = lines.slice(0, MAX_LISTED_ERRORS);
  if (lines.length > listed.length) listed.push(`... and ${lines.length - listed.length} more`);
  const first = errors[0];
  throw new IntegrityError('REPORT_INVALID', `report does not match the dissonance-report 2.0.0 schema:\n  ${listed.join('\n  ')}`, {
    location: first === undefined ? {} : { field: first.instancePath === '' ? '/' : first.instancePath },
    context: { errors: lines },
  });
}

/** `<instancePath>: <message>` with the offending property or the allowed values when ajv knows them. */
export function describeSchemaError(error: ErrorObject): string {
  const where = error.instancePath === '' ? '(root)' : error.instancePath;
  let detail = '';
  const params = error.params as Record<string, unknown>;
  if (error.keyword === 'additionalProperties' && typeof params.additionalProperty === 'string') {
    detail = ` '${params.additionalProperty}'`;
  } else if (error.keyword === 'enum' && Array.isArray(params.allowedValues)) {
    detail = ` (${params.allowedValues.map((value) => JSON.stringify(value)).join(', ')})`;
  } else if (error.keyword === 'const' && params.allowedValue !== undefined) {
    detail = ` (${JSON.stringify(params.allowedValue)})`;
  }
  return `${where}: ${error.message ?? error.keyword}${detail}`;
}
