/**
 * Replay verification over the in-memory ledger store: intact chains replay
 * at 100%, one byte changed in any stored field is named by height and field,
 * gaps and broken links are reported, the sliding window starts after the
 * last sealed epoch it trusts (sealed with epochs.ts and a real Ed25519 key),
 * and replay never writes.
 */
import { buildBlock, encodeBlockFields, type BlockFields, type StoredBlock } from '../../src/ledger/block';
import { decodeRecord } from '../../src/ledger/encoding';
import { sealEpochs, verifyEpochs } from '../../src/ledger/epochs';
import { digest } from '../../src/ledger/hash';
import { readOnlyLedger, replayLedger, successRate, trustVerifiedEpochs, walkStream, type ReplayResult } from '../../src/ledger/replay';
import { Ed25519Signer } from '../../src/ledger/signing';
import { DependencyError, InputError, IntegrityError } from '../../src/errors';
import { validReport } from '../report/report-fixture';
import { MemoryLedgerStore } from './memory-ledger-store';

const REPO = 'acme/widgets';
const OTHER = 'acme/gadgets';
const T0 = Date.UTC(2025, 5, 1, 8, 0, 0);
const SIGNER = new Ed25519Signer(Buffer.alloc(32, 7));

/** Appends `n` blocks to the stream (after its head); each odd block includes a journaled action. */
async function seed(store: MemoryLedgerStore, repository: string, n: number, options: { dualAt?: number } = {}): Promise<StoredBlock[]> {
  const blocks: StoredBlock[] = [];
  let previous = await store.head(repository);
  for (let i = 0; i < n; i++) {
    const height = previous === undefined ? 0 : previous.height + 1;
    const actions = [];
    if (height % 2 === 1) {
      const seq = await store.recordAction(repository, { kind: 'override', actor: 'lead', at: new Date(T0 + height).toISOString(), subject: `f${height}`, detail: 'accepted' });
      actions.push(...(await store.actionsAfter(repository, seq - 1)));
    }
    const report = validReport();
    report.machine_decision.outcome = height % 3 === 0 ? 'block' : 'warn';
    const block = buildBlock({
      report,
      repository,
      mode: 'pull_request',
      commit: height.toString(16).padStart(40, 'a'),
      previous,
      actions,
      dualActivationHeight: options.dualAt,
      timestamp: new Date(T0 + height * 60_000),
    });
    await store.append(block);
    blocks.push(block);
    previous = block;
  }
  return blocks;
}

function named(result: ReplayResult): string[] {
  return result.failures.map((f) => `${f.repository}@${f.height}:${f.field}`);
}

function valueOffset(canonical: Buffer, name: string): number {
  let cursor = 5;
  while (cursor < canonical.length) {
    const nameLength = canonical.readUInt16BE(cursor);
    const fieldName = canonical.toString('ascii', cursor + 2, cursor + 2 + nameLength);
    const valueLength = canonical.readUInt32BE(cursor + 2 + nameLength + 1);
    const value = cursor + 2 + nameLength + 5;
    if (fieldName === name) return value;
    cursor = value + valueLength;
  }
  throw new Error(`no field ${name}`);
}

const WRITES = ['append', 'putEpoch', 'recordAction', 'putSetting'] as const;

