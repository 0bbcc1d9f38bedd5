/**
 * Which nonce versions are still valid (DESIGN §8). The newest version signs
 * and has no end; every older version vK stays valid for the grace period
 * after its successor was created, so a report branded a minute before a
 * rotation still verifies, and is invalid (and deletable) afterwards.
 */
import { InputError } from '../errors';
import type { NonceVersionInfo } from './store';

/** 1 h: how long a superseded version keeps verifying by default. */
export const DEFAULT_NONCE_GRACE_MS = 60 * 60 * 1000;

export interface VersionValidity {
  info: NonceVersionInfo;
  /** When the version stops verifying; undefined for the newest version. */
  validUntil: Date | undefined;
}

/** Validity of each version; `versions` ascending by version. */
export function versionValidity(versions: readonly NonceVersionInfo[], gracePeriodMs: number): VersionValidity[] {
  return versions.map((info, index) => {
    const successor = versions[index + 1];
    return { info, validUntil: successor === undefined ? undefined : new Date(successor.createdAt.getTime() + gracePeriodMs) };
  });
}

export function isValidAt(validity: VersionValidity, nowMs: number): boolean {
  return validity.validUntil === undefined || validity.validUntil.getTime() > nowMs;
}

/** Checks a configured grace period: a positive whole number of milliseconds. */
export function assertGracePeriod(gracePeriodMs: number, field: string): void {
  if (!Number.isSafeInteger(gracePeriodMs) || gracePeriodMs <= 0) {
    throw new InputError('INPUT_INVALID', `nonce grace period must be a positive number of milliseconds, got ${String(gracePeriodMs)}`, {
      location: { field },
    });
  }
}
