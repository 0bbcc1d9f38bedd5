'use strict';
// `npm run bench`: every benchmark in one run, results side by side in one JSON
// file (and the L0 detail in its own). Never fails on a missed target; the
// ratios say how far from target each figure is.
const { mkdirSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');
const { spawnSync } = require('node:child_process');
const os = require('node:os');
const { benchAnalyze } = require('./analyze');
const { benchGovernance } = require('./governance');
const { benchStores } = require('./stores');
const { benchRedaction } = require('./redaction');
const { benchLedger } = require('./ledger');

const resultsDir = join(__dirname, 'results');
mkdirSync(resultsDir, { recursive: true });
const workDir = join(__dirname, '.work');
mkdirSync(workDir, { recursive: true });

const l0File = join(resultsDir, 'l0.json');
const l0 = spawnSync(process.execPath, [join(__dirname, 'l0.js'), l0File], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
if (l0.status !== 0) {
  console.error('L0 benchmark failed');
  process.exit(1);
}
const l0Result = JSON.parse(l0.stdout);
const analyze = benchAnalyze(workDir);

(async () => {
const governance = await benchGovernance(join(workDir, 'governance'));
const stores = await benchStores(join(workDir, 'stores'));
const redaction = await benchRedaction();
const ledger = await benchLedger();
const summary = {
  timestamp: new Date().toISOString(),
  machine: { node: process.version, cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, totalMemGb: Math.round(os.totalmem() / 2 ** 30) },
  l0: {
    amortizedNsPerCheck: l0Result.amortizedNsPerCheck,
    targetNs: l0Result.targetNs,
    ratioToTarget: Math.round((l0Result.amortizedNsPerCheck / l0Result.targetNs) * 1000) / 1000,
    batch: l0Result.batch,
  },
  analyze,
  governance,
  stores,
  redaction,
  ledger,
};
writeFileSync(join(resultsDir, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
console.log(JSON.stringify(summary, null, 2));
})().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
