/**
 * Ledger proofs (src/ledger/proofs.ts): inclusion proofs of blocks in their
 * sealed epochs and consistency proofs between stream tree heads, cut from
 * the in-memory store and verified offline (after a JSON round trip) with
 * only the public keys. Every tampered field of a proof file fails with a
 * reason naming it.
 */
import { IntegrityError, InputError, NotFoundError, PhaseMirrorError } from '../../src/errors';
import { decodeBlockFields } from '../../src/ledger/block';
import { decodeEpochStatement, epochLeafHashes, rootOverBlockHashes, sealEpochs } from '../../src/ledger/epochs';
import { inclusionProof } from '../../src/ledger/merkle';
import { proveConsistency, proveInclusion, verifyProof, type ConsistencyProof, type InclusionProof } from '../../src/ledger/proofs';
import { Ed25519Signer, MlDsa44Signer, type EpochPublicKey } from '../../src/ledger/signing';
import { appendBlocks, steppingClock } from './epoch-fixtures';
import { MemoryLedgerStore } from './memory-ledger-store';

const REPO = 'acme/payments';
const ed = new Ed25519Signer(Buffer.alloc(32, 0x31));
const pq = new MlDsa44Signer(Buffer.alloc(32, 0x32));
let keys: EpochPublicKey[];
let edOnly: EpochPublicKey[];

