/**
 * In-memory LedgerStore for the ledger tests (epochs, proofs, replay, drift).
 * Behaves like the port (src/ledger/store.ts) says the SQLite and DynamoDB
 * adapters do:
 *
 * - `append` is conditional on the height: a taken height is an
 *   IntegrityError LEDGER_CONFLICT (a concurrent append won), nothing else is
 *   checked (the consensus rules are replay's job, so tests can store gaps);
 * - `putEpoch` is conditional on the epoch number (LEDGER_CONFLICT);
 * - every read returns copies (Buffers included): mutating a returned block
 *   never changes the store;
 * - `range` returns the stored heights of [start, end] ascending, gaps absent;
 *   `epochs` ascending by number; `repositories` sorted;
 * - journaled actions get seq 1, 2, ... per repository;
 * - an unreachable store is a DependencyError STORE_FAILED naming the
 *   operation (see `failNext`).
 *
 * Test controls (none records a call): `tamperBlock` / `tamperEpoch` edit the
 * stored record in place (a byte flipped on disk), `removeBlock` /
 * `removeEpoch` delete one, `beforeNext` runs a hook inside the next call of
 * an operation after it is recorded and before it acts (a concurrent writer
 * acting between a caller's steps), `failNext` makes the next call(s) fail.
 * Every call is recorded in `calls`.
 */
import type { JournaledAction, LedgerAction, StoredBlock } from '../../src/ledger/block';
import type { LedgerSettingKey, LedgerStore, SealedEpoch } from '../../src/ledger/store';
import { DependencyError, IntegrityError } from '../../src/errors';

export type LedgerStoreOperation =
  | 'head'
  | 'append'
  | 'get'
  | 'range'
  | 'repositories'
  | 'recordAction'
  | 'actionsAfter'
  | 'putEpoch'
  | 'epochs'
  | 'getSetting'
  | 'putSetting';

export interface LedgerStoreCall {
  op: LedgerStoreOperation;
  repository?: string;
  /** Height of append/get, epoch number of putEpoch. */
  at?: number;
}

interface PlannedFailure {
  op: LedgerStoreOperation | undefined;
  cause: string;
  remaining: number;
}

export const DEFAULT_LEDGER_FAILURE_CAUSE = 'connect ETIMEDOUT 10.0.0.2:443';

export function cloneBlock(block: StoredBlock): StoredBlock {
  return {
    repository: block.repository,
    height: block.height,
    canonical: Buffer.from(block.canonical),
    hash: block.hash,
    ...(block.hashSha3 !== undefined ? { hashSha3: block.hashSha3 } : {}),
    reasoningLeaves: block.reasoningLeaves.map((leaf) => Buffer.from(leaf)),
    uiLeaves: block.uiLeaves.map((leaf) => Buffer.from(leaf)),
    fields: { ...block.fields },
  };
}

export function cloneEpoch(epoch: SealedEpoch): SealedEpoch {
  return {
    repository: epoch.repository,
    number: epoch.number,
    startHeight: epoch.startHeight,
    endHeight: epoch.endHeight,
    root: epoch.root,
    ...(epoch.rootSha3 !== undefined ? { rootSha3: epoch.rootSha3 } : {}),
    sealedAt: epoch.sealedAt,
    statement: Buffer.from(epoch.statement),
    signatures: epoch.signatures.map((signature) => ({
      algorithm: signature.algorithm,
      keyId: signature.keyId,
      signature: Buffer.from(signature.signature),
    })),
  };
}

export class MemoryLedgerStore implements LedgerStore {
  readonly location: string;
  readonly calls: LedgerStoreCall[] = [];
  private readonly streams = new Map<string, Map<number, StoredBlock>>();
  private readonly journals = new Map<string, JournaledAction[]>();
  private readonly sealed = new Map<string, Map<number, SealedEpoch>>();
  private readonly settings = new Map<LedgerSettingKey, string>();
  private readonly failures: PlannedFailure[] = [];
  private readonly hooks: { op: LedgerStoreOperation; run: (call: LedgerStoreCall) => void | Promise<void> }[] = [];

