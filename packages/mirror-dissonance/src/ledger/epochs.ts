/**
 * Sealed epochs (issue 6, epochs). Every E blocks of a repository's stream
 * (default 100) form an epoch: epoch n covers heights [n·E, (n+1)·E − 1]. A
 * sealer computes the epoch root — RFC 6962 MTH (SHA-256) over the blocks'
 * SHA-256 hashes, each a 32-byte leaf, and the same over their SHA3-256 hashes
 * when every block of the epoch is dual-v1 — writes the canonical statement
 *
 *   repository, number, start, end, root, [root_sha3], sealed_at, epoch_size
 *
 * (encoding.ts, digests as bytes) and signs it with every configured signer.
 * The store keeps it conditionally on the epoch number (no two seals of one
 * epoch). Hashes are always recomputed from the stored canonical bytes: a
 * block whose stored hash or prev_hash link does not match is never sealed.
 */
import { InputError, IntegrityError, PhaseMirrorError } from '../errors';
import { decodeBlockFields, type StoredBlock } from './block';
import { decodeRecord, encodeRecord, EncodingError, type Field } from './encoding';
import { digest, ZERO_HASH } from './hash';
import { merkleRootOfLeafHashes, leafHash } from './merkle';
import { checkSignatures, type EpochPublicKey, type EpochSigner, type SignatureCheck } from './signing';
import type { LedgerStore, SealedEpoch } from './store';

export const DEFAULT_EPOCH_SIZE = 100;
/** Upper bound on the epoch size (one epoch is read into memory to seal or prove it). */
export const MAX_EPOCH_SIZE = 100_000;

export interface EpochStatement {
  repository: string;
  number: number;
  start: number;
  end: number;
  /** Hex. */
  root: string;
  /** Hex, when every block of the epoch is dual-v1. */
  root_sha3?: string;
  sealed_at: string;
  epoch_size: number;
}

const STATEMENT_ORDER = ['repository', 'number', 'start', 'end', 'root', 'root_sha3', 'sealed_at', 'epoch_size'] as const;
const STATEMENT_DIGESTS: ReadonlySet<string> = new Set(['root', 'root_sha3']);

/** The canonical bytes that are signed. */
export function encodeEpochStatement(statement: EpochStatement): Buffer {
  const fields: Field[] = [];
  for (const name of STATEMENT_ORDER) {
    const value = statement[name];
    if (value === undefined) continue;
    fields.push({ name, value: STATEMENT_DIGESTS.has(name) ? Buffer.from(value as string, 'hex') : (value as string | number) });
  }
  return encodeRecord(fields);
}

/**
 * Decodes a statement, insisting on exactly the canonical field order and
 * types (so one statement has one encoding).
 *
 * @throws IntegrityError LEDGER_INVALID saying which field is wrong
 */
export function decodeEpochStatement(bytes: Uint8Array): EpochStatement {
  let fields: Field[];
  try {
    fields = decodeRecord(bytes);
  } catch (error) {
    const detail = error instanceof EncodingError ? `${error.message} (byte ${error.offset})` : String(error);
    throw new IntegrityError('LEDGER_INVALID', `epoch statement is not a canonical record: ${detail}`, { location: { field: 'statement' } });
  }
  const expected = STATEMENT_ORDER.filter((name) => name !== 'root_sha3' || fields.some((field) => field.name === 'root_sha3'));
  const names = fields.map((field) => field.name);
  if (names.join(',') !== expected.join(',')) {
    throw new IntegrityError('LEDGER_INVALID', `epoch statement fields are [${names.join(', ')}], expected [${expected.join(', ')}]`, {
      location: { field: 'statement' },
    });
  }
  const result: Record<string, string | number> = {};
  for (const { name, value } of fields) {
    const wantDigest = STATEMENT_DIGESTS.has(name);
    const wantNumber = name === 'number' || name === 'start' || name === 'end' || name === 'epoch_size';
    if (wantDigest) {
      if (!Buffer.isBuffer(value) || value.length !== 32) throw statementField(name, 'is not a 32-byte digest');
      result[name] = value.toString('hex');
    } else if (wantNumber) {
      if (typeof value !== 'number') throw statementField(name, 'is not an unsigned integer');
      result[name] = value;
    } else {
      if (typeof value !== 'string') throw statementField(name, 'is not a string');
      result[name] = value;
    }
  }
  return result as unknown as EpochStatement;
}

