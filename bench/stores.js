'use strict';
// Store operations on both backends, side by side in one run: p50/p99 of
// record, window by count of 200, mark, increment and consent check, on the
// embedded SQLite store and on DynamoDB of the AWS emulator over loopback.
// Targets: SQLite p99 <= 1 ms, emulator p99 <= 20 ms.
const { mkdtempSync, rmSync, writeFileSync } = require('node:fs');
const { join, resolve } = require('node:path');
const { tmpdir } = require('node:os');
const esbuild = require('esbuild');

const ROOT = join(__dirname, '..');
const core = require(join(ROOT, 'packages', 'mirror-dissonance', 'dist', 'index.js'));
const emulator = require(join(ROOT, 'localstack', 'emulator.js'));
const SAMPLES = Number(process.env.BENCH_STORE_SAMPLES ?? 300);

function loadTableHelpers(workDir) {
  const entry = join(workDir, 'tables-entry.ts');
  writeFileSync(entry, `export * from ${JSON.stringify(join(ROOT, 'packages', 'mirror-dissonance', 'test', 'integration', 'tables'))};\n`);
  const outfile = join(workDir, 'tables.js');
  esbuild.buildSync({ entryPoints: [entry], outfile, bundle: true, platform: 'node', target: 'node20', format: 'cjs', logLevel: 'error', external: ['@aws-sdk/*'] });
  return require(resolve(outfile));
}

function percentiles(samples) {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (p) => Math.round(sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] * 1000) / 1000;
  return { p50Ms: at(0.5), p99Ms: at(0.99), samples: sorted.length };
}

async function measure(fn) {
  for (let i = 0; i < 10; i++) await fn(-1 - i); // warm-up
  const samples = [];
  for (let i = 0; i < SAMPLES; i++) {
    const start = process.hrtime.bigint();
    await fn(i);
    samples.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  return percentiles(samples);
}

async function benchBackend(stores, label) {
  const run = `${label}-${Date.now()}`;
  // One millisecond per event, as real runs observe them (ties are the exception).
  const base = Date.now() - 3_600_000;
  const event = (i) => ({
    eventId: `${run}-${i}`,
    ruleId: 'MD-001',
    ruleVersion: '1.0.0',
    findingId: `finding-${i % 50}`,
    repository: 'acme/api',
    runId: run,
    path: '.github/workflows/ci.yml',
    observedAt: new Date(base + i).toISOString(),
  });
  // 200 events so the window query has a full window to read.
  for (let i = 0; i < 200; i++) await stores.fpStore.recordEvents([event(100000 + i)]);
  const scope = { orgId: 'acme', repository: 'acme/api', resource: 'fp_metrics' };
  await stores.consent.grant(scope, { grantedBy: 'bench', grantedAt: new Date().toISOString() });
  const hourEnd = new Date(Date.now() + 3600e3);
  return {
    record: await measure((i) => stores.fpStore.recordEvents([event(i + 20)])),
    windowByCount200: await measure(() => stores.fpStore.windowByCount('MD-001', 200)),
    mark: await measure((i) => stores.fpStore.markFalsePositive(`${run}-${100000 + (Math.abs(i) % 200)}`, { reviewer: 'bench', reason: 'bench', markedAt: new Date().toISOString() })),
    increment: await measure(() => stores.blockCounter.increment(`${run}#counter`, hourEnd)),
    consentCheck: await measure(() => stores.consent.check(scope, new Date())),
  };
}

async function benchStores(workDir) {
  const stateDir = mkdtempSync(join(tmpdir(), 'pm-bench-state-'));
  const embedded = core.openStores({ backend: 'embedded', stage: 'bench', tables: {} }, { stateDir, env: {} });
  let sqlite;
  try {
    sqlite = await benchBackend(embedded, 'sqlite');
  } finally {
    embedded.close();
    rmSync(stateDir, { recursive: true, force: true });
  }

  const started = await emulator.ensure();
  const endpoint = emulator.endpoint();
  process.env.AWS_ACCESS_KEY_ID ??= 'test';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'test';
  const tables = loadTableHelpers(workDir);
  const { DynamoDBClient } = require('@aws-sdk/client-dynamodb');
  const raw = new DynamoDBClient({ region: 'us-east-1', endpoint });
  const names = tables.uniqueTableNames('bench');
  let dynamo;
  try {
    await tables.createTables(raw, names);
    const stores = core.openStores({ backend: 'aws', region: 'us-east-1', endpoint, stage: 'bench', tables: names }, { stateDir: workDir, env: {} });
    dynamo = await benchBackend(stores, 'dynamo');
  } finally {
    await tables.deleteTables(raw, names).catch(() => undefined);
    if (started.state === 'started') await emulator.stop({ pid: started.pid });
  }
  const ratio = (ops, target) => Object.fromEntries(Object.entries(ops).map(([op, r]) => [op, Math.round((r.p99Ms / target) * 1000) / 1000]));
  return {
    sqlite: { targetP99Ms: 1, operations: sqlite, p99RatioToTarget: ratio(sqlite, 1) },
    emulator: { targetP99Ms: 20, endpoint, operations: dynamo, p99RatioToTarget: ratio(dynamo, 20) },
  };
}

module.exports = { benchStores };