  constructor(location = 'memory ledger') {
    this.location = location;
  }

  // ---- test controls -------------------------------------------------------

  /** Edits the stored block in place (no call recorded): a tampered record. */
  tamperBlock(repository: string, height: number, edit: (block: StoredBlock) => void): void {
    const block = this.streams.get(repository)?.get(height);
    if (block === undefined) throw new Error(`memory ledger: no block ${repository}@${height} to tamper with`);
    edit(block);
  }

  /** Edits the stored epoch in place (no call recorded). */
  tamperEpoch(repository: string, number: number, edit: (epoch: SealedEpoch) => void): void {
    const epoch = this.sealed.get(repository)?.get(number);
    if (epoch === undefined) throw new Error(`memory ledger: no epoch ${repository}#${number} to tamper with`);
    edit(epoch);
  }

  /** Deletes a stored block (no call recorded): a gap in the stream. */
  removeBlock(repository: string, height: number): void {
    this.streams.get(repository)?.delete(height);
  }

  /** Deletes a sealed epoch (no call recorded). */
  removeEpoch(repository: string, number: number): void {
    this.sealed.get(repository)?.delete(number);
  }

  /** Stores a block unconditionally (no call recorded, no height check): seeding a fork or a corrupt history. */
  seedBlock(block: StoredBlock): void {
    this.stream(block.repository).set(block.height, cloneBlock(block));
  }

  /** Stores an epoch unconditionally (no call recorded). */
  seedEpoch(epoch: SealedEpoch): void {
    this.epochMap(epoch.repository).set(epoch.number, cloneEpoch(epoch));
  }

  /** Runs `run` inside the next call of `op`, after it is recorded and before it acts. */
  beforeNext(op: LedgerStoreOperation, run: (call: LedgerStoreCall) => void | Promise<void>): void {
    this.hooks.push({ op, run });
  }

  /**
   * The next `times` calls (of `op` when given, else of any operation) throw
   * DependencyError STORE_FAILED with `cause` in the message. `Infinity`
   * keeps the store down until `recover()`.
   */
  failNext(times = 1, options: { op?: LedgerStoreOperation; cause?: string } = {}): void {
    if (times > 0) this.failures.push({ op: options.op, cause: options.cause ?? DEFAULT_LEDGER_FAILURE_CAUSE, remaining: times });
  }

  recover(): void {
    this.failures.length = 0;
  }

  /** Number of recorded calls of one operation. */
  count(op: LedgerStoreOperation): number {
    return this.calls.filter((call) => call.op === op).length;
  }

  // ---- the port --------------------------------------------------------------

  async head(repository: string): Promise<StoredBlock | undefined> {
    await this.enter({ op: 'head', repository });
    const stream = this.streams.get(repository);
    if (stream === undefined || stream.size === 0) return undefined;
    return cloneBlock(stream.get(Math.max(...stream.keys()))!);
  }

  async append(block: StoredBlock): Promise<void> {
    await this.enter({ op: 'append', repository: block.repository, at: block.height });
    if (!Number.isSafeInteger(block.height) || block.height < 0) {
      throw new IntegrityError('LEDGER_INVALID', `ledger: block height ${block.height} is not a non-negative integer`, {
        context: { repository: block.repository, height: block.height },
      });
    }
    const stream = this.stream(block.repository);
    if (stream.has(block.height)) {
      throw new IntegrityError('LEDGER_CONFLICT', `ledger: height ${block.height} of ${block.repository} is already taken`, {
        context: { repository: block.repository, height: block.height, location: this.location },
      });
    }
    stream.set(block.height, cloneBlock(block));
  }

  async get(repository: string, height: number): Promise<StoredBlock | undefined> {
    await this.enter({ op: 'get', repository, at: height });
    const block = this.streams.get(repository)?.get(height);
    return block === undefined ? undefined : cloneBlock(block);
  }