function statementField(name: string, what: string): IntegrityError {
  return new IntegrityError('LEDGER_INVALID', `epoch statement field ${name} ${what}`, { location: { field: `statement.${name}` } });
}

/** The statement a sealed epoch's columns describe (what its stored statement must decode to). */
export function statementOf(epoch: SealedEpoch): EpochStatement {
  return {
    repository: epoch.repository,
    number: epoch.number,
    start: epoch.startHeight,
    end: epoch.endHeight,
    root: epoch.root,
    ...(epoch.rootSha3 !== undefined ? { root_sha3: epoch.rootSha3 } : {}),
    sealed_at: epoch.sealedAt,
    epoch_size: epoch.endHeight - epoch.startHeight + 1,
  };
}

/** Leaf hashes of the epoch tree: H(0x00 ‖ block hash) for each block hash. */
export function epochLeafHashes(algorithm: 'sha256' | 'sha3-256', blockHashes: readonly Buffer[]): Buffer[] {
  return blockHashes.map((hash) => leafHash(algorithm, hash));
}

/** MTH over block hashes (hex) — the epoch root, or a stream tree head. */
export function rootOverBlockHashes(algorithm: 'sha256' | 'sha3-256', blockHashes: readonly Buffer[]): Buffer {
  return merkleRootOfLeafHashes(algorithm, epochLeafHashes(algorithm, blockHashes));
}

function isDualBlock(block: StoredBlock): boolean {
  try {
    return decodeBlockFields(block.canonical).hash_algorithm === 'dual-v1';
  } catch {
    return false;
  }
}

export interface EpochRoots {
  root: string;
  rootSha3?: string;
  /** Every block of the epoch is dual-v1. */
  allDual: boolean;
}

/** Epoch roots recomputed from the blocks' canonical bytes (never from their stored hash columns). */
export function epochRoots(blocks: readonly StoredBlock[]): EpochRoots {
  const root = rootOverBlockHashes(
    'sha256',
    blocks.map((block) => digest('sha256', block.canonical)),
  ).toString('hex');
  const allDual = blocks.length > 0 && blocks.every(isDualBlock);
  if (!allDual) return { root, allDual };
  const rootSha3 = rootOverBlockHashes(
    'sha3-256',
    blocks.map((block) => digest('sha3-256', block.canonical)),
  ).toString('hex');
  return { root, rootSha3, allDual };
}

// ---- epoch size -------------------------------------------------------------

function checkEpochSize(value: number, source: string): number {
  if (!Number.isSafeInteger(value) || value < 1 || value > MAX_EPOCH_SIZE) {
    throw new InputError('INPUT_INVALID', `${source}: the epoch size must be an integer from 1 to ${MAX_EPOCH_SIZE}, not ${value}`, {
      location: { field: 'epoch_size' },
    });
  }
  return value;
}

/**
 * The ledger's epoch size: the `epoch_size` setting once a first epoch was
 * sealed (it pins every later seal), else `requested`, else 100.
 *
 * @throws InputError INPUT_INVALID when `requested` contradicts the setting or is out of range
 */
export async function resolveEpochSize(store: LedgerStore, requested?: number): Promise<number> {
  const setting = await store.getSetting('epoch_size');
  const pinned = setting === undefined ? undefined : checkEpochSize(Number(setting), `ledger setting epoch_size "${setting}"`);
  if (requested !== undefined) {
    checkEpochSize(requested, 'epoch size');
    if (pinned !== undefined && pinned !== requested) {
      throw new InputError('INPUT_INVALID', `the ledger's epochs are ${pinned} blocks (setting epoch_size); sealing with ${requested} would cover other heights`, {
        location: { field: 'epoch_size' },
        context: { pinned, requested },
      });
    }
    return requested;
  }
  return pinned ?? DEFAULT_EPOCH_SIZE;
}

/** Every existing epoch of a stream must use `size`. */
function checkStreamEpochs(repository: string, epochs: readonly SealedEpoch[], size: number): void {
  for (const epoch of epochs) {
    if (epoch.endHeight - epoch.startHeight + 1 !== size || epoch.startHeight !== epoch.number * size) {
      throw new IntegrityError(
        'LEDGER_INVALID',
        `epoch ${epoch.number} of ${repository} covers heights ${epoch.startHeight}-${epoch.endHeight}, which is not an epoch of ${size} blocks`,
        { context: { repository, epoch: epoch.number, epochSize: size } },
      );
    }
  }
}

