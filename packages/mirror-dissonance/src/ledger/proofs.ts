/**
 * Ledger proofs (issue 6, proofs), JSON files an auditor verifies offline
 * with only the public key(s):
 *
 * - inclusion: a block is leaf `height − start` of its sealed epoch's tree;
 *   the proof carries the block hash (and its canonical bytes), the RFC 6962
 *   audit path, the epoch root, the signed statement and its signatures. The
 *   verifier recomputes the leaf hash from the block hash, every link of the
 *   path up to the root (RFC 9162 §2.1.3.2), checks the statement names that
 *   root for that repository and range, and verifies every signature. Dual
 *   epochs add the SHA3-256 side (block hash, path, root), verified likewise.
 * - consistency: the stream's tree head at `old_size` (MTH over the SHA-256
 *   hashes of blocks 0..old_size−1) is a prefix of the head at `new_size`
 *   (RFC 6962 §2.1.2, verified per RFC 9162 §2.1.4.2). Tree heads are not
 *   signed: compare `old_root` with a head you recorded earlier.
 */
import { InputError, IntegrityError, NotFoundError } from '../errors';
import type { StoredBlock } from './block';
import { decodeEpochStatement, epochLeafHashes, rootOverBlockHashes, type EpochStatement } from './epochs';
import { digest } from './hash';
import { consistencyProof, inclusionProof, leafHash, verifyConsistency, verifyInclusion } from './merkle';
import { checkSignatures, EPOCH_SIGNATURE_ALGORITHMS, type EpochPublicKey, type EpochSignatureAlgorithm, type SignatureCheck } from './signing';
import type { EpochSignature, LedgerStore } from './store';

export const PROOF_FORMAT_VERSION = 1;

export interface ProofSignature {
  algorithm: EpochSignatureAlgorithm;
  key_id: string;
  /** Base64. */
  signature: string;
}

export interface InclusionProof {
  type: 'inclusion';
  version: number;
  repository: string;
  height: number;
  /** SHA-256 of the block's canonical bytes, hex. */
  block_hash: string;
  /** SHA3-256 of the canonical bytes, hex, when the epoch is dual. */
  block_hash_sha3?: string;
  /** The block's canonical bytes, base64: what the decision says. */
  block: string;
  leaf_index: number;
  epoch: {
    number: number;
    size: number;
    start_height: number;
    end_height: number;
    /** Hex. */
    root: string;
    root_sha3?: string;
    sealed_at: string;
    /** The signed canonical statement, base64. */
    statement: string;
    signatures: ProofSignature[];
  };
  /** Audit path (SHA-256), hex, leaf to root. */
  audit_path: string[];
  audit_path_sha3?: string[];
}

export interface ConsistencyProof {
  type: 'consistency';
  version: number;
  repository: string;
  old_size: number;
  new_size: number;
  /** Hex. */
  old_root: string;
  new_root: string;
  /** Hex, RFC 6962 PROOF(old_size, D[new_size]). */
  path: string[];
}

export type LedgerProof = InclusionProof | ConsistencyProof;

function hex(buffer: Buffer): string {
  return buffer.toString('hex');
}

async function streamBlocks(store: LedgerStore, repository: string, start: number, end: number): Promise<StoredBlock[]> {
  const blocks = await store.range(repository, start, end);
  for (let height = start, index = 0; height <= end; height += 1, index += 1) {
    if (blocks[index]?.height !== height) {
      throw new IntegrityError('LEDGER_INVALID', `${repository}: block ${height} is missing from the ledger`, { context: { repository, height } });
    }
  }
  return blocks;
}

function checkHeight(value: number, what: string): void {
  if (!Number.isSafeInteger(value) || value < 0) throw new InputError('INPUT_INVALID', `${what} must be a non-negative integer, not ${value}`);
}

/**
 * The inclusion proof of block `height` of `repository` in its sealed epoch.
 * The epoch is the sealed one covering the height (`epochSize`, when given,
 * must agree with it).
 *
 * @throws NotFoundError when the block does not exist or its epoch is not sealed yet
 * @throws IntegrityError LEDGER_INVALID when the stored blocks no longer give the sealed root (tampering)
 */
