/**
 * Epoch signatures (src/ledger/signing.ts): embedded Ed25519 and ML-DSA-44
 * keys in owner-only seed files, AWS KMS ECDSA P-256 and ML-DSA-44 signers
 * (mocked SDK here; ECDSA also runs on the emulator in test/integration), and
 * offline verification with only the public key. Key material never appears
 * in an error message.
 */
import { createPublicKey, generateKeyPairSync, sign as cryptoSign } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetPublicKeyCommand, KMSClient, KMSInvalidStateException, NotFoundException, SignCommand } from '@aws-sdk/client-kms';
import { mockClient } from 'aws-sdk-client-mock';
import { DependencyError, InputError, PhaseMirrorError } from '../../src/errors';
import {
  checkSignatures,
  Ed25519Signer,
  EMBEDDED_ED25519_KEY_FILE,
  EMBEDDED_ML_DSA_44_KEY_FILE,
  embeddedPublicKeys,
  embeddedSigners,
  formatPublicKeys,
  KmsEcdsaSigner,
  kmsClient,
  KmsMlDsaSigner,
  MlDsa44Signer,
  mlDsa44Spki,
  parsePublicKeys,
  publicKeyFingerprint,
  spkiAlgorithm,
  spkiToPem,
  verifyEpochSignature,
  type EpochPublicKey,
} from '../../src/ledger/signing';
import type { EpochSignature } from '../../src/ledger/store';

const { ml_dsa44 } = require('@noble/post-quantum/ml-dsa.js') as {
  ml_dsa44: {
    keygen(seed: Uint8Array): { publicKey: Uint8Array; secretKey: Uint8Array };
    sign(message: Uint8Array, secretKey: Uint8Array): Uint8Array;
  };
};

const STATEMENT = Buffer.from('PMLR\x01 an epoch statement', 'latin1');
const SEED_A = Buffer.alloc(32, 0xa1);
const SEED_B = Buffer.alloc(32, 0xb2);
const KMS_KEY = 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';

