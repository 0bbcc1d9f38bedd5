/**
 * The nonce-rotation Lambda (DESIGN §8), invoked by EventBridge Scheduler at
 * the configured rate: one call of the core's rotateNonce on the SSM store.
 * It creates v(N+1) with Overwrite=false (a concurrent rotation that won is
 * success), keeps vN valid for the grace period, deletes expired versions and
 * creates v1 on its first run. Every run emits `NonceRotation`
 * {outcome: success|failure} (and `NonceVersion` on success); a failure is
 * rethrown so the scheduler retries and finally dead-letters the event.
 *
 * Environment: PHASE_MIRROR_STAGE (SSM path /guardian/<stage>/),
 * NONCE_KMS_KEY_ID (the project key), NONCE_GRACE_SECONDS (default 3600),
 * AWS_REGION (set by Lambda), AWS_ENDPOINT_URL (emulator only).
 */
import {
  DEFAULT_NONCE_GRACE_MS,
  rotateNonce,
  ROTATION_METRIC,
  SsmNonceStore,
  ssmClient,
  type RotationResult,
} from '@phase-mirror/mirror-dissonance';
import { requiredEnv, secondsEnv } from '../shared/env';
import { createLogger, createMetrics, PowertoolsMetricsSink } from '../shared/observability';

const SERVICE = 'nonce-rotation';
const logger = createLogger(SERVICE);
const metrics = createMetrics(SERVICE);

/** What the function returns (and logs): versions and dates, never a value. */
export interface RotationResponse {
  outcome: RotationResult['outcome'];
  version: number;
  previousVersion?: number;
  previousValidUntil?: string;
  deleted: number[];
}

/** The Lambda entry point: Lambda calls it as (event, context), so the environment is read here. */
export function handler(event: unknown): Promise<RotationResponse> {
  return rotateFromEnvironment(event, process.env);
}

/** One rotation configured by `env` (tests give their own). */
export async function rotateFromEnvironment(_event: unknown, env: NodeJS.ProcessEnv): Promise<RotationResponse> {
  const sink = new PowertoolsMetricsSink(metrics);
  let store: SsmNonceStore;
  let gracePeriodMs: number;
  try {
    const stage = requiredEnv(env, 'PHASE_MIRROR_STAGE');
    const region = requiredEnv(env, 'AWS_REGION');
    gracePeriodMs = secondsEnv(env, 'NONCE_GRACE_SECONDS', DEFAULT_NONCE_GRACE_MS / 1000, 60, 7 * 24 * 60 * 60) * 1000;
    store = new SsmNonceStore({ client: ssmClient({ region }), stage, kmsKeyId: requiredEnv(env, 'NONCE_KMS_KEY_ID') });
  } catch (error) {
    // Misconfiguration is a failed rotation too: count it so the alarm fires.
    sink.count(ROTATION_METRIC, 1, { outcome: 'failure' });
    logger.error('nonce rotation is misconfigured', { error: describe(error) });
    throw error;
  }
  try {
    const result = await rotateNonce(store, { gracePeriodMs, metrics: sink });
    const response: RotationResponse = {
      outcome: result.outcome,
      version: result.version,
      ...(result.previousVersion !== undefined ? { previousVersion: result.previousVersion } : {}),
      ...(result.previousValidUntil !== undefined ? { previousValidUntil: result.previousValidUntil.toISOString() } : {}),
      deleted: result.deleted,
    };
    logger.info('nonce rotated', { location: store.location, ...response });
    return response;
  } catch (error) {
    logger.error('nonce rotation failed', { location: store.location, error: describe(error) });
    throw error;
  }
}

/** Name, code and message only: SDK errors can carry request details, which are not logged. */
function describe(error: unknown): { name: string; code?: string; message: string } {
  if (!(error instanceof Error)) return { name: 'Error', message: String(error) };
  const code = (error as { code?: unknown }).code;
  return { name: error.name, ...(typeof code === 'string' ? { code } : {}), message: error.message };
}
