/**
 * `ledger seal | backfill | verify-epochs | prove | prove-consistency |
 * verify-proof | public-key`, called directly with a captured Io, the
 * in-memory ledger store and embedded keys in a temporary state folder: what
 * is printed, the exit codes, the files written, and that no private key
 * material is ever printed.
 */
import { generateKeyPairSync, sign as cryptoSign } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetPublicKeyCommand, KMSClient, SignCommand } from '@aws-sdk/client-kms';
import { mockClient } from 'aws-sdk-client-mock';
import { InputError, parsePublicKeys, UsageError, type PhaseMirrorError } from '@phase-mirror/mirror-dissonance';
import { appendBlocks } from '../../mirror-dissonance/test/ledger/epoch-fixtures';
import { MemoryLedgerStore } from '../../mirror-dissonance/test/ledger/memory-ledger-store';
import {
  embeddedEpochsContext,
  kmsEpochsContext,
  ledgerBackfillCommand,
  ledgerProveCommand,
  ledgerProveConsistencyCommand,
  ledgerPublicKeyCommand,
  ledgerSealCommand,
  ledgerVerifyEpochsCommand,
  ledgerVerifyProofCommand,
  type LedgerEpochsContext,
} from '../src/commands/ledger-epochs';
import { EXIT, exitCodeFor } from '../src/exit-codes';
import { captureIo } from './helpers';

const REPO = 'acme/payments';
const SEALED_AT = new Date('2026-11-24T08:00:00.000Z');

let root: string;
let stateDir: string;
let context: LedgerEpochsContext;
const outputs: string[] = [];

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'pm-cli-ledger-'));
  stateDir = join(root, '.phase-mirror');
  context = embeddedEpochsContext(stateDir, { now: () => SEALED_AT });
});

afterEach(() => {
  // No run ever printed a private seed.
  for (const name of ['ledger_ed25519_seed', 'ledger_ml_dsa_44_seed']) {
    const file = join(stateDir, name);
    if (!existsSync(file)) continue;
    const seed = readFileSync(file, 'utf8').trim();
    expect(outputs.join('\n')).not.toContain(seed);
  }
  outputs.length = 0;
  rmSync(root, { recursive: true, force: true });
});

async function run(action: (io: ReturnType<typeof captureIo>) => Promise<number>): Promise<{ code: number; stdout: string; stderr: string }> {
  const io = captureIo(root);
  const code = await action(io);
  const result = { code, stdout: io.stdout.join('\n'), stderr: io.stderr.join('\n') };
  outputs.push(result.stdout, result.stderr);
  return result;
}

async function caught(action: () => Promise<unknown>): Promise<PhaseMirrorError> {
  try {
    await action();
  } catch (error) {
    return error as PhaseMirrorError;
  }
  throw new Error('expected an error');
}

async function ledgerWith(blocks: number): Promise<MemoryLedgerStore> {
  const ledger = new MemoryLedgerStore('memory ledger');
  await appendBlocks(ledger, REPO, blocks);
  return ledger;
}

