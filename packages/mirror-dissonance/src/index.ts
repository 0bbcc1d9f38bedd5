/** Public API of the Mirror Dissonance core library. */
export * from './types';
export * from './errors';
export { sha256Hex, canonicalJson, compareCodePoints } from './hashing';
export { loadConfig, CONFIG_FILE, POLICY_FILES, DEFAULT_SETTINGS, type ResolvedConfig, type StorageConfig, type NonceConfig, type LedgerConfig } from './config/load-config';
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
// The decision ledger (issue 6).
export type { LedgerStore, SealedEpoch, EpochSignature, LedgerSettingKey } from './ledger/store';
export {
  buildBlock,
  decodeBlockFields,
  reportHash,
  LEDGER_SCHEMA_VERSION,
  type BlockFields,
  type StoredBlock,
  type LedgerAction,
  type JournaledAction,
} from './ledger/block';
export { appendDecision, type AppendDecisionInput } from './ledger/append';
export { activateDual, type DualActivationPlan } from './ledger/dual';
export { journalAction } from './ledger/journal';
// The DynamoDB ledger adapter for the Lambda hosts; its module loads the AWS SDK only when used.
export { DynamoLedgerStore } from './store/aws/ledger-store';
export { HASH_ALGORITHMS, type HashAlgorithmId } from './ledger/hash';
export { merkleRoot, verifyInclusion, verifyConsistency } from './ledger/merkle';
export {
  sealEpochs,
  planBackfill,
  verifyEpochs,
  verifyEpoch,
  resolveEpochSize,
  encodeEpochStatement,
  decodeEpochStatement,
  DEFAULT_EPOCH_SIZE,
  type EpochStatement,
  type PlannedEpoch,
  type SealResult,
  type EpochVerification,
  type EpochFailure,
} from './ledger/epochs';
export {
  Ed25519Signer,
  MlDsa44Signer,
  KmsEcdsaSigner,
  KmsMlDsaSigner,
  embeddedSigners,
  embeddedPublicKeys,
  verifyEpochSignature,
  checkSignatures,
  formatPublicKeys,
  parsePublicKeys,
  kmsClient,
  EMBEDDED_ED25519_KEY_FILE,
  EMBEDDED_ML_DSA_44_KEY_FILE,
  type EpochSigner,
  type EpochPublicKey,
  type EpochSignatureAlgorithm,
  type SignatureCheck,
} from './ledger/signing';
export { proveInclusion, proveConsistency, verifyProof, type InclusionProof, type ConsistencyProof, type LedgerProof, type ProofVerification } from './ledger/proofs';

// Ledger audit: consensus rules, replay, drift radar, governance chain, audit report.
export {
  validateBlockStructure,
  validateAttestationRoots,
  validateBlock,
  inspectBlock,
  assertValidBlock,
  describeViolation,
  decodeStoredBlock,
  LedgerRuleViolationError,
  KNOWN_SCHEMA_VERSIONS,
  BLOCK_HASH_ALGORITHMS,
  type RuleViolation,
  type ConsensusRule,
  type DecodedBlock,
  type BlockInspection,
} from './ledger/consensus';
export {
  replayLedger,
  readOnlyLedger,
  walkStream,
  trustVerifiedEpochs,
  REPLAY_STRATEGIES,
  DEFAULT_REPLAY_WINDOW,
  type ReplayOptions,
  type ReplayResult,
  type ReplayFailure,
  type ReplayStrategy,
  type ReplayStreamRange,
  type EpochTrust,
} from './ledger/replay';
export {
  runDriftRadar,
  buildEvidencePack,
  governanceSignalFor,
  parseScanTypes,
  parseGovernancePolicy,
  formatGovernanceSignal,
  DRIFT_SCAN_TYPES,
  GOVERNANCE_POLICIES,
  GOVERNANCE_EXIT_CODES,
  type DriftScanType,
  type GovernancePolicy,
  type GovernanceSignal,
  type SignalSeverity,
  type DriftSignal,
  type DriftRadarOptions,
  type DriftRadarResult,
  type EvidencePack,
} from './ledger/drift-radar';
export {
  runGovernanceChain,
  createGovernanceJobs,
  formatGovernanceChain,
  formatGovernanceChainLine,
  formatPercent,
  sha3AvailableInRuntime,
  GOVERNANCE_JOB_ORDER,
  type GovernanceJobs,
  type GovernanceJobDeps,
  type GovernanceChainResult,
  type SchemaMigrationState,
  type EpochCheck,
} from './ledger/governance-chain';
export { renderAuditReport, auditVerdict, parseReplayResults, parseDriftSignals, parseGovernanceChainResult, type AuditVerdict } from './ledger/audit-report';

// Remote analysis (issue 7): the request/response contract of `analyze --remote` and the oracle Lambda.
export {
  REMOTE_PROTOCOL_VERSION,
  MAX_REMOTE_PAYLOAD_BYTES,
  type SerializedArtifacts,
  type RemoteAnalyzeRequest,
  type RemoteAnalyzeResponse,
  type RemoteAnalyzeRejection,
  type RemoteAnalyzeAnswer,
  type RemoteFpEvent,
  type RemoteLedgerEntry,
} from './remote/contract';
export {
  toRemoteRequest,
  serializeRequest,
  serializeArtifacts,
  parseRequest,
  assertPayloadSize,
  payloadBytes,
  formatBytes,
  type ParsedRemoteRequest,
} from './remote/request';
export { buildResponse, buildRejection, parseResponse, remoteFailure, remoteFailureMessage } from './remote/response';
export { invokeRemoteAnalysis, assertFunctionName, LAMBDA_FUNCTION_NAME, type RemoteInvokeOptions } from './remote/invoke';
// The governance cache (baseline-loader Lambda); its module loads the AWS SDK only when used.
export {
  DynamoGovernanceCache,
  governanceBaselineKey,
  governanceQuarantineKey,
  type BaselineRecord,
  type QuarantineRecord,
} from './store/aws/governance-cache';
