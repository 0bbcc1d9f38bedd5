/**
 * Replay verification (docs/ledger.md, "Replay"): re-reads a ledger and
 * recomputes every hash, attestation root and link from the stored bytes,
 * never re-serializing, and names every failing height and field.
 *
 * - `full_chain` replays heights [start ?? 0, end ?? head] of every stream
 *   (or of one), and checks the root of every sealed epoch lying inside that
 *   range against the blocks it covers.
 * - `sliding_window` replays the last `window` blocks up to `end ?? head`,
 *   starting after the last sealed epoch it trusts that ends inside the
 *   window or right before it: that epoch is trusted only after its root
 *   (SHA-256, and SHA3-256 when sealed with one) is recomputed from the
 *   canonical bytes of the blocks it covers and each of those blocks hashes
 *   to its stored hash. Its last block is then the trusted predecessor of the
 *   first replayed block, so the window is a verified chain from a sealed
 *   root to the head. An epoch that fails the check is reported and the next
 *   older one is tried. When no trusted epoch ends within reach (sealing lags
 *   more than a window behind), the window is unanchored (`anchor: null`):
 *   its first link is checked against the stored predecessor only; the
 *   window stays a bound on the work. `trustedEpochs`
 *   narrows which epochs may anchor (a predicate such as a signature check,
 *   see `trustVerifiedEpochs`); by default any epoch whose root verifies may.
 *
 * Replay is read-only: it reads through a view whose write operations throw.
 */
import { InputError, IntegrityError } from '../errors';
import type { StoredBlock } from './block';
import { inspectBlock, type ConsensusRule } from './consensus';
import { digest } from './hash';
import { merkleRoot } from './merkle';
import type { LedgerStore, SealedEpoch } from './store';

export type ReplayStrategy = 'full_chain' | 'sliding_window';
export const REPLAY_STRATEGIES: readonly ReplayStrategy[] = ['full_chain', 'sliding_window'];
export const DEFAULT_REPLAY_WINDOW = 1000;
/**
 * Blocks read per `range` call. Small enough that a page (rows, decoded
 * records, digests) dies young instead of being promoted by the GC, which
 * made 1000-block pages markedly slower; large enough that the per-call cost
 * (one key seek in SQLite, one Query in DynamoDB, whose 1 MB pages hold a few
 * hundred blocks anyway) stays negligible.
 */
export const REPLAY_PAGE_SIZE = 256;

/** Which sealed epochs may anchor a sliding window (e.g. those whose signatures verify). */
export type EpochTrust = (epoch: SealedEpoch) => boolean | Promise<boolean>;

/** Trust exactly the epochs whose verification passed (e.g. `verifyEpochs` of epochs.ts with the trusted public keys). */
export function trustVerifiedEpochs(checks: readonly { repository: string; number: number; ok: boolean }[]): EpochTrust {
  const trusted = new Set(checks.filter((c) => c.ok).map((c) => `${c.number}\u0000${c.repository}`));
  return (epoch) => trusted.has(`${epoch.number}\u0000${epoch.repository}`);
}

export interface ReplayOptions {
  /** One stream; default every stream of the ledger. */
  repository?: string;
  strategy: ReplayStrategy;
  /** sliding_window only: how many of the newest blocks to replay. @default 1000 */
  window?: number;
  /** Lowest height replayed. @default 0 */
  start?: number;
  /** Highest height replayed. @default the stream's head */
  end?: number;
  trustedEpochs?: EpochTrust;
}

export type ReplayRule = ConsensusRule | 'missing_block' | 'epoch_root' | 'epoch_coverage';

export interface ReplayFailure {
  repository: string;
  height: number;
  field: string;
  rule: ReplayRule;
  message: string;
  expected?: string;
  actual?: string;
  /** The sealed epoch concerned (epoch failures). */
  epoch?: number;
}

export interface ReplayAnchor {
  epoch: number;
  startHeight: number;
  endHeight: number;
  root: string;
}

export interface ReplayStreamRange {
  repository: string;
  /** The stream's newest height, null when it has no block. */
  head: number | null;
  /** Heights replayed: [start, end]; start > end when nothing was left to replay. */
  start: number;
  end: number;
  replayed: number;
  failed: number;
  /** sliding_window: the trusted epoch the window starts after, or null. */
  anchor: ReplayAnchor | null;
  /** Sealed epochs whose roots were recomputed (full_chain: all in range; sliding_window: those tried as anchor). */
  epochsChecked: number;
}