describe('ledger seal', () => {
  it('seals the complete epochs with the embedded key, created owner-only on first use', async () => {
    // Prepare
    const ledger = await ledgerWith(25);

    // Act
    const result = await run((io) => ledgerSealCommand({ epochSize: '10' }, ledger, context, io));

    // Assess
    expect(result.code).toBe(EXIT.OK);
    const [keyId] = (await context.trustedKeys()).map((key) => key.keyId);
    expect(result.stdout).toBe(`Sealed 2 epochs (0-1) in ${REPO}, heights 0-19\nsigned by ed25519 ${keyId} (epoch size 10)`);
    expect(statSync(join(stateDir, 'ledger_ed25519_seed')).mode & 0o777).toBe(0o600);
    expect((await ledger.epochs(REPO)).map((epoch) => epoch.sealedAt)).toEqual([SEALED_AT.toISOString(), SEALED_AT.toISOString()]);
  });

  it('says when there is nothing to seal, and prints JSON with --format json', async () => {
    // Prepare
    const ledger = await ledgerWith(5);

    // Act
    const text = await run((io) => ledgerSealCommand({}, ledger, context, io));
    const json = await run((io) => ledgerSealCommand({ epochSize: '5', format: 'json' }, ledger, context, io));

    // Assess
    expect(text.stdout).toBe('Sealed 0 epochs: no complete, unsealed epoch of 100 blocks in memory ledger');
    const parsed = JSON.parse(json.stdout) as { epochSize: number; sealed: { number: number; root: string }[]; signers: { algorithm: string }[] };
    expect(parsed.epochSize).toBe(5);
    expect(parsed.sealed.map((epoch) => epoch.number)).toEqual([0]);
    expect(parsed.signers.map((signer) => signer.algorithm)).toEqual(['ed25519']);
  });

  it('signs with ML-DSA-44 too when post-quantum signing is on', async () => {
    // Prepare
    const ledger = await ledgerWith(4);
    const pqContext = embeddedEpochsContext(stateDir, { postQuantum: true });

    // Act
    const result = await run((io) => ledgerSealCommand({ epochSize: '4' }, ledger, pqContext, io));

    // Assess
    expect(result.stdout).toMatch(/signed by ed25519 sha256:[0-9a-f]{64}, ml-dsa-44 sha256:[0-9a-f]{64}/);
    expect((await ledger.epochs(REPO))[0]!.signatures.map((signature) => signature.algorithm)).toEqual(['ed25519', 'ml-dsa-44']);
  });

  it('refuses a malformed epoch size or format as a usage error', async () => {
    const ledger = await ledgerWith(1);
    for (const options of [{ epochSize: '0' }, { epochSize: 'ten' }, { format: 'yaml' }]) {
      const error = await caught(() => ledgerSealCommand(options, ledger, context, captureIo(root)));
      expect(error).toBeInstanceOf(UsageError);
      expect(exitCodeFor(error)).toBe(EXIT.USAGE);
    }
  });
});

describe('ledger backfill', () => {
  it('--dry-run prints the epochs it would create and creates nothing, not even a key', async () => {
    // Prepare
    const ledger = await ledgerWith(350);

    // Act
    const result = await run((io) => ledgerBackfillCommand({ dryRun: true }, ledger, context, io));

    // Assess
    expect(result.code).toBe(EXIT.OK);
    expect(result.stdout).toBe(`Dry-run: Would create 3 epochs (0-2) in ${REPO}, heights 0-299`);
    expect(await ledger.epochs(REPO)).toEqual([]);
    expect(existsSync(stateDir)).toBe(false);
  });

  it('--dry-run lists only the missing epochs, and says 0 when none is missing', async () => {
    // Prepare
    const ledger = await ledgerWith(50);
    await run((io) => ledgerSealCommand({ epochSize: '10' }, ledger, context, io));
    ledger.removeEpoch(REPO, 1);
    ledger.removeEpoch(REPO, 2);

    // Act
    const gaps = await run((io) => ledgerBackfillCommand({ dryRun: true }, ledger, context, io));
    await run((io) => ledgerBackfillCommand({}, ledger, context, io));
    const none = await run((io) => ledgerBackfillCommand({ dryRun: true, format: 'text' }, ledger, context, io));
    const json = await run((io) => ledgerBackfillCommand({ dryRun: true, format: 'json' }, ledger, context, io));

    // Assess
    expect(gaps.stdout).toBe(`Dry-run: Would create 2 epochs (1-2) in ${REPO}, heights 10-29`);
    expect(none.stdout).toBe('Dry-run: Would create 0 epochs');
    expect(JSON.parse(json.stdout)).toEqual({ dryRun: true, location: 'memory ledger', epochs: [] });
  });

  it('without --dry-run creates the epochs', async () => {
    // Prepare
    const ledger = await ledgerWith(300);

    // Act
    const result = await run((io) => ledgerBackfillCommand({ repository: REPO }, ledger, context, io));

    // Assess
    expect(result.stdout.split('\n')[0]).toBe(`Created 3 epochs (0-2) in ${REPO}, heights 0-299`);
    expect((await ledger.epochs(REPO)).map((epoch) => epoch.number)).toEqual([0, 1, 2]);
  });
});

