import { appendDecision } from '../../src/ledger/append';
import { buildBlock, decodeBlockFields, reportHash, uiLeaf } from '../../src/ledger/block';
import { activateDual } from '../../src/ledger/dual';
import { digest, ZERO_HASH } from '../../src/ledger/hash';
import { merkleRoot } from '../../src/ledger/merkle';
import { reportOf, reportWithSnippets, itemOf, evidenceOf } from '../nonce/reports';
import { Redactor } from '../../src/redaction/redactor';
import { MemoryLedgerStore } from './memory-ledger-store';

const T0 = Date.parse('2026-11-23T12:00:00.000Z');
const redactor = new Redactor({ version: 1, value: 'cd'.repeat(32), loadedAt: new Date(T0) });
const REPO = 'acme/widgets';

function decision(outcome: 'pass' | 'warn' | 'block' = 'block') {
  const report = reportOf([itemOf('MD-001', [evidenceOf('ci.yml', 3, redactor.redact('token = ghp_abcdefghijklmnopqrstuvwxyz0123456789'))])]);
  report.machine_decision = { outcome, degraded: false, reason: 'test' };
  return report;
}

function append(store: MemoryLedgerStore, at = T0, repository = REPO) {
  return appendDecision(store, { report: decision(), repository, mode: 'pull_request', commit: 'abc123', clock: () => new Date(at) });
}

describe('appendDecision', () => {
  it('starts a stream at height 0 linked to the zero hash, and chains the next block to its hash', async () => {
    // Prepare
    const store = new MemoryLedgerStore();

    // Act
    const first = await append(store);
    const second = await append(store, T0 + 1000);

    // Assess
    expect(first.height).toBe(0);
    expect(first.fields.prev_hash).toBe(ZERO_HASH);
    expect(second.height).toBe(1);
    expect(second.fields.prev_hash).toBe(first.hash);
    expect(second.hash).toBe(digest('sha256', second.canonical).toString('hex'));
    expect((await store.head(REPO))?.hash).toBe(second.hash);
  });

  it('commits to the decision: outcome, rules hash, report hash and one reasoning leaf per finding', async () => {
    const store = new MemoryLedgerStore();
    const report = decision('warn');
    const block = await appendDecision(store, { report, repository: REPO, mode: 'merge_group', commit: undefined, clock: () => new Date(T0) });
    const decoded = decodeBlockFields(block.canonical);
    expect(decoded).toMatchObject({ outcome: 'warn', mode: 'merge_group', commit: '', rules_hash: report.meta.rules_hash, report_hash: reportHash(report) });
    expect(block.reasoningLeaves).toHaveLength(1);
    expect(block.fields.reasoning_root).toBe(merkleRoot('sha256', block.reasoningLeaves).toString('hex'));
  });

  it('keeps streams of different repositories independent', async () => {
    const store = new MemoryLedgerStore();
    await append(store, T0, 'acme/a');
    const other = await append(store, T0, 'acme/b');
    expect(other.height).toBe(0);
    expect(await store.repositories()).toEqual(['acme/a', 'acme/b']);
  });

  it('includes the actions journaled since the previous block, once', async () => {
    // Prepare
    const store = new MemoryLedgerStore();
    await append(store);
    const action = { kind: 'fp_mark' as const, actor: 'alice', at: new Date(T0).toISOString(), subject: 'event-1', detail: 'generated code' };
    await store.recordAction(REPO, action);

    // Act
    const withAction = await append(store, T0 + 1);
    const after = await append(store, T0 + 2);

    // Assess
    expect(withAction.uiLeaves).toEqual([uiLeaf(action)]);
    expect(withAction.fields.ui_through_seq).toBe(1);
    expect(after.uiLeaves).toEqual([]);
    expect(after.fields.ui_through_seq).toBe(1);
  });

  it('rebuilds on the new head when a concurrent append takes its height', async () => {
    // Prepare: another writer appends height 1 between this caller's head read and its append
    const store = new MemoryLedgerStore();
    const genesis = await append(store);
    store.beforeNext('append', async () => {
      const rival = buildBlock({ report: decision('pass'), repository: REPO, mode: 'pull_request', commit: 'r', previous: genesis, actions: [], dualActivationHeight: undefined, timestamp: new Date(T0) });
      await store.append(rival);
    });

    // Act
    const block = await append(store, T0 + 5);

    // Assess
    expect(block.height).toBe(2);
    expect(block.fields.prev_hash).toBe((await store.get(REPO, 1))?.hash);
  });

  it('refuses to extend a head whose bytes no longer match its stored hash (fail closed)', async () => {
    const store = new MemoryLedgerStore();
    await append(store);
    store.tamperBlock(REPO, 0, (block) => {
      block.canonical[block.canonical.length - 1] ^= 0xff;
    });
    await expect(append(store)).rejects.toMatchObject({ code: 'LEDGER_INVALID', message: expect.stringContaining('height 0') });
    expect((await store.head(REPO))?.height).toBe(0);
  });

  it('never writes a timestamp earlier than the previous block when the clock steps back', async () => {
    const store = new MemoryLedgerStore();
    const first = await append(store, T0 + 60_000);
    const second = await append(store, T0);
    expect(second.fields.timestamp).toBe(first.fields.timestamp);
  });

  it('does not hide a store failure', async () => {
    const store = new MemoryLedgerStore();
    store.failNext(1, { op: 'head' });
    await expect(append(store)).rejects.toMatchObject({ code: 'STORE_FAILED' });
  });
});