describe('replayLedger full_chain', () => {
  it('replays every block of every stream at 100% and writes nothing', async () => {
    // Prepare
    const store = new MemoryLedgerStore();
    await seed(store, REPO, 6);
    await seed(store, OTHER, 3, { dualAt: 1 });
    const writesBefore = WRITES.map((op) => store.count(op));

    // Act
    const result = await replayLedger(store, { strategy: 'full_chain' });

    // Assess
    expect(result).toMatchObject({ strategy: 'full_chain', window: null, readOnly: true, replayed: 9, failed: 0, successRate: 100, failures: [] });
    expect(result.range).toEqual([
      { repository: OTHER, head: 2, start: 0, end: 2, replayed: 3, failed: 0, anchor: null, epochsChecked: 0 },
      { repository: REPO, head: 5, start: 0, end: 5, replayed: 6, failed: 0, anchor: null, epochsChecked: 0 },
    ]);
    expect(WRITES.map((op) => store.count(op))).toEqual(writesBefore);
  });

  it.each([
    ['a byte of the canonical bytes', (b: StoredBlock) => void (b.canonical[valueOffset(b.canonical, 'outcome')] ^= 0x01), ['hash', 'hashSha3', 'outcome']],
    ['a stored column', (b: StoredBlock) => void (b.fields.rules_hash = `0${b.fields.rules_hash.slice(1)}`), ['rules_hash']],
    ['a byte of a finding leaf', (b: StoredBlock) => void (b.reasoningLeaves[0]![b.reasoningLeaves[0]!.length - 1] ^= 0x01), ['reasoning_root', 'reasoning_root_sha3']],
    ['a byte of an action leaf', (b: StoredBlock) => void (b.uiLeaves[0]![b.uiLeaves[0]!.length - 1] ^= 0x01), ['ui_root', 'ui_root_sha3']],
    ['the stored hash', (b: StoredBlock) => void (b.hash = `${b.hash.slice(0, 63)}${b.hash.endsWith('0') ? '1' : '0'}`), ['hash']],
    ['the stored SHA3 hash', (b: StoredBlock) => void (b.hashSha3 = `${b.hashSha3!.slice(0, 63)}${b.hashSha3!.endsWith('0') ? '1' : '0'}`), ['hashSha3']],
  ])('names height 3 and the field when %s changes', async (_what, tamper, fields) => {
    // Prepare
    const store = new MemoryLedgerStore();
    await seed(store, REPO, 6, { dualAt: 2 });
    store.tamperBlock(REPO, 3, tamper);

    // Act
    const result = await replayLedger(store, { strategy: 'full_chain' });

    // Assess
    const atThree = [...new Set(result.failures.filter((f) => f.height === 3).map((f) => f.field))].sort();
    expect(atThree).toEqual(fields);
    expect(result.failures.every((f) => f.repository === REPO && (f.height === 3 || f.height === 4))).toBe(true);
    expect(result.successRate).toBeLessThan(100);
  });

  it('names the height and field of a byte changed in any field of a stored block', async () => {
    // Prepare
    const store = new MemoryLedgerStore();
    const blocks = await seed(store, REPO, 5, { dualAt: 0 });
    const names = decodeRecord(blocks[3]!.canonical).map((f) => f.name);
    const missed: string[] = [];

    for (const name of names) {
      const copy = new MemoryLedgerStore();
      for (const block of blocks) copy.seedBlock(block);
      copy.tamperBlock(REPO, 3, (b) => {
        b.canonical[valueOffset(b.canonical, name)] ^= 0x01;
      });

      // Act
      const result = await replayLedger(copy, { strategy: 'full_chain' });

      // Assess
      if (!named(result).includes(`${REPO}@3:${name}`)) missed.push(name);
    }
    expect(names).toHaveLength(20);
    expect(missed).toEqual([]);
  });

  it('names the next block\'s prev_hash when a block is rewritten with consistent hashes', async () => {
    // Prepare
    const store = new MemoryLedgerStore();
    await seed(store, REPO, 5);
    store.tamperBlock(REPO, 2, (b) => {
      b.fields = { ...b.fields, outcome: 'pass' };
      b.canonical = encodeBlockFields(b.fields);
      b.hash = digest('sha256', b.canonical).toString('hex');
    });

    // Act
    const result = await replayLedger(store, { strategy: 'full_chain' });

    // Assess
    expect(named(result)).toEqual([`${REPO}@3:prev_hash`]);
    expect(result).toMatchObject({ replayed: 5, failed: 1, successRate: 80 });
  });

  it('verifies the dual boundary from both sides', async () => {
    // Prepare
    const store = new MemoryLedgerStore();
    await seed(store, REPO, 6, { dualAt: 3 });
    const intact = await replayLedger(store, { strategy: 'full_chain' });
    store.tamperBlock(REPO, 3, (b) => {
      const fields: BlockFields = { ...b.fields, prev_hash_sha3: 'ab'.repeat(32) };
      b.fields = fields;
      b.canonical = encodeBlockFields(fields);
      b.hash = digest('sha256', b.canonical).toString('hex');
      b.hashSha3 = digest('sha3-256', b.canonical).toString('hex');
    });

    // Act
    const result = await replayLedger(store, { strategy: 'full_chain' });

    // Assess
    expect(intact.failures).toEqual([]);
    expect(named(result)).toEqual([`${REPO}@3:prev_hash_sha3`, `${REPO}@4:prev_hash`, `${REPO}@4:prev_hash_sha3`]);
  });

  it('reports a missing block once and does not guess the link across the gap', async () => {
    // Prepare
    const store = new MemoryLedgerStore();
    await seed(store, REPO, 6);
    store.removeBlock(REPO, 2);

    // Act
    const result = await replayLedger(store, { strategy: 'full_chain' });

    // Assess
    expect(result.failures).toEqual([{ repository: REPO, height: 2, field: 'height', rule: 'missing_block', message: 'block 2 is missing from the stream' }]);
    expect(result).toMatchObject({ replayed: 6, failed: 1, successRate: 83.33 });
  });

  it('replays [start, end] against the stored predecessor of start', async () => {
    // Prepare
    const store = new MemoryLedgerStore();
    await seed(store, REPO, 8);
    store.tamperBlock(REPO, 1, (b) => {
      b.hash = 'f'.repeat(64);
    });

    // Act
    const result = await replayLedger(store, { strategy: 'full_chain', start: 2, end: 4 });

    // Assess
    expect(result.range[0]).toMatchObject({ start: 2, end: 4, head: 7 });
    expect(named(result)).toEqual([`${REPO}@2:prev_hash`]);
    expect(result.replayed).toBe(3);
  });

  it('reports the missing predecessor of start', async () => {
    // Prepare
    const store = new MemoryLedgerStore();
    await seed(store, REPO, 5);
    store.removeBlock(REPO, 1);

    // Act
    const result = await replayLedger(store, { strategy: 'full_chain', start: 2 });

    // Assess
    expect(result.failures).toEqual([expect.objectContaining({ height: 1, rule: 'missing_block', field: 'height' })]);
    expect(result).toMatchObject({ replayed: 4, failed: 1 });
  });

  it('checks the root of every sealed epoch inside the range', async () => {
    // Prepare
    const store = new MemoryLedgerStore();
    await seed(store, REPO, 9, { dualAt: 4 });
    await sealEpochs(store, [SIGNER], { epochSize: 4, clock: () => new Date(T0) });
    store.tamperEpoch(REPO, 1, (e) => {
      e.root = '00'.repeat(32);
    });

    // Act
    const result = await replayLedger(store, { strategy: 'full_chain' });
    const partial = await replayLedger(store, { strategy: 'full_chain', start: 5 });

    // Assess
    expect(result.failures).toEqual([expect.objectContaining({ rule: 'epoch_root', field: 'epoch_root', height: 7, epoch: 1 })]);
    expect(result.range[0]!.epochsChecked).toBe(2);
    expect(partial.failures).toEqual([]);
  });

  it('checks the SHA3-256 root of an epoch of dual blocks', async () => {
    // Prepare
    const store = new MemoryLedgerStore();
    await seed(store, REPO, 8, { dualAt: 4 });
    await sealEpochs(store, [SIGNER], { epochSize: 4, clock: () => new Date(T0) });
    const sealed = await store.epochs(REPO);
    store.tamperEpoch(REPO, 1, (e) => {
      e.rootSha3 = '11'.repeat(32);
    });

    // Act
    const result = await replayLedger(store, { strategy: 'full_chain' });

    // Assess
    expect(sealed.map((e) => e.rootSha3 !== undefined)).toEqual([false, true]);
    expect(result.failures).toEqual([expect.objectContaining({ rule: 'epoch_root', field: 'epoch_root_sha3', epoch: 1 })]);
  });

  it('replays only the requested repository', async () => {
    // Prepare
    const store = new MemoryLedgerStore();
    await seed(store, REPO, 3);
    await seed(store, OTHER, 2);
    store.tamperBlock(OTHER, 1, (b) => {
      b.hash = '0'.repeat(64);
    });

    // Act
    const result = await replayLedger(store, { strategy: 'full_chain', repository: REPO });

    // Assess
    expect(result.range.map((r) => r.repository)).toEqual([REPO]);
    expect(result).toMatchObject({ replayed: 3, failures: [] });
  });

  it('replays nothing, at 100%, on an empty ledger or an unknown stream', async () => {
    // Prepare
    const store = new MemoryLedgerStore();

    // Act
    const empty = await replayLedger(store, { strategy: 'full_chain' });
    const unknown = await replayLedger(store, { strategy: 'sliding_window', repository: 'acme/none' });

    // Assess
    expect(empty).toMatchObject({ replayed: 0, failed: 0, successRate: 100, range: [] });
    expect(unknown.range).toEqual([{ repository: 'acme/none', head: null, start: 0, end: -1, replayed: 0, failed: 0, anchor: null, epochsChecked: 0 }]);
  });

  it('fails closed when the store is unreachable', async () => {
    // Prepare
    const store = new MemoryLedgerStore();
    await seed(store, REPO, 3);
    store.failNext(1, { op: 'range' });

    // Act
    const replay = replayLedger(store, { strategy: 'full_chain' });

    // Assess
    await expect(replay).rejects.toBeInstanceOf(DependencyError);
  });
});