describe('ledger verify-epochs', () => {
  it('verifies every epoch with the embedded public key', async () => {
    // Prepare
    const ledger = await ledgerWith(20);
    await run((io) => ledgerSealCommand({ epochSize: '10' }, ledger, context, io));

    // Act
    const result = await run((io) => ledgerVerifyEpochsCommand({}, ledger, context, io));

    // Assess
    expect(result.code).toBe(EXIT.OK);
    expect(result.stdout).toBe(
      [
        `OK    ${REPO} epoch 0 (heights 0-9): root and ed25519 signature verified`,
        `OK    ${REPO} epoch 1 (heights 10-19): root and ed25519 signature verified`,
        `Verified 2 epochs with embedded keys in ${stateDir}`,
      ].join('\n'),
    );
  });

  it('exits 1 naming the height and field of a block changed after sealing', async () => {
    // Prepare
    const ledger = await ledgerWith(20);
    await run((io) => ledgerSealCommand({ epochSize: '10' }, ledger, context, io));
    ledger.tamperBlock(REPO, 13, (block) => {
      block.canonical[45]! ^= 0x01;
    });

    // Act
    const result = await run((io) => ledgerVerifyEpochsCommand({}, ledger, context, io));
    const json = await run((io) => ledgerVerifyEpochsCommand({ format: 'json' }, ledger, context, io));

    // Assess
    expect(result.code).toBe(EXIT.BLOCK);
    expect(result.stdout).toContain(`FAIL  ${REPO} epoch 1 (heights 10-19): hash @13: block 13's stored hash differs from the SHA-256 of its canonical bytes`);
    expect(result.stdout).toContain(`FAIL  ${REPO} epoch 1 (heights 10-19): root: the epoch root recomputed from blocks 10-19 differs from the signed root`);
    expect(result.stdout.split('\n').at(-1)).toBe('1 of 2 epochs failed verification');
    expect(json.code).toBe(EXIT.BLOCK);
    expect((JSON.parse(json.stdout) as { ok: boolean }).ok).toBe(false);
  });

  it('verifies with only a public key file, and fails with another key', async () => {
    // Prepare
    const ledger = await ledgerWith(10);
    await run((io) => ledgerSealCommand({ epochSize: '10' }, ledger, context, io));
    await run((io) => ledgerPublicKeyCommand({ output: 'ledger-keys.pem' }, context, io));
    const strangerDir = join(root, 'stranger');
    await run((io) => ledgerPublicKeyCommand({ output: 'stranger.pem' }, embeddedEpochsContext(strangerDir), io));
    // A verifier without the state folder: only the PEM file.
    const noKeys: LedgerEpochsContext = { signers: async () => [], trustedKeys: async () => [], keySource: 'nothing' };

    // Act
    const trusted = await run((io) => ledgerVerifyEpochsCommand({ publicKey: 'ledger-keys.pem' }, ledger, noKeys, io));
    const stranger = await run((io) => ledgerVerifyEpochsCommand({ publicKey: 'stranger.pem' }, ledger, noKeys, io));

    // Assess
    expect(trusted.code).toBe(EXIT.OK);
    expect(trusted.stdout.split('\n').at(-1)).toBe('Verified 1 epoch with ledger-keys.pem');
    expect(stranger.code).toBe(EXIT.BLOCK);
    expect(stranger.stdout).toContain('signatures[0]: ed25519 signature of sha256:');
  });

  it('refuses a missing public key file as an input error', async () => {
    const error = await caught(() => ledgerVerifyEpochsCommand({ publicKey: 'nope.pem' }, new MemoryLedgerStore(), context, captureIo(root)));
    expect(error).toBeInstanceOf(InputError);
    expect(error.message).toBe('cannot read public key file: ENOENT');
    expect(exitCodeFor(error)).toBe(EXIT.USAGE);
  });
});

