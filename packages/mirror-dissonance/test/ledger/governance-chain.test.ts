/**
 * The governance chain: the runner over injected jobs (order, context,
 * failures and thrown errors), and the standard six jobs over the in-memory
 * ledger with epochs sealed and verified by epochs.ts under a real Ed25519 key.
 */
import { buildBlock, type StoredBlock } from '../../src/ledger/block';
import { sealEpochs, verifyEpochs } from '../../src/ledger/epochs';
import {
  createGovernanceJobs,
  formatGovernanceChain,
  formatGovernanceChainLine,
  formatPercent,
  GOVERNANCE_JOB_ORDER,
  runGovernanceChain,
  sha3AvailableInRuntime,
  type GovernanceJobDeps,
  type GovernanceJobs,
  type GovernanceJobContext,
} from '../../src/ledger/governance-chain';
import { Ed25519Signer, type EpochPublicKey } from '../../src/ledger/signing';
import { DependencyError } from '../../src/errors';
import { validReport } from '../report/report-fixture';
import { MemoryLedgerStore } from './memory-ledger-store';

const REPO = 'acme/widgets';
const T0 = Date.UTC(2025, 10, 3, 7, 0, 0);
const NOW = () => new Date(Date.UTC(2025, 10, 4, 0, 0, 0));
const SIGNER = new Ed25519Signer(Buffer.alloc(32, 9));

async function seed(store: MemoryLedgerStore, n: number, options: { dualAt?: number; repository?: string } = {}): Promise<StoredBlock[]> {
  const repository = options.repository ?? REPO;
  const blocks: StoredBlock[] = [];
  let previous = await store.head(repository);
  for (let i = 0; i < n; i++) {
    const height = previous === undefined ? 0 : previous.height + 1;
    const block = buildBlock({
      report: validReport(),
      repository,
      mode: 'pull_request',
      commit: height.toString(16).padStart(40, '0'),
      previous,
      actions: [],
      dualActivationHeight: options.dualAt,
      timestamp: new Date(T0 + height * 60_000),
    });
    await store.append(block);
    blocks.push(block);
    previous = block;
  }
  return blocks;
}

async function deps(store: MemoryLedgerStore, overrides: Partial<GovernanceJobDeps> = {}): Promise<GovernanceJobDeps> {
  const keys: EpochPublicKey[] = [await SIGNER.publicKey()];
  return {
    migrationStatus: () => ({ currentVersion: 4, latestVersion: 4, pending: [] }),
    verifyEpochs: (scope) => verifyEpochs(store, keys, scope),
    ...overrides,
  };
}

/** A ledger of 10 blocks, dual from 4, with epochs of 4 sealed: [0-3] SHA-256, [4-7] dual. */
async function sealedLedger(): Promise<MemoryLedgerStore> {
  const store = new MemoryLedgerStore();
  await store.putSetting('dual_activation_height', '4');
  await seed(store, 10, { dualAt: 4 });
  await sealEpochs(store, [SIGNER], { epochSize: 4, clock: NOW });
  return store;
}

function status(result: Awaited<ReturnType<typeof runGovernanceChain>>): Record<string, string> {
  return Object.fromEntries(result.jobs.map((job) => [job.id, job.status]));
}

