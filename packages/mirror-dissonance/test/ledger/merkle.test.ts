/**
 * RFC 6962 Merkle trees (src/ledger/merkle.ts) against the Certificate
 * Transparency reference vectors (leaves "", 00, 10, 2021, 3031, 40414243,
 * 5051525354555657, 606162636465666768696a6b6c6d6e6f), then generated trees
 * of every size up to 64: every inclusion proof (every index) and every
 * consistency proof (every old size) verifies, and every single-byte or
 * single-node change of a path is rejected — the verifiers check every link.
 */
import { createHash } from 'node:crypto';
import {
  consistencyProof,
  inclusionProof,
  leafHash,
  merkleRoot,
  merkleRootOfLeafHashes,
  nodeHash,
  verifyConsistency,
  verifyInclusion,
} from '../../src/ledger/merkle';

const hex = (buffer: Uint8Array): string => Buffer.from(buffer).toString('hex');
const unhex = (text: string): Buffer => Buffer.from(text, 'hex');

const CT_LEAVES = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f'].map(unhex);
const EMPTY_ROOT = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
/** Roots of the trees of the first 1..8 reference leaves. */
const CT_ROOTS = [
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
];
const CT_INCLUSION = [
  { index: 0, size: 1, path: [] },
  {
    index: 0,
    size: 8,
    path: [
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ],
  },
  {
    index: 5,
    size: 8,
    path: [
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  },
  { index: 2, size: 3, path: ['fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125'] },
  {
    index: 1,
    size: 5,
    path: [
      '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
    ],
  },
];
const CT_CONSISTENCY = [
  { oldSize: 1, newSize: 1, path: [] },
  {
    oldSize: 1,
    newSize: 8,
    path: [
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ],
  },
  {
    oldSize: 6,
    newSize: 8,
    path: [
      '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  },
  {
    oldSize: 2,
    newSize: 5,
    path: ['5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e', 'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b'],
  },
];

const ctLeafHashes = CT_LEAVES.map((leaf) => leafHash('sha256', leaf));

/** Leaf hashes of a generated tree of n leaves (distinct data per leaf). */
function generated(n: number, algorithm: 'sha256' | 'sha3-256' = 'sha256'): Buffer[] {
  return Array.from({ length: n }, (_, i) => leafHash(algorithm, Buffer.from(`decision ${i}`)));
}

/**
 * Copies of `path` with one byte changed (XOR 0x01): every byte of every node,
 * or with `sampled` the first, a middle and the last byte of every node (the
 * larger trees, to keep the suite fast; every node is still changed).
 */
function* byteTampers(path: readonly Buffer[], sampled = false): Generator<{ where: string; path: Buffer[] }> {
  for (let node = 0; node < path.length; node += 1) {
    const bytes = sampled ? [0, 7 + (node % 17), 31] : Array.from({ length: path[node]!.length }, (_, i) => i);
    for (const byte of bytes) {
      const copy = path.map((p) => Buffer.from(p));
      copy[node]![byte]! ^= 0x01;
      yield { where: `node ${node} byte ${byte}`, path: copy };
    }
  }
}

/** Every copy of `path` with one node replaced, removed, duplicated, inserted, or two adjacent nodes swapped. */
function* nodeTampers(path: readonly Buffer[], foreign: Buffer): Generator<{ where: string; path: Buffer[] }> {
  for (let node = 0; node < path.length; node += 1) {
    yield { where: `node ${node} replaced`, path: path.map((p, i) => (i === node ? foreign : p)) };
    yield { where: `node ${node} removed`, path: path.filter((_, i) => i !== node) };
    yield { where: `node ${node} duplicated`, path: [...path.slice(0, node + 1), path[node]!, ...path.slice(node + 1)] };
    if (node + 1 < path.length && !path[node]!.equals(path[node + 1]!)) {
      yield { where: `nodes ${node} and ${node + 1} swapped`, path: path.map((p, i) => (i === node ? path[node + 1]! : i === node + 1 ? path[node]! : p)) };
    }
  }
  for (let at = 0; at <= path.length; at += 1) yield { where: `node inserted at ${at}`, path: [...path.slice(0, at), foreign, ...path.slice(at)] };
}

const FOREIGN = createHash('sha256').update('not a node of this tree').digest();

describe('leafHash and nodeHash', () => {
  it('prefix leaves with 0x00 and interior nodes with 0x01 (RFC 6962 §2.1)', () => {
    // Prepare
    const left = unhex('11'.repeat(32));
    const right = unhex('22'.repeat(32));

    // Act
    const leaf = leafHash('sha256', unhex('2021'));
    const node = nodeHash('sha256', left, right);

    // Assess
    expect(hex(leaf)).toBe(createHash('sha256').update(Buffer.from([0x00, 0x20, 0x21])).digest('hex'));
    expect(hex(node)).toBe(createHash('sha256').update(Buffer.concat([Buffer.from([0x01]), left, right])).digest('hex'));
    expect(hex(leafHash('sha256', Buffer.alloc(0)))).toBe(CT_ROOTS[0]);
  });
});

describe('merkleRoot', () => {
  it('of the empty tree is SHA-256 of the empty string', () => {
    expect(hex(merkleRoot('sha256', []))).toBe(EMPTY_ROOT);
    expect(hex(merkleRootOfLeafHashes('sha256', []))).toBe(EMPTY_ROOT);
  });

  it('of one leaf is the leaf hash', () => {
    expect(hex(merkleRoot('sha256', [CT_LEAVES[0]!]))).toBe('6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d');
    expect(hex(merkleRoot('sha256', [Buffer.from('x')]))).toBe(hex(leafHash('sha256', Buffer.from('x'))));
  });

  it.each(CT_ROOTS.map((root, i) => [i + 1, root] as const))('of the first %i reference leaves is the published root', (size, root) => {
    expect(hex(merkleRoot('sha256', CT_LEAVES.slice(0, size)))).toBe(root);
    expect(hex(merkleRootOfLeafHashes('sha256', ctLeafHashes.slice(0, size)))).toBe(root);
  });

  it('promotes an odd node instead of duplicating it', () => {
    // Prepare
    const [a, b, c] = ctLeafHashes as [Buffer, Buffer, Buffer];

    // Act
    const root = merkleRootOfLeafHashes('sha256', [a, b, c]);

    // Assess
    expect(root.equals(nodeHash('sha256', nodeHash('sha256', a, b), c))).toBe(true);
    expect(root.equals(nodeHash('sha256', nodeHash('sha256', a, b), nodeHash('sha256', c, c)))).toBe(false);
  });

  it('uses the requested digest (SHA3-256 trees for dual commitments)', () => {
    expect(hex(merkleRoot('sha3-256', []))).toBe(createHash('sha3-256').digest('hex'));
    expect(hex(merkleRoot('sha3-256', [Buffer.from('x')]))).toBe(createHash('sha3-256').update(Buffer.from([0x00, 0x78])).digest('hex'));
    expect(hex(merkleRoot('sha3-256', CT_LEAVES))).not.toBe(CT_ROOTS[7]);
  });
});

describe('inclusionProof', () => {
  it.each(CT_INCLUSION)('of leaf $index in a tree of $size is the reference audit path', ({ index, size, path }) => {
    // Act
    const proof = inclusionProof('sha256', ctLeafHashes.slice(0, size), index);

    // Assess
    expect(proof.map(hex)).toEqual(path);
    expect(verifyInclusion('sha256', ctLeafHashes[index]!, index, size, path.map(unhex), unhex(CT_ROOTS[size - 1]!))).toBe(true);
  });

  it('refuses an index outside the tree', () => {
    expect(() => inclusionProof('sha256', ctLeafHashes, 8)).toThrow(RangeError);
    expect(() => inclusionProof('sha256', ctLeafHashes, -1)).toThrow(RangeError);
    expect(() => inclusionProof('sha256', [], 0)).toThrow(RangeError);
    expect(() => inclusionProof('sha256', ctLeafHashes, 1.5)).toThrow(RangeError);
  });
});

describe('verifyInclusion', () => {
  it('accepts the proof of every leaf of every tree of 1 to 64 leaves', () => {
    const failures: string[] = [];
    for (let size = 1; size <= 64; size += 1) {
      const leaves = generated(size);
      const root = merkleRootOfLeafHashes('sha256', leaves);
      for (let index = 0; index < size; index += 1) {
        const path = inclusionProof('sha256', leaves, index);
        if (!verifyInclusion('sha256', leaves[index]!, index, size, path, root)) failures.push(`${index}/${size}`);
      }
    }
    expect(failures).toEqual([]);
  });

  it('rejects a single-byte change of every path node, for every leaf of every tree up to 64 leaves (every byte up to 32 leaves)', () => {
    const accepted: string[] = [];
    let checked = 0;
    for (let size = 2; size <= 64; size += 1) {
      const leaves = generated(size);
      const root = merkleRootOfLeafHashes('sha256', leaves);
      for (let index = 0; index < size; index += 1) {
        for (const tamper of byteTampers(inclusionProof('sha256', leaves, index), size > 32)) {
          checked += 1;
          if (verifyInclusion('sha256', leaves[index]!, index, size, tamper.path, root)) accepted.push(`${index}/${size} ${tamper.where}`);
        }
      }
    }
    expect(accepted).toEqual([]);
    expect(checked).toBeGreaterThan(30_000);
  });

  it('rejects every single-node change (replaced, removed, duplicated, inserted, swapped), for every leaf up to 64 leaves', () => {
    const accepted: string[] = [];
    for (let size = 1; size <= 64; size += 1) {
      const leaves = generated(size);
      const root = merkleRootOfLeafHashes('sha256', leaves);
      for (let index = 0; index < size; index += 1) {
        for (const tamper of nodeTampers(inclusionProof('sha256', leaves, index), FOREIGN)) {
          if (verifyInclusion('sha256', leaves[index]!, index, size, tamper.path, root)) accepted.push(`${index}/${size} ${tamper.where}`);
        }
      }
    }
    expect(accepted).toEqual([]);
  });

  // A path does not commit to the tree size where two sizes give the same
  // shape (12 and 13 leaves, for a leaf of the left 8-subtree): the size is
  // bound by the signed epoch statement, so only shape-changing sizes are probed.
  it('rejects a wrong leaf, index, size or root', () => {
    // Prepare
    const leaves = generated(13);
    const root = merkleRootOfLeafHashes('sha256', leaves);
    const accepted: string[] = [];

    // Act
    for (let index = 0; index < 13; index += 1) {
      const path = inclusionProof('sha256', leaves, index);
      const other = leaves[(index + 1) % 13]!;
      const probes: [string, boolean][] = [
        ['other leaf', verifyInclusion('sha256', other, index, 13, path, root)],
        ['index + 1', index + 1 < 13 && verifyInclusion('sha256', leaves[index]!, index + 1, 13, path, root)],
        ['index - 1', index > 0 && verifyInclusion('sha256', leaves[index]!, index - 1, 13, path, root)],
        ['index ^ 2', (index ^ 2) < 13 && verifyInclusion('sha256', leaves[index]!, index ^ 2, 13, path, root)],
        ['size * 2', verifyInclusion('sha256', leaves[index]!, index, 26, path, root)],
        ['size / 2', index < 6 && verifyInclusion('sha256', leaves[index]!, index, 6, path, root)],
        ['empty root', verifyInclusion('sha256', leaves[index]!, index, 13, path, unhex(EMPTY_ROOT))],
        ['sha3 hashing', verifyInclusion('sha3-256', leaves[index]!, index, 13, path, root)],
        ['index = size', verifyInclusion('sha256', leaves[index]!, 13, 13, path, root)],
        ['negative index', verifyInclusion('sha256', leaves[index]!, -1, 13, path, root)],
      ];
      for (const [name, ok] of probes) if (ok) accepted.push(`${index}: ${name}`);
    }

    // Assess
    expect(accepted).toEqual([]);
  });

  it('accepts the empty path only for the single leaf of a one-leaf tree', () => {
    const leaf = leafHash('sha256', Buffer.from('only'));
    expect(verifyInclusion('sha256', leaf, 0, 1, [], leaf)).toBe(true);
    expect(verifyInclusion('sha256', leaf, 0, 1, [], FOREIGN)).toBe(false);
    expect(verifyInclusion('sha256', leaf, 0, 2, [], leaf)).toBe(false);
    expect(verifyInclusion('sha256', leaf, 0, 1, [leaf], nodeHash('sha256', leaf, leaf))).toBe(false);
  });

  it('works the same over SHA3-256 trees', () => {
    for (let size = 1; size <= 20; size += 1) {
      const leaves = generated(size, 'sha3-256');
      const root = merkleRootOfLeafHashes('sha3-256', leaves);
      for (let index = 0; index < size; index += 1) {
        const path = inclusionProof('sha3-256', leaves, index);
        expect(verifyInclusion('sha3-256', leaves[index]!, index, size, path, root)).toBe(true);
        if (path.length > 0) expect(verifyInclusion('sha256', leaves[index]!, index, size, path, root)).toBe(false);
      }
    }
  });
});

describe('consistencyProof', () => {
  it.each(CT_CONSISTENCY)('from $oldSize to $newSize reference leaves is the reference proof', ({ oldSize, newSize, path }) => {
    // Act
    const proof = consistencyProof('sha256', ctLeafHashes.slice(0, newSize), oldSize);

    // Assess
    expect(proof.map(hex)).toEqual(path);
    expect(verifyConsistency('sha256', oldSize, newSize, path.map(unhex), unhex(CT_ROOTS[oldSize - 1]!), unhex(CT_ROOTS[newSize - 1]!))).toBe(true);
  });

  it('refuses an old size of 0 or beyond the tree', () => {
    expect(() => consistencyProof('sha256', ctLeafHashes, 0)).toThrow(RangeError);
    expect(() => consistencyProof('sha256', ctLeafHashes, 9)).toThrow(RangeError);
  });
});

describe('verifyConsistency', () => {
  const leaves = generated(64);
  const roots = Array.from({ length: 65 }, (_, size) => merkleRootOfLeafHashes('sha256', leaves.slice(0, size)));

  it('accepts the proof from every old size to every new size up to 64', () => {
    const failures: string[] = [];
    for (let newSize = 1; newSize <= 64; newSize += 1) {
      for (let oldSize = 1; oldSize <= newSize; oldSize += 1) {
        const proof = consistencyProof('sha256', leaves.slice(0, newSize), oldSize);
        if (!verifyConsistency('sha256', oldSize, newSize, proof, roots[oldSize]!, roots[newSize]!)) failures.push(`${oldSize}->${newSize}`);
      }
    }
    expect(failures).toEqual([]);
  });

  it('rejects a single-byte change of every proof node, for every pair of sizes up to 64 (every byte up to 32 leaves)', () => {
    const accepted: string[] = [];
    let checked = 0;
    for (let newSize = 2; newSize <= 64; newSize += 1) {
      for (let oldSize = 1; oldSize < newSize; oldSize += 1) {
        for (const tamper of byteTampers(consistencyProof('sha256', leaves.slice(0, newSize), oldSize), newSize > 32)) {
          checked += 1;
          if (verifyConsistency('sha256', oldSize, newSize, tamper.path, roots[oldSize]!, roots[newSize]!)) accepted.push(`${oldSize}->${newSize} ${tamper.where}`);
        }
      }
    }
    expect(accepted).toEqual([]);
    expect(checked).toBeGreaterThan(30_000);
  });

  it('rejects every single-node change (replaced, removed, duplicated, inserted, swapped), for every pair up to 64', () => {
    const accepted: string[] = [];
    for (let newSize = 2; newSize <= 64; newSize += 1) {
      for (let oldSize = 1; oldSize < newSize; oldSize += 1) {
        const proof = consistencyProof('sha256', leaves.slice(0, newSize), oldSize);
        for (const tamper of nodeTampers(proof, FOREIGN)) {
          if (verifyConsistency('sha256', oldSize, newSize, tamper.path, roots[oldSize]!, roots[newSize]!)) accepted.push(`${oldSize}->${newSize} ${tamper.where}`);
        }
        // The old or new root in front of the proof.
        for (const extra of [roots[oldSize]!, roots[newSize]!]) {
          if (verifyConsistency('sha256', oldSize, newSize, [extra, ...proof], roots[oldSize]!, roots[newSize]!)) accepted.push(`${oldSize}->${newSize} root prepended`);
          if (verifyConsistency('sha256', oldSize, newSize, [...proof, extra], roots[oldSize]!, roots[newSize]!)) accepted.push(`${oldSize}->${newSize} root appended`);
        }
      }
    }
    expect(accepted).toEqual([]);
  });

  it('rejects wrong sizes, wrong or swapped roots and empty proofs', () => {
    // Prepare
    const accepted: string[] = [];

    // Act
    for (let newSize = 2; newSize <= 40; newSize += 1) {
      for (let oldSize = 1; oldSize < newSize; oldSize += 1) {
        const proof = consistencyProof('sha256', leaves.slice(0, newSize), oldSize);
        const probes: [string, boolean][] = [
          ['old - 1', oldSize > 1 && verifyConsistency('sha256', oldSize - 1, newSize, proof, roots[oldSize]!, roots[newSize]!)],
          ['old + 1', oldSize + 1 < newSize && verifyConsistency('sha256', oldSize + 1, newSize, proof, roots[oldSize]!, roots[newSize]!)],
          ['new * 2', verifyConsistency('sha256', oldSize, newSize * 2, proof, roots[oldSize]!, roots[newSize]!)],
          ['new / 2', Math.floor(newSize / 2) >= oldSize && verifyConsistency('sha256', oldSize, Math.floor(newSize / 2), proof, roots[oldSize]!, roots[newSize]!)],
          ['wrong old root', verifyConsistency('sha256', oldSize, newSize, proof, FOREIGN, roots[newSize]!)],
          ['wrong new root', verifyConsistency('sha256', oldSize, newSize, proof, roots[oldSize]!, FOREIGN)],
          ['swapped roots', verifyConsistency('sha256', oldSize, newSize, proof, roots[newSize]!, roots[oldSize]!)],
          ['empty proof', verifyConsistency('sha256', oldSize, newSize, [], roots[oldSize]!, roots[newSize]!)],
          ['old > new', verifyConsistency('sha256', newSize, oldSize, proof, roots[newSize]!, roots[oldSize]!)],
          ['old = 0', verifyConsistency('sha256', 0, newSize, proof, roots[0]!, roots[newSize]!)],
        ];
        for (const [name, ok] of probes) if (ok) accepted.push(`${oldSize}->${newSize}: ${name}`);
      }
    }

    // Assess
    expect(accepted).toEqual([]);
  });

  it('accepts equal sizes only with an empty proof and equal roots', () => {
    expect(verifyConsistency('sha256', 5, 5, [], roots[5]!, roots[5]!)).toBe(true);
    expect(verifyConsistency('sha256', 5, 5, [], roots[5]!, roots[6]!)).toBe(false);
    expect(verifyConsistency('sha256', 5, 5, [roots[5]!], roots[5]!, roots[5]!)).toBe(false);
  });
});