export async function proveInclusion(store: LedgerStore, repository: string, height: number, epochSize?: number): Promise<InclusionProof> {
  checkHeight(height, 'the height');
  const block = await store.get(repository, height);
  if (block === undefined) throw new NotFoundError('NOT_FOUND', `${repository} has no block at height ${height}`, { context: { repository, height } });
  const epoch = (await store.epochs(repository)).find((candidate) => candidate.startHeight <= height && height <= candidate.endHeight);
  if (epoch === undefined) {
    throw new NotFoundError('NOT_FOUND', `block ${height} of ${repository} is not in a sealed epoch yet; run \`phase-mirror ledger seal\` once its epoch is complete`, {
      context: { repository, height },
    });
  }
  const size = epoch.endHeight - epoch.startHeight + 1;
  if (epochSize !== undefined && epochSize !== size) {
    throw new InputError('INPUT_INVALID', `epoch ${epoch.number} of ${repository} has ${size} blocks, not ${epochSize}`, { location: { field: 'epoch_size' } });
  }
  const blocks = await streamBlocks(store, repository, epoch.startHeight, epoch.endHeight);
  const index = height - epoch.startHeight;
  const sha256Hashes = blocks.map((candidate) => digest('sha256', candidate.canonical));
  if (hex(rootOverBlockHashes('sha256', sha256Hashes)) !== epoch.root) {
    throw new IntegrityError('LEDGER_INVALID', `the blocks of epoch ${epoch.number} of ${repository} no longer give its sealed root; run \`phase-mirror ledger verify-epochs\``, {
      context: { repository, epoch: epoch.number },
    });
  }
  const proof: InclusionProof = {
    type: 'inclusion',
    version: PROOF_FORMAT_VERSION,
    repository,
    height,
    block_hash: hex(sha256Hashes[index]!),
    block: block.canonical.toString('base64'),
    leaf_index: index,
    epoch: {
      number: epoch.number,
      size,
      start_height: epoch.startHeight,
      end_height: epoch.endHeight,
      root: epoch.root,
      ...(epoch.rootSha3 !== undefined ? { root_sha3: epoch.rootSha3 } : {}),
      sealed_at: epoch.sealedAt,
      statement: epoch.statement.toString('base64'),
      signatures: epoch.signatures.map((signature) => ({ algorithm: signature.algorithm, key_id: signature.keyId, signature: signature.signature.toString('base64') })),
    },
    audit_path: inclusionProof('sha256', epochLeafHashes('sha256', sha256Hashes), index).map(hex),
  };
  if (epoch.rootSha3 !== undefined) {
    const sha3Hashes = blocks.map((candidate) => digest('sha3-256', candidate.canonical));
    if (hex(rootOverBlockHashes('sha3-256', sha3Hashes)) !== epoch.rootSha3) {
      throw new IntegrityError('LEDGER_INVALID', `the blocks of epoch ${epoch.number} of ${repository} no longer give its sealed SHA3-256 root`, {
        context: { repository, epoch: epoch.number },
      });
    }
    proof.block_hash_sha3 = hex(sha3Hashes[index]!);
    proof.audit_path_sha3 = inclusionProof('sha3-256', epochLeafHashes('sha3-256', sha3Hashes), index).map(hex);
  }
  return proof;
}

/**
 * The consistency proof between the stream's tree heads at `oldSize` and
 * `newSize` blocks (default: the whole stream).
 *
 * @throws InputError when the sizes are not 1 ≤ old ≤ new ≤ stream length
 */
export async function proveConsistency(store: LedgerStore, repository: string, oldSize: number, newSize?: number): Promise<ConsistencyProof> {
  const head = await store.head(repository);
  const length = head === undefined ? 0 : head.height + 1;
  const target = newSize ?? length;
  if (!Number.isSafeInteger(oldSize) || !Number.isSafeInteger(target) || oldSize < 1 || oldSize > target || target > length) {
    throw new InputError('INPUT_INVALID', `sizes must satisfy 1 ≤ old (${oldSize}) ≤ new (${target}) ≤ ${length}, the blocks of ${repository}`, {
      context: { repository, oldSize, newSize: target, length },
    });
  }
  const blocks = await streamBlocks(store, repository, 0, target - 1);
  const hashes = blocks.map((block) => digest('sha256', block.canonical));
  const leaves = epochLeafHashes('sha256', hashes);
  return {
    type: 'consistency',
    version: PROOF_FORMAT_VERSION,
    repository,
    old_size: oldSize,
    new_size: target,
    old_root: hex(rootOverBlockHashes('sha256', hashes.slice(0, oldSize))),
    new_root: hex(rootOverBlockHashes('sha256', hashes)),
    path: consistencyProof('sha256', leaves, oldSize).map(hex),
  };
}

// ---- verification -----------------------------------------------------------

export interface ProofVerification {
  ok: boolean;
  type?: 'inclusion' | 'consistency';
  /** Every reason the proof fails, naming the field. Empty when ok. */
  failures: string[];
  /** Per-signature results of an inclusion proof. */
  signatures: SignatureCheck[];
}

const HEX32 = /^[0-9a-f]{64}$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Structural reading of an untrusted proof: every problem becomes a named failure, never a throw. */
class Reader {
  readonly failures: string[] = [];
  constructor(private readonly root: Record<string, unknown>) {}

