/** Public API of the Mirror Dissonance core library. */
export * from './types';
export * from './errors';
export { sha256Hex, canonicalJson, compareCodePoints } from './hashing';
export { loadConfig, CONFIG_FILE, POLICY_FILES, DEFAULT_SETTINGS, type ResolvedConfig, type StorageConfig, type NonceConfig } from './config/load-config';
export { collectArtifacts, packageVersion, type CollectOptions } from './artifacts/collect';
export { loadBranchProtection } from './artifacts/branch-protection';
export { resolveEventContext, type EventFlags } from './artifacts/event-context';
export { walkRepository, STATE_DIR_NAME } from './artifacts/walk';
export { readRepoFile, resolveInsideRoot } from './artifacts/read-file';
export { parseWorkflow, type WorkflowFile } from './artifacts/workflow';
export { CodeownersFile, findCodeowners } from './artifacts/codeowners';
export {
  createBaseline,
  parseBaseline,
  serializeBaseline,
  hashBaselineFiles,
  compareBaseline,
  DEFAULT_BASELINE_PATH,
  type IntegrityBaseline,
  type BaselineDrift,
} from './baseline/baseline';
export { BUILTIN_RULES, enabledRules, rulesHash } from './rules/registry';
export { driftMagnitude } from './rules/md-005-baseline-drift';
export { runOracle, verifyReportRedactions, SCHEMA_VERSION, type OracleDependencies, type OracleInput, type OracleResult } from './oracle/pipeline';
export { decide, applyDryRun } from './policy/decision';
export { applyCircuitBreaker, breakerKey } from './policy/circuit-breaker';
export { Redactor, verifyRedactedText, type NonceKey } from './redaction/redactor';
export { redactText } from './redaction/redactor';
export { NonceLoader, NONCE_CACHE_TTL_MS, type NonceKeyring, type NonceLoaderOptions } from './nonce/loader';
export { rotateNonce, ROTATION_METRIC, VERSION_METRIC, type RotationOptions, type RotationResult } from './nonce/rotation';
export { nonceStatus, type NonceVersionStatus } from './nonce/status';
export { verifyReportSnippets, type ReportVerification, type SnippetFailure, type SnippetFailureReason } from './nonce/verify-report';
export { DEFAULT_NONCE_GRACE_MS, versionValidity, type VersionValidity } from './nonce/validity';
export { FileNonceStore, LEGACY_NONCE_FILE } from './nonce/file-store';
export { SsmNonceStore, nonceParameterName, type SsmNonceStoreOptions } from './nonce/ssm-store';
export { NONCE_NAME_PREFIX, NONCE_VALUE, nonceVersionOf, type NonceSecretStore, type NonceVersionInfo } from './nonce/store';
export { randomNonceValue } from './nonce/random';
export { guardianPath } from './secrets/guardian-path';
export { runL0, L0_CHECKS, checkSchemaHash, checkPermissionBits, checkDriftMagnitude, checkNonceFreshness, checkContractionWitness, type L0Result } from './l0/invariants';
export { encodePermissionMask, workflowPermissionSpecs } from './l0/permission-mask';
export { openStateDatabase, type StateDatabase } from './store/sqlite';
export type {
  FpStore,
  FpEvent,
  NewFpEvent,
  FpRuleStats,
  BlockCounter,
  FprHistory,
  ConsentStore,
  ConsentScope,
  ConsentRecord,
  ConsentHistoryEntry,
  ConsentState,
  ConsentResource,
  CalibrationStore,
  CalibrationRecord,
  CalibrationCounts,
} from './store/ports';
export { CONSENT_RESOURCES } from './store/ports';
export { openStores, openNonceStore, awsSettings, tableNames, type Stores } from './store/backend';
export { ssmClient, dynamoDocumentClient, type AwsSettings } from './store/aws/clients';
export { TABLE_DEFINITIONS, TTL_ATTRIBUTE, defaultTableNames, type TableDefinition, type TableId } from './store/aws/table-definitions';
export { SqliteConsentStore, SqliteCalibrationStore, openStateDatabaseAt } from './store/sqlite';
export {
  consentAllows,
  consentStateOf,
  describeConsentScope,
  parseConsentInstant,
  validateConsentScope,
  validateOrgId,
  type ConsentDecision,
} from './consent/consent';
export { Anonymizer } from './calibration/anonymizer';
export { loadSsmSalt, loadOrCreateEmbeddedSalt, ssmSaltParameter, EMBEDDED_SALT_FILE } from './calibration/salt';
export {
  ingestOutcome,
  aggregateRule,
  K_ANONYMITY_MIN,
  type CalibrationOutcome,
  type CalibrationDependencies,
  type IngestResult,
  type AggregateResult,
  type ReleasedAggregate,
  type WithheldAggregate,
} from './calibration/calibration';
export { hourBucket } from './calibration/record';
export { JsonLinesMetricsSink, MemoryMetricsSink, type MetricsSink } from './metrics/metrics';
export { loadReportSchema, readSchemaStamp } from './report/schema';
export { validateReport } from './report/validate';
export { writeReport, serializeReport } from './report/emit';
export { formatText } from './report/format-text';
export { formatSarif } from './report/format-sarif';
export { formatGithub, formatJobSummary } from './report/format-github';
export { formatMarkdown, MARKDOWN_COMMENT_MARKER } from './report/format-markdown';
export * from './github';
export { parseOrgManifest, type OrgManifest } from './org/manifest';
export { parseOrgScanFile, assertOrgScan } from './org/state-file';
export type { OrgScan, RepositoryGovernanceState } from './org/state';
export { DEFAULT_JOB_INTENTS } from './rules/job-intents';