// ---- planning and sealing -------------------------------------------------------

export interface PlannedEpoch {
  repository: string;
  number: number;
  startHeight: number;
  endHeight: number;
}

export interface EpochScope {
  /** One stream; default: every repository of the ledger. */
  repository?: string;
  /** Default: the ledger's `epoch_size` setting, else 100. */
  epochSize?: number;
}

async function scopeRepositories(store: LedgerStore, repository: string | undefined): Promise<string[]> {
  return repository === undefined ? store.repositories() : [repository];
}

/** The complete epochs of one stream that are not sealed yet, ascending. */
async function unsealedEpochs(store: LedgerStore, repository: string, size: number): Promise<PlannedEpoch[]> {
  const head = await store.head(repository);
  if (head === undefined) return [];
  const existing = await store.epochs(repository);
  checkStreamEpochs(repository, existing, size);
  const sealed = new Set(existing.map((epoch) => epoch.number));
  const complete = Math.floor((head.height + 1) / size);
  const planned: PlannedEpoch[] = [];
  for (let number = 0; number < complete; number += 1) {
    if (!sealed.has(number)) planned.push({ repository, number, startHeight: number * size, endHeight: (number + 1) * size - 1 });
  }
  return planned;
}

/** The epochs `backfill` would create: every complete, unsealed epoch of each stream in scope. */
export async function planBackfill(store: LedgerStore, options: EpochScope = {}): Promise<PlannedEpoch[]> {
  const size = await resolveEpochSize(store, options.epochSize);
  const planned: PlannedEpoch[] = [];
  for (const repository of await scopeRepositories(store, options.repository)) planned.push(...(await unsealedEpochs(store, repository, size)));
  return planned;
}

export interface SealOptions extends EpochScope {
  /** The time written as `sealed_at`. @default () => new Date() */
  clock?: () => Date;
}

export interface SealResult {
  epochSize: number;
  /** Epochs this run sealed, in order. */
  sealed: SealedEpoch[];
  /** Epochs a concurrent sealer stored first (LEDGER_CONFLICT on put): already sealed, not by this run. */
  sealedConcurrently: PlannedEpoch[];
}

/**
 * Reads the blocks of an epoch and checks they may be sealed: every height
 * present, each stored hash equal to the digest of its canonical bytes, and
 * each block's prev_hash linking to its predecessor (the previous epoch's
 * last block for the first one).
 */
async function epochBlocks(store: LedgerStore, plan: PlannedEpoch): Promise<StoredBlock[]> {
  const blocks = await store.range(plan.repository, plan.startHeight, plan.endHeight);
  const where = `${plan.repository} epoch ${plan.number}`;
  const byHeight = new Map(blocks.map((block) => [block.height, block]));
  // The link into the epoch: height 0 links to 64 zeros; a missing predecessor (a gap in an older, sealed epoch) cannot be checked here.
  let previousHash: string | undefined = ZERO_HASH;
  if (plan.startHeight > 0) {
    const before = await store.get(plan.repository, plan.startHeight - 1);
    previousHash = before === undefined ? undefined : digest('sha256', before.canonical).toString('hex');
  }
  for (let height = plan.startHeight; height <= plan.endHeight; height += 1) {
    const block = byHeight.get(height);
    const context = { repository: plan.repository, epoch: plan.number, height };
    if (block === undefined) throw new IntegrityError('LEDGER_INVALID', `${where}: block ${height} is missing; refusing to seal`, { context });
    const recomputed = digest('sha256', block.canonical).toString('hex');
    if (block.hash !== recomputed) {
      throw new IntegrityError('LEDGER_INVALID', `${where}: block ${height}'s stored hash differs from the hash of its canonical bytes; refusing to seal`, {
        location: { field: 'hash' },
        context,
      });
    }
    let fields: Record<string, unknown>;
    try {
      fields = decodeBlockFields(block.canonical);
    } catch (error) {
      throw new IntegrityError('LEDGER_INVALID', `${where}: block ${height} is not a canonical record; refusing to seal`, { context, cause: error });
    }
    if (fields.height !== height || fields.repository !== plan.repository) {
      throw new IntegrityError('LEDGER_INVALID', `${where}: block ${height}'s canonical bytes name ${String(fields.repository)}@${String(fields.height)}; refusing to seal`, {
        location: { field: fields.height !== height ? 'height' : 'repository' },
        context,
      });
    }
    if (previousHash !== undefined && fields.prev_hash !== previousHash) {
      throw new IntegrityError('LEDGER_INVALID', `${where}: block ${height}'s prev_hash does not link to block ${height - 1}; refusing to seal`, {
        location: { field: 'prev_hash' },
        context,
      });
    }
    previousHash = recomputed;
  }
  return [...byHeight.values()].sort((a, b) => a.height - b.height);
}

