/**
 * The ledger audit commands (`ledger replay`, `ledger drift-radar`,
 * `governance-chain`, `audit-report`) called directly on the in-memory ledger
 * store with a captured Io: what is printed, the exit codes, the files
 * written, and the refusals (usage errors naming the flag, input errors naming
 * the file) through exitCodeFor.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DependencyError, InputError, UsageError } from '@phase-mirror/mirror-dissonance';
import { buildBlock, type StoredBlock } from '../../mirror-dissonance/src/ledger/block';
import { sealEpochs, verifyEpochs } from '../../mirror-dissonance/src/ledger/epochs';
import { Ed25519Signer } from '../../mirror-dissonance/src/ledger/signing';
import type { Outcome } from '../../mirror-dissonance/src/types';
import { MemoryLedgerStore } from '../../mirror-dissonance/test/ledger/memory-ledger-store';
import { validReport } from '../../mirror-dissonance/test/report/report-fixture';
import {
  auditReportCommand,
  governanceChainCommand,
  ledgerDriftRadarCommand,
  ledgerReplayCommand,
  type GovernanceChainCommandDeps,
} from '../src/commands/ledger-audit';
import { EXIT, exitCodeFor } from '../src/exit-codes';
import { captureIo } from './helpers';

const REPO = 'acme/widgets';
const T0 = Date.UTC(2025, 6, 1, 12, 0, 0);
const NOW = () => new Date(Date.UTC(2025, 6, 2, 0, 0, 0));
const SIGNER = new Ed25519Signer(Buffer.alloc(32, 5));
const WRITES = ['append', 'putEpoch', 'recordAction', 'putSetting'];

let root: string;

beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'pm-cli-ledger-audit-'));
});

afterEach(() => {
  fs.rmSync(root, { recursive: true, force: true });
});

async function seed(store: MemoryLedgerStore, outcomes: Outcome[], options: { commit?: string } = {}): Promise<StoredBlock[]> {
  const blocks: StoredBlock[] = [];
  let previous = await store.head(REPO);
  for (const outcome of outcomes) {
    const height = previous === undefined ? 0 : previous.height + 1;
    const report = validReport();
    report.machine_decision.outcome = outcome;
    const block = buildBlock({
      report,
      repository: REPO,
      mode: 'pull_request',
      commit: options.commit ?? height.toString(16).padStart(40, '0'),
      previous,
      actions: [],
      dualActivationHeight: undefined,
      timestamp: new Date(T0 + height * 60_000),
    });
    await store.append(block);
    blocks.push(block);
    previous = block;
  }
  return blocks;
}

function writes(store: MemoryLedgerStore): number {
  return store.calls.filter((call) => WRITES.includes(call.op)).length;
}

async function thrown(run: () => Promise<unknown>): Promise<unknown> {
  try {
    await run();
  } catch (error) {
    return error;
  }
  throw new Error('expected the command to throw');
}

function readJson(file: string): Record<string, unknown> {
  return JSON.parse(fs.readFileSync(path.join(root, file), 'utf8')) as Record<string, unknown>;
}

async function governanceDeps(store: MemoryLedgerStore): Promise<GovernanceChainCommandDeps> {
  const keys = [await SIGNER.publicKey()];
  return { now: NOW, migrationStatus: () => ({ currentVersion: 3, latestVersion: 3 }), verifyEpochs: (scope) => verifyEpochs(store, keys, scope) };
}

describe('ledger replay', () => {
  it('prints the replay line, writes the JSON results and exits 0 on an intact ledger', async () => {
    // Prepare
    const store = new MemoryLedgerStore();
    await seed(store, ['pass', 'warn', 'block', 'pass', 'warn']);
    const before = writes(store);
    const io = captureIo(root);

    // Act
    const code = await ledgerReplayCommand({ strategy: 'full_chain', output: 'replay.json' }, store, {}, io);

    // Assess
    expect(code).toBe(EXIT.OK);
    expect(io.stdout).toEqual(['Replayed 5 blocks, Success rate: 100%']);
    expect(io.stderr).toEqual(['wrote replay results to replay.json']);
    expect(readJson('replay.json')).toMatchObject({ strategy: 'full_chain', replayed: 5, failed: 0, successRate: 100, failures: [], readOnly: true });
    expect(writes(store)).toBe(before);
  });

  it('names every failing height and field, in the output and the JSON, and exits 1', async () => {
    // Prepare
    const store = new MemoryLedgerStore();
    await seed(store, ['pass', 'warn', 'block', 'pass', 'warn']);
    store.tamperBlock(REPO, 3, (b) => {
      b.fields = { ...b.fields, outcome: 'block' };
    });
    const io = captureIo(root);

    // Act
    const code = await ledgerReplayCommand({ output: 'replay.json', readOnly: true }, store, {}, io);

    // Assess
    expect(code).toBe(EXIT.BLOCK);
    expect(io.stdout).toEqual(['Replayed 5 blocks, Success rate: 80%', `FAIL ${REPO}@3 outcome (column): stored column outcome differs from the canonical bytes`]);
    expect(readJson('replay.json').failures).toEqual([
      { repository: REPO, height: 3, field: 'outcome', rule: 'column', expected: 'pass', actual: 'block', message: 'stored column outcome differs from the canonical bytes' },
    ]);
  });

  it('replays a sliding window after the last sealed epoch the deps trust', async () => {
    // Prepare
    const store = new MemoryLedgerStore();
    await seed(store, Array<Outcome>(10).fill('pass'));
    await sealEpochs(store, [SIGNER], { epochSize: 4, clock: NOW });
    const io = captureIo(root);

    // Act
    const code = await ledgerReplayCommand({ strategy: 'sliding_window', window: '7' }, store, { trustedEpochs: (epoch) => epoch.number === 0 }, io);

    // Assess
    expect(code).toBe(EXIT.OK);
    expect(io.stdout).toEqual([
      'Replayed 6 blocks, Success rate: 100%',
      `${REPO}: window starts after sealed epoch 0 (heights 0-3), trusted after its root was verified`,
    ]);
  });

  it('says when there is nothing to replay', async () => {
    // Prepare
    const store = new MemoryLedgerStore('state.db');
    const io = captureIo(root);

    // Act
    const code = await ledgerReplayCommand({ repo: 'acme/none' }, store, {}, io);

    // Assess
    expect(code).toBe(EXIT.OK);
    expect(io.stdout).toEqual(['Replayed 0 blocks, Success rate: 100%', 'no ledger blocks for acme/none in state.db']);
  });

  it.each([
    [{ window: 'ten', strategy: 'sliding_window' }, UsageError, '--window'],
    [{ start: '-1' }, UsageError, '--start'],
    [{ strategy: 'everything' }, InputError, '--strategy'],
    [{ window: '3' }, InputError, '--window'],
    [{ output: 'missing/replay.json' }, UsageError, '--output'],
  ])('refuses %j naming the flag, exit 3, before reading the ledger', async (options, type, flag) => {
    // Prepare
    const store = new MemoryLedgerStore();
    const io = captureIo(root);

    // Act
    const error = await thrown(() => ledgerReplayCommand(options, store, {}, io));

    // Assess
    expect(error).toBeInstanceOf(type);
    expect(error).toMatchObject({ location: { flag } });
    expect(exitCodeFor(error)).toBe(EXIT.USAGE);
    expect(store.calls).toEqual([]);
    expect(io.stdout).toEqual([]);
  });

  it('fails closed, exit 2, when the ledger store is unreachable', async () => {
    // Prepare
    const store = new MemoryLedgerStore();
    await seed(store, ['pass']);
    store.failNext(Infinity);
    const io = captureIo(root);

    // Act
    const error = await thrown(() => ledgerReplayCommand({ output: 'replay.json' }, store, {}, io));

    // Assess
    expect(error).toBeInstanceOf(DependencyError);
    expect(exitCodeFor(error)).toBe(EXIT.UNDECIDABLE);
    expect(fs.existsSync(path.join(root, 'replay.json'))).toBe(false);
  });
});

describe('ledger drift-radar', () => {
  it('prints GOVERNANCE SIGNAL: OK, writes the signals and the evidence pack, exit 0', async () => {
    // Prepare
    const store = new MemoryLedgerStore();
    await seed(store, ['pass', 'warn', 'block']);
    const io = captureIo(root);

    // Act
    const code = await ledgerDriftRadarCommand(
      { scanTypes: 'schema,hash-delta,metadata,statement', governancePolicy: 'strict', output: 'drift_signals.json', evidencePack: 'evidence_pack.json' },
      store,
      { now: NOW },
      io,
    );

    // Assess
    expect(code).toBe(0);
    expect(io.stdout).toEqual([
      'Drift radar (schema, hash-delta, metadata, statement; policy strict): 3 block(s) in 1 stream(s), 0 signal(s) — 0 critical, 0 error, 0 warn, 0 info',
      'GOVERNANCE SIGNAL: OK',
    ]);
    expect(readJson('drift_signals.json')).toMatchObject({ kind: 'phase-mirror.drift-signals', signal: 'OK', generatedAt: '2025-07-02T00:00:00.000Z' });
    expect(readJson('evidence_pack.json')).toMatchObject({ kind: 'phase-mirror.evidence-pack', blocks: [], signals: [] });
    expect(io.stderr).toEqual(['wrote drift signals to drift_signals.json', 'wrote the evidence pack (0 block(s), 0 proof(s)) to evidence_pack.json']);
  });

  it('maps a nondeterministic outcome to WARN (exit 0) under permissive and BLOCK (exit 1) by default', async () => {
    // Prepare
    const store = new MemoryLedgerStore();
    await seed(store, ['pass', 'block'], { commit: 'c'.repeat(40) });
    const permissiveIo = captureIo(root);
    const moderateIo = captureIo(root);

    // Act
    const permissive = await ledgerDriftRadarCommand({ governancePolicy: 'permissive', scanTypes: 'statement' }, store, {}, permissiveIo);
    const moderate = await ledgerDriftRadarCommand({ scanTypes: 'statement' }, store, {}, moderateIo);

    // Assess
    expect(permissive).toBe(0);
    expect(permissiveIo.stdout.at(-1)).toBe('GOVERNANCE SIGNAL: WARN');
    expect(permissiveIo.stdout[1]).toBe(
      `WARN  error statement/nondeterministic_outcome ${REPO}@1 outcome: same commit cccccccccccc, rule set, mode and human actions as block 0, but outcome block instead of pass`,
    );
    expect(moderate).toBe(1);
    expect(moderateIo.stdout.at(-1)).toBe('GOVERNANCE SIGNAL: BLOCK');
  });

  it('names a tampered height and field and puts the block behind it in the evidence pack', async () => {
    // Prepare
    const store = new MemoryLedgerStore();
    await seed(store, ['pass', 'warn', 'block']);
    store.tamperBlock(REPO, 1, (b) => {
      b.canonical[b.canonical.length - 3] ^= 0x01;
    });
    const io = captureIo(root);

    // Act
    const code = await ledgerDriftRadarCommand({ output: 'drift.json', evidencePack: 'pack.json' }, store, {}, io);

    // Assess
    expect(code).toBe(1);
    expect(io.stdout).toContain(`BLOCK critical hash-delta/hash_mismatch ${REPO}@1 hash: the stored hash is not the SHA-256 of the canonical bytes`);
    expect(io.stdout).toContain(`BLOCK critical hash-delta/column_mismatch ${REPO}@1 hash_algorithm: stored column hash_algorithm differs from the canonical bytes`);
    const pack = readJson('pack.json') as { blocks: { height: number; canonical: string }[] };
    expect(pack.blocks.map((b) => b.height)).toEqual([1]);
    expect(Buffer.from(pack.blocks[0]!.canonical, 'base64').equals((await store.get(REPO, 1))!.canonical)).toBe(true);
  });

  it.each([
    [{ scanTypes: 'schema,entropy' }, '--scan-types'],
    [{ governancePolicy: 'lenient' }, '--governance-policy'],
    [{ end: 'last' }, '--end'],
    [{ evidencePack: 'nowhere/pack.json' }, '--evidence-pack'],
  ])('refuses %j as a usage error naming the flag', async (options, flag) => {
    // Prepare
    const store = new MemoryLedgerStore();
    const io = captureIo(root);

    // Act
    const error = await thrown(() => ledgerDriftRadarCommand(options, store, {}, io));

    // Assess
    expect(error).toBeInstanceOf(UsageError);
    expect(error).toMatchObject({ location: { flag } });
    expect(store.calls).toEqual([]);
  });
});

describe('governance-chain', () => {
  it('prints each job and `Governance Chain: PASSED (6/6 jobs)`, writes the JSON, exit 0', async () => {
    // Prepare
    const store = new MemoryLedgerStore();
    await seed(store, Array<Outcome>(8).fill('warn'));
    await sealEpochs(store, [SIGNER], { epochSize: 4, clock: NOW });
    const before = writes(store);
    const io = captureIo(root);

    // Act
    const code = await governanceChainCommand({ output: 'governance.json' }, store, await governanceDeps(store), io);

    // Assess
    expect(code).toBe(EXIT.OK);
    expect(io.stdout).toHaveLength(8);
    expect(io.stdout[1]).toBe('[PASS] replay_verification (replay verification): Replayed 8 blocks, Success rate: 100%');
    expect(io.stdout[2]).toBe('[PASS] epoch_validation (epoch validation): 2 sealed epoch(s) verified');
    expect(io.stdout.at(-1)).toBe('Governance Chain: PASSED (6/6 jobs)');
    expect(readJson('governance.json')).toMatchObject({ kind: 'phase-mirror.governance-chain', passed: true, passedJobs: 6, generatedAt: '2025-07-02T00:00:00.000Z' });
    expect(writes(store)).toBe(before);
  });

  it('lists the failed jobs and exits 1', async () => {
    // Prepare
    const store = new MemoryLedgerStore();
    await seed(store, Array<Outcome>(8).fill('warn'));
    await sealEpochs(store, [SIGNER], { epochSize: 4, clock: NOW });
    store.tamperBlock(REPO, 5, (b) => {
      b.hash = '0'.repeat(64);
    });
    const io = captureIo(root);

    // Act
    const code = await governanceChainCommand({ governancePolicy: 'permissive' }, store, await governanceDeps(store), io);

    // Assess
    expect(code).toBe(EXIT.BLOCK);
    expect(io.stdout.at(-1)).toBe('Governance Chain: FAILED (3/6 jobs) — failed: replay_verification, epoch_validation, drift_radar');
  });

  it('bounds the jobs by --start-block and --end-block', async () => {
    // Prepare
    const store = new MemoryLedgerStore();
    await seed(store, Array<Outcome>(6).fill('pass'));
    store.tamperBlock(REPO, 5, (b) => {
      b.uiLeaves = [Buffer.from('x')];
    });
    const io = captureIo(root);

    // Act
    const code = await governanceChainCommand({ startBlock: '1', endBlock: '4', output: 'g.json' }, store, await governanceDeps(store), io);

    // Assess
    expect(code).toBe(EXIT.OK);
    expect(readJson('g.json')).toMatchObject({ range: { start: 1, end: 4 } });
    expect(io.stdout[1]).toBe('[PASS] replay_verification (replay verification): Replayed 4 blocks, Success rate: 100%');
  });

  it.each([
    [{ startBlock: '5', endBlock: '2' }, '--start-block'],
    [{ endBlock: '1e3' }, '--end-block'],
    [{ governancePolicy: 'none' }, '--governance-policy'],
    [{ output: 'no/dir.json' }, '--output'],
  ])('refuses %j naming the flag', async (options, flag) => {
    // Prepare
    const store = new MemoryLedgerStore();
    const io = captureIo(root);

    // Act
    const error = await thrown(async () => governanceChainCommand(options, store, await governanceDeps(store), io));

    // Assess
    expect(error).toBeInstanceOf(UsageError);
    expect(error).toMatchObject({ location: { flag } });
  });
});

describe('audit-report', () => {
  it('writes the markdown report from the replay, drift and governance files', async () => {
    // Prepare
    const store = new MemoryLedgerStore();
    await seed(store, ['pass', 'warn', 'block']);
    store.tamperBlock(REPO, 2, (b) => {
      b.fields = { ...b.fields, commit: 'f'.repeat(40) };
    });
    await ledgerReplayCommand({ output: 'replay.json' }, store, {}, captureIo(root));
    await ledgerDriftRadarCommand({ output: 'drift_signals.json' }, store, { now: NOW }, captureIo(root));
    await governanceChainCommand({ output: 'governance.json' }, store, await governanceDeps(store), captureIo(root));
    const io = captureIo(root);

    // Act
    const code = await auditReportCommand(
      { replayResults: 'replay.json', driftSignals: 'drift_signals.json', governance: 'governance.json', output: 'audit.md' },
      { now: NOW },
      io,
    );

    // Assess
    expect(code).toBe(EXIT.OK);
    expect(io.stdout).toEqual(['wrote the audit report to audit.md (verdict: FAIL)']);
    const markdown = fs.readFileSync(path.join(root, 'audit.md'), 'utf8');
    expect(markdown).toContain('Generated 2025-07-02T00:00:00.000Z.');
    expect(markdown).toContain('**FAIL** — replay found 1 failure(s) at 1 height(s)');
    expect(markdown).toContain(`| ${REPO} | 2 | \`commit\` | column |`);
    expect(markdown).toContain('## Governance chain');
  });

  it('prints the report on stdout without -o', async () => {
    // Prepare
    const store = new MemoryLedgerStore();
    await seed(store, ['pass']);
    await ledgerReplayCommand({ output: 'replay.json' }, store, {}, captureIo(root));
    await ledgerDriftRadarCommand({ output: 'drift.json' }, store, {}, captureIo(root));
    const io = captureIo(root);

    // Act
    const code = await auditReportCommand({ replayResults: 'replay.json', driftSignals: 'drift.json' }, { now: NOW }, io);

    // Assess
    expect(code).toBe(EXIT.OK);
    expect(io.stdout).toHaveLength(1);
    expect(io.stdout[0]).toMatch(/^# Ledger audit report\n/);
    expect(io.stdout[0]).toContain('**PASS**');
  });

  it('requires both input flags', async () => {
    // Prepare
    const io = captureIo(root);

    // Act
    const noReplay = await thrown(() => auditReportCommand({ driftSignals: 'd.json' }, {}, io));
    const noDrift = await thrown(() => auditReportCommand({ replayResults: 'r.json' }, {}, io));

    // Assess
    expect(noReplay).toMatchObject({ code: 'USAGE', location: { flag: '--replay-results' } });
    expect(noDrift).toMatchObject({ code: 'USAGE', location: { flag: '--drift-signals' } });
  });

  it('names the file that cannot be read or does not fit, exit 3, and writes nothing', async () => {
    // Prepare
    const store = new MemoryLedgerStore();
    await seed(store, ['pass']);
    await ledgerDriftRadarCommand({ output: 'drift.json' }, store, {}, captureIo(root));
    fs.writeFileSync(path.join(root, 'broken.json'), '{"strategy": "full_chain"');
    const io = captureIo(root);

    // Act
    const missing = await thrown(() => auditReportCommand({ replayResults: 'absent.json', driftSignals: 'drift.json', output: 'a.md' }, {}, io));
    const swapped = await thrown(() => auditReportCommand({ replayResults: 'drift.json', driftSignals: 'drift.json', output: 'a.md' }, {}, io));
    const broken = await thrown(() => auditReportCommand({ replayResults: 'broken.json', driftSignals: 'drift.json', output: 'a.md' }, {}, io));

    // Assess
    expect(missing).toMatchObject({ code: 'FILE_UNREADABLE', location: { file: 'absent.json' }, message: 'absent.json: cannot read (ENOENT)' });
    expect(swapped).toMatchObject({ code: 'INPUT_INVALID', location: { file: 'drift.json', field: 'strategy' } });
    expect(broken).toMatchObject({ code: 'INPUT_INVALID', location: { file: 'broken.json', field: '$' } });
    for (const error of [missing, swapped, broken]) expect(exitCodeFor(error)).toBe(EXIT.USAGE);
    expect(fs.existsSync(path.join(root, 'a.md'))).toBe(false);
  });
});
