/**
 * Epoch signing with an asymmetric AWS KMS key on the emulator (issue 6:
 * "KMS signing on the emulator"): an ECC_NIST_P256 / SIGN_VERIFY key signs an
 * epoch statement through KmsEcdsaSigner, and the signature verifies offline
 * with only the public key KMS GetPublicKey returns; a tampered statement, a
 * tampered signature or another key's public key do not. Then the whole
 * path on the AWS backend: blocks in DynamoDB, epochs sealed with the KMS key
 * and stored in the epochs table, verified with the public key alone.
 *
 * Not covered here because moto (5.2.5) has no ML-DSA key specs: KMS
 * ML_DSA_44 keys (KmsMlDsaSigner); their signatures are verified offline with
 * the same code as embedded ML-DSA-44 keys (unit tests). moto's GetPublicKey
 * also lacks `KeySpec` (see the client below).
 */
import { randomBytes, verify as cryptoVerify } from 'node:crypto';
import { CreateKeyCommand, GetPublicKeyCommand, KMSClient, VerifyCommand } from '@aws-sdk/client-kms';
import { InputError } from '../../src/errors';
import { attestationRoots, encodeBlockFields, LEDGER_SCHEMA_VERSION, type BlockFields, type StoredBlock } from '../../src/ledger/block';
import { decodeEpochStatement, encodeEpochStatement, sealEpochs, verifyEpochs, type EpochStatement } from '../../src/ledger/epochs';
import { digest, ZERO_HASH } from '../../src/ledger/hash';
import { KmsEcdsaSigner, verifyEpochSignature, type EpochPublicKey } from '../../src/ledger/signing';
import type { EpochSignature } from '../../src/ledger/store';
import { DynamoLedgerStore } from '../../src/store/aws/ledger-store';
import { uniqueId } from '../store/contract/harness';
import { emulatorEndpoint, useSuiteTables } from './tables';

const tables = useSuiteTables('ledgerkms');
let kms: KMSClient;

beforeAll(() => {
  kms = new KMSClient({ endpoint: emulatorEndpoint(), region: process.env.AWS_REGION || 'us-east-1', maxAttempts: 4 });
  // moto 5.2.5's GetPublicKey answers only the deprecated `CustomerMasterKeySpec`, where AWS
  // answers both it and `KeySpec` (the field KmsEcdsaSigner checks). Fill in `KeySpec` from it,
  // as AWS would, and only when absent: every other field is moto's own.
  kms.middlewareStack.add(
    (next, context) => async (args) => {
      const result = await next(args);
      if (context.commandName === 'GetPublicKeyCommand') {
        const output = result.output as { KeySpec?: string; CustomerMasterKeySpec?: string };
        output.KeySpec ??= output.CustomerMasterKeySpec;
      }
      return result;
    },
    { step: 'initialize', name: 'motoGetPublicKeySpec' },
  );
});

afterAll(() => kms.destroy());

/** A fresh asymmetric signing key on the emulator; returns its key id. */
async function createKey(keySpec: 'ECC_NIST_P256' | 'RSA_2048' = 'ECC_NIST_P256'): Promise<string> {
  const created = await kms.send(new CreateKeyCommand({ KeySpec: keySpec, KeyUsage: 'SIGN_VERIFY', Description: 'phase-mirror ledger epoch test key' }));
  const keyId = created.KeyMetadata?.KeyId;
  if (keyId === undefined) throw new Error('CreateKey returned no key id');
  return keyId;
}

/** The public key exactly as KMS GetPublicKey returns it: what an auditor is given. */
async function fetchPublicKey(keyId: string): Promise<EpochPublicKey> {
  const response = await kms.send(new GetPublicKeyCommand({ KeyId: keyId }));
  return { algorithm: 'ecdsa-p256-sha256', keyId, spki: Buffer.from(response.PublicKey!) };
}

const statementFields = (overrides: Partial<EpochStatement> = {}): EpochStatement => ({
  repository: 'acme/widgets',
  number: 3,
  start: 300,
  end: 399,
  root: randomBytes(32).toString('hex'),
  sealed_at: '2030-01-02T00:00:00.000Z',
  epoch_size: 100,
  ...overrides,
});