export interface ReplayResult {
  strategy: ReplayStrategy;
  window: number | null;
  readOnly: true;
  /** Heights examined: those replayed, plus any other height a failure names (a missing block counts, as a failure). */
  replayed: number;
  /** Heights with at least one failure. */
  failed: number;
  /** Percentage of replayed heights without failure (100 when none was replayed). */
  successRate: number;
  failures: ReplayFailure[];
  range: ReplayStreamRange[];
}

/** Replays the ledger; never writes. @throws InputError on invalid options */
export async function replayLedger(store: LedgerStore, options: ReplayOptions): Promise<ReplayResult> {
  validateReplayOptions(options);
  const ledger = readOnlyLedger(store);
  const repositories = options.repository !== undefined ? [options.repository] : await ledger.repositories();
  const window = options.strategy === 'sliding_window' ? (options.window ?? DEFAULT_REPLAY_WINDOW) : null;
  const failures: ReplayFailure[] = [];
  const ranges: ReplayStreamRange[] = [];
  for (const repository of repositories) {
    const stream = await replayStream(ledger, repository, options, window);
    failures.push(...stream.failures);
    ranges.push(stream.range);
  }
  const replayed = ranges.reduce((sum, r) => sum + r.replayed, 0);
  const failed = ranges.reduce((sum, r) => sum + r.failed, 0);
  return {
    strategy: options.strategy,
    window,
    readOnly: true,
    replayed,
    failed,
    successRate: successRate(replayed, failed),
    failures,
    range: ranges,
  };
}

export function successRate(replayed: number, failed: number): number {
  if (replayed === 0) return 100;
  return Math.round(((replayed - failed) / replayed) * 10000) / 100;
}

function validateReplayOptions(options: ReplayOptions): void {
  if (!REPLAY_STRATEGIES.includes(options.strategy)) {
    throw new InputError('INPUT_INVALID', `unknown replay strategy ${JSON.stringify(options.strategy)}: use full_chain or sliding_window`, {
      location: { flag: '--strategy' },
    });
  }
  const whole = (value: number | undefined, flag: string, min: number): void => {
    if (value !== undefined && (!Number.isSafeInteger(value) || value < min)) {
      throw new InputError('INPUT_INVALID', `${flag} must be a whole number ≥ ${min}, got ${String(value)}`, { location: { flag } });
    }
  };
  whole(options.window, '--window', 1);
  whole(options.start, '--start', 0);
  whole(options.end, '--end', 0);
  if (options.start !== undefined && options.end !== undefined && options.start > options.end) {
    throw new InputError('INPUT_INVALID', `--start ${options.start} is after --end ${options.end}`, { location: { flag: '--start' } });
  }
  if (options.window !== undefined && options.strategy !== 'sliding_window') {
    throw new InputError('INPUT_INVALID', '--window applies to the sliding_window strategy only', { location: { flag: '--window' } });
  }
}

interface StreamReplay {
  failures: ReplayFailure[];
  range: ReplayStreamRange;
}

