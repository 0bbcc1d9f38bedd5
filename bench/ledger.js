'use strict';
// The decision ledger (issue 6), on the built library and the embedded store:
// - append throughput: appendDecision, one decision per SQLite transaction
//   (what every `analyze` does), blocks/s — target >= 20,000;
// - replay of a 50,000-block chain (full_chain: every hash, link and root),
//   blocks/s — target >= 200,000;
// - proofs at 10^6 blocks: inclusion and consistency proofs over a stream of
//   10^6 block hashes, their size and verification time — target <= 1 ms.
const { mkdtempSync, rmSync } = require('node:fs');
const { randomBytes } = require('node:crypto');
const { tmpdir } = require('node:os');
const { join } = require('node:path');

const core = require(join(__dirname, '..', 'packages', 'mirror-dissonance', 'dist', 'index.js'));
const merkle = require(join(__dirname, '..', 'packages', 'mirror-dissonance', 'dist', 'ledger', 'merkle.js'));
const replay = require(join(__dirname, '..', 'packages', 'mirror-dissonance', 'dist', 'ledger', 'replay.js'));

const APPENDS = Number(process.env.BENCH_LEDGER_APPENDS ?? 5000);
const CHAIN = Number(process.env.BENCH_LEDGER_CHAIN ?? 50_000);
const PROOF_LEAVES = Number(process.env.BENCH_LEDGER_PROOF_LEAVES ?? 1_000_000);

function report(i) {
  return {
    meta: { schema_version: '2.0.0', run_id: `run-${i}`, timestamp: new Date(0).toISOString(), rules_hash: 'a'.repeat(64) },
    items: [
      {
        id: 'b'.repeat(64),
        rule_id: 'MD-001',
        rule_version: '1.0.0',
        severity: 'high',
        title: 'finding',
        evidence: [{ path: '.github/workflows/ci.yml', line: 3, snippet: { __brand: 'c'.repeat(64), __mac: 'd'.repeat(64), value: 'x', nonce_version: 1 }, hash: 'e'.repeat(64) }],
      },
    ],
    summary: { total: 1, by_severity: { critical: 0, high: 1, medium: 0, low: 0 } },
    machine_decision: { outcome: i % 3 === 0 ? 'block' : 'warn', degraded: false, reason: 'bench' },
  };
}

const seconds = (start) => Number(process.hrtime.bigint() - start) / 1e9;
const round = (value, digits = 3) => Math.round(value * 10 ** digits) / 10 ** digits;

async function benchAppend(stateDir) {
  const state = core.openStateDatabase(stateDir);
  try {
    for (let i = 0; i < 200; i++) await core.appendDecision(state.ledger, { report: report(i), repository: 'acme/warmup', mode: 'pull_request', commit: `w${i}` });
    const start = process.hrtime.bigint();
    for (let i = 0; i < APPENDS; i++) await core.appendDecision(state.ledger, { report: report(i), repository: 'acme/append', mode: 'pull_request', commit: `c${i}` });
    const blocksPerSecond = Math.round(APPENDS / seconds(start));
    return { blocks: APPENDS, blocksPerSecond, target: 20_000, ratioToTarget: round(blocksPerSecond / 20_000) };
  } finally {
    state.close();
  }
}

async function benchReplay(stateDir) {
  const state = core.openStateDatabase(stateDir);
  try {
    // The chain is built directly (buildBlock + append), not timed.
    let previous;
    for (let i = 0; i < CHAIN; i++) {
      const block = core.buildBlock({ report: report(i), repository: 'acme/replay', mode: 'pull_request', commit: `c${i}`, previous, actions: [], dualActivationHeight: undefined, timestamp: new Date(1_700_000_000_000 + i) });
      await state.ledger.append(block);
      previous = block;
    }
    const start = process.hrtime.bigint();
    const result = await replay.replayLedger(state.ledger, { repository: 'acme/replay', strategy: 'full_chain' });
    const elapsed = seconds(start);
    if (result.failed !== 0 || result.replayed !== CHAIN) throw new Error(`replay bench: ${result.failed} failures over ${result.replayed} blocks`);
    const blocksPerSecond = Math.round(CHAIN / elapsed);
    return { blocks: CHAIN, seconds: round(elapsed), blocksPerSecond, target: 200_000, ratioToTarget: round(blocksPerSecond / 200_000) };
  } finally {
    state.close();
  }
}

function benchProofs() {
  const hashes = Array.from({ length: PROOF_LEAVES }, () => merkle.leafHash('sha256', randomBytes(32)));
  const root = merkle.merkleRootOfLeafHashes('sha256', hashes);
  const index = Math.floor(PROOF_LEAVES * 0.618);
  const path = merkle.inclusionProof('sha256', hashes, index);
  const oldSize = Math.floor(PROOF_LEAVES * 0.7) + 3;
  const consistency = merkle.consistencyProof('sha256', hashes, oldSize);
  const oldRoot = merkle.merkleRootOfLeafHashes('sha256', hashes.slice(0, oldSize));
  const time = (fn, runs = 2000) => {
    for (let i = 0; i < 200; i++) fn();
    const samples = [];
    for (let i = 0; i < runs; i++) {
      const start = process.hrtime.bigint();
      if (!fn()) throw new Error('proof did not verify');
      samples.push(Number(process.hrtime.bigint() - start) / 1e6);
    }
    samples.sort((a, b) => a - b);
    return { p50Ms: round(samples[Math.floor(runs / 2)], 4), p99Ms: round(samples[Math.floor(runs * 0.99)], 4) };
  };
  const inclusion = time(() => merkle.verifyInclusion('sha256', hashes[index], index, PROOF_LEAVES, path, root));
  const consistent = time(() => merkle.verifyConsistency('sha256', oldSize, PROOF_LEAVES, consistency, oldRoot, root));
  return {
    leaves: PROOF_LEAVES,
    inclusion: { nodes: path.length, bytes: path.length * 32, ...inclusion, targetMs: 1, p99RatioToTarget: round(inclusion.p99Ms / 1, 4) },
    consistency: { oldSize, nodes: consistency.length, bytes: consistency.length * 32, ...consistent, targetMs: 1, p99RatioToTarget: round(consistent.p99Ms / 1, 4) },
  };
}

async function benchLedger() {
  const dir = mkdtempSync(join(tmpdir(), 'pm-bench-ledger-'));
  try {
    return {
      append: await benchAppend(join(dir, 'append')),
      replay: await benchReplay(join(dir, 'replay')),
      proofsAt1e6: benchProofs(),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

module.exports = { benchLedger };

if (require.main === module) {
  benchLedger().then(
    (result) => console.log(JSON.stringify(result, null, 2)),
    (error) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
}
