/**
 * The shipped report JSON Schema (DESIGN §4) and the build stamp that records
 * which schema bytes the package was built with. The stamp is what the L0
 * schema_hash invariant compares against, so a schema edited after the build
 * is detected; it is produced by `scripts/stamp-schema.js`, never a literal.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { DependencyError } from '../errors';
import { sha256Hex } from '../hashing';
import { PACKAGE_ROOT } from '../package-root';

/** `$id` of the report schema, schema_version 2.0.0. */
export const REPORT_SCHEMA_ID = 'https://phase-mirror.dev/schemas/dissonance-report/2.0.0.json';

/** Name written in the build stamp's `schema` field. */
export const REPORT_SCHEMA_STAMP_NAME = 'dissonance-report';

/** Number of hex characters of the schema SHA-256 kept in the stamp. */
export const SCHEMA_STAMP_PREFIX_LENGTH = 16;

/** The loaded schema: parsed object, exact bytes and their hex SHA-256. */
export interface LoadedReportSchema {
  schema: object;
  bytes: Buffer;
  sha256: string;
}

/** Absolute path of the shipped `dissonance-report.schema.json`. */
export function reportSchemaPath(): string {
  return path.join(PACKAGE_ROOT, 'schemas', 'dissonance-report.schema.json');
}

/** Absolute path of `dist/schema-stamp.json`, written at build time. */
export function schemaStampPath(): string {
  return path.join(PACKAGE_ROOT, 'dist', 'schema-stamp.json');
}

let cachedSchema: LoadedReportSchema | undefined;

/**
 * Loads the shipped report schema once per process: every report is validated
 * against these exact bytes and their hash feeds the schema_hash invariant.
 * @throws DependencyError when the schema file is missing or is not a JSON object.
 */
export function loadReportSchema(): LoadedReportSchema {
  cachedSchema ??= loadReportSchemaFile(reportSchemaPath());
  return cachedSchema;
}

/**
 * Reads and parses a report schema file without caching (for tooling and tests).
 * @throws DependencyError (FILE_UNREADABLE) when unreadable, (REPORT_INVALID) when not a JSON object.
 */
export function loadReportSchemaFile(file: string): LoadedReportSchema {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (error) {
    throw new DependencyError('FILE_UNREADABLE', `cannot read the report schema: ${(error as Error).message}`, {
      location: { file },
      cause: error,
    });
  }
  let schema: unknown;
  try {
    schema = JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    throw new DependencyError('REPORT_INVALID', `the report schema is not valid JSON: ${(error as Error).message}`, {
      location: { file },
      cause: error,
    });
  }
  if (schema === null || typeof schema !== 'object' || Array.isArray(schema)) {
    throw new DependencyError('REPORT_INVALID', 'the report schema must be a JSON object', { location: { file } });
  }
  return { schema, bytes, sha256: sha256Hex(bytes) };
}

/**
 * The schema hash prefix recorded at build time, the expected value of the L0
 * schema_hash check. Undefined only when no stamp exists (running from sources
 * without a build); a stamp that exists but is malformed throws.
 * @throws DependencyError (REPORT_INVALID) when the stamp file is unreadable or malformed.
 */
export function readSchemaStamp(): string | undefined {
  return readSchemaStampFile(schemaStampPath());
}

/**
 * Reads the `sha256Prefix` of a stamp file (for tooling and tests).
 * @throws DependencyError (REPORT_INVALID) when the stamp exists but is unreadable or malformed.
 */
export function readSchemaStampFile(file: string): string | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new DependencyError('REPORT_INVALID', `cannot read the schema stamp: ${(error as Error).message}`, {
      location: { file },
      cause: error,
    });
  }
  let stamp: unknown;
  try {
    stamp = JSON.parse(text);
  } catch (error) {
    throw new DependencyError('REPORT_INVALID', `the schema stamp is not valid JSON: ${(error as Error).message}`, {
      location: { file },
      cause: error,
    });
  }
  const record = stamp !== null && typeof stamp === 'object' ? (stamp as Record<string, unknown>) : {};
  if (record.schema !== REPORT_SCHEMA_STAMP_NAME) {
    throw new DependencyError('REPORT_INVALID', `the schema stamp must name schema "${REPORT_SCHEMA_STAMP_NAME}"`, {
      location: { file, field: 'schema' },
    });
  }
  const prefix = record.sha256Prefix;
  if (typeof prefix !== 'string' || !new RegExp(`^[0-9a-f]{${SCHEMA_STAMP_PREFIX_LENGTH}}$`).test(prefix)) {
    throw new DependencyError(
      'REPORT_INVALID',
      `the schema stamp sha256Prefix must be ${SCHEMA_STAMP_PREFIX_LENGTH} lowercase hex characters`,
      { location: { file, field: 'sha256Prefix' } },
    );
  }
  return prefix;
}
