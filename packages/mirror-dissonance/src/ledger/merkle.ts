/**
 * Merkle trees exactly as RFC 6962 §2.1 (and RFC 9162 §2.1): the hash of an
 * empty tree is H(), a leaf is H(0x00 ‖ data), a node is H(0x01 ‖ left ‖ right),
 * and a tree of n > 1 leaves splits at k, the largest power of two below n —
 * so an odd node is promoted to the next level, never duplicated.
 * Inclusion proofs (audit paths) and consistency proofs follow §2.1.1 and
 * §2.1.2; their verifiers are the RFC 9162 §2.1.3.2 and §2.1.4.2 algorithms,
 * which recompute every link of the path, not just its ends.
 */
import { digest, type DigestAlgorithm } from './hash';

const LEAF_PREFIX = Buffer.from([0x00]);
const NODE_PREFIX = Buffer.from([0x01]);

export function leafHash(algorithm: DigestAlgorithm, data: Uint8Array): Buffer {
  return digest(algorithm, LEAF_PREFIX, data);
}

export function nodeHash(algorithm: DigestAlgorithm, left: Uint8Array, right: Uint8Array): Buffer {
  return digest(algorithm, NODE_PREFIX, left, right);
}

/** Largest power of two strictly smaller than n (n ≥ 2). */
function split(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** MTH over already-hashed leaves [start, end). */
function rootOfLeafHashes(algorithm: DigestAlgorithm, hashes: readonly Buffer[], start: number, end: number): Buffer {
  const n = end - start;
  if (n === 1) return hashes[start]!;
  const k = split(n);
  return nodeHash(algorithm, rootOfLeafHashes(algorithm, hashes, start, start + k), rootOfLeafHashes(algorithm, hashes, start + k, end));
}

const EMPTY_TREE: Partial<Record<DigestAlgorithm, Buffer>> = {};

/** H() of the empty tree, computed once per algorithm; every caller gets its own copy. */
function emptyTreeHash(algorithm: DigestAlgorithm): Buffer {
  const cached = EMPTY_TREE[algorithm] ?? (EMPTY_TREE[algorithm] = digest(algorithm));
  return Buffer.from(cached);
}

/** The Merkle tree hash of leaf hashes (MTH with the leaves already hashed). */
export function merkleRootOfLeafHashes(algorithm: DigestAlgorithm, hashes: readonly Buffer[]): Buffer {
  if (hashes.length === 0) return emptyTreeHash(algorithm);
  return rootOfLeafHashes(algorithm, hashes, 0, hashes.length);
}

/** MTH(D[n]) of RFC 6962 over raw leaf data. */
export function merkleRoot(algorithm: DigestAlgorithm, leaves: readonly Uint8Array[]): Buffer {
  return merkleRootOfLeafHashes(
    algorithm,
    leaves.map((leaf) => leafHash(algorithm, leaf)),
  );
}

/** PATH(m, D[n]) of RFC 6962 §2.1.1 over leaf hashes: the audit path of leaf `index`. */
export function inclusionProof(algorithm: DigestAlgorithm, hashes: readonly Buffer[], index: number): Buffer[] {
  if (!Number.isInteger(index) || index < 0 || index >= hashes.length) {
    throw new RangeError(`leaf index ${index} is outside a tree of ${hashes.length} leaves`);
  }
  const path: Buffer[] = [];
  const walk = (start: number, end: number, m: number): void => {
    const n = end - start;
    if (n === 1) return;
    const k = split(n);
    if (m < k) {
      walk(start, start + k, m);
      path.push(rootOfLeafHashes(algorithm, hashes, start + k, end));
    } else {
      walk(start + k, end, m - k);
      path.push(rootOfLeafHashes(algorithm, hashes, start, start + k));
    }
  };
  walk(0, hashes.length, index);
  return path;
}

/** PROOF(m, D[n]) of RFC 6962 §2.1.2 over leaf hashes: D[0:m] is a prefix of D[0:n]. */
export function consistencyProof(algorithm: DigestAlgorithm, hashes: readonly Buffer[], oldSize: number): Buffer[] {
  const n = hashes.length;
  if (!Number.isInteger(oldSize) || oldSize < 1 || oldSize > n) {
    throw new RangeError(`old size ${oldSize} must be from 1 to the new size ${n}`);
  }
  const proof: Buffer[] = [];
  const subproof = (m: number, start: number, end: number, whole: boolean): void => {
    const size = end - start;
    if (m === size) {
      if (!whole) proof.push(rootOfLeafHashes(algorithm, hashes, start, end));
      return;
    }
    const k = split(size);
    if (m <= k) {
      subproof(m, start, start + k, whole);
      proof.push(rootOfLeafHashes(algorithm, hashes, start + k, end));
    } else {
      subproof(m - k, start + k, end, false);
      proof.push(rootOfLeafHashes(algorithm, hashes, start, start + k));
    }
  };
  subproof(oldSize, 0, n, true);
  return proof;
}

/** RFC 9162 §2.1.3.2: does `path` prove leaf `index` of a `size`-leaf tree with `root`? */
export function verifyInclusion(
  algorithm: DigestAlgorithm,
  leafHashValue: Uint8Array,
  index: number,
  size: number,
  path: readonly Uint8Array[],
  root: Uint8Array,
): boolean {
  if (!Number.isInteger(index) || !Number.isInteger(size) || index < 0 || index >= size) return false;
  let fn = index;
  let sn = size - 1;
  let r: Buffer = Buffer.from(leafHashValue);
  for (const p of path) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(algorithm, p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      r = nodeHash(algorithm, r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && r.equals(Buffer.from(root));
}

/** RFC 9162 §2.1.4.2: does `proof` show the `oldSize` tree with `oldRoot` is a prefix of the `newSize` tree with `newRoot`? */
export function verifyConsistency(
  algorithm: DigestAlgorithm,
  oldSize: number,
  newSize: number,
  proof: readonly Uint8Array[],
  oldRoot: Uint8Array,
  newRoot: Uint8Array,
): boolean {
  if (!Number.isInteger(oldSize) || !Number.isInteger(newSize) || oldSize < 1 || oldSize > newSize) return false;
  if (oldSize === newSize) return proof.length === 0 && Buffer.from(oldRoot).equals(Buffer.from(newRoot));
  if (proof.length === 0) return false;
  const nodes = proof.map((p) => Buffer.from(p));
  // An exact power of two old size: the old root is itself the first node.
  if ((oldSize & (oldSize - 1)) === 0) nodes.unshift(Buffer.from(oldRoot));
  let fn = oldSize - 1;
  let sn = newSize - 1;
  while (fn % 2 === 1) {
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  let fr: Buffer = nodes[0]!;
  let sr: Buffer = nodes[0]!;
  for (const c of nodes.slice(1)) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      fr = nodeHash(algorithm, c, fr);
      sr = nodeHash(algorithm, c, sr);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      sr = nodeHash(algorithm, sr, c);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return fr.equals(Buffer.from(oldRoot)) && sr.equals(Buffer.from(newRoot)) && sn === 0;
}