const tempDirs: string[] = [];
function tempStateDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'pm-ledger-keys-'));
  tempDirs.push(dir);
  return join(dir, '.phase-mirror');
}
afterAll(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

async function signed(signer: { algorithm: EpochSignature['algorithm']; keyId: string; sign(s: Buffer): Promise<Buffer> }, statement = STATEMENT): Promise<EpochSignature> {
  return { algorithm: signer.algorithm, keyId: signer.keyId, signature: await signer.sign(statement) };
}

function flipByte(buffer: Buffer, index: number): Buffer {
  const copy = Buffer.from(buffer);
  copy[index]! ^= 0x01;
  return copy;
}

async function caught(action: () => unknown): Promise<PhaseMirrorError> {
  try {
    await action();
  } catch (error) {
    if (error instanceof PhaseMirrorError) return error;
    throw error;
  }
  throw new Error('expected an error');
}

describe('Ed25519Signer', () => {
  it('signs a statement that verifies offline with only the public key', async () => {
    // Prepare
    const signer = new Ed25519Signer(SEED_A);
    const publicKey = await signer.publicKey();

    // Act
    const signature = await signed(signer);

    // Assess
    expect(signature.signature).toHaveLength(64);
    expect(publicKey.spki).toHaveLength(44);
    expect(spkiAlgorithm(publicKey.spki)).toBe('ed25519');
    expect(publicKey.keyId).toBe(publicKeyFingerprint(publicKey.spki));
    expect(verifyEpochSignature(signature, STATEMENT, { algorithm: 'ed25519', keyId: 'anything', spki: publicKey.spki })).toBe(true);
  });

  it('rejects a changed statement, a changed signature, another key and a mislabelled algorithm', async () => {
    // Prepare
    const signer = new Ed25519Signer(SEED_A);
    const publicKey = await signer.publicKey();
    const other = await new Ed25519Signer(SEED_B).publicKey();
    const signature = await signed(signer);

    // Act
    const results = {
      statement: verifyEpochSignature(signature, flipByte(STATEMENT, 7), publicKey),
      signature: verifyEpochSignature({ ...signature, signature: flipByte(signature.signature, 40) }, STATEMENT, publicKey),
      truncated: verifyEpochSignature({ ...signature, signature: signature.signature.subarray(1) }, STATEMENT, publicKey),
      otherKey: verifyEpochSignature(signature, STATEMENT, other),
      labelledEcdsa: verifyEpochSignature({ ...signature, algorithm: 'ecdsa-p256-sha256' }, STATEMENT, publicKey),
      keyLabelledMlDsa: verifyEpochSignature(signature, STATEMENT, { ...publicKey, algorithm: 'ml-dsa-44' }),
    };

    // Assess
    expect(results).toEqual({ statement: false, signature: false, truncated: false, otherKey: false, labelledEcdsa: false, keyLabelledMlDsa: false });
  });

  it('derives the same key from the same seed and different keys from different seeds', async () => {
    expect(new Ed25519Signer(SEED_A).keyId).toBe(new Ed25519Signer(Buffer.from(SEED_A)).keyId);
    expect(new Ed25519Signer(SEED_A).keyId).not.toBe(new Ed25519Signer(SEED_B).keyId);
    expect(() => new Ed25519Signer(Buffer.alloc(31))).toThrow(RangeError);
  });
});

describe('MlDsa44Signer', () => {
  it('signs a statement that verifies offline with only the SPKI public key', async () => {
    // Prepare
    const signer = new MlDsa44Signer(SEED_A);
    const publicKey = await signer.publicKey();

    // Act
    const signature = await signed(signer);

    // Assess
    expect(signature.signature).toHaveLength(2420);
    expect(publicKey.spki).toHaveLength(1334);
    // SEQUENCE { SEQUENCE { OID 2.16.840.1.101.3.4.3.17 } BIT STRING }
    expect(publicKey.spki.subarray(0, 22).toString('hex')).toBe('30820532300b06096086480165030403110382052100');
    expect(spkiAlgorithm(publicKey.spki)).toBe('ml-dsa-44');
    expect(verifyEpochSignature(signature, STATEMENT, publicKey)).toBe(true);
  });

  it('rejects a changed statement, a changed signature and another key', async () => {
    // Prepare
    const signer = new MlDsa44Signer(SEED_A);
    const publicKey = await signer.publicKey();
    const signature = await signed(signer);

    // Act
    const results = [
      verifyEpochSignature(signature, flipByte(STATEMENT, 0), publicKey),
      verifyEpochSignature({ ...signature, signature: flipByte(signature.signature, 1000) }, STATEMENT, publicKey),
      verifyEpochSignature({ ...signature, signature: signature.signature.subarray(0, 2419) }, STATEMENT, publicKey),
      verifyEpochSignature(signature, STATEMENT, await new MlDsa44Signer(SEED_B).publicKey()),
    ];

    // Assess
    expect(results).toEqual([false, false, false, false]);
  });

  it('uses the FIPS 204 key generation from the seed (the public key @noble derives)', async () => {
    const expected = mlDsa44Spki(ml_dsa44.keygen(SEED_A).publicKey);
    expect((await new MlDsa44Signer(SEED_A).publicKey()).spki.equals(expected)).toBe(true);
  });
});

describe('embeddedSigners', () => {
  it('creates an owner-only Ed25519 seed file on first use and reuses it', async () => {
    // Prepare
    const stateDir = tempStateDir();

    // Act
    const [first] = embeddedSigners(stateDir);
    const [second] = embeddedSigners(stateDir);

    // Assess
    const file = join(stateDir, EMBEDDED_ED25519_KEY_FILE);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(stateDir).mode & 0o777).toBe(0o700);
    expect(first!.algorithm).toBe('ed25519');
    expect(second!.keyId).toBe(first!.keyId);
    expect(existsSync(join(stateDir, EMBEDDED_ML_DSA_44_KEY_FILE))).toBe(false);
    const signature = await signed(second!);
    expect(verifyEpochSignature(signature, STATEMENT, await first!.publicKey())).toBe(true);
  });

  it('adds the ML-DSA-44 signer with postQuantum, with its own owner-only seed file', async () => {
    // Prepare
    const stateDir = tempStateDir();

    // Act
    const signers = embeddedSigners(stateDir, { postQuantum: true });

    // Assess
    expect(signers.map((signer) => signer.algorithm)).toEqual(['ed25519', 'ml-dsa-44']);
    expect(statSync(join(stateDir, EMBEDDED_ML_DSA_44_KEY_FILE)).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(stateDir, EMBEDDED_ML_DSA_44_KEY_FILE), 'utf8')).not.toBe(readFileSync(join(stateDir, EMBEDDED_ED25519_KEY_FILE), 'utf8'));
  });

  it('refuses a seed file readable by others, naming the file but never its content', async () => {
    // Prepare
    const stateDir = tempStateDir();
    embeddedSigners(stateDir);
    const file = join(stateDir, EMBEDDED_ED25519_KEY_FILE);
    const seed = readFileSync(file, 'utf8').trim();
    chmodSync(file, 0o644);

    // Act
    const error = await caught(() => embeddedSigners(stateDir));

    // Assess
    expect(error).toBeInstanceOf(DependencyError);
    expect(error.code).toBe('STORE_FAILED');
    expect(error.message).toContain(file);
    expect(error.message).toContain('chmod 600');
    expect(error.message).not.toContain(seed);
    expect(JSON.stringify(error.context)).not.toContain(seed);
  });

  it('refuses a corrupt or linked seed file instead of minting a new key', async () => {
    // Prepare
    const corruptDir = tempStateDir();
    embeddedSigners(corruptDir);
    writeFileSync(join(corruptDir, EMBEDDED_ED25519_KEY_FILE), 'not a seed\n', { mode: 0o600 });
    const linkedDir = tempStateDir();
    embeddedSigners(linkedDir);
    const target = join(linkedDir, 'elsewhere');
    writeFileSync(target, `${'ab'.repeat(32)}\n`, { mode: 0o600 });
    rmSync(join(linkedDir, EMBEDDED_ED25519_KEY_FILE));
    symlinkSync(target, join(linkedDir, EMBEDDED_ED25519_KEY_FILE));

    // Act
    const corrupt = await caught(() => embeddedSigners(corruptDir));
    const linked = await caught(() => embeddedSigners(linkedDir));

    // Assess
    expect(corrupt.message).toMatch(/is corrupt/);
    expect(corrupt.message).toContain('restore it from a backup');
    expect(linked.message).toMatch(/symbolic link/);
    expect(linked.message).not.toContain('ab'.repeat(32));
  });
});