function flipByte(bytes: Buffer, index: number): Buffer {
  const copy = Buffer.from(bytes);
  copy[index] ^= 0x01;
  return copy;
}

/** A well-formed block on `previous` (or height 0). */
function makeBlock(repository: string, previous: StoredBlock | undefined): StoredBlock {
  const height = previous === undefined ? 0 : previous.height + 1;
  const reasoningLeaves = [randomBytes(40), randomBytes(40)];
  const fields: BlockFields = {
    schema_version: LEDGER_SCHEMA_VERSION,
    repository,
    height,
    prev_hash: previous?.hash ?? ZERO_HASH,
    timestamp: new Date(Date.UTC(2030, 0, 1) + height * 1000).toISOString(),
    mode: 'pull_request',
    commit: 'abc123',
    outcome: 'pass',
    degraded: false,
    rules_hash: randomBytes(32).toString('hex'),
    report_hash: randomBytes(32).toString('hex'),
    ui_through_seq: 0,
    ...attestationRoots('sha256', reasoningLeaves, []),
    hash_algorithm: 'sha256-v1',
  };
  const canonical = encodeBlockFields(fields);
  return { repository, height, canonical, hash: digest('sha256', canonical).toString('hex'), reasoningLeaves, uiLeaves: [], fields };
}

describe('KmsEcdsaSigner on the emulator', () => {
  it('signs an epoch statement that verifies offline with only the GetPublicKey public key', async () => {
    // Prepare
    const keyId = await createKey();
    const signer = new KmsEcdsaSigner({ keyId, client: kms });
    const statement = encodeEpochStatement(statementFields());

    // Act
    const bytes = await signer.sign(statement);
    const publicKey = await fetchPublicKey(keyId);

    // Assess
    const signature: EpochSignature = { algorithm: signer.algorithm, keyId: signer.keyId, signature: bytes };
    expect(signature.algorithm).toBe('ecdsa-p256-sha256');
    expect(bytes[0]).toBe(0x30); // a DER ECDSA-Sig-Value
    expect(verifyEpochSignature(signature, statement, publicKey)).toBe(true);
    // Independently of signing.ts: plain node:crypto over the SPKI agrees.
    expect(cryptoVerify('sha256', statement, { key: publicKey.spki, format: 'der', type: 'spki', dsaEncoding: 'der' }, bytes)).toBe(true);
    // And KMS itself accepts it.
    const kmsVerdict = await kms.send(new VerifyCommand({ KeyId: keyId, Message: statement, MessageType: 'RAW', Signature: bytes, SigningAlgorithm: 'ECDSA_SHA_256' }));
    expect(kmsVerdict.SignatureValid).toBe(true);
  });

  it('rejects a tampered statement, a tampered signature and another key', async () => {
    // Prepare
    const keyId = await createKey();
    const otherKeyId = await createKey();
    const signer = new KmsEcdsaSigner({ keyId, client: kms });
    const fields = statementFields();
    const statement = encodeEpochStatement(fields);
    const signature: EpochSignature = { algorithm: 'ecdsa-p256-sha256', keyId, signature: await signer.sign(statement) };
    const publicKey = await fetchPublicKey(keyId);

    // Act
    const anotherRoot = encodeEpochStatement({ ...fields, root: randomBytes(32).toString('hex') });
    const verdicts = {
      intact: verifyEpochSignature(signature, statement, publicKey),
      lastByteFlipped: verifyEpochSignature(signature, flipByte(statement, statement.length - 1), publicKey),
      anotherRoot: verifyEpochSignature(signature, anotherRoot, publicKey),
      signatureFlipped: verifyEpochSignature({ ...signature, signature: flipByte(signature.signature, signature.signature.length - 1) }, statement, publicKey),
      otherKey: verifyEpochSignature(signature, statement, await fetchPublicKey(otherKeyId)),
    };

    // Assess
    expect(verdicts).toEqual({ intact: true, lastByteFlipped: false, anotherRoot: false, signatureFlipped: false, otherKey: false });
    expect(decodeEpochStatement(statement)).toEqual(fields);
  });

  it('reports the same public key as GetPublicKey, identified by the KMS key id', async () => {
    const keyId = await createKey();
    const signer = new KmsEcdsaSigner({ keyId, client: kms });

    const fromSigner = await signer.publicKey();

    expect(fromSigner).toEqual(await fetchPublicKey(keyId));
    expect(fromSigner.keyId).toBe(keyId);
  });

  it('refuses a KMS key that is not ECC_NIST_P256 with InputError naming the key', async () => {
    const keyId = await createKey('RSA_2048');
    const signer = new KmsEcdsaSigner({ keyId, client: kms });

    const attempt = signer.publicKey();

    await expect(attempt).rejects.toBeInstanceOf(InputError);
    await expect(attempt).rejects.toThrow(new RegExp(`KMS key ${keyId} is RSA_2048, not ECC_NIST_P256`));
  });

  it('fails with STORE_FAILED naming kms:Sign for a key that does not exist', async () => {
    const missing = '11111111-2222-3333-4444-555555555555';
    const signer = new KmsEcdsaSigner({ keyId: missing, client: kms });

    await expect(signer.sign(Buffer.from('statement'))).rejects.toMatchObject({ code: 'STORE_FAILED', context: { operation: 'kms:Sign', keyId: missing } });
  });
});