async function replayStream(ledger: LedgerStore, repository: string, options: ReplayOptions, window: number | null): Promise<StreamReplay> {
  const failures: ReplayFailure[] = [];
  const head = await ledger.head(repository);
  const floor = options.start ?? 0;
  if (head === undefined) {
    return { failures, range: { repository, head: null, start: floor, end: floor - 1, replayed: 0, failed: 0, anchor: null, epochsChecked: 0 } };
  }
  const end = Math.min(options.end ?? head.height, head.height);
  let start = floor;
  let anchor: ReplayAnchor | null = null;
  let anchorBlock: StoredBlock | undefined;
  let epochsChecked = 0;
  const epochs = await ledger.epochs(repository);

  if (window !== null) {
    start = Math.max(floor, end - window + 1);
    // The newest trusted epoch ending inside the window (or right before it) anchors it.
    const candidates = epochs.filter((epoch) => epoch.endHeight <= end && epoch.endHeight >= start - 1).sort((a, b) => b.number - a.number);
    for (const epoch of candidates) {
      if (!(await trusts(options.trustedEpochs, epoch))) continue;
      epochsChecked += 1;
      const blocks = await ledger.range(repository, epoch.startHeight, epoch.endHeight);
      const epochFailures = checkEpochOverBlocks(epoch, blocks);
      failures.push(...epochFailures);
      if (epochFailures.length > 0) continue;
      anchor = { epoch: epoch.number, startHeight: epoch.startHeight, endHeight: epoch.endHeight, root: epoch.root };
      anchorBlock = blocks.at(-1);
      start = Math.max(start, epoch.endHeight + 1);
      break;
    }
  }

  // Replay [start, end], each block against its predecessor.
  let previous: StoredBlock | undefined;
  let linkKnown = true;
  if (start > 0 && start <= end) {
    previous = anchorBlock !== undefined && anchorBlock.height === start - 1 ? anchorBlock : await ledger.get(repository, start - 1);
    if (previous === undefined) {
      linkKnown = false;
      failures.push({
        repository,
        height: start - 1,
        field: 'height',
        rule: 'missing_block',
        message: `block ${start - 1}, the predecessor of the first replayed block, is missing: the link to ${start} cannot be checked`,
      });
    }
  }
  let replayed = 0;
  // full_chain checks every sealed epoch inside [start, end] against the digests of the replayed blocks.
  const epochsInRange = window === null ? epochs.filter((epoch) => epoch.startHeight >= start && epoch.endHeight <= end) : [];
  const digests = new Map<number, { sha256: Buffer; sha3?: Buffer }>();
  const inspectOptions = { checkLink: true };
  // Page by page, each page checked synchronously (one await per page, not per block).
  for await (const page of walkPages(ledger, repository, start, end)) {
    for (const { height, block } of page) {
      replayed += 1;
      if (block === undefined) {
        failures.push({ repository, height, field: 'height', rule: 'missing_block', message: `block ${height} is missing from the stream` });
        previous = undefined;
        linkKnown = false;
        continue;
      }
      inspectOptions.checkLink = linkKnown;
      const { violations, sha256, sha3 } = inspectBlock(block, previous, inspectOptions);
      for (const v of violations) {
        failures.push({
          repository,
          height: v.height,
          field: v.field,
          rule: v.rule,
          message: v.message,
          ...(v.expected === undefined ? {} : { expected: v.expected }),
          ...(v.actual === undefined ? {} : { actual: v.actual }),
        });
      }
      if (epochsInRange.length > 0) digests.set(height, sha3 === undefined ? { sha256 } : { sha256, sha3 });
      previous = block;
      linkKnown = true;
    }
  }

  for (const epoch of epochsInRange) {
    epochsChecked += 1;
    failures.push(...checkEpochRoots(epoch, digests));
  }
  // A height named by a failure was examined, even outside [start, end] (an anchor candidate's block, a missing predecessor).
  const failing = new Set(failures.map((failure) => failure.height));
  for (const height of failing) if (height < start || height > end) replayed += 1;
  return {
    failures,
    range: { repository, head: head.height, start, end, replayed, failed: failing.size, anchor, epochsChecked },
  };
}

async function trusts(trust: EpochTrust | undefined, epoch: SealedEpoch): Promise<boolean> {
  return trust === undefined ? true : trust(epoch);
}

/** Every height of [start, end] in order, with its block or undefined when the stream lacks it. Reads page by page. */
export async function* walkStream(
  ledger: LedgerStore,
  repository: string,
  start: number,
  end: number,
  pageSize = REPLAY_PAGE_SIZE,
): AsyncGenerator<{ height: number; block: StoredBlock | undefined }> {
  for await (const page of walkPages(ledger, repository, start, end, pageSize)) yield* page;
}

/** walkStream one page at a time: each page lists every height of its span, in order. */
async function* walkPages(
  ledger: LedgerStore,
  repository: string,
  start: number,
  end: number,
  pageSize = REPLAY_PAGE_SIZE,
): AsyncGenerator<{ height: number; block: StoredBlock | undefined }[]> {
  for (let pageStart = start; pageStart <= end; pageStart += pageSize) {
    const pageEnd = Math.min(end, pageStart + pageSize - 1);
    const blocks = await ledger.range(repository, pageStart, pageEnd);
    const page: { height: number; block: StoredBlock | undefined }[] = [];
    let index = 0;
    for (let height = pageStart; height <= pageEnd; height++) {
      while (index < blocks.length && blocks[index]!.height < height) index += 1;
      const block = blocks[index];
      if (block !== undefined && block.height === height) {
        index += 1;
        page.push({ height, block });
      } else {
        page.push({ height, block: undefined });
      }
    }
    yield page;
  }
}

/**
 * Checks a sealed epoch against the blocks it covers: every height present,
 * each stored hash the digest of the canonical bytes, and the roots — MTH
 * over the blocks' digests recomputed from the bytes, each 32-byte digest one
 * leaf, as epochs.ts seals them.
 */