describe('runGovernanceChain with the standard jobs', () => {
  it('passes 6/6 on an intact, sealed, dual-activated ledger without writing', async () => {
    // Prepare
    const store = await sealedLedger();
    const writes = store.calls.length;
    const jobs = createGovernanceJobs(await deps(store));

    // Act
    const result = await runGovernanceChain(store, jobs, { now: NOW });

    // Assess
    expect(formatGovernanceChainLine(result)).toBe('Governance Chain: PASSED (6/6 jobs)');
    expect(result).toMatchObject({
      kind: 'phase-mirror.governance-chain',
      version: 1,
      generatedAt: '2025-11-04T00:00:00.000Z',
      passed: true,
      passedJobs: 6,
      totalJobs: 6,
      failedJobs: [],
      range: { start: null, end: null },
    });
    expect(result.jobs.map((j) => j.id)).toEqual(GOVERNANCE_JOB_ORDER.map((j) => j.id));
    expect(result.jobs.map((j) => j.summary)).toEqual([
      'migration 4 of 4; 1 stream head(s) in block schema 1',
      'Replayed 10 blocks, Success rate: 100%',
      '2 sealed epoch(s) verified',
      'GOVERNANCE SIGNAL: OK under moderate (1 signal(s): 0 critical, 0 error, 0 warn, 1 info)',
      'attestation roots of 10 block(s) recomputed from their leaves',
      'dual commitment active from height 4: 6 dual block(s), 1 dual epoch(s) checked',
    ]);
    const newCalls = store.calls.slice(writes).map((c) => c.op);
    expect(newCalls.filter((op) => op === 'append' || op === 'putEpoch' || op === 'putSetting' || op === 'recordAction')).toEqual([]);
  });

  it('fails the jobs that see a tampered finding leaf, naming them in the verdict line', async () => {
    // Prepare
    const store = await sealedLedger();
    store.tamperBlock(REPO, 9, (b) => {
      b.reasoningLeaves[0]![3] ^= 0x01;
    });
    const jobs = createGovernanceJobs(await deps(store));

    // Act
    const result = await runGovernanceChain(store, jobs, { now: NOW });

    // Assess
    expect(result.failedJobs).toEqual(['replay_verification', 'drift_radar', 'attestation_sweep']);
    expect(formatGovernanceChainLine(result)).toBe('Governance Chain: FAILED (3/6 jobs) — failed: replay_verification, drift_radar, attestation_sweep');
    expect(result.jobs[1]!.summary).toBe('Replayed 10 blocks, Success rate: 90%; 3 failure(s) at 1 height(s)');
    expect((result.jobs[1]!.details as { failures: { field: string }[] }).failures.map((f) => f.field)).toEqual(['reasoning_leaves[0]', 'reasoning_root', 'reasoning_root_sha3']);
    expect(result.jobs[4]!.summary).toContain(`${REPO}@9 reasoning_root`);
  });

  it('fails epoch validation when a signature does not verify', async () => {
    // Prepare
    const store = await sealedLedger();
    store.tamperEpoch(REPO, 0, (e) => {
      e.signatures = [{ ...e.signatures[0]!, signature: Buffer.alloc(64, 1) }];
    });
    const jobs = createGovernanceJobs(await deps(store));

    // Act
    const result = await runGovernanceChain(store, jobs);

    // Assess
    expect(status(result)).toMatchObject({ epoch_validation: 'failed', replay_verification: 'passed' });
    expect(result.jobs[2]!.summary).toBe(`1 of 2 sealed epoch(s) failed: ${REPO}#0 (signatures[0])`);
  });

  it('bounds every job by the start and end blocks', async () => {
    // Prepare
    const store = await sealedLedger();
    store.tamperBlock(REPO, 1, (b) => {
      b.uiLeaves = [Buffer.from('forged')];
    });
    const jobs = createGovernanceJobs(await deps(store));

    // Act
    const inRange = await runGovernanceChain(store, jobs, { start: 0, end: 3 });
    const outOfRange = await runGovernanceChain(store, jobs, { start: 4, end: 9 });

    // Assess
    expect(inRange.failedJobs).toEqual(['replay_verification', 'drift_radar', 'attestation_sweep']);
    expect(outOfRange).toMatchObject({ passed: true, range: { start: 4, end: 9 } });
    expect(outOfRange.jobs[2]!.summary).toBe('1 sealed epoch(s) verified');
    expect(outOfRange.jobs[1]!.summary).toBe('Replayed 6 blocks, Success rate: 100%');
  });

  it('fails the schema job on pending migrations and on a database newer than the code, and notes a backend without migrations', async () => {
    // Prepare
    const store = new MemoryLedgerStore();
    await seed(store, 2);
    const pending = createGovernanceJobs(await deps(store, { migrationStatus: async () => ({ currentVersion: 2, latestVersion: 4, pending: [{ version: 3 }, { version: 4 }] }) }));
    const newer = createGovernanceJobs(await deps(store, { migrationStatus: () => ({ currentVersion: 5, latestVersion: 4 }) }));
    const none = createGovernanceJobs(await deps(store, { migrationStatus: undefined }));

    // Act
    const results = await Promise.all([pending, newer, none].map((jobs) => runGovernanceChain(store, jobs)));

    // Assess
    expect(results[0]!.jobs[0]).toMatchObject({ status: 'failed', summary: 'migration 2 of 4: pending 3, 4 (run `phase-mirror db migrate`); 1 stream head(s) in block schema 1' });
    expect(results[1]!.jobs[0]).toMatchObject({ status: 'failed', summary: expect.stringContaining('newer than this code (4)') });
    expect(results[2]!.jobs[0]).toMatchObject({ status: 'passed', summary: 'no versioned migrations on this backend; 1 stream head(s) in block schema 1', notes: [expect.stringContaining('DynamoDB')] });
    expect(results[2]!.jobs[2]).toMatchObject({ status: 'passed', notes: ['no sealed epoch in range'] });
  });

  it('fails the schema job when a stream head is in an unknown block schema', async () => {
    // Prepare
    const store = new MemoryLedgerStore();
    await seed(store, 2);
    store.tamperBlock(REPO, 1, (b) => {
      b.canonical = b.canonical.subarray(0, 20);
    });
    const jobs = createGovernanceJobs(await deps(store));

    // Act
    const result = await runGovernanceChain(store, jobs);

    // Assess
    expect(result.jobs[0]).toMatchObject({ status: 'failed', summary: `migration 4 of 4; 1 stream head(s) in an unknown block schema (${REPO}@1)` });
  });

  it('records a job that throws as failed with its error, and still runs the others', async () => {
    // Prepare
    const store = await sealedLedger();
    const failing = async (): Promise<never> => {
      throw new DependencyError('STORE_FAILED', 'ledger store: epochs failed on memory ledger: timeout');
    };
    const jobs = createGovernanceJobs(await deps(store, { verifyEpochs: failing }));

    // Act
    const result = await runGovernanceChain(store, jobs);

    // Assess
    expect(result.failedJobs).toEqual(['epoch_validation']);
    expect(result.jobs[2]).toMatchObject({
      status: 'failed',
      summary: 'the job could not run: ledger store: epochs failed on memory ledger: timeout',
      error: { name: 'DependencyError', code: 'STORE_FAILED' },
    });
    expect(result.jobs[3]!.status).toBe('passed');
  });

  it('uses the drift policy it is given', async () => {
    // Prepare
    const store = new MemoryLedgerStore();
    await seed(store, 3);
    store.tamperBlock(REPO, 2, (b) => {
      b.hash = '0'.repeat(64);
    });
    const jobs = createGovernanceJobs(await deps(store, { driftPolicy: 'permissive' }));

    // Act
    const result = await runGovernanceChain(store, jobs);

    // Assess
    expect(result.jobs[3]).toMatchObject({ status: 'failed', summary: expect.stringMatching(/^GOVERNANCE SIGNAL: BLOCK under permissive \(1 signal/) });
  });
});

describe('dual_commitment_readiness', () => {
  it('is ready with a note when dual commitment is not activated', async () => {
    // Prepare
    const store = new MemoryLedgerStore();
    await seed(store, 2);
    const ready = createGovernanceJobs(await deps(store));
    const noSha3 = createGovernanceJobs(await deps(store, { sha3Available: () => false }));

    // Act
    const [withSha3, withoutSha3] = await Promise.all([ready, noSha3].map((jobs) => runGovernanceChain(store, jobs)));

    // Assess
    expect(withSha3.jobs[5]).toMatchObject({ status: 'passed', summary: 'ready: dual commitment not activated', notes: [expect.stringContaining('SHA3-256 is available')] });
    expect(withoutSha3.jobs[5]).toMatchObject({ status: 'passed', notes: [expect.stringContaining('NOT available')] });
  });

  it('fails when a block at or after the activation height is not dual, or one before it is', async () => {
    // Prepare
    const store = new MemoryLedgerStore();
    await seed(store, 3);
    await seed(store, 2, { dualAt: 0 });
    await store.putSetting('dual_activation_height', '2');
    const jobs = createGovernanceJobs(await deps(store));

    // Act
    const result = await runGovernanceChain(store, jobs);

    // Assess
    expect(result.jobs[5]).toMatchObject({ status: 'failed', summary: `dual commitment active from height 2: 1 problem(s): ${REPO}@2 hash_algorithm` });
    const early = new MemoryLedgerStore();
    await seed(early, 3, { dualAt: 1 });
    await early.putSetting('dual_activation_height', '2');
    const earlyResult = await runGovernanceChain(early, createGovernanceJobs(await deps(early)));
    expect(earlyResult.jobs[5]!.details).toMatchObject({ problems: [{ repository: REPO, height: 1, field: 'hash_algorithm', message: 'dual-v1 block below the activation height 2' }] });
  });

  it('fails when activated but SHA3-256 is unavailable, or the activation height is not a number', async () => {
    // Prepare
    const store = new MemoryLedgerStore();
    await store.putSetting('dual_activation_height', '0');
    await seed(store, 2, { dualAt: 0 });
    const noSha3 = createGovernanceJobs(await deps(store, { sha3Available: () => false }));
    const garbled = new MemoryLedgerStore();
    await garbled.putSetting('dual_activation_height', '2x');

    // Act
    const result = await runGovernanceChain(store, noSha3);
    const garbledResult = await runGovernanceChain(garbled, createGovernanceJobs(await deps(garbled)));

    // Assess
    expect(result.jobs[5]).toMatchObject({ status: 'failed', summary: 'dual commitment active from height 0: 1 problem(s): SHA3-256 is not available in this runtime' });
    expect(garbledResult.jobs[5]).toMatchObject({ status: 'failed', summary: 'the recorded activation height "2x" is not a whole number' });
  });

  it('fails when an epoch of dual blocks carries no SHA3-256 root', async () => {
    // Prepare
    const store = await sealedLedger();
    store.tamperEpoch(REPO, 1, (e) => {
      delete e.rootSha3;
    });
    const jobs = createGovernanceJobs(await deps(store));

    // Act
    const result = await runGovernanceChain(store, jobs);

    // Assess
    expect(result.jobs[5]).toMatchObject({ status: 'failed', summary: `dual commitment active from height 4: 1 problem(s): ${REPO}@7 epoch_root_sha3` });
  });

  it('detects SHA3-256 by its known answer', () => {
    // Act
    const available = sha3AvailableInRuntime();

    // Assess
    expect(available).toBe(true);
  });
});

describe('runGovernanceChain runner', () => {
  function fakeJobs(calls: string[], overrides: Partial<GovernanceJobs> = {}): GovernanceJobs {
    const job = (id: string) => async (ctx: GovernanceJobContext) => {
      calls.push(`${id}:${ctx.repository ?? '*'}:${ctx.start ?? '-'}:${ctx.end ?? '-'}`);
      return { passed: true, summary: `${id} ok` };
    };
    return {
      schema_migration: job('schema_migration'),
      replay_verification: job('replay_verification'),
      epoch_validation: job('epoch_validation'),
      drift_radar: job('drift_radar'),
      attestation_sweep: job('attestation_sweep'),
      dual_commitment_readiness: job('dual_commitment_readiness'),
      ...overrides,
    };
  }

  it('runs the six jobs in order with the range and a read-only ledger', async () => {
    // Prepare
    const store = new MemoryLedgerStore();
    const calls: string[] = [];
    const jobs = fakeJobs(calls, {
      drift_radar: async (ctx) => {
        await ctx.ledger.putSetting('epoch_size', '1');
        return { passed: true, summary: 'wrote' };
      },
    });

    // Act
    const result = await runGovernanceChain(store, jobs, { repository: REPO, start: 2, end: 7 });

    // Assess
    expect(calls).toEqual([
      `schema_migration:${REPO}:2:7`,
      `replay_verification:${REPO}:2:7`,
      `epoch_validation:${REPO}:2:7`,
      `attestation_sweep:${REPO}:2:7`,
      `dual_commitment_readiness:${REPO}:2:7`,
    ]);
    expect(result.jobs[3]).toMatchObject({ status: 'failed', error: { name: 'IntegrityError', code: 'LEDGER_INVALID' } });
    expect(store.count('putSetting')).toBe(0);
    expect(result).toMatchObject({ repository: REPO, range: { start: 2, end: 7 }, passedJobs: 5 });
  });

  it('prints one line per job with its notes, then the verdict', async () => {
    // Prepare
    const store = new MemoryLedgerStore();
    const jobs = fakeJobs([], {
      epoch_validation: async () => ({ passed: false, summary: 'bad epoch', notes: ['key rotated'] }),
      dual_commitment_readiness: async () => {
        throw new Error('boom');
      },
    });

    // Act
    const lines = formatGovernanceChain(await runGovernanceChain(store, jobs));

    // Assess
    expect(lines).toEqual([
      '[PASS] schema_migration (schema/migration check): schema_migration ok',
      '[PASS] replay_verification (replay verification): replay_verification ok',
      '[FAIL] epoch_validation (epoch validation): bad epoch',
      '       note: key rotated',
      '[PASS] drift_radar (drift radar): drift_radar ok',
      '[PASS] attestation_sweep (attestation integrity sweep): attestation_sweep ok',
      '[FAIL] dual_commitment_readiness (dual-commitment readiness): the job could not run: boom',
      'Governance Chain: FAILED (4/6 jobs) — failed: epoch_validation, dual_commitment_readiness',
    ]);
  });
});

describe('formatPercent', () => {
  it('prints at most two decimals without trailing zeros', () => {
    // Act
    const printed = [100, 97.5, 33.333, 0].map(formatPercent);

    // Assess
    expect(printed).toEqual(['100%', '97.5%', '33.33%', '0%']);
  });
});
