'use strict';
// `analyze` wall time and peak RSS on generated repositories, measured on the
// built CLI in a fresh process each time (Node start-up included).
const { spawnSync } = require('node:child_process');
const { mkdtempSync, readFileSync, rmSync } = require('node:fs');
const { join } = require('node:path');
const { tmpdir } = require('node:os');
const { generateRepo } = require('./generate-repo');

const CLI = join(__dirname, '..', 'packages', 'cli', 'bin', 'phase-mirror.js');
const SIZES = [
  { files: 1_000, targetMs: 150 },
  { files: 10_000, targetMs: null },
  { files: 50_000, targetMs: 2_000 },
];
const TARGET_RSS_MB = 120;
const RUNS = Number(process.env.BENCH_RUNS ?? 7);

function runOnce(root, stateDir, out) {
  const start = process.hrtime.bigint();
  // GNU time reports the child's peak RSS (kB) on stderr with -f.
  const result = spawnSync('/usr/bin/time', ['-f', 'MAXRSS_KB=%M', process.execPath, CLI, 'analyze', root, '--state-dir', stateDir, '-o', out, '-f', 'json', '--no-color'], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  const wallMs = Number(process.hrtime.bigint() - start) / 1e6;
  if (result.status !== 0 && result.status !== 1) {
    throw new Error(`analyze exited ${result.status}: ${result.stderr}`);
  }
  const rss = /MAXRSS_KB=(\d+)/.exec(result.stderr);
  if (!rss) throw new Error(`no RSS in: ${result.stderr}`);
  return { wallMs, rssMb: Number(rss[1]) / 1024, outcome: JSON.parse(readFileSync(out, 'utf8')).machine_decision.outcome };
}

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

function benchAnalyze(workDir) {
  const results = [];
  for (const size of SIZES) {
    const root = generateRepo(join(workDir, `repo-${size.files}`), size.files);
    const scratch = mkdtempSync(join(tmpdir(), 'pm-bench-'));
    const out = join(scratch, 'report.json');
    // One warm-up run fills the page cache and creates the state database.
    runOnce(root, join(scratch, 'state'), out);
    const runs = [];
    for (let i = 0; i < RUNS; i++) runs.push(runOnce(root, join(scratch, 'state'), out));
    rmSync(scratch, { recursive: true, force: true });
    const walls = runs.map((r) => r.wallMs).sort((a, b) => a - b);
    const rss = Math.max(...runs.map((r) => r.rssMb));
    const median = percentile(walls, 0.5);
    results.push({
      files: size.files,
      runs: RUNS,
      outcome: runs[0].outcome,
      wallMs: { min: round(walls[0]), median: round(median), max: round(walls[walls.length - 1]) },
      peakRssMb: round(rss),
      targetMs: size.targetMs,
      wallRatioToTarget: size.targetMs === null ? null : round(median / size.targetMs, 3),
      targetRssMb: TARGET_RSS_MB,
      rssRatioToTarget: round(rss / TARGET_RSS_MB, 3),
    });
  }
  return results;
}

function round(n, digits = 1) {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

module.exports = { benchAnalyze };