describe('ledger public-key', () => {
  it('prints the embedded public keys as PEM that parsePublicKeys reads back', async () => {
    // Act
    const result = await run((io) => ledgerPublicKeyCommand({}, embeddedEpochsContext(stateDir, { postQuantum: true }), io));

    // Assess
    expect(result.code).toBe(EXIT.OK);
    expect(result.stdout).toMatch(/^# ed25519 sha256:[0-9a-f]{64}\n-----BEGIN PUBLIC KEY-----\n/);
    const keys = parsePublicKeys(result.stdout);
    expect(keys.map((key) => key.algorithm)).toEqual(['ed25519', 'ml-dsa-44']);
    expect(keys.map((key) => key.keyId)).toEqual((await context.trustedKeys()).map((key) => key.keyId));
    expect(result.stdout).not.toMatch(/PRIVATE/);
  });

  it('writes the keys to --output and prints JSON with --format json', async () => {
    // Act
    const file = await run((io) => ledgerPublicKeyCommand({ output: 'keys.pem' }, context, io));
    const json = await run((io) => ledgerPublicKeyCommand({ format: 'json' }, context, io));

    // Assess
    expect(file.stdout).toBe('');
    expect(file.stderr).toBe(`wrote 1 public key (embedded keys in ${stateDir}) to keys.pem`);
    expect(parsePublicKeys(readFileSync(join(root, 'keys.pem'), 'utf8'))).toHaveLength(1);
    expect(JSON.parse(json.stdout)).toEqual([{ algorithm: 'ed25519', keyId: expect.stringMatching(/^sha256:/), spki: expect.any(String) }]);
  });
});

describe('ledger prove and verify-proof', () => {
  async function sealed(): Promise<MemoryLedgerStore> {
    const ledger = await ledgerWith(25);
    await run((io) => ledgerSealCommand({ epochSize: '10' }, ledger, context, io));
    return ledger;
  }

  it('writes an inclusion proof that verify-proof accepts offline', async () => {
    // Prepare
    const ledger = await sealed();

    // Act
    const proved = await run((io) => ledgerProveCommand(REPO, '14', { output: 'proof.json' }, ledger, io));
    const verified = await run((io) => ledgerVerifyProofCommand('proof.json', {}, context, io));

    // Assess
    expect(proved.stderr).toBe(`wrote the inclusion proof of ${REPO}@14 to proof.json`);
    expect(verified.code).toBe(EXIT.OK);
    const epoch = (await ledger.epochs(REPO))[1]!;
    expect(verified.stdout).toBe(
      `OK  block 14 of ${REPO} is in epoch 1 (root ${epoch.root}), signed by ed25519 ${epoch.signatures[0]!.keyId}; keys: embedded keys in ${stateDir}`,
    );
  });

  it('prints the proof on stdout without --output', async () => {
    const ledger = await sealed();
    const result = await run((io) => ledgerProveCommand(REPO, '3', {}, ledger, io));
    expect(JSON.parse(result.stdout)).toMatchObject({ type: 'inclusion', repository: REPO, height: 3, leaf_index: 3 });
  });

  it('exits 1 listing the reasons for a tampered proof', async () => {
    // Prepare
    const ledger = await sealed();
    await run((io) => ledgerProveCommand(REPO, '14', { output: 'proof.json' }, ledger, io));
    const proof = JSON.parse(readFileSync(join(root, 'proof.json'), 'utf8')) as { audit_path: string[] };
    proof.audit_path[2] = proof.audit_path[2]!.replace(/^./, (c) => (c === '0' ? '1' : '0'));
    writeFileSync(join(root, 'tampered.json'), JSON.stringify(proof));

    // Act
    const result = await run((io) => ledgerVerifyProofCommand('tampered.json', {}, context, io));

    // Assess
    expect(result.code).toBe(EXIT.BLOCK);
    expect(result.stdout).toBe(
      ['FAIL  audit_path: does not lead from block_hash at leaf 4 of 10 to epoch.root', 'tampered.json: the proof does not verify (1 problem)'].join('\n'),
    );
  });

  it('refuses an unreadable or non-JSON proof file as an input error', async () => {
    // Prepare
    writeFileSync(join(root, 'broken.json'), '{"type":');

    // Act
    const missing = await caught(() => ledgerVerifyProofCommand('missing.json', {}, context, captureIo(root)));
    const broken = await caught(() => ledgerVerifyProofCommand('broken.json', {}, context, captureIo(root)));

    // Assess
    expect(missing).toBeInstanceOf(InputError);
    expect(missing.code).toBe('FILE_UNREADABLE');
    expect(broken).toBeInstanceOf(InputError);
    expect(broken.message).toMatch(/^not JSON: /);
    expect(broken.location.file).toBe('broken.json');
  });

  it('refuses a height that is not a number, and a block not sealed yet', async () => {
    const ledger = await sealed();
    expect(await caught(() => ledgerProveCommand(REPO, 'x', {}, ledger, captureIo(root)))).toBeInstanceOf(UsageError);
    const unsealed = await caught(() => ledgerProveCommand(REPO, '22', {}, ledger, captureIo(root)));
    expect(unsealed.code).toBe('NOT_FOUND');
    expect(exitCodeFor(unsealed)).toBe(EXIT.USAGE);
  });

  it('writes a consistency proof that verify-proof accepts without any key', async () => {
    // Prepare
    const ledger = await sealed();
    const noKeys: LedgerEpochsContext = { signers: async () => [], trustedKeys: async () => [], keySource: 'nothing' };

    // Act
    const proved = await run((io) => ledgerProveConsistencyCommand(REPO, { oldSize: '10', output: 'consistency.json' }, ledger, io));
    const verified = await run((io) => ledgerVerifyProofCommand('consistency.json', { format: 'json' }, noKeys, io));
    const text = await run((io) => ledgerVerifyProofCommand('consistency.json', {}, noKeys, io));

    // Assess
    expect(proved.stderr).toBe(`wrote the consistency proof 10 → 25 of ${REPO} to consistency.json`);
    expect(verified.code).toBe(EXIT.OK);
    expect(JSON.parse(verified.stdout)).toEqual({ proof: 'consistency.json', ok: true, type: 'consistency', failures: [], signatures: [] });
    expect(text.stdout).toBe(`OK  the 10-block tree head of ${REPO} is a prefix of its 25-block tree head`);
  });

  it('needs --old-size for a consistency proof', async () => {
    const ledger = await sealed();
    const error = await caught(() => ledgerProveConsistencyCommand(REPO, {}, ledger, captureIo(root)));
    expect(error).toBeInstanceOf(UsageError);
    expect(error.location.flag).toBe('--old-size');
  });
});

describe('kmsEpochsContext', () => {
  const kms = mockClient(KMSClient);
  const ec = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });

  beforeEach(() => {
    kms.reset();
    kms.on(SignCommand).callsFake((input: { Message: Uint8Array }) => ({ Signature: cryptoSign('sha256', input.Message, { key: ec.privateKey, dsaEncoding: 'der' }) }));
    kms.on(GetPublicKeyCommand).resolves({ KeySpec: 'ECC_NIST_P256', PublicKey: ec.publicKey.export({ type: 'spki', format: 'der' }) });
  });

  afterAll(() => kms.restore());

  it('seals with the KMS key and verifies with its GetPublicKey public key, printed under its key id', async () => {
    // Prepare
    const ledger = await ledgerWith(6);
    const kmsContext = kmsEpochsContext({ aws: { region: 'eu-west-1' }, ecdsaKeyId: 'alias/ledger', now: () => SEALED_AT });

    // Act
    const sealed = await run((io) => ledgerSealCommand({ epochSize: '3' }, ledger, kmsContext, io));
    const verified = await run((io) => ledgerVerifyEpochsCommand({}, ledger, kmsContext, io));
    const printed = await run((io) => ledgerPublicKeyCommand({}, kmsContext, io));

    // Assess
    expect(sealed.stdout).toBe(`Sealed 2 epochs (0-1) in ${REPO}, heights 0-5\nsigned by ecdsa-p256-sha256 alias/ledger (epoch size 3)`);
    expect(kms.commandCalls(SignCommand).map((call) => call.args[0].input.SigningAlgorithm)).toEqual(['ECDSA_SHA_256', 'ECDSA_SHA_256']);
    expect(verified.code).toBe(EXIT.OK);
    expect(verified.stdout.split('\n').at(-1)).toBe('Verified 2 epochs with KMS key alias/ledger');
    expect(printed.stdout.startsWith('# ecdsa-p256-sha256 alias/ledger\n-----BEGIN PUBLIC KEY-----')).toBe(true);
    expect(existsSync(stateDir)).toBe(false);
  });

  it('adds the ML-DSA-44 KMS signer when its key id is set', async () => {
    const kmsContext = kmsEpochsContext({ aws: { region: 'eu-west-1' }, ecdsaKeyId: 'alias/ledger', mlDsaKeyId: 'alias/ledger-pq' });
    expect((await kmsContext.signers()).map((signer) => [signer.algorithm, signer.keyId])).toEqual([
      ['ecdsa-p256-sha256', 'alias/ledger'],
      ['ml-dsa-44', 'alias/ledger-pq'],
    ]);
    expect(kmsContext.keySource).toBe('KMS keys alias/ledger, alias/ledger-pq');
  });
});