  private at(path: string): unknown {
    let value: unknown = this.root;
    for (const key of path.split('.')) value = value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>)[key] : undefined;
    return value;
  }

  string(path: string): string | undefined {
    const value = this.at(path);
    if (typeof value === 'string' && value !== '') return value;
    this.failures.push(`${path}: expected a non-empty string`);
    return undefined;
  }

  integer(path: string, min = 0): number | undefined {
    const value = this.at(path);
    if (typeof value === 'number' && Number.isSafeInteger(value) && value >= min) return value;
    this.failures.push(`${path}: expected an integer ≥ ${min}`);
    return undefined;
  }

  digest(path: string, optional = false): Buffer | undefined {
    const value = this.at(path);
    if (value === undefined && optional) return undefined;
    if (typeof value === 'string' && HEX32.test(value)) return Buffer.from(value, 'hex');
    this.failures.push(`${path}: expected 64 lowercase hex characters`);
    return undefined;
  }

  digests(path: string, optional = false): Buffer[] | undefined {
    const value = this.at(path);
    if (value === undefined && optional) return undefined;
    if (!Array.isArray(value)) {
      this.failures.push(`${path}: expected an array of hashes`);
      return undefined;
    }
    const nodes: Buffer[] = [];
    value.forEach((node: unknown, index) => {
      if (typeof node === 'string' && HEX32.test(node)) nodes.push(Buffer.from(node, 'hex'));
      else this.failures.push(`${path}[${index}]: expected 64 lowercase hex characters`);
    });
    return nodes.length === value.length ? nodes : undefined;
  }

  base64(path: string, optional = false): Buffer | undefined {
    const value = this.at(path);
    if (value === undefined && optional) return undefined;
    if (typeof value === 'string' && value.length % 4 === 0 && BASE64.test(value)) return Buffer.from(value, 'base64');
    this.failures.push(`${path}: expected base64`);
    return undefined;
  }

  signatures(path: string): EpochSignature[] | undefined {
    const value = this.at(path);
    if (!Array.isArray(value)) {
      this.failures.push(`${path}: expected an array of signatures`);
      return undefined;
    }
    const signatures: EpochSignature[] = [];
    value.forEach((entry: unknown, index) => {
      const item = entry !== null && typeof entry === 'object' ? (entry as Record<string, unknown>) : {};
      const where = `${path}[${index}]`;
      const algorithm = item.algorithm;
      const keyId = item.key_id;
      const signature = item.signature;
      if (typeof algorithm !== 'string' || !(EPOCH_SIGNATURE_ALGORITHMS as readonly string[]).includes(algorithm)) {
        this.failures.push(`${where}.algorithm: expected one of ${EPOCH_SIGNATURE_ALGORITHMS.join(', ')}`);
      } else if (typeof keyId !== 'string' || keyId === '') {
        this.failures.push(`${where}.key_id: expected a non-empty string`);
      } else if (typeof signature !== 'string' || signature === '' || signature.length % 4 !== 0 || !BASE64.test(signature)) {
        this.failures.push(`${where}.signature: expected base64`);
      } else {
        signatures.push({ algorithm: algorithm as EpochSignatureAlgorithm, keyId, signature: Buffer.from(signature, 'base64') });
      }
    });
    return signatures.length === value.length ? signatures : undefined;
  }
}

/**
 * Verifies a proof (parsed JSON of unknown shape) offline with the trusted
 * public keys. Never throws on a bad proof: every reason is listed.
 */
export function verifyProof(proof: unknown, publicKeys: readonly EpochPublicKey[]): ProofVerification {
  if (proof === null || typeof proof !== 'object' || Array.isArray(proof)) return { ok: false, failures: ['the proof is not a JSON object'], signatures: [] };
  const type = (proof as { type?: unknown }).type;
  const version = (proof as { version?: unknown }).version;
  if (type !== 'inclusion' && type !== 'consistency') {
    return { ok: false, failures: [`type: expected "inclusion" or "consistency", got ${JSON.stringify(type) ?? 'nothing'}`], signatures: [] };
  }
  if (version !== PROOF_FORMAT_VERSION) {
    return { ok: false, type, failures: [`version: expected ${PROOF_FORMAT_VERSION}, got ${JSON.stringify(version) ?? 'nothing'}`], signatures: [] };
  }
  const reader = new Reader(proof as Record<string, unknown>);
  const result = type === 'inclusion' ? verifyInclusionProof(reader, publicKeys) : verifyConsistencyProof(reader);
  return { ok: result.failures.length === 0, type, failures: result.failures, signatures: result.signatures };
}