describe('activateDual', () => {
  it('makes blocks from the activation height dual-v1, linking the first one to its predecessor by both algorithms', async () => {
    // Prepare
    const store = new MemoryLedgerStore();
    const before = await append(store);
    await activateDual(store, 1);

    // Act
    const first = await append(store, T0 + 1);

    // Assess
    expect(before.fields.hash_algorithm).toBe('sha256-v1');
    expect(first.fields.hash_algorithm).toBe('dual-v1');
    expect(first.fields.prev_hash).toBe(before.hash);
    expect(first.fields.prev_hash_sha3).toBe(digest('sha3-256', before.canonical).toString('hex'));
    expect(first.hashSha3).toBe(digest('sha3-256', first.canonical).toString('hex'));
    expect(first.fields.reasoning_root_sha3).toBe(merkleRoot('sha3-256', first.reasoningLeaves).toString('hex'));
  });

  it('refuses a height some stream has already written, and a second, different height', async () => {
    const store = new MemoryLedgerStore();
    await append(store);
    await append(store, T0 + 1);
    await expect(activateDual(store, 1)).rejects.toMatchObject({ message: expect.stringContaining('choose a height ≥ 2') });
    await activateDual(store, 5);
    await expect(activateDual(store, 6)).rejects.toMatchObject({ message: expect.stringContaining('already active from height 5') });
    expect(await activateDual(store, 5)).toMatchObject({ alreadyActive: true });
  });

  it('records nothing on a dry run', async () => {
    const store = new MemoryLedgerStore();
    const plan = await activateDual(store, 3, { dryRun: true });
    expect(plan).toEqual({ height: 3, alreadyActive: false, streams: [] });
    expect(await store.getSetting('dual_activation_height')).toBeUndefined();
  });

  it('rejects a negative or fractional height', async () => {
    await expect(activateDual(new MemoryLedgerStore(), -1)).rejects.toMatchObject({ code: 'INPUT_INVALID' });
    await expect(activateDual(new MemoryLedgerStore(), 1.5)).rejects.toMatchObject({ code: 'INPUT_INVALID' });
  });
});

describe('reportHash', () => {
  it('ignores meta.ledger, which records the block itself, and changes with any other content', () => {
    const report = reportWithSnippets([redactor.redact('a')]);
    const withLedger = { ...report, meta: { ...report.meta, ledger: { height: 3, hash: 'f'.repeat(64) } } };
    expect(reportHash(withLedger)).toBe(reportHash(report));
    expect(reportHash({ ...report, machine_decision: { ...report.machine_decision, outcome: 'block' } })).not.toBe(reportHash(report));
  });
});
