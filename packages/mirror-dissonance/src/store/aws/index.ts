/**
 * The AWS adapters of the store ports (DynamoDB, SSM) and what they share.
 * Loading this module loads the AWS SDK lazily only when a store is used;
 * embedded runs never require it (see store/backend.ts).
 */
export { dynamoDocumentClient, ssmClient, type AwsSettings } from './clients';
export { awsStoreFailure, isConditionalCheckFailed } from './errors';
export {
  TABLE_DEFINITIONS,
  TTL_ATTRIBUTE,
  defaultTableNames,
  type AttributeDefinition,
  type GlobalSecondaryIndex,
  type TableDefinition,
  type TableId,
} from './table-definitions';
export {
  DynamoFpStore,
  WRITE_CONCURRENCY,
  MARKED_FINDINGS_CONCURRENCY,
  fpEventSortKey,
  type DynamoAdapterOptions,
} from './fp-store';
export { DynamoBlockCounter } from './block-counter';
export { DynamoFprHistory } from './fpr-history';
export { DynamoConsentStore, consentCurrentKey, consentHistoryKey, type DynamoConsentStoreOptions } from './consent-store';
export { DynamoCalibrationStore, type DynamoCalibrationStoreOptions } from './calibration-store';
export {
  DynamoLedgerStore,
  LEDGER_KEY_DIGITS,
  LEDGER_MAX_NUMBER,
  LEDGER_INLINE_LEAF_BYTES,
  LEDGER_LEAF_CHUNK_BYTES,
  LEDGER_MAX_LEAF_BYTES,
  ledgerStreamKey,
  ledgerBlockKey,
  ledgerEpochKey,
  packLeaves,
  unpackLeaves,
  type DynamoLedgerStoreOptions,
} from './ledger-store';