describe('replayLedger sliding_window', () => {
  it('replays the last N blocks when no epoch is sealed', async () => {
    // Prepare
    const store = new MemoryLedgerStore();
    await seed(store, REPO, 10);
    store.tamperBlock(REPO, 2, (b) => {
      b.hash = '0'.repeat(64);
    });

    // Act
    const result = await replayLedger(store, { strategy: 'sliding_window', window: 3 });

    // Assess
    expect(result).toMatchObject({ strategy: 'sliding_window', window: 3, replayed: 3, failures: [] });
    expect(result.range[0]).toMatchObject({ start: 7, end: 9, anchor: null });
  });

  it('starts after the last sealed epoch, verified against its blocks', async () => {
    // Prepare
    const store = new MemoryLedgerStore();
    await seed(store, REPO, 10);
    await sealEpochs(store, [SIGNER], { epochSize: 4, clock: () => new Date(T0) });
    const [, second] = await store.epochs(REPO);

    // Act
    const result = await replayLedger(store, { strategy: 'sliding_window', window: 5 });

    // Assess
    expect(result.range[0]).toMatchObject({ start: 8, end: 9, replayed: 2, epochsChecked: 1, anchor: { epoch: 1, startHeight: 4, endHeight: 7, root: second!.root } });
    expect(result.failures).toEqual([]);
  });

  it('links the first replayed block to the anchor epoch\'s last block', async () => {
    // Prepare
    const store = new MemoryLedgerStore();
    await seed(store, REPO, 10);
    await sealEpochs(store, [SIGNER], { epochSize: 4, clock: () => new Date(T0) });
    store.tamperBlock(REPO, 8, (b) => {
      const fields = { ...b.fields, prev_hash: '22'.repeat(32) };
      b.fields = fields;
      b.canonical = encodeBlockFields(fields);
      b.hash = digest('sha256', b.canonical).toString('hex');
    });

    // Act
    const result = await replayLedger(store, { strategy: 'sliding_window', window: 5 });

    // Assess
    expect(named(result)).toEqual([`${REPO}@8:prev_hash`, `${REPO}@9:prev_hash`]);
  });

  it('does not trust an epoch whose blocks no longer match its root, and falls back to the one before', async () => {
    // Prepare
    const store = new MemoryLedgerStore();
    await seed(store, REPO, 10);
    await sealEpochs(store, [SIGNER], { epochSize: 4, clock: () => new Date(T0) });
    store.tamperBlock(REPO, 6, (b) => {
      b.canonical[valueOffset(b.canonical, 'commit')] ^= 0x01;
    });

    // Act
    const result = await replayLedger(store, { strategy: 'sliding_window', window: 6 });

    // Assess
    expect(result.range[0]).toMatchObject({ start: 4, end: 9, epochsChecked: 2, anchor: { epoch: 0 } });
    expect(result.failures).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ height: 6, field: 'hash', rule: 'block_hash', epoch: 1 }),
        expect.objectContaining({ height: 7, field: 'epoch_root', rule: 'epoch_root', epoch: 1 }),
        expect.objectContaining({ height: 6, field: 'commit', rule: 'column' }),
      ]),
    );
    expect(result.successRate).toBeLessThan(100);
  });

  it('anchors only on epochs the trust predicate accepts', async () => {
    // Prepare
    const store = new MemoryLedgerStore();
    await seed(store, REPO, 10);
    await sealEpochs(store, [SIGNER], { epochSize: 4, clock: () => new Date(T0) });
    store.tamperEpoch(REPO, 1, (e) => {
      e.signatures = [{ ...e.signatures[0]!, signature: Buffer.alloc(64) }];
    });
    const checks = await verifyEpochs(store, [await SIGNER.publicKey()]);

    // Act
    const result = await replayLedger(store, { strategy: 'sliding_window', window: 8, trustedEpochs: trustVerifiedEpochs(checks) });

    // Assess
    expect(checks.map((c) => c.ok)).toEqual([true, false]);
    expect(result.range[0]).toMatchObject({ start: 4, end: 9, replayed: 6, anchor: { epoch: 0 }, epochsChecked: 1 });
    expect(result.failures).toEqual([]);
  });

  it('leaves the window unanchored when the last trusted epoch ends before its reach', async () => {
    // Prepare
    const store = new MemoryLedgerStore();
    await seed(store, REPO, 10);
    await sealEpochs(store, [SIGNER], { epochSize: 4, clock: () => new Date(T0) });
    const epochReads = store.count('range');

    // Act
    const result = await replayLedger(store, { strategy: 'sliding_window', window: 5, trustedEpochs: (epoch) => epoch.number === 0 });

    // Assess
    expect(result.range[0]).toMatchObject({ start: 5, end: 9, replayed: 5, anchor: null, epochsChecked: 0 });
    expect(store.count('range') - epochReads).toBe(1);
  });

  it('replays nothing past an anchor that covers the end', async () => {
    // Prepare
    const store = new MemoryLedgerStore();
    await seed(store, REPO, 8);
    await sealEpochs(store, [SIGNER], { epochSize: 4, clock: () => new Date(T0) });

    // Act
    const result = await replayLedger(store, { strategy: 'sliding_window', window: 3 });

    // Assess
    expect(result.range[0]).toMatchObject({ start: 8, end: 7, replayed: 0, anchor: { epoch: 1 } });
    expect(result.successRate).toBe(100);
  });

  it('reports an epoch whose blocks are missing', async () => {
    // Prepare
    const store = new MemoryLedgerStore();
    await seed(store, REPO, 6);
    await sealEpochs(store, [SIGNER], { epochSize: 4, clock: () => new Date(T0) });
    store.removeBlock(REPO, 1);

    // Act
    const result = await replayLedger(store, { strategy: 'sliding_window', window: 2 });

    // Assess
    expect(result.failures).toEqual([expect.objectContaining({ rule: 'epoch_coverage', height: 1, epoch: 0 })]);
    expect(result.range[0]).toMatchObject({ start: 4, end: 5, anchor: null });
  });
});

