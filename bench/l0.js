#!/usr/bin/env node
/**
 * L0 invariant benchmark: cost of one full `runL0` call (all five checks) on a
 * passing input, which is the path every evaluation takes.
 *
 * Usage: node bench/l0.js [output.json]   (default bench/results/l0.json)
 * BENCH_L0_MODULE may point at another build of `l0/index.js`.
 *
 * Reports the amortized ns per call over >= 1,000,000 calls after warm-up,
 * and p50/p99 of the ns per call of batches of 1,000 calls. The target
 * (50 ns) is reported, not enforced: the script exits non-zero only on error.
 */
'use strict';

const fs = require('node:fs');
const path = require('node:path');

const WARMUP_CALLS = 200_000;
const BATCH_SIZE = 1_000;
const BATCHES = 1_000;
const TARGET_NS = 50;

function loadL0() {
  const modulePath = process.env.BENCH_L0_MODULE
    ? path.resolve(process.env.BENCH_L0_MODULE)
    : path.join(__dirname, '..', 'packages', 'mirror-dissonance', 'dist', 'l0', 'index.js');
  if (!fs.existsSync(modulePath)) {
    throw new Error(`L0 module not found at ${modulePath}; build first (npm run build) or set BENCH_L0_MODULE`);
  }
  const l0 = require(modulePath);
  if (typeof l0.runL0 !== 'function') throw new Error(`${modulePath} does not export runL0`);
  return l0;
}

/** A passing input: pinned schema prefix, read-only mask, small drift, fresh nonce, witnessed contraction. */
function passingInput() {
  const nowMs = 1_700_000_000_000;
  return {
    schema: {
      actualSha256: '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08',
      expectedPrefix: '9f86d081884c7d65',
    },
    permissionMask: 0b0000_0000_1000,
    drift: { magnitude: 0.02, bound: 0.1 },
    nonce: { value: 'a'.repeat(64), loadedAtMs: nowMs - 60_000, nowMs },
    contractions: [
      { ruleId: 'MD-001', previousFpr: 0.2, currentFpr: 0.1, reviewedFalsePositives: 12 },
      { ruleId: 'MD-002', previousFpr: undefined, currentFpr: 0.05, reviewedFalsePositives: 0 },
    ],
    contractionWitnessMin: 10,
  };
}

function percentile(sorted, p) {
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index];
}

function main() {
  const outPath = path.resolve(process.argv[2] || path.join(__dirname, 'results', 'l0.json'));
  const { runL0 } = loadL0();
  const input = passingInput();

  const check = runL0(input);
  if (!Array.isArray(check) || check.length !== 0) {
    throw new Error(`benchmark input does not pass L0: ${JSON.stringify(check)}`);
  }

  // Sink so the calls cannot be optimized away.
  let failures = 0;
  for (let i = 0; i < WARMUP_CALLS; i += 1) failures += runL0(input).length;

  const perCallNs = new Float64Array(BATCHES);
  const start = process.hrtime.bigint();
  for (let b = 0; b < BATCHES; b += 1) {
    const batchStart = process.hrtime.bigint();
    for (let i = 0; i < BATCH_SIZE; i += 1) failures += runL0(input).length;
    perCallNs[b] = Number(process.hrtime.bigint() - batchStart) / BATCH_SIZE;
  }
  const totalNs = Number(process.hrtime.bigint() - start);
  if (failures !== 0) throw new Error(`runL0 reported ${failures} failures on the passing input`);

  const calls = BATCHES * BATCH_SIZE;
  const sorted = Array.from(perCallNs).sort((a, b) => a - b);
  const round = (n) => Math.round(n * 100) / 100;
  const result = {
    benchmark: 'l0',
    calls,
    amortizedNsPerCheck: round(totalNs / calls),
    batch: { size: BATCH_SIZE, p50Ns: round(percentile(sorted, 50)), p99Ns: round(percentile(sorted, 99)) },
    targetNs: TARGET_NS,
    node: process.version,
    timestamp: new Date().toISOString(),
  };

  const json = JSON.stringify(result, null, 2);
  fs.mkdirSync(path.dirname(outPath), { recursive: true });
  fs.writeFileSync(outPath, `${json}\n`);
  process.stdout.write(`${json}\n`);
}

try {
  main();
} catch (error) {
  process.stderr.write(`bench/l0: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
}