function verifyConsistencyProof(reader: Reader): { failures: string[]; signatures: SignatureCheck[] } {
  reader.string('repository');
  const oldSize = reader.integer('old_size', 1);
  const newSize = reader.integer('new_size', 1);
  const oldRoot = reader.digest('old_root');
  const newRoot = reader.digest('new_root');
  const path = reader.digests('path');
  if (reader.failures.length > 0) return { failures: reader.failures, signatures: [] };
  if (oldSize! > newSize!) reader.failures.push(`old_size ${oldSize} is larger than new_size ${newSize}`);
  else if (!verifyConsistency('sha256', oldSize!, newSize!, path!, oldRoot!, newRoot!)) {
    reader.failures.push(`path: does not prove that the ${oldSize}-block tree with old_root is a prefix of the ${newSize}-block tree with new_root`);
  }
  return { failures: reader.failures, signatures: [] };
}

function verifyInclusionProof(reader: Reader, publicKeys: readonly EpochPublicKey[]): { failures: string[]; signatures: SignatureCheck[] } {
  const repository = reader.string('repository');
  const height = reader.integer('height');
  const blockHash = reader.digest('block_hash');
  const blockHashSha3 = reader.digest('block_hash_sha3', true);
  const block = reader.base64('block', true);
  const leafIndex = reader.integer('leaf_index');
  const number = reader.integer('epoch.number');
  const size = reader.integer('epoch.size', 1);
  const start = reader.integer('epoch.start_height');
  const end = reader.integer('epoch.end_height');
  const root = reader.digest('epoch.root');
  const rootSha3 = reader.digest('epoch.root_sha3', true);
  const sealedAt = reader.string('epoch.sealed_at');
  const statementBytes = reader.base64('epoch.statement');
  const signatures = reader.signatures('epoch.signatures');
  const path = reader.digests('audit_path');
  const pathSha3 = reader.digests('audit_path_sha3', true);
  const failures = reader.failures;
  if (failures.length > 0) return { failures, signatures: [] };

  // The proof's own numbers must agree with each other.
  if (end! - start! + 1 !== size!) failures.push(`epoch.size ${size} does not match heights ${start}-${end}`);
  if (height! < start! || height! > end!) failures.push(`height ${height} is outside epoch heights ${start}-${end}`);
  if (leafIndex !== height! - start!) failures.push(`leaf_index ${leafIndex} is not height − start_height (${height! - start!})`);
  if (block !== undefined) {
    if (!digest('sha256', block).equals(blockHash!)) failures.push('block: its SHA-256 is not block_hash');
    if (blockHashSha3 !== undefined && !digest('sha3-256', block).equals(blockHashSha3)) failures.push('block: its SHA3-256 is not block_hash_sha3');
  }

  // Every link of the audit path, from the leaf recomputed from the block hash up to the root.
  if (!verifyInclusion('sha256', leafHash('sha256', blockHash!), leafIndex!, size!, path!, root!)) {
    failures.push(`audit_path: does not lead from block_hash at leaf ${leafIndex} of ${size} to epoch.root`);
  }
  const dualParts = [blockHashSha3, pathSha3, rootSha3].filter((part) => part !== undefined).length;
  if (dualParts !== 0 && dualParts !== 3) {
    failures.push('block_hash_sha3, audit_path_sha3 and epoch.root_sha3 must be all present or all absent');
  } else if (dualParts === 3 && !verifyInclusion('sha3-256', leafHash('sha3-256', blockHashSha3!), leafIndex!, size!, pathSha3!, rootSha3!)) {
    failures.push(`audit_path_sha3: does not lead from block_hash_sha3 at leaf ${leafIndex} of ${size} to epoch.root_sha3`);
  }

  // The signed statement must name this repository, epoch, range and root(s).
  let statement: EpochStatement | undefined;
  try {
    statement = decodeEpochStatement(statementBytes!);
  } catch (error) {
    failures.push(`epoch.statement: ${(error as Error).message}`);
  }
  if (statement !== undefined) {
    const claims: [keyof EpochStatement, unknown][] = [
      ['repository', repository],
      ['number', number],
      ['start', start],
      ['end', end],
      ['epoch_size', size],
      ['root', root!.toString('hex')],
      ['root_sha3', rootSha3?.toString('hex')],
      ['sealed_at', sealedAt],
    ];
    for (const [name, claimed] of claims) {
      if (statement[name] !== claimed) failures.push(`epoch.statement: signs ${name} = ${String(statement[name])}, the proof says ${String(claimed)}`);
    }
  }

  // Every signature present must verify under a trusted key; an unsigned root proves nothing.
  let checks: SignatureCheck[] = [];
  if (signatures!.length === 0) failures.push('epoch.signatures: the epoch statement is not signed');
  else if (publicKeys.length === 0) failures.push('no trusted public key was given to verify the epoch signatures');
  else {
    checks = checkSignatures(statementBytes!, signatures!, publicKeys);
    checks.forEach((check, index) => {
      if (!check.ok) failures.push(`epoch.signatures[${index}]: ${check.reason}`);
    });
  }
  return { failures, signatures: checks };
}

