/**
 * The epoch-sealer Lambda (issue 6), run by EventBridge Scheduler: seals every
 * complete, unsealed epoch of every repository stream in the DynamoDB ledger
 * with the project's asymmetric KMS key (ECDSA P-256), and with an ML-DSA-44
 * KMS key as well when one is configured. Anyone can verify the epochs
 * offline with the public keys (`phase-mirror ledger verify-epochs`).
 * Emits `EpochsSealed` (count) on success and `EpochSealFailure` on failure,
 * which is rethrown so the scheduler retries and finally dead-letters it.
 *
 * Environment: PHASE_MIRROR_STAGE (default table names), LEDGER_TABLE and
 * LEDGER_EPOCHS_TABLE (override them), EPOCH_SIGNING_KEY_ID (ECC_NIST_P256
 * key), EPOCH_ML_DSA_KEY_ID (optional ML_DSA_44 key), EPOCH_SIZE (optional;
 * the ledger's pinned size wins), AWS_REGION.
 */
import {
  defaultTableNames,
  dynamoDocumentClient,
  DynamoLedgerStore,
  KmsEcdsaSigner,
  KmsMlDsaSigner,
  sealEpochs,
  type EpochSigner,
} from '@phase-mirror/mirror-dissonance';
import { requiredEnv } from '../shared/env';
import { createLogger, createMetrics, PowertoolsMetricsSink } from '../shared/observability';

const SERVICE = 'epoch-sealer';
const logger = createLogger(SERVICE);
const metrics = createMetrics(SERVICE);

export interface SealerResponse {
  epochSize: number;
  sealed: { repository: string; number: number; startHeight: number; endHeight: number; root: string }[];
  sealedConcurrently: number;
}

/** The Lambda entry point: Lambda calls it as (event, context), so the environment is read here. */
export function handler(event: unknown): Promise<SealerResponse> {
  return sealFromEnvironment(event, process.env);
}

/** One sealing run configured by `env` (tests give their own). */
export async function sealFromEnvironment(_event: unknown, env: NodeJS.ProcessEnv): Promise<SealerResponse> {
  const sink = new PowertoolsMetricsSink(metrics);
  try {
    const region = requiredEnv(env, 'AWS_REGION');
    const stage = requiredEnv(env, 'PHASE_MIRROR_STAGE');
    const names = defaultTableNames(stage);
    const ledger = new DynamoLedgerStore({
      client: dynamoDocumentClient({ region }),
      tableName: env.LEDGER_TABLE || names.ledger,
      epochsTableName: env.LEDGER_EPOCHS_TABLE || names.ledgerEpochs,
    });
    const signers: EpochSigner[] = [new KmsEcdsaSigner({ keyId: requiredEnv(env, 'EPOCH_SIGNING_KEY_ID'), aws: { region } })];
    if (env.EPOCH_ML_DSA_KEY_ID) signers.push(new KmsMlDsaSigner({ keyId: env.EPOCH_ML_DSA_KEY_ID, aws: { region } }));
    const epochSize = env.EPOCH_SIZE ? Number(env.EPOCH_SIZE) : undefined;
    const result = await sealEpochs(ledger, signers, epochSize === undefined ? {} : { epochSize });
    const response: SealerResponse = {
      epochSize: result.epochSize,
      sealed: result.sealed.map((epoch) => ({
        repository: epoch.repository,
        number: epoch.number,
        startHeight: epoch.startHeight,
        endHeight: epoch.endHeight,
        root: epoch.root,
      })),
      sealedConcurrently: result.sealedConcurrently.length,
    };
    sink.count('EpochsSealed', response.sealed.length, {});
    logger.info('epochs sealed', { epochSize: response.epochSize, sealed: response.sealed.length, sealedConcurrently: response.sealedConcurrently });
    return response;
  } catch (error) {
    sink.count('EpochSealFailure', 1, {});
    logger.error('epoch sealing failed', { error: error instanceof Error ? { name: error.name, message: error.message } : String(error) });
    throw error;
  }
}
