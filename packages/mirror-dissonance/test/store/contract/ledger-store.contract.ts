/**
 * Contract of the LedgerStore port (DESIGN §7, issue 6): append-only block
 * streams per repository with appends conditional on height (no forks, no
 * gaps), byte-exact storage of canonical bytes, leaves, hashes and fields,
 * the action journal with a per-repository sequence, conditionally sealed
 * epochs and the ledger settings. Adapter-neutral: everything goes through
 * the port, so the SQLite and DynamoDB adapters run the same suite.
 */
import { randomBytes } from 'node:crypto';
import { IntegrityError, PhaseMirrorError } from '../../../src/errors';
import { buildBlock, type JournaledAction, type LedgerAction, type Outcome, type StoredBlock } from '../../../src/ledger/block';
import { encodeRecord } from '../../../src/ledger/encoding';
import { merkleRoot } from '../../../src/ledger/merkle';
import type { LedgerStore, SealedEpoch } from '../../../src/ledger/store';
import { compareCodePoints, sha256Hex } from '../../../src/hashing';
import type { DissonanceReport, ReportItem } from '../../../src/types';
import { uniqueId, withStore, type MakeStore } from './harness';

const BASE_TIME = Date.parse('2030-03-01T12:00:00.000Z');

/** A report with `findings` items; `seed` makes otherwise equal reports differ. */
function report(findings: number, options: { outcome?: Outcome; degraded?: boolean; seed?: string } = {}): DissonanceReport {
  const seed = options.seed ?? 'r';
  const items: ReportItem[] = Array.from({ length: findings }, (_, index) => ({
    id: sha256Hex(`${seed}:finding:${index}`),
    rule_id: `MD-00${(index % 9) + 1}`,
    rule_version: '1.0.0',
    severity: index % 2 === 0 ? 'high' : 'medium',
    title: `finding ${index}`,
    evidence: [
      {
        path: '.github/workflows/ci.yml',
        line: index + 1,
        snippet: { __brand: sha256Hex(`brand${index}`), __mac: sha256Hex(`mac${index}`), value: 'uses: x@v1', nonce_version: 1 },
        hash: sha256Hex(`${seed}:evidence:${index}`),
      },
    ],
  }));
  return {
    meta: { schema_version: '2.0.0', run_id: `run-${seed}`, timestamp: new Date(BASE_TIME).toISOString(), rules_hash: sha256Hex(`rules:${seed}`) },
    items,
    summary: { total: findings, by_severity: { critical: 0, high: Math.ceil(findings / 2), medium: Math.floor(findings / 2), low: 0 } },
    machine_decision: { outcome: options.outcome ?? 'warn', degraded: options.degraded ?? false, reason: 'contract test' },
  };
}

interface NextBlockOptions {
  findings?: number;
  actions?: readonly JournaledAction[];
  dualActivationHeight?: number;
  seed?: string;
  outcome?: Outcome;
  degraded?: boolean;
  commit?: string;
  mode?: string;
}

/** The block after `previous` (height 0 when undefined), built as the oracle builds it. */
function nextBlock(repository: string, previous: StoredBlock | undefined, options: NextBlockOptions = {}): StoredBlock {
  const height = previous === undefined ? 0 : previous.height + 1;
  return buildBlock({
    report: report(options.findings ?? 2, {
      seed: options.seed ?? `${repository}:${height}`,
      ...(options.outcome !== undefined ? { outcome: options.outcome } : {}),
      ...(options.degraded !== undefined ? { degraded: options.degraded } : {}),
    }),
    repository,
    mode: options.mode ?? 'pull_request',
    commit: options.commit ?? 'a'.repeat(40),
    previous,
    actions: options.actions ?? [],
    dualActivationHeight: options.dualActivationHeight,
    timestamp: new Date(BASE_TIME + height * 60_000),
  });
}

/** A valid chain of `count` blocks (not stored). */
function chain(repository: string, count: number, options: Omit<NextBlockOptions, 'seed'> = {}): StoredBlock[] {
  const blocks: StoredBlock[] = [];
  for (let i = 0; i < count; i++) blocks.push(nextBlock(repository, blocks.at(-1), options));
  return blocks;
}