beforeAll(async () => {
  edOnly = [await ed.publicKey()];
  keys = [...edOnly, await pq.publicKey()];
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

/** A proof as an auditor receives it: a JSON file. */
function asFile<T>(proof: T): T {
  return JSON.parse(JSON.stringify(proof)) as T;
}

/** 23 blocks, epochs of 10 sealed (0 and 1), signed classically only unless `signers` says otherwise. */
async function sealedStream(options: { dualFrom?: number; postQuantum?: boolean } = {}): Promise<MemoryLedgerStore> {
  const store = new MemoryLedgerStore();
  await appendBlocks(store, REPO, 23, { dualFrom: options.dualFrom });
  await sealEpochs(store, options.postQuantum === true ? [ed, pq] : [ed], { epochSize: 10, clock: steppingClock() });
  return store;
}

function flipHexChar(value: string, index: number): string {
  const replacement = value[index] === '0' ? '1' : '0';
  return value.slice(0, index) + replacement + value.slice(index + 1);
}

describe('proveInclusion', () => {
  it('proves every block of every sealed epoch, verifiable offline after a JSON round trip', async () => {
    // Prepare
    const store = await sealedStream();
    const failures: string[] = [];

    // Act
    for (let height = 0; height < 20; height += 1) {
      const result = verifyProof(asFile(await proveInclusion(store, REPO, height)), edOnly);
      if (!result.ok) failures.push(`${height}: ${result.failures.join('; ')}`);
    }

    // Assess
    expect(failures).toEqual([]);
  });

  it('carries the block, its leaf index, the audit path, the epoch root and the signed statement', async () => {
    // Prepare
    const store = await sealedStream();
    const block = (await store.get(REPO, 13))!;
    const epoch = (await store.epochs(REPO))[1]!;

    // Act
    const proof = await proveInclusion(store, REPO, 13, 10);

    // Assess
    expect(proof).toMatchObject({
      type: 'inclusion',
      version: 1,
      repository: REPO,
      height: 13,
      block_hash: block.hash,
      leaf_index: 3,
      epoch: { number: 1, size: 10, start_height: 10, end_height: 19, root: epoch.root, sealed_at: epoch.sealedAt },
    });
    expect(proof.audit_path).toHaveLength(4);
    expect(decodeBlockFields(Buffer.from(proof.block, 'base64')).height).toBe(13);
    expect(decodeEpochStatement(Buffer.from(proof.epoch.statement, 'base64')).root).toBe(epoch.root);
    expect(proof.epoch.signatures).toEqual([{ algorithm: 'ed25519', key_id: ed.keyId, signature: epoch.signatures[0]!.signature.toString('base64') }]);
    expect(proof.block_hash_sha3).toBeUndefined();
  });

  it('adds the SHA3-256 side for a dual epoch, and both signatures when there are two', async () => {
    // Prepare
    const store = await sealedStream({ dualFrom: 10, postQuantum: true });

    // Act
    const classical = await proveInclusion(store, REPO, 4);
    const dual = await proveInclusion(store, REPO, 17);
    const result = verifyProof(asFile(dual), keys);

    // Assess
    expect(classical.audit_path_sha3).toBeUndefined();
    expect(dual.block_hash_sha3).toBe((await store.get(REPO, 17))!.hashSha3);
    expect(dual.audit_path_sha3).toHaveLength(4);
    expect(dual.epoch.root_sha3).toBe((await store.epochs(REPO))[1]!.rootSha3);
    expect(result).toEqual({
      ok: true,
      type: 'inclusion',
      failures: [],
      signatures: [
        { algorithm: 'ed25519', keyId: ed.keyId, ok: true },
        { algorithm: 'ml-dsa-44', keyId: pq.keyId, ok: true },
      ],
    });
  });

  it('refuses a block that does not exist or is not sealed yet, and a wrong epoch size', async () => {
    // Prepare
    const store = await sealedStream();

    // Act
    const missing = await caught(() => proveInclusion(store, REPO, 99));
    const unsealed = await caught(() => proveInclusion(store, REPO, 21));
    const wrongSize = await caught(() => proveInclusion(store, REPO, 5, 100));
    const negative = await caught(() => proveInclusion(store, REPO, -1));

    // Assess
    expect(missing).toBeInstanceOf(NotFoundError);
    expect(missing.message).toBe(`${REPO} has no block at height 99`);
    expect(unsealed).toBeInstanceOf(NotFoundError);
    expect(unsealed.message).toContain('is not in a sealed epoch yet');
    expect(wrongSize).toBeInstanceOf(InputError);
    expect(wrongSize.message).toBe(`epoch 0 of ${REPO} has 10 blocks, not 100`);
    expect(negative).toBeInstanceOf(InputError);
  });

  it('refuses to cut a proof from blocks that no longer give the sealed root', async () => {
    // Prepare
    const store = await sealedStream();
    store.tamperBlock(REPO, 2, (block) => {
      block.canonical[50]! ^= 0x01;
    });

    // Act
    const error = await caught(() => proveInclusion(store, REPO, 7));

    // Assess
    expect(error).toBeInstanceOf(IntegrityError);
    expect(error.message).toContain('no longer give its sealed root');
  });
});

describe('verifyProof (inclusion)', () => {
  let proof: InclusionProof;
  let dualProof: InclusionProof;

  beforeAll(async () => {
    proof = asFile(await proveInclusion(await sealedStream(), REPO, 6));
    dualProof = asFile(await proveInclusion(await sealedStream({ dualFrom: 0, postQuantum: true }), REPO, 12));
  });

  function tampered(edit: (copy: InclusionProof) => void, base: InclusionProof = proof): InclusionProof {
    const copy = asFile(base);
    edit(copy);
    return copy;
  }

  it('rejects a change of any hex character of any audit path node, naming the path', () => {
    const accepted: string[] = [];
    for (const [name, base, field] of [
      ['sha256', proof, 'audit_path'],
      ['sha3', dualProof, 'audit_path_sha3'],
    ] as const) {
      const path = base[field]!;
      path.forEach((node, nodeIndex) => {
        for (let char = 0; char < node.length; char += 1) {
          const result = verifyProof(
            tampered((copy) => {
              copy[field]![nodeIndex] = flipHexChar(node, char);
            }, base),
            keys,
          );
          if (result.ok || !result.failures.some((failure) => failure.startsWith(`${field}: does not lead`))) accepted.push(`${name} node ${nodeIndex} char ${char}`);
        }
      });
    }
    expect(accepted).toEqual([]);
  });

  it('rejects a removed, added, repeated or reordered path node', () => {
    const path = proof.audit_path;
    const variants = [
      path.slice(1),
      path.slice(0, -1),
      [...path, path[0]!],
      [path[0]!, ...path],
      [path[1]!, path[0]!, ...path.slice(2)],
      [...path.slice(0, 2), proof.block_hash, ...path.slice(2)],
    ];
    for (const variant of variants) {
      expect(verifyProof(tampered((copy) => (copy.audit_path = variant)), keys).failures).toContain(
        'audit_path: does not lead from block_hash at leaf 6 of 10 to epoch.root',
      );
    }
  });

  it('rejects a different block hash, leaf index or height', () => {
    // Act
    const otherHash = verifyProof(tampered((copy) => (copy.block_hash = flipHexChar(copy.block_hash, 0))), edOnly);
    const otherIndex = verifyProof(tampered((copy) => (copy.leaf_index = 7)), edOnly);
    const otherHeight = verifyProof(
      tampered((copy) => {
        copy.height = 7;
        copy.leaf_index = 7;
      }),
      edOnly,
    );

    // Assess
    expect(otherHash.failures).toEqual(['block: its SHA-256 is not block_hash', 'audit_path: does not lead from block_hash at leaf 6 of 10 to epoch.root']);
    expect(otherIndex.failures).toContain('leaf_index 7 is not height − start_height (6)');
    expect(otherIndex.failures).toContain('audit_path: does not lead from block_hash at leaf 7 of 10 to epoch.root');
    expect(otherHeight.ok).toBe(false);
  });

  it('rejects changed block bytes that no longer hash to block_hash', () => {
    // Act
    const result = verifyProof(
      tampered((copy) => {
        const bytes = Buffer.from(copy.block, 'base64');
        bytes[30]! ^= 0x01;
        copy.block = bytes.toString('base64');
      }),
      edOnly,
    );

    // Assess
    expect(result.failures).toEqual(['block: its SHA-256 is not block_hash']);
  });

  it('rejects a root the signed statement does not name, even with a path that leads to it', () => {
    // Prepare: a forged tree in which block_hash really is leaf 6, with its own root and audit path.
    const forgedHashes = Array.from({ length: 10 }, (_, i) => Buffer.alloc(32, i + 1));
    forgedHashes[6] = Buffer.from(proof.block_hash, 'hex');
    const forgedRoot = rootOverBlockHashes('sha256', forgedHashes).toString('hex');
    const forgedPath = inclusionProof('sha256', epochLeafHashes('sha256', forgedHashes), 6).map((node) => node.toString('hex'));

    // Act
    const result = verifyProof(
      tampered((copy) => {
        copy.epoch.root = forgedRoot;
        copy.audit_path = forgedPath;
      }),
      edOnly,
    );

    // Assess
    expect(result.failures).toEqual([`epoch.statement: signs root = ${proof.epoch.root}, the proof says ${forgedRoot}`]);
  });

  it('rejects a statement from another epoch and changed epoch numbers', async () => {
    // Prepare
    const other = asFile(await proveInclusion(await sealedStream(), REPO, 16));

    // Act
    const swapped = verifyProof(
      tampered((copy) => {
        copy.epoch.statement = other.epoch.statement;
        copy.epoch.signatures = other.epoch.signatures;
      }),
      edOnly,
    );
    const renumbered = verifyProof(tampered((copy) => (copy.epoch.number = 3)), edOnly);

    // Assess
    expect(swapped.failures).toEqual(
      expect.arrayContaining([`epoch.statement: signs number = 1, the proof says 0`, `epoch.statement: signs root = ${other.epoch.root}, the proof says ${proof.epoch.root}`]),
    );
    expect(renumbered.failures).toEqual(['epoch.statement: signs number = 0, the proof says 3']);
  });

  it('rejects a changed signature, an unknown key, no key and no signature', async () => {
    // Act
    const changed = verifyProof(
      tampered((copy) => {
        const signature = Buffer.from(copy.epoch.signatures[0]!.signature, 'base64');
        signature[5]! ^= 0x01;
        copy.epoch.signatures[0]!.signature = signature.toString('base64');
      }),
      edOnly,
    );
    const stranger = verifyProof(proof, [await new Ed25519Signer(Buffer.alloc(32, 0x77)).publicKey()]);
    const noKeys = verifyProof(proof, []);
    const unsigned = verifyProof(tampered((copy) => (copy.epoch.signatures = [])), edOnly);

    // Assess
    expect(changed.failures).toEqual([`epoch.signatures[0]: ed25519 signature of ${ed.keyId} does not verify under the trusted ed25519 key ${ed.keyId}`]);
    expect(stranger.ok).toBe(false);
    expect(stranger.signatures[0]!.ok).toBe(false);
    expect(noKeys.failures).toEqual(['no trusted public key was given to verify the epoch signatures']);
    expect(unsigned.failures).toEqual(['epoch.signatures: the epoch statement is not signed']);
  });

  it('requires every signature present to verify, the ML-DSA-44 one included', () => {
    // Act
    const withoutPqKey = verifyProof(dualProof, edOnly);
    const pqTampered = verifyProof(
      tampered((copy) => {
        const signature = Buffer.from(copy.epoch.signatures[1]!.signature, 'base64');
        signature[2000]! ^= 0x01;
        copy.epoch.signatures[1]!.signature = signature.toString('base64');
      }, dualProof),
      keys,
    );

    // Assess
    expect(withoutPqKey.failures).toEqual([`epoch.signatures[1]: no trusted ml-dsa-44 public key to verify the signature of ${pq.keyId}`]);
    expect(pqTampered.signatures.map((check) => check.ok)).toEqual([true, false]);
  });

  it('rejects a dual proof missing part of its SHA3-256 side or with a changed SHA3 block hash', () => {
    // Act
    const partial = verifyProof(tampered((copy) => delete copy.audit_path_sha3, dualProof), keys);
    const sha3Hash = verifyProof(tampered((copy) => (copy.block_hash_sha3 = flipHexChar(copy.block_hash_sha3!, 10)), dualProof), keys);
    const stripped = verifyProof(
      tampered((copy) => {
        delete copy.audit_path_sha3;
        delete copy.block_hash_sha3;
        delete copy.epoch.root_sha3;
      }, dualProof),
      keys,
    );

    // Assess
    expect(partial.failures).toEqual(['block_hash_sha3, audit_path_sha3 and epoch.root_sha3 must be all present or all absent']);
    expect(sha3Hash.failures).toEqual(['block: its SHA3-256 is not block_hash_sha3', 'audit_path_sha3: does not lead from block_hash_sha3 at leaf 2 of 10 to epoch.root_sha3']);
    // The signed statement still commits to the SHA3 root: stripping the dual side is caught.
    expect(stripped.failures).toEqual([`epoch.statement: signs root_sha3 = ${dualProof.epoch.root_sha3}, the proof says undefined`]);
  });

  it('gives clear reasons for malformed proof files', () => {
    // Act
    const results = {
      notObject: verifyProof([1, 2], keys),
      noType: verifyProof({}, keys),
      badVersion: verifyProof({ ...proof, version: 2 }, keys),
      fields: verifyProof(
        tampered((copy) => {
          (copy as unknown as Record<string, unknown>).height = '6';
          copy.block_hash = 'XYZ';
          copy.audit_path[1] = 'ab';
          copy.epoch.statement = 'not base64!';
          (copy.epoch.signatures[0] as unknown as Record<string, unknown>).algorithm = 'rsa';
        }),
        keys,
      ),
      pathNotArray: verifyProof(tampered((copy) => ((copy as unknown as Record<string, unknown>).audit_path = 'abc')), keys),
    };

    // Assess
    expect(results.notObject.failures).toEqual(['the proof is not a JSON object']);
    expect(results.noType.failures).toEqual(['type: expected "inclusion" or "consistency", got nothing']);
    expect(results.badVersion.failures).toEqual(['version: expected 1, got 2']);
    expect(results.fields.failures).toEqual([
      'height: expected an integer ≥ 0',
      'block_hash: expected 64 lowercase hex characters',
      'epoch.statement: expected base64',
      'epoch.signatures[0].algorithm: expected one of ed25519, ecdsa-p256-sha256, ml-dsa-44',
      'audit_path[1]: expected 64 lowercase hex characters',
    ]);
    expect(results.pathNotArray.failures).toEqual(['audit_path: expected an array of hashes']);
  });
});

describe('proveConsistency', () => {
  it('proves every earlier tree head of the stream is a prefix of the current one', async () => {
    // Prepare
    const store = await sealedStream();
    const failures: string[] = [];

    // Act
    for (let oldSize = 1; oldSize <= 23; oldSize += 1) {
      const proof = asFile(await proveConsistency(store, REPO, oldSize));
      const result = verifyProof(proof, []);
      if (!result.ok || proof.new_size !== 23) failures.push(`${oldSize}: ${result.failures.join('; ')}`);
    }

    // Assess
    expect(failures).toEqual([]);
  });

  it('uses the tree heads over the blocks’ SHA-256 hashes', async () => {
    // Prepare
    const store = await sealedStream();
    const blocks = await store.range(REPO, 0, 22);

    // Act
    const proof = await proveConsistency(store, REPO, 10, 20);

    // Assess
    const head = (size: number): string => rootOverBlockHashes('sha256', blocks.slice(0, size).map((block) => Buffer.from(block.hash, 'hex'))).toString('hex');
    expect(proof).toMatchObject({ type: 'consistency', version: 1, repository: REPO, old_size: 10, new_size: 20, old_root: head(10), new_root: head(20) });
    // A tree head at an epoch boundary of one epoch is that epoch's root.
    expect(proof.old_root).toBe((await store.epochs(REPO))[0]!.root);
  });

  it('refuses sizes outside 1 ≤ old ≤ new ≤ the stream', async () => {
    // Prepare
    const store = await sealedStream();

    // Act
    const errors = await Promise.all([caught(() => proveConsistency(store, REPO, 0)), caught(() => proveConsistency(store, REPO, 5, 4)), caught(() => proveConsistency(store, REPO, 5, 24)), caught(() => proveConsistency(store, 'acme/none', 1))]);

    // Assess
    expect(errors.every((error) => error instanceof InputError)).toBe(true);
    expect(errors[2]!.message).toBe(`sizes must satisfy 1 ≤ old (5) ≤ new (24) ≤ 23, the blocks of ${REPO}`);
  });
});

describe('verifyProof (consistency)', () => {
  let proof: ConsistencyProof;

  beforeAll(async () => {
    proof = asFile(await proveConsistency(await sealedStream(), REPO, 7, 21));
  });

  it('rejects a change of any hex character of any node, a wrong root and wrong sizes', () => {
    // Prepare
    const accepted: string[] = [];

    // Act
    proof.path.forEach((node, nodeIndex) => {
      for (let char = 0; char < node.length; char += 1) {
        const copy = asFile(proof);
        copy.path[nodeIndex] = flipHexChar(node, char);
        if (verifyProof(copy, []).ok) accepted.push(`node ${nodeIndex} char ${char}`);
      }
    });
    const wrongRoot = verifyProof({ ...proof, old_root: flipHexChar(proof.old_root, 3) }, []);
    const swapped = verifyProof({ ...proof, old_root: proof.new_root, new_root: proof.old_root }, []);
    const backwards = verifyProof({ ...proof, old_size: 21, new_size: 7 }, []);

    // Assess
    expect(accepted).toEqual([]);
    expect(wrongRoot.failures).toEqual(['path: does not prove that the 7-block tree with old_root is a prefix of the 21-block tree with new_root']);
    expect(swapped.ok).toBe(false);
    expect(backwards.failures).toEqual(['old_size 21 is larger than new_size 7']);
  });

  it('names malformed fields', () => {
    const result = verifyProof({ ...proof, old_size: 0, new_root: 'zz', path: ['00'] }, []);
    expect(result.failures).toEqual(['old_size: expected an integer ≥ 1', 'new_root: expected 64 lowercase hex characters', 'path[0]: expected 64 lowercase hex characters']);
  });
});
