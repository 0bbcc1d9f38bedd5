/**
 * The ledger store port (DESIGN §7): append-only block streams per
 * repository with appends conditional on height (no forks), the journal of
 * human actions, sealed epochs and ledger settings. Adapters: SQLite
 * (embedded) and DynamoDB (aws); one contract suite runs against both.
 */
import type { JournaledAction, LedgerAction, StoredBlock } from './block';

/** A sealed epoch: the Merkle root over the block hashes of heights [startHeight, endHeight] of one stream. */
export interface SealedEpoch {
  repository: string;
  /** 0-based: epoch n covers heights [n·E, (n+1)·E − 1]. */
  number: number;
  startHeight: number;
  endHeight: number;
  /** MTH (SHA-256) over the blocks' SHA-256 hashes, hex. */
  root: string;
  /** MTH (SHA3-256) over the blocks' SHA3-256 hashes, when every block of the epoch is dual. */
  rootSha3?: string;
  sealedAt: string;
  /** The canonical bytes that were signed (epoch fields), base64 in JSON. */
  statement: Buffer;
  signatures: EpochSignature[];
}

export interface EpochSignature {
  /** `ed25519` (embedded), `ecdsa-p256-sha256` (AWS KMS), `ml-dsa-44` (post-quantum, either). */
  algorithm: 'ed25519' | 'ecdsa-p256-sha256' | 'ml-dsa-44';
  /** Which key: a fingerprint of the public key (embedded) or the KMS key id. */
  keyId: string;
  signature: Buffer;
}

export interface LedgerStore {
  /** Where the ledger lives, for messages. */
  readonly location: string;
  /** The stream's newest block, or undefined when it has none. */
  head(repository: string): Promise<StoredBlock | undefined>;
  /**
   * Appends `block` at `block.height`, only if no block exists there.
   * @throws IntegrityError LEDGER_CONFLICT when the height is taken (a concurrent append won: rebuild on the new head and retry)
   */
  append(block: StoredBlock): Promise<void>;
  get(repository: string, height: number): Promise<StoredBlock | undefined>;
  /** Blocks of heights [start, end] in ascending order (missing heights are simply absent). */
  range(repository: string, start: number, end: number): Promise<StoredBlock[]>;
  /** Every repository with at least one block, sorted. */
  repositories(): Promise<string[]>;
  /** Journals a human action for the repository's next block; returns its sequence number (1, 2, ...). */
  recordAction(repository: string, action: LedgerAction): Promise<number>;
  /** Journaled actions with seq > `afterSeq`, ascending. */
  actionsAfter(repository: string, afterSeq: number): Promise<JournaledAction[]>;
  /**
   * Stores a sealed epoch, only if that epoch number is not sealed yet.
   * @throws IntegrityError LEDGER_CONFLICT when it is
   */
  putEpoch(epoch: SealedEpoch): Promise<void>;
  /** The stream's sealed epochs, ascending by number. */
  epochs(repository: string): Promise<SealedEpoch[]>;
  /** Ledger-wide settings (the dual activation height). */
  getSetting(key: LedgerSettingKey): Promise<string | undefined>;
  putSetting(key: LedgerSettingKey, value: string): Promise<void>;
}

export type LedgerSettingKey = 'dual_activation_height' | 'epoch_size';