async function appendAll(ledger: LedgerStore, blocks: readonly StoredBlock[]): Promise<void> {
  for (const block of blocks) await ledger.append(block);
}

function action(index: number, kind: LedgerAction['kind'] = 'fp_mark'): LedgerAction {
  return {
    kind,
    actor: `reviewer-${index}`,
    at: new Date(BASE_TIME + index * 1000).toISOString(),
    subject: `event-${index}`,
    detail: `reason ${index}: «not exploitable»`,
  };
}

function epoch(repository: string, number: number, blocks: readonly StoredBlock[], options: { dual?: boolean; signatures?: number } = {}): SealedEpoch {
  const root = merkleRoot('sha256', blocks.map((block) => Buffer.from(block.hash, 'hex'))).toString('hex');
  const rootSha3 = options.dual === true ? merkleRoot('sha3-256', blocks.map((block) => Buffer.from(block.hashSha3 ?? block.hash, 'hex'))).toString('hex') : undefined;
  const startHeight = blocks[0]?.height ?? number * 4;
  const endHeight = blocks.at(-1)?.height ?? startHeight + 3;
  const statement = encodeRecord([
    { name: 'repository', value: repository },
    { name: 'number', value: number },
    { name: 'start_height', value: startHeight },
    { name: 'end_height', value: endHeight },
    { name: 'root', value: Buffer.from(root, 'hex') },
  ]);
  return {
    repository,
    number,
    startHeight,
    endHeight,
    root,
    ...(rootSha3 !== undefined ? { rootSha3 } : {}),
    sealedAt: new Date(BASE_TIME + number * 3_600_000).toISOString(),
    statement,
    signatures: Array.from({ length: options.signatures ?? 1 }, (_, index) => ({
      algorithm: index === 0 ? ('ed25519' as const) : ('ml-dsa-44' as const),
      keyId: `key-${index}`,
      signature: randomBytes(index === 0 ? 64 : 2420),
    })),
  };
}

/** The typed error a promise rejects with (fails the test when it resolves). */
async function rejection(promise: Promise<unknown>): Promise<PhaseMirrorError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(PhaseMirrorError);
    return error as PhaseMirrorError;
  }
  throw new Error('expected a rejection, but the promise resolved');
}

function expectConflict(error: PhaseMirrorError, repository: string, height: number): void {
  expect(error).toBeInstanceOf(IntegrityError);
  expect(error.code).toBe('LEDGER_CONFLICT');
  expect(error.context).toMatchObject({ repository, height });
  expect(error.message).toContain(repository);
  expect(error.message).toMatch(new RegExp(`\\b${height}\\b`));
}