  async range(repository: string, start: number, end: number): Promise<StoredBlock[]> {
    await this.enter({ op: 'range', repository });
    const stream = this.streams.get(repository);
    if (stream === undefined) return [];
    return [...stream.keys()]
      .filter((height) => height >= start && height <= end)
      .sort((a, b) => a - b)
      .map((height) => cloneBlock(stream.get(height)!));
  }

  async repositories(): Promise<string[]> {
    await this.enter({ op: 'repositories' });
    return [...this.streams.entries()]
      .filter(([, stream]) => stream.size > 0)
      .map(([repository]) => repository)
      .sort();
  }

  async recordAction(repository: string, action: LedgerAction): Promise<number> {
    await this.enter({ op: 'recordAction', repository });
    let journal = this.journals.get(repository);
    if (journal === undefined) {
      journal = [];
      this.journals.set(repository, journal);
    }
    const seq = journal.length + 1;
    journal.push({ ...action, seq });
    return seq;
  }

  async actionsAfter(repository: string, afterSeq: number): Promise<JournaledAction[]> {
    await this.enter({ op: 'actionsAfter', repository });
    return (this.journals.get(repository) ?? []).filter((action) => action.seq > afterSeq).map((action) => ({ ...action }));
  }

  async putEpoch(epoch: SealedEpoch): Promise<void> {
    await this.enter({ op: 'putEpoch', repository: epoch.repository, at: epoch.number });
    const epochs = this.epochMap(epoch.repository);
    if (epochs.has(epoch.number)) {
      throw new IntegrityError('LEDGER_CONFLICT', `ledger: epoch ${epoch.number} of ${epoch.repository} is already sealed`, {
        context: { repository: epoch.repository, epoch: epoch.number, location: this.location },
      });
    }
    epochs.set(epoch.number, cloneEpoch(epoch));
  }

  async epochs(repository: string): Promise<SealedEpoch[]> {
    await this.enter({ op: 'epochs', repository });
    const epochs = this.sealed.get(repository);
    if (epochs === undefined) return [];
    return [...epochs.values()].sort((a, b) => a.number - b.number).map(cloneEpoch);
  }

  async getSetting(key: LedgerSettingKey): Promise<string | undefined> {
    await this.enter({ op: 'getSetting' });
    return this.settings.get(key);
  }

  async putSetting(key: LedgerSettingKey, value: string): Promise<void> {
    await this.enter({ op: 'putSetting' });
    this.settings.set(key, value);
  }

  // ---- internals -----------------------------------------------------------

  private stream(repository: string): Map<number, StoredBlock> {
    let stream = this.streams.get(repository);
    if (stream === undefined) {
      stream = new Map();
      this.streams.set(repository, stream);
    }
    return stream;
  }

  private epochMap(repository: string): Map<number, SealedEpoch> {
    let epochs = this.sealed.get(repository);
    if (epochs === undefined) {
      epochs = new Map();
      this.sealed.set(repository, epochs);
    }
    return epochs;
  }

  /** Records the call, runs its hook, throws a planned failure. */
  private async enter(call: LedgerStoreCall): Promise<void> {
    this.calls.push(call);
    const hookIndex = this.hooks.findIndex((hook) => hook.op === call.op);
    if (hookIndex >= 0) {
      const [hook] = this.hooks.splice(hookIndex, 1);
      await hook!.run(call);
    }
    const failure = this.failures.find((planned) => planned.remaining > 0 && (planned.op === undefined || planned.op === call.op));
    if (failure !== undefined) {
      failure.remaining -= 1;
      if (failure.remaining <= 0) this.failures.splice(this.failures.indexOf(failure), 1);
      throw new DependencyError('STORE_FAILED', `ledger store: ${call.op} failed on ${this.location}: ${failure.cause}`, {
        context: { operation: call.op, location: this.location },
      });
    }
  }
}
