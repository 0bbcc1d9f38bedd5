/**
 * The backend factory: the same store ports on the embedded SQLite database
 * (default) or on DynamoDB/SSM (`storage.backend: aws`). Hosts (CLI, Lambda)
 * open stores here and never pick adapters themselves.
 */
import { join } from 'node:path';
import { loadOrCreateEmbeddedSalt, loadSsmSalt } from '../calibration/salt';
import type { StorageConfig } from '../config/load-config';
import { UsageError } from '../errors';
import { dynamoDocumentClient, ssmClient, type AwsSettings } from './aws/clients';
import { defaultTableNames, type TableId } from './aws/table-definitions';
import type { BlockCounter, CalibrationStore, ConsentStore, FpStore, FprHistory } from './ports';
import { openStateDatabase } from './sqlite';
import { FileNonceStore } from '../nonce/file-store';
import type { NonceSecretStore } from '../nonce/store';
import type { LedgerStore } from '../ledger/store';

export interface Stores {
  backend: 'embedded' | 'aws';
  fpStore: FpStore;
  blockCounter: BlockCounter;
  fprHistory: FprHistory;
  consent: ConsentStore;
  calibration: CalibrationStore;
  /** The decision ledger: per-repository block streams, the action journal, sealed epochs. */
  ledger: LedgerStore;
  /** Schema migrations of the embedded database; absent on aws (DynamoDB tables have no versioned schema). */
  migrationStatus?: () => { currentVersion: number; latestVersion: number; pending: { version: number }[] };
  /** The anonymizer salt: SSM `/guardian/<stage>/anonymizer_salt` (aws) or the state folder (embedded). */
  salt(): Promise<string>;
  /** The redaction nonce versions: SSM `/guardian/<stage>/redaction_nonce_v<N>` (aws) or the state folder (embedded). */
  nonceStore: NonceSecretStore;
  /** Where the state lives, for messages (`.phase-mirror/state.db`, or the region and tables). */
  location: string;
  close(): void;
}

/** Resolves the AWS region and endpoint from configuration, then the environment. */
export function awsSettings(storage: StorageConfig, env: NodeJS.ProcessEnv): AwsSettings {
  const region = storage.region ?? (env.AWS_REGION || undefined) ?? (env.AWS_DEFAULT_REGION || undefined);
  if (region === undefined) {
    throw new UsageError('storage.backend is aws but no region is known: set storage.region in .phase-mirror.yml or AWS_REGION', {
      location: { field: 'storage.region' },
    });
  }
  const endpoint = storage.endpoint ?? (env.AWS_ENDPOINT_URL || undefined);
  return { region, ...(endpoint !== undefined ? { endpoint } : {}) };
}

/** Physical table names: the stage defaults, overridden by `storage.tables`. */
export function tableNames(storage: StorageConfig): Record<TableId, string> {
  return { ...defaultTableNames(storage.stage), ...storage.tables };
}

/** Opens the configured backend. Nothing is contacted until a store is used. */
export function openStores(storage: StorageConfig, options: { stateDir: string; env: NodeJS.ProcessEnv }): Stores {
  if (storage.backend === 'embedded') {
    const state = openStateDatabase(options.stateDir);
    return {
      backend: 'embedded',
      fpStore: state.fpStore,
      blockCounter: state.blockCounter,
      fprHistory: state.fprHistory,
      consent: state.consent,
      calibration: state.calibration,
      ledger: state.ledger,
      migrationStatus: () => state.migrations.status(),
      salt: async () => loadOrCreateEmbeddedSalt(options.stateDir),
      nonceStore: openNonceStore(storage, options),
      location: join(options.stateDir, 'state.db'),
      close: () => state.close(),
    };
  }
  const settings = awsSettings(storage, options.env);
  // Required here: the adapters load the AWS SDK, which embedded runs never need.
  const { DynamoBlockCounter, DynamoCalibrationStore, DynamoConsentStore, DynamoFprHistory, DynamoFpStore, DynamoLedgerStore } =
    require('./aws') as typeof import('./aws');
  const client = dynamoDocumentClient(settings);
  const names = tableNames(storage);
  return {
    backend: 'aws',
    fpStore: new DynamoFpStore({ client, tableName: names.fpEvents }),
    blockCounter: new DynamoBlockCounter({ client, tableName: names.blockCounter }),
    fprHistory: new DynamoFprHistory({ client, tableName: names.fprHistory }),
    consent: new DynamoConsentStore({ client, tableName: names.consent }),
    calibration: new DynamoCalibrationStore({ client, tableName: names.calibration }),
    ledger: new DynamoLedgerStore({ client, tableName: names.ledger, epochsTableName: names.ledgerEpochs }),
    salt: () => loadSsmSalt(ssmClient(settings), storage.stage),
    nonceStore: openNonceStore(storage, options),
    location: `DynamoDB in ${settings.region}${settings.endpoint ? ` at ${settings.endpoint}` : ''} (tables ${Object.values(names).join(', ')})`,
    close: () => undefined,
  };
}

/**
 * The redaction nonce store alone (the `nonce` commands need nothing else):
 * owner-only files in the state folder, or SSM under `/guardian/<stage>/`.
 * Opening it touches nothing; the first call reads.
 */
export function openNonceStore(storage: StorageConfig, options: { stateDir: string; env: NodeJS.ProcessEnv }): NonceSecretStore {
  if (storage.backend === 'embedded') return new FileNonceStore(options.stateDir);
  // Required here: the SSM adapter loads the AWS SDK, which embedded runs never need.
  const { SsmNonceStore } = require('../nonce/ssm-store') as typeof import('../nonce/ssm-store');
  return new SsmNonceStore({
    client: ssmClient(awsSettings(storage, options.env)),
    stage: storage.stage,
    ...(storage.kmsKeyId !== undefined ? { kmsKeyId: storage.kmsKeyId } : {}),
  });
}
