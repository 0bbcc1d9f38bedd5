/**
 * What `phase-mirror nonce status` shows: every stored version and whether it
 * signs, still verifies (until when), or left its grace period and awaits
 * deletion by the next rotation. Reads names and dates only, never values.
 */
import type { NonceSecretStore } from './store';
import { assertGracePeriod, DEFAULT_NONCE_GRACE_MS, isValidAt, versionValidity } from './validity';

export interface NonceVersionStatus {
  version: number;
  name: string;
  createdAt: Date;
  state: 'signing' | 'in_grace' | 'expired';
  /** End of verification for superseded versions. */
  validUntil?: Date;
}

export async function nonceStatus(
  store: NonceSecretStore,
  options: { gracePeriodMs?: number; clock?: () => number } = {},
): Promise<NonceVersionStatus[]> {
  const gracePeriodMs = options.gracePeriodMs ?? DEFAULT_NONCE_GRACE_MS;
  assertGracePeriod(gracePeriodMs, 'nonce.gracePeriod');
  const now = (options.clock ?? Date.now)();
  return versionValidity(await store.listVersions(), gracePeriodMs).map((validity) => ({
    version: validity.info.version,
    name: validity.info.name,
    createdAt: validity.info.createdAt,
    state: validity.validUntil === undefined ? 'signing' : isValidAt(validity, now) ? 'in_grace' : 'expired',
    ...(validity.validUntil !== undefined ? { validUntil: validity.validUntil } : {}),
  }));
}