describe('epochs sealed with KMS on the DynamoDB ledger', () => {
  it('seals the complete epochs of a DynamoDB stream with the KMS key and verifies them with only the public key', async () => {
    // Prepare: 5 blocks, epochs of 2 (two complete epochs)
    const store = new DynamoLedgerStore({ client: tables.documents, tableName: tables.names.ledger, epochsTableName: tables.names.ledgerEpochs });
    const repository = uniqueId('acme/sealed');
    let previous: StoredBlock | undefined;
    for (let i = 0; i < 5; i++) {
      previous = makeBlock(repository, previous);
      await store.append(previous);
    }
    const keyId = await createKey();
    const signer = new KmsEcdsaSigner({ keyId, client: kms });

    // Act
    const sealed = await sealEpochs(store, [signer], { repository, epochSize: 2, clock: () => new Date('2030-01-03T00:00:00.000Z') });
    const verified = await verifyEpochs(store, [await fetchPublicKey(keyId)], { repository });

    // Assess
    expect(sealed.sealed.map((epoch) => [epoch.number, epoch.startHeight, epoch.endHeight])).toEqual([
      [0, 0, 1],
      [1, 2, 3],
    ]);
    const stored = await store.epochs(repository);
    expect(stored).toEqual(sealed.sealed);
    expect(stored[0].signatures).toEqual([{ algorithm: 'ecdsa-p256-sha256', keyId, signature: expect.any(Buffer) }]);
    expect(verified.map((result) => [result.number, result.ok, result.failures])).toEqual([
      [0, true, []],
      [1, true, []],
    ]);
    expect(await store.getSetting('epoch_size')).toBe('2');
  });

  it('fails verification of an epoch whose stored statement was altered after signing', async () => {
    // Prepare: an epoch sealed with the KMS key and stored in DynamoDB; a copy with one statement byte changed
    const store = new DynamoLedgerStore({ client: tables.documents, tableName: tables.names.ledger, epochsTableName: tables.names.ledgerEpochs });
    const repository = uniqueId('acme/tampered');
    const genesis = makeBlock(repository, undefined);
    await store.append(genesis);
    await store.append(makeBlock(repository, genesis));
    const keyId = await createKey();
    const signer = new KmsEcdsaSigner({ keyId, client: kms });
    const publicKey = await fetchPublicKey(keyId);
    const [epoch] = (await sealEpochs(store, [signer], { repository, epochSize: 2 })).sealed;
    const forged = { ...epoch!, statement: flipByte(epoch!.statement, epoch!.statement.length - 1) };

    // Act
    const intact = verifyEpochSignature(epoch!.signatures[0]!, epoch!.statement, publicKey);
    const tampered = verifyEpochSignature(forged.signatures[0]!, forged.statement, publicKey);
    const storedBack = (await store.epochs(repository))[0]!;

    // Assess
    expect(intact).toBe(true);
    expect(tampered).toBe(false);
    expect(storedBack.statement.equals(epoch!.statement)).toBe(true);
    expect(verifyEpochSignature(storedBack.signatures[0]!, storedBack.statement, publicKey)).toBe(true);
  });
});
