/**
 * Sealed epochs (src/ledger/epochs.ts) over real blocks in the in-memory
 * ledger store: sealing every complete epoch with every signer, the
 * conditional put, the backfill plan, the dual (SHA3-256) epoch root, and
 * verification that recomputes each root from the stored blocks and checks
 * every signature with only the public keys, naming what failed.
 */
import { IntegrityError, InputError, DependencyError, PhaseMirrorError } from '../../src/errors';
import { buildBlock } from '../../src/ledger/block';
import { encodeRecord } from '../../src/ledger/encoding';
import {
  decodeEpochStatement,
  encodeEpochStatement,
  planBackfill,
  resolveEpochSize,
  rootOverBlockHashes,
  sealEpochs,
  verifyEpochs,
  type EpochStatement,
} from '../../src/ledger/epochs';
import { digest } from '../../src/ledger/hash';
import { Ed25519Signer, MlDsa44Signer, type EpochPublicKey, type EpochSigner } from '../../src/ledger/signing';
import type { SealedEpoch } from '../../src/ledger/store';
import { reportOf } from '../nonce/reports';
import { appendBlocks, steppingClock, T0 } from './epoch-fixtures';
import { MemoryLedgerStore } from './memory-ledger-store';

const REPO = 'acme/payments';
const OTHER = 'acme/web';
const ed = new Ed25519Signer(Buffer.alloc(32, 0x11));
const pq = new MlDsa44Signer(Buffer.alloc(32, 0x22));
let keys: EpochPublicKey[];

beforeAll(async () => {
  keys = [await ed.publicKey(), await pq.publicKey()];
});

async function caught(action: () => Promise<unknown>): Promise<PhaseMirrorError> {
  try {
    await action();
  } catch (error) {
    if (error instanceof PhaseMirrorError) return error;
    throw error;
  }
  throw new Error('expected an error');
}

const SAMPLE: EpochStatement = {
  repository: REPO,
  number: 2,
  start: 200,
  end: 299,
  root: 'ab'.repeat(32),
  sealed_at: '2026-11-24T12:00:00.000Z',
  epoch_size: 100,
};

