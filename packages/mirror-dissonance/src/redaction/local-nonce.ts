/**
 * The embedded-mode redaction nonce (DESIGN §8): `<stateDir>/nonce`, 32
 * random bytes as 64 lowercase hex, owner-only permissions (0600) in an
 * owner-only directory (0700). It fails closed: a corrupt or world-readable
 * file is an error, never silently regenerated (regenerating would orphan
 * every report branded with the old nonce and hide tampering).
 */
import { loadOrCreateOwnerOnlySecret } from '../secrets/owner-only-secret';
import type { NonceKey } from './redactor';

/** File name of the nonce inside the state directory. */
export const LOCAL_NONCE_FILE = 'nonce';
/** Embedded mode has a single nonce version; rotation is an SSM-mode feature. */
export const LOCAL_NONCE_VERSION = 1;

/**
 * Loads the embedded nonce from `<stateDir>/nonce`, creating it (and the
 * directory) on first use; concurrent first runs agree on one nonce
 * (see loadOrCreateOwnerOnlySecret).
 *
 * @param stateDir the `.phase-mirror` directory under the repository root
 * @param now load time recorded in `loadedAt` @default new Date()
 * @throws DependencyError NONCE_UNAVAILABLE naming the file (never the value)
 */
export function loadOrCreateLocalNonce(stateDir: string, now: Date = new Date()): NonceKey {
  const value = loadOrCreateOwnerOnlySecret({
    stateDir,
    fileName: LOCAL_NONCE_FILE,
    label: 'redaction nonce',
    code: 'NONCE_UNAVAILABLE',
    corruptAdvice: 'restore it or delete it to start a new nonce (reports branded with the old one will no longer verify)',
  });
  return { version: LOCAL_NONCE_VERSION, value, loadedAt: now };
}