function isConflict(error: unknown): boolean {
  return error instanceof PhaseMirrorError && error.code === 'LEDGER_CONFLICT';
}

/**
 * Seals every complete, unsealed epoch of the streams in scope, ascending:
 * recomputes the roots from the blocks, signs the statement with every signer
 * and stores it conditionally. An epoch a concurrent sealer stored first is
 * reported in `sealedConcurrently`, not an error. The first successful seal
 * pins the ledger's `epoch_size` setting.
 *
 * @throws InputError without signers or with an epoch size contradicting the ledger's
 * @throws IntegrityError LEDGER_INVALID when a block of an epoch is missing, tampered or unlinked (nothing of that stream is sealed from there on)
 */
export async function sealEpochs(store: LedgerStore, signers: readonly EpochSigner[], options: SealOptions = {}): Promise<SealResult> {
  if (signers.length === 0) throw new InputError('INPUT_INVALID', 'sealing an epoch needs at least one signer');
  const size = await resolveEpochSize(store, options.epochSize);
  const clock = options.clock ?? (() => new Date());
  const result: SealResult = { epochSize: size, sealed: [], sealedConcurrently: [] };
  let pinned = false;
  for (const repository of await scopeRepositories(store, options.repository)) {
    for (const plan of await unsealedEpochs(store, repository, size)) {
      const blocks = await epochBlocks(store, plan);
      const roots = epochRoots(blocks);
      const statementFields: EpochStatement = {
        repository,
        number: plan.number,
        start: plan.startHeight,
        end: plan.endHeight,
        root: roots.root,
        ...(roots.rootSha3 !== undefined ? { root_sha3: roots.rootSha3 } : {}),
        sealed_at: clock().toISOString(),
        epoch_size: size,
      };
      const statement = encodeEpochStatement(statementFields);
      const signatures = await Promise.all(
        signers.map(async (signer) => ({ algorithm: signer.algorithm, keyId: signer.keyId, signature: await signer.sign(statement) })),
      );
      const epoch: SealedEpoch = {
        repository,
        number: plan.number,
        startHeight: plan.startHeight,
        endHeight: plan.endHeight,
        root: roots.root,
        ...(roots.rootSha3 !== undefined ? { rootSha3: roots.rootSha3 } : {}),
        sealedAt: statementFields.sealed_at,
        statement,
        signatures,
      };
      try {
        await store.putEpoch(epoch);
      } catch (error) {
        if (!isConflict(error)) throw error;
        result.sealedConcurrently.push(plan);
        continue;
      }
      result.sealed.push(epoch);
      // The first seal pins the epoch size for every later one.
      if (!pinned) {
        if ((await store.getSetting('epoch_size')) === undefined) await store.putSetting('epoch_size', String(size));
        pinned = true;
      }
    }
  }
  return result;
}

// ---- verification -----------------------------------------------------------

export interface EpochFailure {
  /** What failed: `statement`, `statement.<field>`, `blocks`, `hash`, `root`, `root_sha3`, `signatures`, `signatures[i]`. */
  field: string;
  /** The block height concerned, when one is. */
  height?: number;
  message: string;
}

export interface EpochVerification {
  repository: string;
  number: number;
  startHeight: number;
  endHeight: number;
  ok: boolean;
  failures: EpochFailure[];
  signatures: SignatureCheck[];
}

export interface VerifyEpochsOptions {
  /** One stream; default: every repository of the ledger. */
  repository?: string;
}