describe('replay options', () => {
  it.each([
    [{ strategy: 'everything' }, '--strategy'],
    [{ strategy: 'sliding_window', window: 0 }, '--window'],
    [{ strategy: 'full_chain', window: 10 }, '--window'],
    [{ strategy: 'full_chain', start: -1 }, '--start'],
    [{ strategy: 'full_chain', end: 1.5 }, '--end'],
    [{ strategy: 'full_chain', start: 5, end: 4 }, '--start'],
  ])('rejects %j naming %s', async (options, flag) => {
    // Prepare
    const store = new MemoryLedgerStore();

    // Act
    const replay = replayLedger(store, options as never);

    // Assess
    await expect(replay).rejects.toBeInstanceOf(InputError);
    await expect(replay).rejects.toMatchObject({ code: 'INPUT_INVALID', location: { flag } });
  });
});

describe('readOnlyLedger', () => {
  it('passes reads through and refuses every write', async () => {
    // Prepare
    const store = new MemoryLedgerStore('state.db');
    const [block] = await seed(store, REPO, 1);
    const view = readOnlyLedger(store);

    // Act
    const head = await view.head(REPO);
    const writes = [
      view.append(block!),
      view.recordAction(REPO, { kind: 'override', actor: 'a', at: 'now', subject: 's', detail: 'd' }),
      view.putEpoch((await store.epochs(REPO))[0]!),
      view.putSetting('epoch_size', '4'),
    ];

    // Assess
    expect(head?.hash).toBe(block!.hash);
    expect(view.location).toBe('state.db');
    for (const write of writes) await expect(write).rejects.toBeInstanceOf(IntegrityError);
    await expect(view.append(block!)).rejects.toThrow('the ledger is opened read-only for verification: append refused');
    expect(store.count('append')).toBe(1);
  });
});

describe('walkStream', () => {
  it('yields every height in order across pages, with undefined for gaps', async () => {
    // Prepare
    const store = new MemoryLedgerStore();
    await seed(store, REPO, 7);
    store.removeBlock(REPO, 2);
    store.removeBlock(REPO, 5);

    // Act
    const seen: [number, boolean][] = [];
    for await (const { height, block } of walkStream(store, REPO, 1, 6, 2)) seen.push([height, block?.height === height]);

    // Assess
    expect(seen).toEqual([
      [1, true],
      [2, false],
      [3, true],
      [4, true],
      [5, false],
      [6, true],
    ]);
    expect(store.count('range')).toBe(3);
  });
});

describe('successRate', () => {
  it('is a percentage with two decimals, 100 when nothing was replayed', () => {
    // Act
    const rates = [successRate(0, 0), successRate(3, 1), successRate(8, 0), successRate(8, 8)];

    // Assess
    expect(rates).toEqual([100, 66.67, 100, 0]);
  });
});
