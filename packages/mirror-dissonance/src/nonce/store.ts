/**
 * The secret store port for the redaction nonce (DESIGN §8): numbered
 * versions `redaction_nonce_v<N>`, each written once and never overwritten.
 * Adapters: SSM SecureStrings under `/guardian/<stage>/` (ssm-store.ts) and
 * owner-only files in the embedded state folder (file-store.ts).
 *
 * Errors: `NONCE_STORE_UNREACHABLE` (DependencyError) when the store cannot be
 * read or written right now (network, throttling, credentials, permissions):
 * the only failure a warm cache may ride out; `NONCE_INVALID` (IntegrityError)
 * when a stored version is malformed or not encrypted: never ridden out;
 * `NONCE_UNAVAILABLE` (DependencyError) for local failures. No message ever
 * contains a nonce value.
 */

import { InputError } from '../errors';

/** Name leaf shared by both adapters: `redaction_nonce_v<N>`. */
export const NONCE_NAME_PREFIX = 'redaction_nonce_v';

const VERSIONED_LEAF = /^redaction_nonce_v([1-9][0-9]{0,8})$/;

/** The version of a stored name's last segment, or undefined for any other name. */
export function nonceVersionOf(name: string): number | undefined {
  const leaf = name.slice(name.lastIndexOf('/') + 1);
  const match = VERSIONED_LEAF.exec(leaf);
  return match === null ? undefined : Number(match[1]);
}

/** Versions are 1 to 999,999,999 (the names nonceVersionOf reads back). */
export function assertNonceVersion(version: number): void {
  if (!Number.isSafeInteger(version) || version < 1 || version > 999_999_999) {
    throw new InputError('INPUT_INVALID', `nonce version must be a whole number from 1 to 999999999, got ${String(version)}`, {
      location: { field: 'version' },
    });
  }
}

/** One stored version, without its value. */
export interface NonceVersionInfo {
  version: number;
  /** Full name in the store (SSM parameter path or file path), for messages. */
  name: string;
  /** When the version was written (SSM LastModifiedDate; file mtime); versions are never modified. */
  createdAt: Date;
}

export interface NonceSecretStore {
  /** Where the versions live, for messages: `SSM /guardian/prod/redaction_nonce_v*`. */
  readonly location: string;
  /** Every stored version, ascending, without values (no decryption). */
  listVersions(): Promise<NonceVersionInfo[]>;
  /**
   * The value of one version (64 lowercase hex, validated), or undefined when
   * it no longer exists (deleted by a rotation after it was listed).
   */
  readValue(version: NonceVersionInfo): Promise<string | undefined>;
  /** Writes a new version unless it exists: `exists` means a concurrent rotation won. */
  create(version: number, value: string): Promise<'created' | 'exists'>;
  /** Deletes a version; `absent` when it was already gone. */
  delete(version: NonceVersionInfo): Promise<'deleted' | 'absent'>;
}

/** 64 lowercase hex characters: the only accepted nonce value format. */
export const NONCE_VALUE = /^[0-9a-f]{64}$/;