export function describeLedgerStoreContract(name: string, makeStore: MakeStore<LedgerStore>): void {
  describe(`LedgerStore contract (${name})`, () => {
    describe('blocks', () => {
      it('has no head, block, range or repository when empty', async () => {
        await withStore(makeStore, async (ledger) => {
          const repository = uniqueId('acme/empty');
          expect(await ledger.head(repository)).toBeUndefined();
          expect(await ledger.get(repository, 0)).toBeUndefined();
          expect(await ledger.range(repository, 0, 100)).toEqual([]);
          expect(await ledger.repositories()).toEqual([]);
          expect(typeof ledger.location).toBe('string');
        });
      });

      it('appends a genesis block at height 0 and makes it the head', async () => {
        await withStore(makeStore, async (ledger) => {
          // Prepare
          const repository = uniqueId('acme/widgets');
          const genesis = nextBlock(repository, undefined);

          // Act
          await ledger.append(genesis);

          // Assess
          expect((await ledger.head(repository))?.hash).toBe(genesis.hash);
          expect((await ledger.get(repository, 0))?.hash).toBe(genesis.hash);
          expect(await ledger.get(repository, 1)).toBeUndefined();
        });
      });

      it('appends a chain and reads it back by head, height and range', async () => {
        await withStore(makeStore, async (ledger) => {
          // Prepare
          const repository = uniqueId('acme/widgets');
          const blocks = chain(repository, 6);

          // Act
          await appendAll(ledger, blocks);

          // Assess
          expect((await ledger.head(repository))?.height).toBe(5);
          expect((await ledger.head(repository))?.hash).toBe(blocks[5].hash);
          for (const block of blocks) expect((await ledger.get(repository, block.height))?.hash).toBe(block.hash);
          expect((await ledger.range(repository, 1, 3)).map((b) => b.hash)).toEqual(blocks.slice(1, 4).map((b) => b.hash));
          expect((await ledger.range(repository, 0, 5)).map((b) => b.height)).toEqual([0, 1, 2, 3, 4, 5]);
        });
      });

      it('returns a range in ascending order, limited to the heights that exist', async () => {
        await withStore(makeStore, async (ledger) => {
          const repository = uniqueId('acme/range');
          const blocks = chain(repository, 4);
          await appendAll(ledger, blocks);

          expect((await ledger.range(repository, 2, 1_000)).map((b) => b.height)).toEqual([2, 3]);
          expect((await ledger.range(repository, 3, 3)).map((b) => b.height)).toEqual([3]);
          expect(await ledger.range(repository, 4, 10)).toEqual([]);
          expect(await ledger.range(repository, 3, 1)).toEqual([]);
        });
      });

      it('keeps the streams of different repositories independent', async () => {
        await withStore(makeStore, async (ledger) => {
          // Prepare
          const [a, b] = [uniqueId('acme/a'), uniqueId('acme/b')];
          const chainA = chain(a, 3);
          const chainB = chain(b, 1);

          // Act: both streams have a block at height 0
          await appendAll(ledger, chainA);
          await appendAll(ledger, chainB);

          // Assess
          expect((await ledger.head(a))?.hash).toBe(chainA[2].hash);
          expect((await ledger.head(b))?.hash).toBe(chainB[0].hash);
          expect((await ledger.get(b, 0))?.repository).toBe(b);
          expect(await ledger.get(b, 1)).toBeUndefined();
          expect((await ledger.range(a, 0, 10)).every((block) => block.repository === a)).toBe(true);
        });
      });

      it('lists every repository with at least one block once, sorted', async () => {
        await withStore(makeStore, async (ledger) => {
          // Prepare: appended out of order; one repository has only journaled actions
          const suffix = uniqueId('');
          const names = [`zeta/x${suffix}`, `Acme/y${suffix}`, `acme/w${suffix}`];
          for (const repository of names) await appendAll(ledger, chain(repository, 2));
          await ledger.recordAction(`only-actions/r${suffix}`, action(1));

          // Act
          const repositories = await ledger.repositories();

          // Assess
          expect(repositories).toEqual([...names].sort(compareCodePoints));
        });
      });

      it('sorts repositories with compareCodePoints, including characters outside the BMP', async () => {
        await withStore(makeStore, async (ledger) => {
          // Prepare: U+FF5E and U+1F600 order differently by code point and by UTF-16 unit; every adapter must agree
          const suffix = uniqueId('');
          const names = [`\u{1f600}${suffix}`, `z${suffix}`, `\uff5e${suffix}`, `A${suffix}`];
          for (const repository of names) await appendAll(ledger, chain(repository, 1));

          // Act / Assess
          expect(await ledger.repositories()).toEqual([...names].sort(compareCodePoints));
        });
      });
    });

    describe('no forks', () => {
      it('rejects a second block at a taken height and keeps the first', async () => {
        await withStore(makeStore, async (ledger) => {
          // Prepare: two different blocks for height 1 on the same head
          const repository = uniqueId('acme/fork');
          const [genesis] = chain(repository, 1);
          await ledger.append(genesis);
          const first = nextBlock(repository, genesis, { seed: 'first', outcome: 'pass' });
          const rival = nextBlock(repository, genesis, { seed: 'rival', outcome: 'block' });
          await ledger.append(first);

          // Act
          const error = await rejection(ledger.append(rival));

          // Assess
          expectConflict(error, repository, 1);
          expect((await ledger.get(repository, 1))?.hash).toBe(first.hash);
          expect((await ledger.head(repository))?.hash).toBe(first.hash);
        });
      });

      it('rejects appending the same block twice', async () => {
        await withStore(makeStore, async (ledger) => {
          const repository = uniqueId('acme/replay');
          const [genesis] = chain(repository, 1);
          await ledger.append(genesis);

          expectConflict(await rejection(ledger.append(genesis)), repository, 0);
          expect(await ledger.range(repository, 0, 10)).toHaveLength(1);
        });
      });

      it('rejects a block that skips a height (a gap)', async () => {
        await withStore(makeStore, async (ledger) => {
          // Prepare
          const repository = uniqueId('acme/gap');
          const blocks = chain(repository, 3);
          await ledger.append(blocks[0]);

          // Act
          const error = await rejection(ledger.append(blocks[2]));

          // Assess
          expectConflict(error, repository, 2);
          expect(await ledger.get(repository, 2)).toBeUndefined();
          expect((await ledger.head(repository))?.height).toBe(0);
          await ledger.append(blocks[1]);
          await ledger.append(blocks[2]);
          expect((await ledger.head(repository))?.height).toBe(2);
        });
      });

      it('rejects a first block that is not at height 0', async () => {
        await withStore(makeStore, async (ledger) => {
          const repository = uniqueId('acme/late-start');
          const blocks = chain(repository, 2);

          expectConflict(await rejection(ledger.append(blocks[1])), repository, 1);
          expect(await ledger.head(repository)).toBeUndefined();
          expect(await ledger.repositories()).toEqual([]);
        });
      });

      it('lets exactly one of concurrent appends at the same height win', async () => {
        await withStore(makeStore, async (ledger) => {
          // Prepare: a genesis, then 8 different candidates for height 1
          const repository = uniqueId('acme/race');
          const [genesis] = chain(repository, 1);
          await ledger.append(genesis);
          const candidates = Array.from({ length: 8 }, (_, i) => nextBlock(repository, genesis, { seed: `candidate-${i}`, findings: i }));

          // Act
          const results = await Promise.allSettled(candidates.map((block) => ledger.append(block)));

          // Assess
          const won = results.flatMap((result, i) => (result.status === 'fulfilled' ? [candidates[i]] : []));
          const lost = results.flatMap((result) => (result.status === 'rejected' ? [result.reason as PhaseMirrorError] : []));
          expect(won).toHaveLength(1);
          expect(lost).toHaveLength(7);
          for (const error of lost) expectConflict(error, repository, 1);
          expect((await ledger.head(repository))?.hash).toBe(won[0].hash);
          expect(await ledger.range(repository, 0, 10)).toHaveLength(2);
        });
      });

      it('lets exactly one of concurrent genesis appends win', async () => {
        await withStore(makeStore, async (ledger) => {
          const repository = uniqueId('acme/race-genesis');
          const candidates = Array.from({ length: 5 }, (_, i) => nextBlock(repository, undefined, { seed: `genesis-${i}` }));

          const results = await Promise.allSettled(candidates.map((block) => ledger.append(block)));

          expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1);
          const winner = candidates[results.findIndex((result) => result.status === 'fulfilled')];
          expect((await ledger.get(repository, 0))?.hash).toBe(winner.hash);
        });
      });

      it('rejects a block whose key disagrees with its fields, storing nothing', async () => {
        await withStore(makeStore, async (ledger) => {
          // Prepare: a genesis whose key claims another repository / height
          const repository = uniqueId('acme/mismatch');
          const [genesis] = chain(repository, 1);
          const otherRepository = { ...genesis, repository: uniqueId('acme/other') };
          const otherHeight = { ...genesis, height: 1 };

          // Act / Assess
          for (const block of [otherRepository, otherHeight]) {
            const error = await rejection(ledger.append(block));
            expect(error.code).toBe('LEDGER_INVALID');
          }
          expect(await ledger.repositories()).toEqual([]);
        });
      });
    });

    describe('byte-exact round trip', () => {
      it('returns canonical bytes, leaves, hashes and fields exactly as appended', async () => {
        await withStore(makeStore, async (ledger) => {
          // Prepare: findings (reasoning leaves), journaled actions (ui leaves), a degraded block
          const repository = uniqueId('acme/exact');
          const actions = [1, 2, 3].map((seq) => ({ seq, ...action(seq, seq === 2 ? 'override' : 'fp_mark') }));
          const genesis = nextBlock(repository, undefined, { findings: 5, actions, degraded: true, outcome: 'block' });
          const second = nextBlock(repository, genesis, { findings: 0 });

          // Act
          await appendAll(ledger, [genesis, second]);

          // Assess: identical (Buffers, strings, numbers, booleans) and no extra keys
          expect(await ledger.get(repository, 0)).toStrictEqual(genesis);
          expect(await ledger.get(repository, 1)).toStrictEqual(second);
          expect(await ledger.head(repository)).toStrictEqual(second);
          expect(await ledger.range(repository, 0, 1)).toStrictEqual([genesis, second]);
          const stored = (await ledger.get(repository, 0))!;
          expect(stored.reasoningLeaves).toHaveLength(5);
          expect(stored.uiLeaves).toHaveLength(3);
          expect(stored.fields.degraded).toBe(true);
          expect(stored.fields.ui_through_seq).toBe(3);
          expect(Buffer.isBuffer(stored.canonical)).toBe(true);
          expect(stored.canonical.equals(genesis.canonical)).toBe(true);
        });
      });

      it('round-trips a block without findings or actions (empty leaf lists)', async () => {
        await withStore(makeStore, async (ledger) => {
          const repository = uniqueId('acme/empty-leaves');
          const genesis = nextBlock(repository, undefined, { findings: 0 });
          await ledger.append(genesis);

          const stored = await ledger.get(repository, 0);
          expect(stored).toStrictEqual(genesis);
          expect(stored?.reasoningLeaves).toEqual([]);
          expect(stored?.uiLeaves).toEqual([]);
          expect(stored?.fields.degraded).toBe(false);
        });
      });

      it('round-trips dual-v1 blocks with their SHA3-256 fields across the activation boundary', async () => {
        await withStore(makeStore, async (ledger) => {
          // Prepare: heights 0-1 sha256-v1, 2-3 dual-v1
          const repository = uniqueId('acme/dual');
          const blocks = chain(repository, 4, { dualActivationHeight: 2 });

          // Act
          await appendAll(ledger, blocks);

          // Assess
          const stored = await ledger.range(repository, 0, 3);
          expect(stored).toStrictEqual(blocks);
          expect(stored.map((block) => block.fields.hash_algorithm)).toEqual(['sha256-v1', 'sha256-v1', 'dual-v1', 'dual-v1']);
          for (const block of stored.slice(0, 2)) {
            expect(block).not.toHaveProperty('hashSha3');
            for (const field of ['prev_hash_sha3', 'reasoning_root_sha3', 'ui_root_sha3', 'composite_root_sha3']) expect(block.fields).not.toHaveProperty(field);
          }
          for (const block of stored.slice(2)) {
            expect(block.hashSha3).toMatch(/^[0-9a-f]{64}$/);
            expect(block.fields.prev_hash_sha3).toMatch(/^[0-9a-f]{64}$/);
            expect(block.fields.composite_root_sha3).toMatch(/^[0-9a-f]{64}$/);
          }
        });
      });

      it('round-trips arbitrary leaf bytes and non-ASCII text', async () => {
        await withStore(makeStore, async (ledger) => {
          // Prepare: leaves with every byte value, an empty leaf, a large leaf; UTF-8 text in fields
          const repository = `${uniqueId('acme')}/wïdgets-✓-😀`;
          const built = nextBlock(repository, undefined, { mode: 'pull_request', commit: 'ünïcode-Ω' });
          const block: StoredBlock = {
            ...built,
            reasoningLeaves: [Buffer.from(Array.from({ length: 256 }, (_, i) => i)), Buffer.alloc(0), randomBytes(70_000)],
            uiLeaves: [Buffer.from([0, 0, 0, 0]), Buffer.from('\u0000\uffff', 'utf8')],
          };

          // Act
          await ledger.append(block);

          // Assess
          expect(await ledger.get(repository, 0)).toStrictEqual(block);
          expect(await ledger.repositories()).toEqual([repository]);
        });
      });
    });

    describe('action journal', () => {
      it('numbers actions 1, 2, 3 per repository and returns them in order', async () => {
        await withStore(makeStore, async (ledger) => {
          // Prepare
          const repository = uniqueId('acme/journal');
          const kinds: LedgerAction['kind'][] = ['fp_mark', 'consent_grant', 'consent_revoke', 'override'];

          // Act
          const seqs: number[] = [];
          for (const [index, kind] of kinds.entries()) seqs.push(await ledger.recordAction(repository, action(index + 1, kind)));

          // Assess
          expect(seqs).toEqual([1, 2, 3, 4]);
          expect(await ledger.actionsAfter(repository, 0)).toStrictEqual(kinds.map((kind, index) => ({ seq: index + 1, ...action(index + 1, kind) })));
        });
      });

      it('returns only the actions after the given seq', async () => {
        await withStore(makeStore, async (ledger) => {
          const repository = uniqueId('acme/after');
          for (let i = 1; i <= 5; i++) await ledger.recordAction(repository, action(i));

          expect((await ledger.actionsAfter(repository, 3)).map((a) => a.seq)).toEqual([4, 5]);
          expect(await ledger.actionsAfter(repository, 5)).toEqual([]);
          expect(await ledger.actionsAfter(repository, 99)).toEqual([]);
        });
      });

      it('keeps the sequences of different repositories independent', async () => {
        await withStore(makeStore, async (ledger) => {
          const [a, b] = [uniqueId('acme/a'), uniqueId('acme/b')];
          expect(await ledger.recordAction(a, action(1))).toBe(1);
          expect(await ledger.recordAction(a, action(2))).toBe(2);
          expect(await ledger.recordAction(b, action(3))).toBe(1);

          expect((await ledger.actionsAfter(b, 0)).map((entry) => entry.actor)).toEqual(['reviewer-3']);
          expect(await ledger.actionsAfter(uniqueId('acme/none'), 0)).toEqual([]);
        });
      });

      it('assigns unique, consecutive seqs to concurrent actions', async () => {
        await withStore(makeStore, async (ledger) => {
          const repository = uniqueId('acme/concurrent-actions');

          const seqs = await Promise.all(Array.from({ length: 20 }, (_, i) => ledger.recordAction(repository, action(i))));

          expect([...seqs].sort((x, y) => x - y)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
          const journal = await ledger.actionsAfter(repository, 0);
          expect(journal.map((entry) => entry.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
          // Each action is stored under the seq it was given.
          for (const [i, seq] of seqs.entries()) expect(journal[seq - 1].actor).toBe(`reviewer-${i}`);
        });
      });

      it('feeds the next block: its ui leaves and ui_through_seq come from the journal', async () => {
        await withStore(makeStore, async (ledger) => {
          // Prepare: two actions before the genesis, one after
          const repository = uniqueId('acme/ui');
          await ledger.recordAction(repository, action(1));
          await ledger.recordAction(repository, action(2));
          const genesis = nextBlock(repository, undefined, { actions: await ledger.actionsAfter(repository, 0) });
          await ledger.append(genesis);
          await ledger.recordAction(repository, action(3));

          // Act
          const head = (await ledger.head(repository))!;
          const pending = await ledger.actionsAfter(repository, head.fields.ui_through_seq);
          const next = nextBlock(repository, head, { actions: pending });
          await ledger.append(next);

          // Assess
          expect(head.fields.ui_through_seq).toBe(2);
          expect(pending.map((entry) => entry.seq)).toEqual([3]);
          expect((await ledger.get(repository, 1))?.uiLeaves).toHaveLength(1);
          expect((await ledger.get(repository, 1))?.fields.ui_through_seq).toBe(3);
        });
      });
    });

    describe('epochs', () => {
      it('stores a sealed epoch and returns it byte-exact', async () => {
        await withStore(makeStore, async (ledger) => {
          // Prepare
          const repository = uniqueId('acme/epochs');
          const blocks = chain(repository, 4);
          const sealed = epoch(repository, 0, blocks, { signatures: 2 });

          // Act
          await ledger.putEpoch(sealed);

          // Assess
          const stored = await ledger.epochs(repository);
          expect(stored).toStrictEqual([sealed]);
          expect(stored[0]).not.toHaveProperty('rootSha3');
          expect(stored[0].signatures.map((signature) => signature.signature.length)).toEqual([64, 2420]);
        });
      });

      it('round-trips the SHA3-256 root of a dual epoch', async () => {
        await withStore(makeStore, async (ledger) => {
          const repository = uniqueId('acme/dual-epoch');
          const sealed = epoch(repository, 0, chain(repository, 4, { dualActivationHeight: 0 }), { dual: true });

          await ledger.putEpoch(sealed);

          const [stored] = await ledger.epochs(repository);
          expect(stored).toStrictEqual(sealed);
          expect(stored.rootSha3).toMatch(/^[0-9a-f]{64}$/);
        });
      });

      it('refuses to seal the same epoch twice and keeps the first', async () => {
        await withStore(makeStore, async (ledger) => {
          // Prepare
          const repository = uniqueId('acme/reseal');
          const first = epoch(repository, 0, chain(repository, 4));
          const rival = { ...epoch(repository, 0, chain(repository, 4, { findings: 7 })), sealedAt: new Date(BASE_TIME + 1).toISOString() };
          await ledger.putEpoch(first);

          // Act
          const error = await rejection(ledger.putEpoch(rival));

          // Assess
          expect(error).toBeInstanceOf(IntegrityError);
          expect(error.code).toBe('LEDGER_CONFLICT');
          expect(error.message).toContain(repository);
          expect(await ledger.epochs(repository)).toStrictEqual([first]);
        });
      });

      it('lets exactly one of concurrent seals of an epoch win', async () => {
        await withStore(makeStore, async (ledger) => {
          const repository = uniqueId('acme/seal-race');
          const candidates = Array.from({ length: 5 }, (_, i) => epoch(repository, 3, chain(repository, 4, { findings: i })));

          const results = await Promise.allSettled(candidates.map((candidate) => ledger.putEpoch(candidate)));

          expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1);
          for (const result of results) if (result.status === 'rejected') expect(result.reason).toMatchObject({ code: 'LEDGER_CONFLICT' });
          const winner = candidates[results.findIndex((result) => result.status === 'fulfilled')];
          expect(await ledger.epochs(repository)).toStrictEqual([winner]);
        });
      });

      it('lists epochs ascending by number, per repository', async () => {
        await withStore(makeStore, async (ledger) => {
          // Prepare: sealed out of order, and one epoch of another repository
          const [a, b] = [uniqueId('acme/a'), uniqueId('acme/b')];
          const blocks = chain(a, 12);
          const sealed = [0, 1, 2].map((n) => epoch(a, n, blocks.slice(n * 4, n * 4 + 4)));
          for (const n of [2, 0, 1]) await ledger.putEpoch(sealed[n]);
          await ledger.putEpoch(epoch(b, 0, chain(b, 4)));

          // Act / Assess
          expect(await ledger.epochs(a)).toStrictEqual(sealed);
          expect((await ledger.epochs(b)).map((e) => e.repository)).toEqual([b]);
          expect(await ledger.epochs(uniqueId('acme/none'))).toEqual([]);
        });
      });
    });

    describe('settings', () => {
      it('returns undefined for a setting never stored', async () => {
        await withStore(makeStore, async (ledger) => {
          expect(await ledger.getSetting('dual_activation_height')).toBeUndefined();
          expect(await ledger.getSetting('epoch_size')).toBeUndefined();
        });
      });

      it('stores and replaces settings independently', async () => {
        await withStore(makeStore, async (ledger) => {
          await ledger.putSetting('dual_activation_height', '120');
          await ledger.putSetting('epoch_size', '100');
          await ledger.putSetting('dual_activation_height', '250');

          expect(await ledger.getSetting('dual_activation_height')).toBe('250');
          expect(await ledger.getSetting('epoch_size')).toBe('100');
        });
      });
    });
  });
}
