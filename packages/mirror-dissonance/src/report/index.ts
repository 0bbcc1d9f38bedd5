/** The report area: schema, validation, atomic emission and output formats (DESIGN §4). */
export {
  REPORT_SCHEMA_ID,
  REPORT_SCHEMA_STAMP_NAME,
  SCHEMA_STAMP_PREFIX_LENGTH,
  loadReportSchema,
  readSchemaStamp,
  reportSchemaPath,
  schemaStampPath,
} from './schema';
export type { LoadedReportSchema } from './schema';
export { validateReport, reportValidatorSource, describeSchemaError } from './validate';
export type { ReportValidatorSource } from './validate';
export { serializeReport, writeReport } from './emit';
export { formatText, sortFindings, formatLocation } from './format-text';
export type { TextFormatOptions } from './format-text';
export { formatSarif, sarifLevel, SARIF_SCHEMA_URI, SARIF_FINGERPRINT_KEY } from './format-sarif';
export type {
  SarifFormatOptions,
  SarifLevel,
  SarifLocation,
  SarifLog,
  SarifReportingDescriptor,
  SarifResult,
  SarifRuleInput,
} from './format-sarif';
export { formatGithub, formatJobSummary, escapeCommandData, escapeCommandProperty } from './format-github';
export type { GithubCommand } from './format-github';