describe('embeddedPublicKeys', () => {
  it('returns nothing and creates no key when no key file exists', async () => {
    // Prepare
    const stateDir = tempStateDir();

    // Act
    const keys = await embeddedPublicKeys(stateDir);

    // Assess
    expect(keys).toEqual([]);
    expect(existsSync(stateDir)).toBe(false);
  });

  it('returns the public keys of both embedded signers', async () => {
    // Prepare
    const stateDir = tempStateDir();
    const signers = embeddedSigners(stateDir, { postQuantum: true });

    // Act
    const keys = await embeddedPublicKeys(stateDir);

    // Assess
    expect(keys.map((key) => [key.algorithm, key.keyId])).toEqual(signers.map((signer) => [signer.algorithm, signer.keyId]));
  });
});

describe('public key files', () => {
  it('round-trip every algorithm, keeping a KMS key id named on the comment line', async () => {
    // Prepare
    const ec = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const keys: EpochPublicKey[] = [
      await new Ed25519Signer(SEED_A).publicKey(),
      await new MlDsa44Signer(SEED_A).publicKey(),
      { algorithm: 'ecdsa-p256-sha256', keyId: KMS_KEY, spki: ec.publicKey.export({ type: 'spki', format: 'der' }) },
    ];

    // Act
    const text = formatPublicKeys(keys);
    const parsed = parsePublicKeys(text);

    // Assess
    expect(text).toContain(`# ecdsa-p256-sha256 ${KMS_KEY}\n-----BEGIN PUBLIC KEY-----\n`);
    expect(parsed).toEqual(keys);
    // Node itself reads the classical blocks.
    expect(createPublicKey(spkiToPem(keys[0]!.spki)).asymmetricKeyType).toBe('ed25519');
  });

  it('names a key by its fingerprint when no comment line names it', () => {
    const spki = Buffer.from('302a300506032b6570032100' + '11'.repeat(32), 'hex');
    expect(parsePublicKeys(spkiToPem(spki))).toEqual([{ algorithm: 'ed25519', keyId: publicKeyFingerprint(spki), spki }]);
  });

  it('refuses a file without a public key or with a key of another kind', () => {
    // Prepare
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ type: 'spki', format: 'pem' }) as string;
    const p384 = generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).publicKey.export({ type: 'spki', format: 'pem' }) as string;

    // Act
    const errors = [() => parsePublicKeys('nothing here', 'keys.pem'), () => parsePublicKeys(rsa, 'rsa.pem'), () => parsePublicKeys(p384, 'p384.pem')].map((parse) => {
      try {
        parse();
      } catch (error) {
        return error as InputError;
      }
      throw new Error('expected an error');
    });

    // Assess
    expect(errors.every((error) => error instanceof InputError && error.code === 'INPUT_INVALID')).toBe(true);
    expect(errors[0]!.message).toBe('keys.pem: no PEM public key (-----BEGIN PUBLIC KEY-----) found');
    expect(errors[1]!.message).toBe('rsa.pem: public key 1 is not an Ed25519, ECDSA P-256 or ML-DSA-44 key');
    expect(errors[2]!.message).toContain('p384.pem: public key 1');
  });
});

