/**
 * Nonce rotation (DESIGN §8), the one implementation behind
 * `phase-mirror nonce rotate` and the nonce-rotation Lambda:
 *
 * 1. list the versions (no decryption: rotation never reads a value);
 * 2. write v(N+1) with a fresh random value, never overwriting (SSM
 *    `Overwrite=false`; an exclusive hard link for files). When a concurrent
 *    rotation wrote v(N+1) first, this one lost the race: that is success,
 *    the new version exists either way; on an empty store this writes v1;
 * 3. delete every version whose successor is older than the grace period
 *    (vN, superseded just now, stays valid for the whole grace period);
 * 4. count `NonceRotation` {outcome: success|failure} and the `NonceVersion`.
 */
import type { MetricsSink } from '../metrics/metrics';
import { randomNonceValue } from './random';
import type { NonceSecretStore, NonceVersionInfo } from './store';
import { assertGracePeriod, DEFAULT_NONCE_GRACE_MS, isValidAt, versionValidity } from './validity';

export interface RotationOptions {
  /** @default 1 h */
  gracePeriodMs?: number;
  clock?: () => number;
  metrics?: MetricsSink;
  /** Source of new values; tests pin it. @default 32 random bytes as hex */
  newValue?: () => string;
}

export interface RotationResult {
  /** `lost_race`: a concurrent rotation created `version` first. */
  outcome: 'created' | 'lost_race';
  /** The version that now signs. */
  version: number;
  /** The version it superseded (still valid until `previousValidUntil`); absent on the first rotation. */
  previousVersion?: number;
  previousValidUntil?: Date;
  /** Versions deleted because they left their grace period. */
  deleted: number[];
}

export const ROTATION_METRIC = 'NonceRotation';
export const VERSION_METRIC = 'NonceVersion';

export async function rotateNonce(store: NonceSecretStore, options: RotationOptions = {}): Promise<RotationResult> {
  const gracePeriodMs = options.gracePeriodMs ?? DEFAULT_NONCE_GRACE_MS;
  assertGracePeriod(gracePeriodMs, 'nonce.gracePeriod');
  const clock = options.clock ?? Date.now;
  let result: RotationResult;
  try {
    result = await rotate(store, gracePeriodMs, clock, options.newValue ?? randomNonceValue);
  } catch (error) {
    options.metrics?.count(ROTATION_METRIC, 1, { outcome: 'failure' });
    throw error;
  }
  // Outside the try: a metrics failure after a rotation must not be counted as a failed rotation.
  options.metrics?.count(ROTATION_METRIC, 1, { outcome: 'success' });
  options.metrics?.count(VERSION_METRIC, result.version, {});
  return result;
}

async function rotate(store: NonceSecretStore, gracePeriodMs: number, clock: () => number, newValue: () => string): Promise<RotationResult> {
  const before = await store.listVersions();
  const previous = before.at(-1);
  const version = (previous?.version ?? 0) + 1;
  const written = await store.create(version, newValue());
  const now = clock();
  // The new version's own timestamp may differ by clock skew; `now` keeps the predecessor at least as long.
  const after: NonceVersionInfo[] = [...before, { version, name: '', createdAt: new Date(now) }];
  const deleted: number[] = [];
  for (const validity of versionValidity(after, gracePeriodMs)) {
    if (validity.info.version === version || isValidAt(validity, now)) continue;
    if ((await store.delete(validity.info)) === 'deleted') deleted.push(validity.info.version);
  }
  return {
    outcome: written === 'created' ? 'created' : 'lost_race',
    version,
    ...(previous !== undefined ? { previousVersion: previous.version, previousValidUntil: new Date(now + gracePeriodMs) } : {}),
    deleted,
  };
}