/** Verifies one sealed epoch against the stored blocks and the trusted keys. */
export async function verifyEpoch(store: LedgerStore, epoch: SealedEpoch, publicKeys: readonly EpochPublicKey[]): Promise<EpochVerification> {
  const failures: EpochFailure[] = [];
  const result: EpochVerification = {
    repository: epoch.repository,
    number: epoch.number,
    startHeight: epoch.startHeight,
    endHeight: epoch.endHeight,
    ok: false,
    failures,
    signatures: [],
  };
  // 1. The signed statement: canonical, and saying what the epoch's columns say.
  let statement: EpochStatement | undefined;
  try {
    statement = decodeEpochStatement(epoch.statement);
  } catch (error) {
    failures.push({ field: 'statement', message: (error as Error).message });
  }
  if (statement !== undefined) {
    const columns = statementOf(epoch);
    for (const name of STATEMENT_ORDER) {
      if (name === 'epoch_size') continue;
      if (statement[name] !== columns[name]) {
        failures.push({ field: `statement.${name}`, message: `the signed statement says ${name} = ${String(statement[name])}, the stored epoch ${String(columns[name])}` });
      }
    }
    if (statement.epoch_size !== statement.end - statement.start + 1 || statement.start !== statement.number * statement.epoch_size) {
      failures.push({
        field: 'statement.epoch_size',
        message: `epoch ${statement.number} of ${statement.epoch_size} blocks cannot cover heights ${statement.start}-${statement.end}`,
      });
    }
  }
  // 2. The roots, recomputed from the stored blocks' canonical bytes.
  const blocks = epoch.endHeight >= epoch.startHeight ? await store.range(epoch.repository, epoch.startHeight, epoch.endHeight) : [];
  const present = new Set(blocks.map((block) => block.height));
  const missing: number[] = [];
  for (let height = epoch.startHeight; height <= epoch.endHeight && missing.length < 20; height += 1) if (!present.has(height)) missing.push(height);
  if (missing.length > 0) {
    failures.push({ field: 'blocks', height: missing[0]!, message: `block${missing.length > 1 ? 's' : ''} ${missing.join(', ')} of the epoch ${missing.length > 1 ? 'are' : 'is'} missing` });
  }
  for (const block of blocks) {
    if (block.hash !== digest('sha256', block.canonical).toString('hex')) {
      failures.push({ field: 'hash', height: block.height, message: `block ${block.height}'s stored hash differs from the SHA-256 of its canonical bytes` });
    }
    if (block.hashSha3 !== undefined && block.hashSha3 !== digest('sha3-256', block.canonical).toString('hex')) {
      failures.push({ field: 'hash_sha3', height: block.height, message: `block ${block.height}'s stored SHA3-256 hash differs from the SHA3-256 of its canonical bytes` });
    }
  }
  const signedRoot = statement?.root ?? epoch.root;
  const signedRootSha3 = statement !== undefined ? statement.root_sha3 : epoch.rootSha3;
  if (missing.length === 0) {
    const roots = epochRoots(blocks);
    if (roots.root !== signedRoot) {
      failures.push({ field: 'root', message: `the epoch root recomputed from blocks ${epoch.startHeight}-${epoch.endHeight} differs from the signed root` });
    }
    if (signedRootSha3 !== undefined) {
      if (roots.rootSha3 === undefined) failures.push({ field: 'root_sha3', message: 'the epoch carries a SHA3-256 root but not every block of it is dual-v1' });
      else if (roots.rootSha3 !== signedRootSha3) failures.push({ field: 'root_sha3', message: 'the SHA3-256 epoch root recomputed from the blocks differs from the signed one' });
    } else if (roots.allDual) {
      failures.push({ field: 'root_sha3', message: 'every block of the epoch is dual-v1 but the epoch carries no SHA3-256 root' });
    }
  }
  // 3. Every signature present, classical and post-quantum.
  if (epoch.signatures.length === 0) {
    failures.push({ field: 'signatures', message: 'the epoch is not signed' });
  } else {
    result.signatures = checkSignatures(epoch.statement, epoch.signatures, publicKeys);
    result.signatures.forEach((check, index) => {
      if (!check.ok) failures.push({ field: `signatures[${index}]`, message: check.reason! });
    });
  }
  result.ok = failures.length === 0;
  return result;
}

/**
 * Verifies every sealed epoch of the streams in scope: recomputes each root
 * from the stored blocks and checks every signature (Ed25519 / ECDSA and
 * ML-DSA-44 when present) with the trusted public keys only.
 */
export async function verifyEpochs(store: LedgerStore, publicKeys: readonly EpochPublicKey[], options: VerifyEpochsOptions = {}): Promise<EpochVerification[]> {
  const results: EpochVerification[] = [];
  for (const repository of await scopeRepositories(store, options.repository)) {
    for (const epoch of await store.epochs(repository)) results.push(await verifyEpoch(store, epoch, publicKeys));
  }
  return results;
}