describe('checkSignatures', () => {
  it('verifies each signature under a trusted key of its algorithm, by key id or else by trying each', async () => {
    // Prepare
    const ed = new Ed25519Signer(SEED_A);
    const pq = new MlDsa44Signer(SEED_A);
    const edKey = await ed.publicKey();
    const signatures = [await signed(ed), await signed(pq)];
    const trusted = [await new Ed25519Signer(SEED_B).publicKey(), { ...edKey, keyId: 'renamed' }, await pq.publicKey()];

    // Act
    const checks = checkSignatures(STATEMENT, signatures, trusted);

    // Assess
    expect(checks).toEqual([
      { algorithm: 'ed25519', keyId: ed.keyId, ok: true },
      { algorithm: 'ml-dsa-44', keyId: pq.keyId, ok: true },
    ]);
  });

  it('names the signature without a trusted key and the one that does not verify', async () => {
    // Prepare
    const ed = new Ed25519Signer(SEED_A);
    const pq = new MlDsa44Signer(SEED_A);
    const signatures = [await signed(ed), await signed(pq)];
    const trusted = [await new Ed25519Signer(SEED_B).publicKey()];

    // Act
    const checks = checkSignatures(STATEMENT, signatures, trusted);

    // Assess
    expect(checks[0]).toEqual({
      algorithm: 'ed25519',
      keyId: ed.keyId,
      ok: false,
      reason: `ed25519 signature of ${ed.keyId} does not verify under the trusted ed25519 key ${trusted[0]!.keyId}`,
    });
    expect(checks[1]).toEqual({ algorithm: 'ml-dsa-44', keyId: pq.keyId, ok: false, reason: `no trusted ml-dsa-44 public key to verify the signature of ${pq.keyId}` });
  });
});

/** One mock of every KMSClient's send for the whole file. */
const kms = mockClient(KMSClient);

