/**
 * Epoch signatures (issue 6, epochs and dual commitment). A sealer signs the
 * canonical epoch statement with every configured signer; anyone verifies it
 * offline with only the public key:
 *
 * - `ed25519`: the embedded store's key, via node:crypto. The 32-byte private
 *   seed lives in an owner-only file of the state directory (0600, created on
 *   first use, fail-closed afterwards: src/secrets/owner-only-secret.ts).
 * - `ml-dsa-44` (FIPS 204, post-quantum): embedded via @noble/post-quantum
 *   (seed file 0600 likewise), or an AWS KMS `ML_DSA_44` key
 *   (`ML_DSA_SHAKE_256`, pure ML-DSA over the raw statement).
 * - `ecdsa-p256-sha256`: an AWS KMS `ECC_NIST_P256` key (`ECDSA_SHA_256`,
 *   RAW message: KMS hashes the statement), DER signatures.
 *
 * Public keys travel as DER SubjectPublicKeyInfo (PEM `PUBLIC KEY`); ML-DSA-44
 * uses the id-ml-dsa-44 OID 2.16.840.1.101.3.4.3.17 (no parameters), as KMS
 * GetPublicKey returns it. No key material ever appears in an error message.
 */
import { createHash, createPrivateKey, createPublicKey, sign as cryptoSign, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { KMSClient } from '@aws-sdk/client-kms';
import { DependencyError, InputError, PhaseMirrorError } from '../errors';
import { loadOrCreateOwnerOnlySecret, readOwnerOnlySecret, type OwnerOnlySecret } from '../secrets/owner-only-secret';
import type { AwsSettings } from '../store/aws/clients';
import type { EpochSignature } from './store';

export type EpochSignatureAlgorithm = EpochSignature['algorithm'];

export const EPOCH_SIGNATURE_ALGORITHMS: readonly EpochSignatureAlgorithm[] = ['ed25519', 'ecdsa-p256-sha256', 'ml-dsa-44'];

export interface EpochPublicKey {
  algorithm: EpochSignatureAlgorithm;
  /** The signer's key id: `sha256:<hex of SHA-256(SPKI DER)>` for embedded keys, the KMS key id for KMS keys. */
  keyId: string;
  /** DER SubjectPublicKeyInfo. */
  spki: Buffer;
}

export interface EpochSigner {
  readonly algorithm: EpochSignatureAlgorithm;
  readonly keyId: string;
  /** Signs the canonical statement bytes. */
  sign(statement: Buffer): Promise<Buffer>;
  /** The public key that verifies this signer's signatures. */
  publicKey(): Promise<EpochPublicKey>;
}

// ---- SubjectPublicKeyInfo ---------------------------------------------------

/** SPKI prefix of an Ed25519 key (RFC 8410): SEQUENCE { SEQUENCE { 1.3.101.112 } BIT STRING (33) }. */
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
/** PKCS#8 prefix of an Ed25519 private key from its 32-byte seed (RFC 8410). */
const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
/** SPKI prefix of an ML-DSA-44 key: SEQUENCE { SEQUENCE { 2.16.840.1.101.3.4.3.17 } BIT STRING (1313) }. */
const ML_DSA_44_SPKI_PREFIX = Buffer.from('30820532300b06096086480165030403110382052100', 'hex');
const ML_DSA_44_PUBLIC_KEY_LENGTH = 1312;
const SEED_LENGTH = 32;

/** `sha256:<hex>` of the DER SPKI: the key id of an embedded key. */
export function publicKeyFingerprint(spki: Uint8Array): string {
  return `sha256:${createHash('sha256').update(spki).digest('hex')}`;
}

/** The raw 1312-byte ML-DSA-44 public key of an SPKI, or undefined when it is not one. */
function mlDsa44RawKey(spki: Uint8Array): Buffer | undefined {
  const der = Buffer.from(spki);
  if (der.length === ML_DSA_44_SPKI_PREFIX.length + ML_DSA_44_PUBLIC_KEY_LENGTH && der.subarray(0, ML_DSA_44_SPKI_PREFIX.length).equals(ML_DSA_44_SPKI_PREFIX)) {
    return der.subarray(ML_DSA_44_SPKI_PREFIX.length);
  }
  return undefined;
}

export function mlDsa44Spki(rawPublicKey: Uint8Array): Buffer {
  if (rawPublicKey.length !== ML_DSA_44_PUBLIC_KEY_LENGTH) throw new RangeError(`an ML-DSA-44 public key is ${ML_DSA_44_PUBLIC_KEY_LENGTH} bytes, not ${rawPublicKey.length}`);
  return Buffer.concat([ML_DSA_44_SPKI_PREFIX, rawPublicKey]);
}

/** Which signature algorithm an SPKI is for; undefined for anything else (RSA, other curves...). */
export function spkiAlgorithm(spki: Uint8Array): EpochSignatureAlgorithm | undefined {
  const der = Buffer.from(spki);
  if (der.length === ED25519_SPKI_PREFIX.length + 32 && der.subarray(0, ED25519_SPKI_PREFIX.length).equals(ED25519_SPKI_PREFIX)) return 'ed25519';
  if (mlDsa44RawKey(der) !== undefined) return 'ml-dsa-44';
  try {
    const key = createPublicKey({ key: der, format: 'der', type: 'spki' });
    if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') return 'ecdsa-p256-sha256';
  } catch {
    return undefined;
  }
  return undefined;
}

/** PEM (`-----BEGIN PUBLIC KEY-----`) of a DER SPKI. */
export function spkiToPem(spki: Uint8Array): string {
  const base64 = Buffer.from(spki).toString('base64');
  const lines = base64.match(/.{1,64}/g) ?? [];
  return ['-----BEGIN PUBLIC KEY-----', ...lines, '-----END PUBLIC KEY-----', ''].join('\n');
}

/**
 * A public-key file as `phase-mirror ledger public-key` prints it: one
 * comment line `# <algorithm> <key id>` before each PEM block, so a KMS key id
 * survives the round trip.
 */
export function formatPublicKeys(keys: readonly EpochPublicKey[]): string {
  return keys.map((key) => `# ${key.algorithm} ${key.keyId}\n${spkiToPem(key.spki)}`).join('');
}

/**
 * Parses every `PUBLIC KEY` PEM block of `text`. A `# <algorithm> <key id>`
 * line right before a block names its key id (else the SPKI fingerprint); the
 * algorithm always comes from the key itself.
 *
 * @throws InputError INPUT_INVALID naming the block that is not an Ed25519, P-256 or ML-DSA-44 public key
 */
export function parsePublicKeys(text: string, source = 'public key file'): EpochPublicKey[] {
  const keys: EpochPublicKey[] = [];
  const pattern = /(?:^#[ \t]*(\S+)[ \t]+(\S+)[ \t]*\r?\n)?-----BEGIN PUBLIC KEY-----\r?\n([A-Za-z0-9+/=\r\n]+?)-----END PUBLIC KEY-----/gm;
  let index = 0;
  for (const match of text.matchAll(pattern)) {
    index += 1;
    const spki = Buffer.from(match[3]!.replace(/\s+/g, ''), 'base64');
    const algorithm = spkiAlgorithm(spki);
    if (algorithm === undefined) {
      throw new InputError('INPUT_INVALID', `${source}: public key ${index} is not an Ed25519, ECDSA P-256 or ML-DSA-44 key`, {
        location: { file: source },
      });
    }
    const named = match[1] !== undefined && match[1] === algorithm ? match[2] : undefined;
    keys.push({ algorithm, keyId: named ?? publicKeyFingerprint(spki), spki });
  }
  if (keys.length === 0) throw new InputError('INPUT_INVALID', `${source}: no PEM public key (-----BEGIN PUBLIC KEY-----) found`, { location: { file: source } });
  return keys;
}

// ---- verification -----------------------------------------------------------

/** The ML-DSA-44 functions of @noble/post-quantum used here (typed locally: the package is ESM-only). */
interface MlDsa44 {
  keygen(seed: Uint8Array): { publicKey: Uint8Array; secretKey: Uint8Array };
  sign(message: Uint8Array, secretKey: Uint8Array): Uint8Array;
  verify(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean;
}

let mlDsa44Module: MlDsa44 | undefined;

/** Loaded on first use: embedded Ed25519-only runs never pay for it. */
function mlDsa44(): MlDsa44 {
  mlDsa44Module ??= (require('@noble/post-quantum/ml-dsa.js') as { ml_dsa44: MlDsa44 }).ml_dsa44;
  return mlDsa44Module;
}

/**
 * Does `signature` verify `statement` under `publicKey`? Offline, with only the
 * public key. False (never a throw) for a wrong algorithm, a malformed key or
 * signature, or a signature that does not verify.
 */
export function verifyEpochSignature(signature: EpochSignature, statement: Uint8Array, publicKey: EpochPublicKey): boolean {
  if (signature.algorithm !== publicKey.algorithm || spkiAlgorithm(publicKey.spki) !== publicKey.algorithm) return false;
  try {
    switch (signature.algorithm) {
      case 'ed25519':
        return cryptoVerify(null, statement, { key: Buffer.from(publicKey.spki), format: 'der', type: 'spki' }, signature.signature);
      case 'ecdsa-p256-sha256':
        return cryptoVerify('sha256', statement, { key: Buffer.from(publicKey.spki), format: 'der', type: 'spki', dsaEncoding: 'der' }, signature.signature);
      case 'ml-dsa-44':
        return mlDsa44().verify(signature.signature, statement, mlDsa44RawKey(publicKey.spki)!);
      default:
        return false;
    }
  } catch {
    return false;
  }
}

export interface SignatureCheck {
  algorithm: EpochSignatureAlgorithm;
  keyId: string;
  ok: boolean;
  /** Why it failed (absent when ok). */
  reason?: string;
}

/**
 * Checks every signature against the trusted keys of its algorithm (the key
 * with the same key id first; a public-key file may name KMS keys by
 * fingerprint). A signature verifies when one trusted key accepts it.
 */
export function checkSignatures(statement: Uint8Array, signatures: readonly EpochSignature[], trusted: readonly EpochPublicKey[]): SignatureCheck[] {
  return signatures.map((signature) => {
    const candidates = trusted
      .filter((key) => key.algorithm === signature.algorithm)
      .sort((a, b) => Number(b.keyId === signature.keyId) - Number(a.keyId === signature.keyId));
    const base = { algorithm: signature.algorithm, keyId: signature.keyId };
    if (!(EPOCH_SIGNATURE_ALGORITHMS as readonly string[]).includes(signature.algorithm)) {
      return { ...base, ok: false, reason: `unknown signature algorithm "${String(signature.algorithm)}"` };
    }
    if (candidates.length === 0) return { ...base, ok: false, reason: `no trusted ${signature.algorithm} public key to verify the signature of ${signature.keyId}` };
    if (candidates.some((key) => verifyEpochSignature(signature, statement, key))) return { ...base, ok: true };
    const under = candidates.length === 1 ? `the trusted ${signature.algorithm} key ${candidates[0]!.keyId}` : `any of ${candidates.length} trusted ${signature.algorithm} keys`;
    return { ...base, ok: false, reason: `${signature.algorithm} signature of ${signature.keyId} does not verify under ${under}` };
  });
}

// ---- embedded keys ----------------------------------------------------------

export const EMBEDDED_ED25519_KEY_FILE = 'ledger_ed25519_seed';
export const EMBEDDED_ML_DSA_44_KEY_FILE = 'ledger_ml_dsa_44_seed';

function keySpec(stateDir: string, fileName: string, label: string): OwnerOnlySecret {
  return {
    stateDir,
    fileName,
    label,
    code: 'STORE_FAILED',
    context: { operation: 'ledger signing key' },
    corruptAdvice: 'restore it from a backup (a new key cannot verify the epochs the old one sealed; move the file away only to start a new key)',
  };
}

/** Ed25519 signer over a 32-byte seed. */
export class Ed25519Signer implements EpochSigner {
  readonly algorithm = 'ed25519' as const;
  readonly keyId: string;
  private readonly privateKey: KeyObject;
  private readonly spki: Buffer;

  constructor(seed: Uint8Array) {
    if (seed.length !== SEED_LENGTH) throw new RangeError(`an Ed25519 seed is ${SEED_LENGTH} bytes`);
    this.privateKey = createPrivateKey({ key: Buffer.concat([ED25519_PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' });
    this.spki = createPublicKey(this.privateKey).export({ type: 'spki', format: 'der' });
    this.keyId = publicKeyFingerprint(this.spki);
  }

  async sign(statement: Buffer): Promise<Buffer> {
    return cryptoSign(null, statement, this.privateKey);
  }

  async publicKey(): Promise<EpochPublicKey> {
    return { algorithm: this.algorithm, keyId: this.keyId, spki: Buffer.from(this.spki) };
  }
}

/** ML-DSA-44 signer over a 32-byte seed (FIPS 204 key generation from ξ). */
export class MlDsa44Signer implements EpochSigner {
  readonly algorithm = 'ml-dsa-44' as const;
  readonly keyId: string;
  private readonly secretKey: Uint8Array;
  private readonly spki: Buffer;

  constructor(seed: Uint8Array) {
    if (seed.length !== SEED_LENGTH) throw new RangeError(`an ML-DSA-44 seed is ${SEED_LENGTH} bytes`);
    const keys = mlDsa44().keygen(seed);
    this.secretKey = keys.secretKey;
    this.spki = mlDsa44Spki(keys.publicKey);
    this.keyId = publicKeyFingerprint(this.spki);
  }

  async sign(statement: Buffer): Promise<Buffer> {
    return Buffer.from(mlDsa44().sign(statement, this.secretKey));
  }

  async publicKey(): Promise<EpochPublicKey> {
    return { algorithm: this.algorithm, keyId: this.keyId, spki: Buffer.from(this.spki) };
  }
}

export interface EmbeddedKeyOptions {
  /** Also sign with (or trust) the embedded ML-DSA-44 key. @default false */
  postQuantum?: boolean;
}

/**
 * The embedded signers, creating their owner-only seed files (0600, in a 0700
 * state directory) on first use.
 *
 * @throws DependencyError STORE_FAILED naming the key file (never its content) when a key file is corrupt, linked or readable by others
 */
export function embeddedSigners(stateDir: string, options: EmbeddedKeyOptions = {}): EpochSigner[] {
  const signers: EpochSigner[] = [
    new Ed25519Signer(Buffer.from(loadOrCreateOwnerOnlySecret(keySpec(stateDir, EMBEDDED_ED25519_KEY_FILE, 'ledger Ed25519 signing key')), 'hex')),
  ];
  if (options.postQuantum === true) {
    signers.push(new MlDsa44Signer(Buffer.from(loadOrCreateOwnerOnlySecret(keySpec(stateDir, EMBEDDED_ML_DSA_44_KEY_FILE, 'ledger ML-DSA-44 signing key')), 'hex')));
  }
  return signers;
}

/**
 * The public keys of the embedded key files that exist (none is created:
 * verification never mints a key). Both algorithms are read when present.
 *
 * @throws DependencyError STORE_FAILED when an existing key file is corrupt, linked or readable by others
 */
export async function embeddedPublicKeys(stateDir: string): Promise<EpochPublicKey[]> {
  const keys: EpochPublicKey[] = [];
  if (existsSync(join(stateDir, EMBEDDED_ED25519_KEY_FILE))) {
    const seed = Buffer.from(readOwnerOnlySecret(keySpec(stateDir, EMBEDDED_ED25519_KEY_FILE, 'ledger Ed25519 signing key')), 'hex');
    keys.push(await new Ed25519Signer(seed).publicKey());
  }
  if (existsSync(join(stateDir, EMBEDDED_ML_DSA_44_KEY_FILE))) {
    const seed = Buffer.from(readOwnerOnlySecret(keySpec(stateDir, EMBEDDED_ML_DSA_44_KEY_FILE, 'ledger ML-DSA-44 signing key')), 'hex');
    keys.push(await new MlDsa44Signer(seed).publicKey());
  }
  return keys;
}

// ---- AWS KMS ----------------------------------------------------------------

const kmsClients = new Map<string, KMSClient>();

/** A KMS client, created once per process per settings; the SDK is required lazily. */
export function kmsClient(settings: AwsSettings): KMSClient {
  const key = `${settings.region}|${settings.endpoint ?? ''}|${settings.maxAttempts ?? 4}`;
  let client = kmsClients.get(key);
  if (client === undefined) {
    const { KMSClient: Client } = require('@aws-sdk/client-kms') as typeof import('@aws-sdk/client-kms');
    client = new Client({
      region: settings.region,
      maxAttempts: settings.maxAttempts ?? 4,
      ...(settings.endpoint !== undefined ? { endpoint: settings.endpoint } : {}),
    });
    kmsClients.set(key, client);
  }
  return client;
}

export interface KmsSignerSettings {
  /** Key id, key ARN, alias name (`alias/...`) or alias ARN. */
  keyId: string;
  /** A KMS client; default: `kmsClient(aws)`. */
  client?: KMSClient;
  aws?: AwsSettings;
}

function kmsFailure(operation: string, keyId: string, error: unknown): PhaseMirrorError {
  if (error instanceof PhaseMirrorError) return error;
  const name = error instanceof Error ? error.name : 'Error';
  const detail = error instanceof Error ? error.message : String(error);
  return new DependencyError('STORE_FAILED', `KMS ${operation} with key ${keyId} failed: ${name}: ${detail}`, {
    context: { operation: `kms:${operation}`, keyId },
    cause: error,
  });
}

abstract class KmsSigner implements EpochSigner {
  abstract readonly algorithm: EpochSignatureAlgorithm;
  protected abstract readonly signingAlgorithm: 'ECDSA_SHA_256' | 'ML_DSA_SHAKE_256';
  protected abstract readonly keySpec: 'ECC_NIST_P256' | 'ML_DSA_44';
  readonly keyId: string;
  private readonly settings: KmsSignerSettings;
  private cachedPublicKey: Promise<EpochPublicKey> | undefined;

  constructor(settings: KmsSignerSettings) {
    if (settings.keyId.trim() === '') throw new InputError('INPUT_INVALID', 'a KMS signing key id is required', { location: { field: 'keyId' } });
    if (settings.client === undefined && settings.aws === undefined) throw new InputError('INPUT_INVALID', 'a KMS signer needs a client or AWS settings');
    this.keyId = settings.keyId;
    this.settings = settings;
  }

  private client(): KMSClient {
    return this.settings.client ?? kmsClient(this.settings.aws!);
  }

  async sign(statement: Buffer): Promise<Buffer> {
    const { SignCommand } = require('@aws-sdk/client-kms') as typeof import('@aws-sdk/client-kms');
    let signature: Uint8Array | undefined;
    try {
      const response = await this.client().send(
        new SignCommand({ KeyId: this.keyId, Message: statement, MessageType: 'RAW', SigningAlgorithm: this.signingAlgorithm }),
      );
      signature = response.Signature;
    } catch (error) {
      throw kmsFailure('Sign', this.keyId, error);
    }
    if (signature === undefined || signature.length === 0) throw kmsFailure('Sign', this.keyId, new Error('the response has no signature'));
    return Buffer.from(signature);
  }

  /** GetPublicKey once per signer; checks the key is the expected spec and signs with the expected algorithm. */
  publicKey(): Promise<EpochPublicKey> {
    if (this.cachedPublicKey === undefined) {
      const pending = this.fetchPublicKey();
      this.cachedPublicKey = pending;
      // A failed fetch is not cached: the next call asks KMS again.
      pending.catch(() => {
        if (this.cachedPublicKey === pending) this.cachedPublicKey = undefined;
      });
    }
    return this.cachedPublicKey;
  }

  private async fetchPublicKey(): Promise<EpochPublicKey> {
    const { GetPublicKeyCommand } = require('@aws-sdk/client-kms') as typeof import('@aws-sdk/client-kms');
    let response;
    try {
      response = await this.client().send(new GetPublicKeyCommand({ KeyId: this.keyId }));
    } catch (error) {
      throw kmsFailure('GetPublicKey', this.keyId, error);
    }
    // `CustomerMasterKeySpec` is the deprecated twin AWS still returns (and the only one some emulators do).
    const spec = response.KeySpec ?? response.CustomerMasterKeySpec;
    if (spec !== this.keySpec) {
      throw new InputError('INPUT_INVALID', `KMS key ${this.keyId} is ${String(spec)}, not ${this.keySpec}`, { context: { keyId: this.keyId, keySpec: spec } });
    }
    if (response.SigningAlgorithms !== undefined && !response.SigningAlgorithms.includes(this.signingAlgorithm)) {
      throw new InputError('INPUT_INVALID', `KMS key ${this.keyId} does not sign with ${this.signingAlgorithm}`, { context: { keyId: this.keyId } });
    }
    if (response.PublicKey === undefined) throw kmsFailure('GetPublicKey', this.keyId, new Error('the response has no public key'));
    let spki: Buffer = Buffer.from(response.PublicKey);
    // Raw ML-DSA-44 public keys are wrapped, so every key is handled as SPKI.
    if (this.keySpec === 'ML_DSA_44' && spki.length === ML_DSA_44_PUBLIC_KEY_LENGTH) spki = mlDsa44Spki(spki);
    if (spkiAlgorithm(spki) !== this.algorithm) {
      throw new InputError('INPUT_INVALID', `KMS key ${this.keyId}: the public key is not a ${this.algorithm} SubjectPublicKeyInfo`, { context: { keyId: this.keyId } });
    }
    return { algorithm: this.algorithm, keyId: this.keyId, spki };
  }
}

/** ECDSA P-256 / SHA-256 with an asymmetric KMS key (`ECC_NIST_P256`, `SIGN_VERIFY`). */
export class KmsEcdsaSigner extends KmsSigner {
  readonly algorithm = 'ecdsa-p256-sha256' as const;
  protected readonly signingAlgorithm = 'ECDSA_SHA_256' as const;
  protected readonly keySpec = 'ECC_NIST_P256' as const;
}

/** ML-DSA-44 with an asymmetric KMS key (`ML_DSA_44`, `SIGN_VERIFY`, `ML_DSA_SHAKE_256`). */
export class KmsMlDsaSigner extends KmsSigner {
  readonly algorithm = 'ml-dsa-44' as const;
  protected readonly signingAlgorithm = 'ML_DSA_SHAKE_256' as const;
  protected readonly keySpec = 'ML_DSA_44' as const;
}
