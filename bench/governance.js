'use strict';
// Issue 3 measurements: an org-scan replay of 500 recorded repositories, MD-101
// over the scan, and `analyze` of a repository with 200 workflows, with the
// per-rule finding counts of each. The replay server and the synthetic
// organisation are the test suite's own (bundled here with esbuild), so the
// benchmark and the tests replay the same recorded shapes.
const { spawnSync } = require('node:child_process');
const { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync, copyFileSync } = require('node:fs');
const { join } = require('node:path');
const esbuild = require('esbuild');

const ROOT = join(__dirname, '..');
const CLI = join(ROOT, 'packages', 'cli', 'bin', 'phase-mirror.js');
const TEST = join(ROOT, 'packages', 'mirror-dissonance', 'test');
const RUNS = Number(process.env.BENCH_RUNS ?? 5);

function loadReplayHelpers(workDir) {
  const entry = join(workDir, 'replay-entry.ts');
  writeFileSync(
    entry,
    `export { startReplayServer } from ${JSON.stringify(join(TEST, 'github', 'replay-server'))};\n` +
      `export { syntheticOrganization } from ${JSON.stringify(join(TEST, 'github', 'synthetic-org'))};\n`,
  );
  const outfile = join(workDir, 'replay.js');
  esbuild.buildSync({ entryPoints: [entry], outfile, bundle: true, platform: 'node', target: 'node20', format: 'cjs', logLevel: 'error' });
  return require(require('node:path').resolve(outfile));
}

function timed(args, options) {
  const start = process.hrtime.bigint();
  const result = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, ...options });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (result.status !== 0 && result.status !== 1) throw new Error(`phase-mirror ${args.join(' ')} exited ${result.status}: ${result.stderr}`);
  return { ms, result };
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return Math.round(sorted[Math.floor(sorted.length / 2)] * 10) / 10;
}

function countByRule(reportFile) {
  const report = JSON.parse(readFileSync(reportFile, 'utf8'));
  const counts = {};
  for (const item of report.items) counts[item.rule_id] = (counts[item.rule_id] ?? 0) + 1;
  return { outcome: report.machine_decision.outcome, total: report.items.length, byRule: Object.fromEntries(Object.entries(counts).sort()) };
}

/** A repository with 200 workflows cycled from the rule fixtures (real, varied workflow files). */
function generateWorkflowRepo(root, count) {
  rmSync(root, { recursive: true, force: true });
  const sources = [];
  for (const dir of ['workflows/md001', 'workflows/md006', 'workflows/parse', 'rules/md100', 'rules/md102', 'rules/md003/workflows']) {
    const abs = join(TEST, 'fixtures', dir);
    for (const name of readdirSync(abs).sort()) if (name.endsWith('.yml')) sources.push(join(abs, name));
  }
  mkdirSync(join(root, '.github', 'workflows'), { recursive: true });
  for (let i = 0; i < count; i++) {
    const source = sources[i % sources.length];
    copyFileSync(source, join(root, '.github', 'workflows', `w${String(i).padStart(3, '0')}-${source.split('/').pop()}`));
  }
  cpSync(join(TEST, 'fixtures', 'rules', 'md002', 'CODEOWNERS'), join(root, '.github', 'CODEOWNERS'));
  writeFileSync(
    join(root, '.phase-mirror.yml'),
    'version: 1\npolicy:\n  requiredStatusChecks: [test, lint, security-scan, e2e]\n  criticalPaths: [.github/workflows/**, src/**]\n  protectedPaths: [.github/**]\n  automation:\n    authors: ["*[bot]"]\n  probabilistic:\n    paths: [models/**]\n    evaluationJobs: [eval*]\n',
  );
  mkdirSync(join(root, 'models'), { recursive: true });
  writeFileSync(join(root, 'models', 'ranker.json'), '{}\n');
  return root;
}

async function benchGovernance(workDir) {
  mkdirSync(workDir, { recursive: true });
  const { startReplayServer, syntheticOrganization } = loadReplayHelpers(workDir);
  const { exchanges } = syntheticOrganization('acme', 500);
  const server = await startReplayServer();
  server.add(...exchanges);
  const scanDir = join(workDir, 'org-scan');
  rmSync(scanDir, { recursive: true, force: true });
  mkdirSync(scanDir, { recursive: true });
  const statesFile = join(scanDir, 'states.json');
  const env = { PATH: process.env.PATH, GITHUB_TOKEN: 'bench-token', GITHUB_API_URL: server.baseUrl };
  const scanTimes = [];
  for (let i = 0; i < RUNS; i++) {
    // spawnSync would block the replay server living in this process: run the CLI asynchronously.
    scanTimes.push(await new Promise((resolve, reject) => {
      const { spawn } = require('node:child_process');
      const start = process.hrtime.bigint();
      const child = spawn(process.execPath, [CLI, 'org-scan', '--org', 'acme', '-o', statesFile], { env, stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (chunk) => (stderr += chunk));
      child.on('exit', (code) => (code === 0 ? resolve(Number(process.hrtime.bigint() - start) / 1e6) : reject(new Error(`org-scan exited ${code}: ${stderr}`))));
    }));
  }
  const requests = server.requests.length / RUNS;
  await server.close();
  const repositories = JSON.parse(readFileSync(statesFile, 'utf8')).repositories.length;

  // MD-101 over the 500 scanned repositories, against the test suite's organisation manifest.
  const orgRepo = join(workDir, 'org-repo');
  rmSync(orgRepo, { recursive: true, force: true });
  mkdirSync(orgRepo, { recursive: true });
  copyFileSync(join(TEST, 'fixtures', 'org', 'manifest.yml'), join(orgRepo, 'org.yml'));
  const orgReport = join(scanDir, 'report.json');
  const md101Times = [];
  for (let i = 0; i < RUNS; i++) {
    md101Times.push(timed(['analyze', orgRepo, '--org-manifest', join(orgRepo, 'org.yml'), '--org-states', statesFile, '--mode', 'drift', '--dry-run', '-o', orgReport, '-f', 'json'], { env: { PATH: process.env.PATH } }).ms);
  }

  // analyze of a repository with 200 workflows.
  const repo = generateWorkflowRepo(join(workDir, 'repo-200-workflows'), 200);
  const report = join(workDir, 'report-200-workflows.json');
  const analyzeTimes = [];
  for (let i = 0; i < RUNS + 1; i++) {
    const { ms } = timed(['analyze', repo, '--author', 'dependabot[bot]', '-o', report, '-f', 'json', '--state-dir', join(workDir, 'state-200')], { env: { PATH: process.env.PATH } });
    if (i > 0) analyzeTimes.push(ms);
  }
  return {
    orgScanReplay: { repositories, requestsPerScan: requests, runs: RUNS, wallMsMedian: median(scanTimes), wallMsMin: Math.round(Math.min(...scanTimes)) },
    md101OverScan: { repositories, wallMsMedian: median(md101Times), findings: countByRule(orgReport) },
    analyze200Workflows: { workflows: 200, wallMsMedian: median(analyzeTimes), findings: countByRule(report) },
  };
}

module.exports = { benchGovernance };