export function checkEpochOverBlocks(epoch: SealedEpoch, blocks: readonly StoredBlock[]): ReplayFailure[] {
  const failures: ReplayFailure[] = [];
  const digests = new Map<number, { sha256: Buffer; sha3?: Buffer }>();
  for (const block of blocks) {
    const sha256 = digest('sha256', block.canonical);
    if (sha256.toString('hex') !== block.hash) {
      failures.push({
        repository: epoch.repository,
        height: block.height,
        field: 'hash',
        rule: 'block_hash',
        epoch: epoch.number,
        expected: sha256.toString('hex'),
        actual: block.hash,
        message: `block covered by epoch ${epoch.number} does not hash to its stored hash`,
      });
    }
    digests.set(block.height, { sha256, ...(epoch.rootSha3 !== undefined ? { sha3: digest('sha3-256', block.canonical) } : {}) });
  }
  failures.push(...checkEpochRoots(epoch, digests));
  return failures;
}

function checkEpochRoots(epoch: SealedEpoch, digests: ReadonlyMap<number, { sha256: Buffer; sha3?: Buffer }>): ReplayFailure[] {
  const missing: number[] = [];
  const sha256: Buffer[] = [];
  const sha3: Buffer[] = [];
  for (let height = epoch.startHeight; height <= epoch.endHeight; height++) {
    const entry = digests.get(height);
    if (entry === undefined) {
      missing.push(height);
      continue;
    }
    sha256.push(entry.sha256);
    if (entry.sha3 !== undefined) sha3.push(entry.sha3);
  }
  const base = { repository: epoch.repository, epoch: epoch.number };
  if (missing.length > 0) {
    return [
      {
        ...base,
        height: missing[0]!,
        field: 'epoch_root',
        rule: 'epoch_coverage',
        message: `epoch ${epoch.number} covers [${epoch.startHeight}, ${epoch.endHeight}] but ${missing.length} of its blocks are missing (first ${missing[0]})`,
      },
    ];
  }
  const failures: ReplayFailure[] = [];
  const root = merkleRoot('sha256', sha256).toString('hex');
  if (root !== epoch.root) {
    failures.push({
      ...base,
      height: epoch.endHeight,
      field: 'epoch_root',
      rule: 'epoch_root',
      expected: root,
      actual: epoch.root,
      message: `epoch ${epoch.number} root is not the Merkle root of its blocks [${epoch.startHeight}, ${epoch.endHeight}]`,
    });
  }
  if (epoch.rootSha3 !== undefined) {
    if (sha3.length !== sha256.length) {
      failures.push({
        ...base,
        height: epoch.endHeight,
        field: 'epoch_root_sha3',
        rule: 'epoch_root',
        message: `epoch ${epoch.number} carries a SHA3-256 root but not all of its blocks are dual`,
      });
    } else {
      const rootSha3 = merkleRoot('sha3-256', sha3).toString('hex');
      if (rootSha3 !== epoch.rootSha3) {
        failures.push({
          ...base,
          height: epoch.endHeight,
          field: 'epoch_root_sha3',
          rule: 'epoch_root',
          expected: rootSha3,
          actual: epoch.rootSha3,
          message: `epoch ${epoch.number} SHA3-256 root is not the Merkle root of its blocks [${epoch.startHeight}, ${epoch.endHeight}]`,
        });
      }
    }
  }
  return failures;
}

/** A view of `store` whose reads pass through and whose writes throw: replay, the radar and the governance chain never write. */
export function readOnlyLedger(store: LedgerStore): LedgerStore {
  const refuse = (operation: string): never => {
    throw new IntegrityError('LEDGER_INVALID', `the ledger is opened read-only for verification: ${operation} refused`, {
      context: { operation, location: store.location },
    });
  };
  return {
    location: store.location,
    head: (repository) => store.head(repository),
    get: (repository, height) => store.get(repository, height),
    range: (repository, start, end) => store.range(repository, start, end),
    repositories: () => store.repositories(),
    actionsAfter: (repository, afterSeq) => store.actionsAfter(repository, afterSeq),
    epochs: (repository) => store.epochs(repository),
    getSetting: (key) => store.getSetting(key),
    append: async () => refuse('append'),
    recordAction: async () => refuse('recordAction'),
    putEpoch: async () => refuse('putEpoch'),
    putSetting: async () => refuse('putSetting'),
  };
}