describe('KmsEcdsaSigner', () => {
  const ec = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const spki = ec.publicKey.export({ type: 'spki', format: 'der' });

  beforeEach(() => {
    kms.reset();
    kms.on(SignCommand).callsFake((input: { Message: Uint8Array }) => ({ KeyId: KMS_KEY, Signature: cryptoSign('sha256', input.Message, { key: ec.privateKey, dsaEncoding: 'der' }), SigningAlgorithm: 'ECDSA_SHA_256' }));
    kms.on(GetPublicKeyCommand).resolves({ KeyId: KMS_KEY, KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY', SigningAlgorithms: ['ECDSA_SHA_256'], PublicKey: spki });
  });

  it('signs the raw statement with ECDSA_SHA_256 and the signature verifies offline with the KMS public key', async () => {
    // Prepare
    const signer = new KmsEcdsaSigner({ keyId: KMS_KEY, client: new KMSClient({ region: 'eu-west-1' }) });

    // Act
    const signature = await signed(signer);
    const publicKey = await signer.publicKey();

    // Assess
    expect(kms.commandCalls(SignCommand)[0]!.args[0].input).toEqual({ KeyId: KMS_KEY, Message: STATEMENT, MessageType: 'RAW', SigningAlgorithm: 'ECDSA_SHA_256' });
    expect(signature.algorithm).toBe('ecdsa-p256-sha256');
    expect(signature.keyId).toBe(KMS_KEY);
    expect(publicKey).toEqual({ algorithm: 'ecdsa-p256-sha256', keyId: KMS_KEY, spki: Buffer.from(spki) });
    expect(verifyEpochSignature(signature, STATEMENT, publicKey)).toBe(true);
    expect(verifyEpochSignature(signature, flipByte(STATEMENT, 3), publicKey)).toBe(false);
    expect(verifyEpochSignature({ ...signature, signature: flipByte(signature.signature, 10) }, STATEMENT, publicKey)).toBe(false);
  });

  it('asks KMS for the public key once', async () => {
    // Prepare
    const signer = new KmsEcdsaSigner({ keyId: KMS_KEY, client: new KMSClient({ region: 'eu-west-1' }) });

    // Act
    await Promise.all([signer.publicKey(), signer.publicKey()]);
    await signer.publicKey();

    // Assess
    expect(kms.commandCalls(GetPublicKeyCommand)).toHaveLength(1);
  });

  it('reports an unavailable KMS as a DependencyError naming the key and operation, and retries GetPublicKey next time', async () => {
    // Prepare
    kms.on(SignCommand).rejects(new KMSInvalidStateException({ message: 'key is pending deletion', $metadata: {} }));
    kms.on(GetPublicKeyCommand).rejectsOnce(new NotFoundException({ message: 'no such key', $metadata: {} })).resolves({ KeySpec: 'ECC_NIST_P256', PublicKey: spki });
    const signer = new KmsEcdsaSigner({ keyId: KMS_KEY, client: new KMSClient({ region: 'eu-west-1' }) });

    // Act
    const signError = await caught(() => signer.sign(STATEMENT));
    const keyError = await caught(() => signer.publicKey());
    const retried = await signer.publicKey();

    // Assess
    expect(signError).toBeInstanceOf(DependencyError);
    expect(signError.message).toBe(`KMS Sign with key ${KMS_KEY} failed: KMSInvalidStateException: key is pending deletion`);
    expect(signError.context).toEqual({ operation: 'kms:Sign', keyId: KMS_KEY });
    expect(keyError.message).toContain('GetPublicKey');
    expect(retried.spki.equals(Buffer.from(spki))).toBe(true);
  });

  it('refuses a KMS key of another spec', async () => {
    // Prepare
    kms.on(GetPublicKeyCommand).resolves({ KeySpec: 'RSA_2048', PublicKey: spki });
    const signer = new KmsEcdsaSigner({ keyId: 'alias/ledger', client: new KMSClient({ region: 'eu-west-1' }) });

    // Act
    const error = await caught(() => signer.publicKey());

    // Assess
    expect(error).toBeInstanceOf(InputError);
    expect(error.message).toBe('KMS key alias/ledger is RSA_2048, not ECC_NIST_P256');
  });

  it('reads the key spec from the deprecated CustomerMasterKeySpec when KeySpec is absent', async () => {
    // Prepare
    kms.on(GetPublicKeyCommand).resolves({ CustomerMasterKeySpec: 'ECC_NIST_P256', PublicKey: spki });
    const signer = new KmsEcdsaSigner({ keyId: KMS_KEY, client: new KMSClient({ region: 'eu-west-1' }) });

    // Act
    const publicKey = await signer.publicKey();

    // Assess
    expect(publicKey.algorithm).toBe('ecdsa-p256-sha256');
  });

  it('needs a key id and a client or AWS settings', () => {
    expect(() => new KmsEcdsaSigner({ keyId: ' ', client: new KMSClient({ region: 'eu-west-1' }) })).toThrow(InputError);
    expect(() => new KmsEcdsaSigner({ keyId: KMS_KEY })).toThrow(InputError);
  });
});

describe('KmsMlDsaSigner', () => {
  const keys = ml_dsa44.keygen(SEED_B);

  beforeEach(() => {
    kms.reset();
    kms.on(SignCommand).callsFake((input: { Message: Uint8Array }) => ({ Signature: ml_dsa44.sign(input.Message, keys.secretKey), SigningAlgorithm: 'ML_DSA_SHAKE_256' }));
    kms.on(GetPublicKeyCommand).resolves({ KeySpec: 'ML_DSA_44', SigningAlgorithms: ['ML_DSA_SHAKE_256'], PublicKey: mlDsa44Spki(keys.publicKey) });
  });

  it('signs the raw statement with ML_DSA_SHAKE_256 and the signature verifies offline', async () => {
    // Prepare
    const signer = new KmsMlDsaSigner({ keyId: 'alias/ledger-pq', client: new KMSClient({ region: 'eu-west-1' }) });

    // Act
    const signature = await signed(signer);
    const publicKey = await signer.publicKey();

    // Assess
    expect(kms.commandCalls(SignCommand)[0]!.args[0].input).toEqual({ KeyId: 'alias/ledger-pq', Message: STATEMENT, MessageType: 'RAW', SigningAlgorithm: 'ML_DSA_SHAKE_256' });
    expect(signature.algorithm).toBe('ml-dsa-44');
    expect(publicKey.algorithm).toBe('ml-dsa-44');
    expect(verifyEpochSignature(signature, STATEMENT, publicKey)).toBe(true);
    expect(verifyEpochSignature(signature, flipByte(STATEMENT, 5), publicKey)).toBe(false);
  });

  it('accepts a raw 1312-byte public key from KMS by wrapping it as SPKI', async () => {
    // Prepare
    kms.on(GetPublicKeyCommand).resolves({ KeySpec: 'ML_DSA_44', PublicKey: keys.publicKey });
    const signer = new KmsMlDsaSigner({ keyId: 'alias/ledger-pq', client: new KMSClient({ region: 'eu-west-1' }) });

    // Act
    const publicKey = await signer.publicKey();

    // Assess
    expect(publicKey.spki.equals(mlDsa44Spki(keys.publicKey))).toBe(true);
    expect(verifyEpochSignature(await signed(signer), STATEMENT, publicKey)).toBe(true);
  });

  it('refuses a key that does not sign with ML_DSA_SHAKE_256', async () => {
    // Prepare
    kms.on(GetPublicKeyCommand).resolves({ KeySpec: 'ML_DSA_44', SigningAlgorithms: ['ECDSA_SHA_256'], PublicKey: mlDsa44Spki(keys.publicKey) });
    const signer = new KmsMlDsaSigner({ keyId: 'alias/ledger-pq', client: new KMSClient({ region: 'eu-west-1' }) });

    // Act
    const error = await caught(() => signer.publicKey());

    // Assess
    expect(error.message).toBe('KMS key alias/ledger-pq does not sign with ML_DSA_SHAKE_256');
  });
});

describe('kmsClient', () => {
  it('creates one client per process per settings', () => {
    const a = kmsClient({ region: 'eu-west-1' });
    expect(kmsClient({ region: 'eu-west-1' })).toBe(a);
    expect(kmsClient({ region: 'eu-west-1', endpoint: 'http://127.0.0.1:4566' })).not.toBe(a);
  });
});