describe('encodeEpochStatement / decodeEpochStatement', () => {
  it('round-trip a statement with and without the SHA3-256 root', () => {
    expect(decodeEpochStatement(encodeEpochStatement(SAMPLE))).toEqual(SAMPLE);
    const dual = { ...SAMPLE, root_sha3: 'cd'.repeat(32) };
    expect(decodeEpochStatement(encodeEpochStatement(dual))).toEqual(dual);
  });

  it('encode the digests as 32 raw bytes in the canonical field order', () => {
    const bytes = encodeEpochStatement({ ...SAMPLE, root_sha3: 'cd'.repeat(32) });
    expect(bytes.subarray(0, 5).toString('latin1')).toBe('PMLR\x01');
    expect(bytes.includes(Buffer.from('ab'.repeat(32), 'hex'))).toBe(true);
    expect(bytes.indexOf('repository')).toBeLessThan(bytes.indexOf('root_sha3'));
    expect(bytes.indexOf('root_sha3')).toBeLessThan(bytes.indexOf('sealed_at'));
  });

  it('reject a statement with fields reordered, missing, added or of the wrong type, naming the problem', () => {
    // Prepare
    const fields = [
      { name: 'repository', value: REPO },
      { name: 'number', value: 2 },
      { name: 'start', value: 200 },
      { name: 'end', value: 299 },
      { name: 'root', value: Buffer.alloc(32, 0xab) },
      { name: 'sealed_at', value: SAMPLE.sealed_at },
      { name: 'epoch_size', value: 100 },
    ];
    const variants = {
      reordered: encodeRecord([fields[1]!, fields[0]!, ...fields.slice(2)]),
      missing: encodeRecord(fields.filter((field) => field.name !== 'end')),
      added: encodeRecord([...fields, { name: 'comment', value: 'x' }]),
      shortRoot: encodeRecord(fields.map((field) => (field.name === 'root' ? { name: 'root', value: Buffer.alloc(31) } : field))),
      numberAsString: encodeRecord(fields.map((field) => (field.name === 'number' ? { name: 'number', value: '2' } : field))),
      notARecord: Buffer.from('{"root":"ab"}'),
    };

    // Act
    const messages = Object.fromEntries(
      Object.entries(variants).map(([name, bytes]) => {
        try {
          decodeEpochStatement(bytes);
          return [name, 'accepted'];
        } catch (error) {
          expect(error).toBeInstanceOf(IntegrityError);
          return [name, (error as Error).message];
        }
      }),
    );

    // Assess
    expect(messages.reordered).toMatch(/^epoch statement fields are \[number, repository/);
    expect(messages.missing).toMatch(/expected \[repository, number, start, end, root, sealed_at, epoch_size\]/);
    expect(messages.added).toMatch(/comment/);
    expect(messages.shortRoot).toBe('epoch statement field root is not a 32-byte digest');
    expect(messages.numberAsString).toBe('epoch statement field number is not an unsigned integer');
    expect(messages.notARecord).toMatch(/^epoch statement is not a canonical record: not a ledger record/);
  });
});

describe('resolveEpochSize', () => {
  it('defaults to 100, takes a requested size, and is pinned by the ledger setting', async () => {
    // Prepare
    const store = new MemoryLedgerStore();

    // Act
    const defaulted = await resolveEpochSize(store);
    const requested = await resolveEpochSize(store, 10);
    await store.putSetting('epoch_size', '25');
    const pinned = await resolveEpochSize(store);
    const contradiction = await caught(() => resolveEpochSize(store, 10));

    // Assess
    expect([defaulted, requested, pinned]).toEqual([100, 10, 25]);
    expect(contradiction).toBeInstanceOf(InputError);
    expect(contradiction.message).toBe("the ledger's epochs are 25 blocks (setting epoch_size); sealing with 10 would cover other heights");
  });

  it('refuses sizes outside 1..100000', async () => {
    const store = new MemoryLedgerStore();
    for (const size of [0, -5, 1.5, 100_001]) expect(await caught(() => resolveEpochSize(store, size))).toBeInstanceOf(InputError);
    await store.putSetting('epoch_size', 'lots');
    expect((await caught(() => resolveEpochSize(store))).message).toContain('ledger setting epoch_size "lots"');
  });
});

describe('sealEpochs', () => {
  it('seals every complete epoch with every signer, and leaves the incomplete one', async () => {
    // Prepare
    const store = new MemoryLedgerStore();
    const blocks = await appendBlocks(store, REPO, 25);
    const clock = steppingClock();

    // Act
    const result = await sealEpochs(store, [ed, pq], { repository: REPO, epochSize: 10, clock });

    // Assess
    expect(result.sealed.map((epoch) => [epoch.number, epoch.startHeight, epoch.endHeight])).toEqual([
      [0, 0, 9],
      [1, 10, 19],
    ]);
    expect(result.sealedConcurrently).toEqual([]);
    const first = result.sealed[0]!;
    const expectedRoot = rootOverBlockHashes(
      'sha256',
      blocks.slice(0, 10).map((block) => Buffer.from(block.hash, 'hex')),
    ).toString('hex');
    expect(first.root).toBe(expectedRoot);
    expect(first.rootSha3).toBeUndefined();
    expect(decodeEpochStatement(first.statement)).toEqual({
      repository: REPO,
      number: 0,
      start: 0,
      end: 9,
      root: expectedRoot,
      sealed_at: new Date(T0 + 86_400_000).toISOString(),
      epoch_size: 10,
    });
    expect(first.signatures.map((signature) => [signature.algorithm, signature.keyId])).toEqual([
      ['ed25519', ed.keyId],
      ['ml-dsa-44', pq.keyId],
    ]);
    expect(await store.epochs(REPO)).toEqual(result.sealed);
    expect(await store.getSetting('epoch_size')).toBe('10');
  });

  it('computes the root exactly as RFC 6962 over the 32-byte block hashes', async () => {
    // Prepare
    const store = new MemoryLedgerStore();
    const blocks = await appendBlocks(store, REPO, 3);
    const leaf = (i: number): Buffer => digest('sha256', Buffer.from([0x00]), Buffer.from(blocks[i]!.hash, 'hex'));
    const node = (a: Buffer, b: Buffer): Buffer => digest('sha256', Buffer.from([0x01]), a, b);

    // Act
    const { sealed } = await sealEpochs(store, [ed], { repository: REPO, epochSize: 3 });

    // Assess
    expect(sealed[0]!.root).toBe(node(node(leaf(0), leaf(1)), leaf(2)).toString('hex'));
  });

  it('seals nothing twice and picks up the next epoch once it is complete', async () => {
    // Prepare
    const store = new MemoryLedgerStore();
    await appendBlocks(store, REPO, 10);
    await sealEpochs(store, [ed], { epochSize: 5 });

    // Act
    const again = await sealEpochs(store, [ed]);
    await appendBlocks(store, REPO, 5);
    const next = await sealEpochs(store, [ed]);

    // Assess
    expect(again.sealed).toEqual([]);
    expect(next.epochSize).toBe(5);
    expect(next.sealed.map((epoch) => epoch.number)).toEqual([2]);
    expect((await store.epochs(REPO)).map((epoch) => epoch.number)).toEqual([0, 1, 2]);
  });

  it('seals every repository when none is named, each stream on its own', async () => {
    // Prepare
    const store = new MemoryLedgerStore();
    await appendBlocks(store, REPO, 7);
    await appendBlocks(store, OTHER, 4);

    // Act
    const result = await sealEpochs(store, [ed], { epochSize: 3 });

    // Assess
    expect(result.sealed.map((epoch) => `${epoch.repository}#${epoch.number}`)).toEqual([`${REPO}#0`, `${REPO}#1`, `${OTHER}#0`]);
  });

  it('reports an epoch a concurrent sealer stored first, keeping the winner', async () => {
    // Prepare
    const store = new MemoryLedgerStore();
    await appendBlocks(store, REPO, 4);
    const rival = new Ed25519Signer(Buffer.alloc(32, 0x99));
    store.beforeNext('putEpoch', async () => {
      await sealEpochs(store, [rival], { repository: REPO, epochSize: 2 });
    });

    // Act
    const result = await sealEpochs(store, [ed], { repository: REPO, epochSize: 2 });

    // Assess
    expect(result.sealed).toEqual([]);
    expect(result.sealedConcurrently.map((plan) => plan.number)).toEqual([0, 1]);
    expect((await store.epochs(REPO)).map((epoch) => epoch.signatures[0]!.keyId)).toEqual([rival.keyId, rival.keyId]);
  });

  it('refuses to seal an epoch with a tampered block, naming the height and field', async () => {
    // Prepare
    const store = new MemoryLedgerStore();
    await appendBlocks(store, REPO, 10);
    store.tamperBlock(REPO, 7, (block) => {
      block.canonical[40]! ^= 0x01;
    });

    // Act
    const error = await caught(() => sealEpochs(store, [ed], { repository: REPO, epochSize: 5 }));

    // Assess
    expect(error).toBeInstanceOf(IntegrityError);
    expect(error.code).toBe('LEDGER_INVALID');
    expect(error.message).toBe(`${REPO} epoch 1: block 7's stored hash differs from the hash of its canonical bytes; refusing to seal`);
    expect(error.location.field).toBe('hash');
    expect(error.context).toMatchObject({ height: 7, epoch: 1 });
    expect((await store.epochs(REPO)).map((epoch) => epoch.number)).toEqual([0]);
  });

  it('refuses to seal over a missing block or a broken prev_hash link', async () => {
    // Prepare
    const gap = new MemoryLedgerStore();
    await appendBlocks(gap, REPO, 6);
    gap.removeBlock(REPO, 4);
    const fork = new MemoryLedgerStore();
    const blocks = await appendBlocks(fork, REPO, 6);
    // Block 3 rebuilt on a different predecessor: a self-consistent block that does not link.
    const stranger = buildBlock({
      report: reportOf([]),
      repository: REPO,
      mode: 'push',
      commit: 'f'.repeat(40),
      previous: { ...blocks[1]!, height: 2 },
      actions: [],
      dualActivationHeight: undefined,
      timestamp: new Date(T0 + 3000),
    });
    fork.removeBlock(REPO, 3);
    fork.seedBlock(stranger);

    // Act
    const gapError = await caught(() => sealEpochs(gap, [ed], { epochSize: 3 }));
    const forkError = await caught(() => sealEpochs(fork, [ed], { epochSize: 3 }));

    // Assess
    expect(gapError.message).toBe(`${REPO} epoch 1: block 4 is missing; refusing to seal`);
    expect(forkError.message).toBe(`${REPO} epoch 1: block 3's prev_hash does not link to block 2; refusing to seal`);
    expect(forkError.location.field).toBe('prev_hash');
  });

  it('needs a signer and a consistent epoch size', async () => {
    // Prepare
    const store = new MemoryLedgerStore();
    await appendBlocks(store, REPO, 4);
    await sealEpochs(store, [ed], { epochSize: 2 });

    // Act
    const noSigner = await caught(() => sealEpochs(store, []));
    const otherSize = await caught(() => sealEpochs(store, [ed], { epochSize: 4 }));

    // Assess
    expect(noSigner).toBeInstanceOf(InputError);
    expect(noSigner.message).toBe('sealing an epoch needs at least one signer');
    expect(otherSize).toBeInstanceOf(InputError);
  });

  it('refuses a stream whose stored epochs are of another size', async () => {
    // Prepare
    const store = new MemoryLedgerStore();
    await appendBlocks(store, REPO, 8);
    await sealEpochs(store, [ed], { epochSize: 4 });
    await store.putSetting('epoch_size', '2');

    // Act
    const error = await caught(() => sealEpochs(store, [ed]));

    // Assess
    expect(error).toBeInstanceOf(IntegrityError);
    expect(error.message).toBe(`epoch 0 of ${REPO} covers heights 0-3, which is not an epoch of 2 blocks`);
  });

  it('adds the SHA3-256 root only to epochs whose blocks are all dual-v1', async () => {
    // Prepare
    const store = new MemoryLedgerStore();
    const blocks = await appendBlocks(store, REPO, 12, { dualFrom: 6 });

    // Act
    const { sealed } = await sealEpochs(store, [ed], { epochSize: 4 });

    // Assess
    expect(sealed.map((epoch) => epoch.rootSha3 !== undefined)).toEqual([false, false, true]);
    const expectedSha3 = rootOverBlockHashes(
      'sha3-256',
      blocks.slice(8, 12).map((block) => Buffer.from(block.hashSha3!, 'hex')),
    ).toString('hex');
    expect(sealed[2]!.rootSha3).toBe(expectedSha3);
    expect(decodeEpochStatement(sealed[2]!.statement).root_sha3).toBe(expectedSha3);
  });

  it('propagates an unreachable store as a DependencyError', async () => {
    // Prepare
    const store = new MemoryLedgerStore();
    await appendBlocks(store, REPO, 4);
    store.failNext(1, { op: 'range' });

    // Act
    const error = await caught(() => sealEpochs(store, [ed], { epochSize: 2 }));

    // Assess
    expect(error).toBeInstanceOf(DependencyError);
    expect(error.code).toBe('STORE_FAILED');
  });
});

describe('planBackfill', () => {
  it('lists every complete, unsealed epoch of every stream in scope', async () => {
    // Prepare
    const store = new MemoryLedgerStore();
    await appendBlocks(store, REPO, 350);
    await appendBlocks(store, OTHER, 99);

    // Act
    const all = await planBackfill(store);
    const one = await planBackfill(store, { repository: REPO, epochSize: 50 });

    // Assess
    expect(all).toEqual([
      { repository: REPO, number: 0, startHeight: 0, endHeight: 99 },
      { repository: REPO, number: 1, startHeight: 100, endHeight: 199 },
      { repository: REPO, number: 2, startHeight: 200, endHeight: 299 },
    ]);
    expect(one.map((epoch) => epoch.number)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(store.count('putEpoch')).toBe(0);
  });

  it('lists only the gaps once some epochs are sealed', async () => {
    // Prepare
    const store = new MemoryLedgerStore();
    await appendBlocks(store, REPO, 9);
    await sealEpochs(store, [ed], { epochSize: 3 });
    store.removeEpoch(REPO, 1);

    // Act
    const plan = await planBackfill(store);

    // Assess
    expect(plan).toEqual([{ repository: REPO, number: 1, startHeight: 3, endHeight: 5 }]);
  });

  it('is empty for an empty ledger or an unknown repository', async () => {
    const store = new MemoryLedgerStore();
    expect(await planBackfill(store)).toEqual([]);
    expect(await planBackfill(store, { repository: 'acme/none' })).toEqual([]);
  });
});

describe('verifyEpochs', () => {
  async function sealedStore(options: { dualFrom?: number; signers?: EpochSigner[] } = {}): Promise<MemoryLedgerStore> {
    const store = new MemoryLedgerStore();
    await appendBlocks(store, REPO, 12, { dualFrom: options.dualFrom });
    await sealEpochs(store, options.signers ?? [ed, pq], { epochSize: 4, clock: steppingClock() });
    return store;
  }

  it('accepts untouched epochs, checking both the classical and the ML-DSA-44 signature', async () => {
    // Prepare
    const store = await sealedStore({ dualFrom: 4 });

    // Act
    const results = await verifyEpochs(store, keys);

    // Assess
    expect(results.map((result) => [result.number, result.ok, result.failures])).toEqual([
      [0, true, []],
      [1, true, []],
      [2, true, []],
    ]);
    expect(results[0]!.signatures).toEqual([
      { algorithm: 'ed25519', keyId: ed.keyId, ok: true },
      { algorithm: 'ml-dsa-44', keyId: pq.keyId, ok: true },
    ]);
  });

  it('names the height and field of a block changed after sealing, and the root that no longer matches', async () => {
    // Prepare
    const store = await sealedStore();
    store.tamperBlock(REPO, 6, (block) => {
      block.canonical[block.canonical.length - 1]! ^= 0x01;
    });

    // Act
    const results = await verifyEpochs(store, keys, { repository: REPO });

    // Assess
    expect(results.map((result) => result.ok)).toEqual([true, false, true]);
    expect(results[1]!.failures).toEqual([
      { field: 'hash', height: 6, message: "block 6's stored hash differs from the SHA-256 of its canonical bytes" },
      { field: 'root', message: 'the epoch root recomputed from blocks 4-7 differs from the signed root' },
    ]);
  });

  it('detects a block replaced together with its hash column (the root still differs)', async () => {
    // Prepare
    const store = await sealedStore();
    store.tamperBlock(REPO, 1, (block) => {
      block.canonical[60]! ^= 0x01;
      block.hash = digest('sha256', block.canonical).toString('hex');
    });

    // Act
    const [epoch0] = await verifyEpochs(store, keys);

    // Assess
    expect(epoch0!.failures.map((failure) => failure.field)).toEqual(['root']);
  });

  it('names a missing block', async () => {
    // Prepare
    const store = await sealedStore();
    store.removeBlock(REPO, 9);

    // Act
    const results = await verifyEpochs(store, keys);

    // Assess
    expect(results[2]!.failures).toEqual([{ field: 'blocks', height: 9, message: 'block 9 of the epoch is missing' }]);
  });

  it('names a stored root column that differs from the signed statement', async () => {
    // Prepare
    const store = await sealedStore();
    store.tamperEpoch(REPO, 0, (epoch) => {
      epoch.root = 'ff'.repeat(32);
    });

    // Act
    const [epoch0] = await verifyEpochs(store, keys);

    // Assess
    expect(epoch0!.failures.map((failure) => failure.field)).toEqual(['statement.root']);
  });

  it('names every signature that does not verify over a changed statement', async () => {
    // Prepare
    const store = await sealedStore();
    store.tamperEpoch(REPO, 2, (epoch) => {
      const statement = decodeEpochStatement(epoch.statement);
      epoch.statement = encodeEpochStatement({ ...statement, sealed_at: '2030-01-01T00:00:00.000Z' });
      epoch.sealedAt = '2030-01-01T00:00:00.000Z';
    });

    // Act
    const results = await verifyEpochs(store, keys);

    // Assess
    expect(results[2]!.failures.map((failure) => failure.field)).toEqual(['signatures[0]', 'signatures[1]']);
    expect(results[2]!.failures[1]!.message).toBe(`ml-dsa-44 signature of ${pq.keyId} does not verify under the trusted ml-dsa-44 key ${pq.keyId}`);
  });

  it('checks the ML-DSA-44 signature even when the classical one verifies', async () => {
    // Prepare
    const store = await sealedStore();
    store.tamperEpoch(REPO, 1, (epoch) => {
      epoch.signatures[1]!.signature[100]! ^= 0x01;
    });

    // Act
    const results = await verifyEpochs(store, keys);

    // Assess
    expect(results[1]!.signatures.map((check) => check.ok)).toEqual([true, false]);
    expect(results[1]!.failures.map((failure) => failure.field)).toEqual(['signatures[1]']);
  });

  it('fails a signature without a trusted key, and an unsigned epoch', async () => {
    // Prepare
    const store = await sealedStore();
    store.tamperEpoch(REPO, 0, (epoch) => {
      epoch.signatures = [];
    });

    // Act
    const results = await verifyEpochs(store, [keys[0]!]);

    // Assess
    expect(results[0]!.failures).toEqual([{ field: 'signatures', message: 'the epoch is not signed' }]);
    expect(results[1]!.failures).toEqual([{ field: 'signatures[1]', message: `no trusted ml-dsa-44 public key to verify the signature of ${pq.keyId}` }]);
  });

  it('names a dual epoch sealed without its SHA3-256 root, even when correctly signed', async () => {
    // Prepare
    const store = await sealedStore({ dualFrom: 0, signers: [ed] });
    const downgraded = (await store.epochs(REPO))[0]!;
    const statement = encodeEpochStatement({ ...decodeEpochStatement(downgraded.statement), root_sha3: undefined });
    const forged: SealedEpoch = { ...downgraded, rootSha3: undefined, statement, signatures: [{ algorithm: 'ed25519', keyId: ed.keyId, signature: await ed.sign(statement) }] };
    delete forged.rootSha3;
    store.removeEpoch(REPO, 0);
    store.seedEpoch(forged);

    // Act
    const [epoch0] = await verifyEpochs(store, keys);

    // Assess
    expect(epoch0!.failures).toEqual([{ field: 'root_sha3', message: 'every block of the epoch is dual-v1 but the epoch carries no SHA3-256 root' }]);
  });

  it('names a changed SHA3-256 root of a dual epoch', async () => {
    // Prepare
    const store = await sealedStore({ dualFrom: 0 });
    store.tamperBlock(REPO, 10, (block) => {
      block.canonical[70]! ^= 0x01;
      block.hash = digest('sha256', block.canonical).toString('hex');
      block.hashSha3 = digest('sha3-256', block.canonical).toString('hex');
    });

    // Act
    const results = await verifyEpochs(store, keys);

    // Assess
    expect(results[2]!.failures.map((failure) => failure.field)).toEqual(['root', 'root_sha3']);
  });

  it('names a statement that is not canonical', async () => {
    // Prepare
    const store = await sealedStore();
    store.tamperEpoch(REPO, 0, (epoch) => {
      epoch.statement = Buffer.from('garbage');
    });

    // Act
    const [epoch0] = await verifyEpochs(store, keys);

    // Assess
    expect(epoch0!.failures[0]!.field).toBe('statement');
    expect(epoch0!.failures.map((failure) => failure.field)).toContain('signatures[0]');
  });

  it('returns nothing for a ledger without epochs', async () => {
    const store = new MemoryLedgerStore();
    await appendBlocks(store, REPO, 3);
    expect(await verifyEpochs(store, keys)).toEqual([]);
  });
});
