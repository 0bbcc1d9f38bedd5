/**
 * The ledger through the CLI on the embedded store, end to end: every
 * analyze appends a block, FP marks are attested in the next block, epochs
 * are sealed and verified, proofs verify offline, tampering with the SQLite
 * file is named by height and field, and the governance chain and audit
 * report run on the result.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { DissonanceReport } from '@phase-mirror/mirror-dissonance';
import { main } from '../src/main';
import { captureIo, copyFixture } from './helpers';

async function run(cwd: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const io = captureIo(cwd);
  const code = await main(['node', 'phase-mirror', ...args], io);
  return { code, stdout: io.stdout.join('\n'), stderr: io.stderr.join('\n') };
}

function report(root: string, file: string): DissonanceReport {
  return JSON.parse(readFileSync(join(root, file), 'utf8')) as DissonanceReport;
}

const REPO = 'acme/planted';

async function analyzeTimes(root: string, times: number): Promise<void> {
  for (let i = 0; i < times; i++) await run(root, ['analyze', '.', '--repository', REPO, '-o', `r${i}.json`]);
}

describe('the ledger through the CLI (embedded)', () => {
  it('appends one block per analyze and records it in meta.ledger', async () => {
    // Prepare
    const root = copyFixture('planted');

    // Act
    await analyzeTimes(root, 3);
    const replay = await run(root, ['ledger', 'replay', '.', '-o', 'replay.json']);

    // Assess
    expect([0, 1, 2].map((i) => report(root, `r${i}.json`).meta.ledger?.height)).toEqual([0, 1, 2]);
    expect(replay.code).toBe(0);
    expect(replay.stdout).toContain('Replayed 3 blocks, Success rate: 100%');
    expect(JSON.parse(readFileSync(join(root, 'replay.json'), 'utf8'))).toMatchObject({ replayed: 3, failed: 0 });
  });

  it('attests a false-positive mark in the next block (ui_root over the journaled action)', async () => {
    // Prepare
    const root = copyFixture('planted');
    await analyzeTimes(root, 1);
    const events = JSON.parse((await run(root, ['fp', 'list', '.', '-f', 'json'])).stdout) as { eventId: string }[];

    // Act
    const mark = await run(root, ['fp', 'mark', events[0]!.eventId, '.', '--reviewer', 'alice', '--reason', 'generated']);
    await run(root, ['analyze', '.', '--repository', REPO, '-o', 'after.json']);

    // Assess
    expect(mark.code).toBe(0);
    const db = new Database(join(root, '.phase-mirror', 'state.db'), { readonly: true });
    try {
      const rows = db.prepare('SELECT height, ui_through_seq, ui_root FROM ledger_blocks ORDER BY height').all() as { height: number; ui_through_seq: number; ui_root: Buffer | string }[];
      expect(rows.map((r) => [r.height, r.ui_through_seq])).toEqual([
        [0, 0],
        [1, 1],
      ]);
      expect(rows[1]!.ui_root).not.toEqual(rows[0]!.ui_root);
    } finally {
      db.close();
    }
  });

  it('seals, verifies, proves and verifies the proof offline with only the exported public key', async () => {
    // Prepare
    const root = copyFixture('planted');
    await analyzeTimes(root, 5);

    // Act
    const dryRun = await run(root, ['ledger', 'backfill', '.', '--epoch-size', '2', '--dry-run']);
    const sealed = await run(root, ['ledger', 'seal', '.', '--epoch-size', '2']);
    const verified = await run(root, ['ledger', 'verify-epochs', '.']);
    const key = await run(root, ['ledger', 'public-key', '.', '-o', 'ledger.pem']);
    const proved = await run(root, ['ledger', 'prove', REPO, '3', '.', '-o', 'proof.json']);
    const checked = await run(root, ['ledger', 'verify-proof', 'proof.json', '.', '--public-key', 'ledger.pem']);
    const consistency = await run(root, ['ledger', 'prove-consistency', REPO, '.', '--old-size', '2', '-o', 'consistency.json']);
    const consistent = await run(root, ['ledger', 'verify-proof', 'consistency.json', '.', '--public-key', 'ledger.pem']);

    // Assess
    expect(dryRun.stdout).toContain('Dry-run: Would create 2 epochs (0-1)');
    expect(sealed.code).toBe(0);
    expect(verified.code).toBe(0);
    expect(key.code).toBe(0);
    expect(readFileSync(join(root, 'ledger.pem'), 'utf8')).toContain('BEGIN PUBLIC KEY');
    expect(proved.code).toBe(0);
    expect(checked.code).toBe(0);
    expect(consistency.code).toBe(0);
    expect(consistent.code).toBe(0);
  });

  it('names the tampered height and field in replay and the drift radar, and the governance chain fails', async () => {
    // Prepare: flip the outcome column of height 1 in the SQLite file
    const root = copyFixture('planted');
    await analyzeTimes(root, 3);
    const db = new Database(join(root, '.phase-mirror', 'state.db'));
    db.prepare("UPDATE ledger_blocks SET outcome = 'pass' WHERE height = 1").run();
    db.close();

    // Act
    const replay = await run(root, ['ledger', 'replay', '.', '-o', 'replay.json']);
    const radar = await run(root, ['ledger', 'drift-radar', '.', '--output', 'drift_signals.json', '--evidence-pack', 'evidence_pack.json']);
    const chain = await run(root, ['governance-chain', '.', '-o', 'chain.json']);
    const audit = await run(root, ['audit-report', '--replay-results', 'replay.json', '--drift-signals', 'drift_signals.json', '-o', 'audit.md']);

    // Assess
    expect(replay.code).toBe(1);
    const failures = (JSON.parse(readFileSync(join(root, 'replay.json'), 'utf8')) as { failures: { height: number; field: string }[] }).failures;
    expect(failures).toEqual(expect.arrayContaining([expect.objectContaining({ height: 1, field: 'outcome' })]));
    expect(radar.code).toBe(1);
    expect(radar.stdout).toContain('GOVERNANCE SIGNAL: BLOCK');
    expect(existsSync(join(root, 'evidence_pack.json'))).toBe(true);
    expect(chain.code).toBe(1);
    expect(chain.stdout).toMatch(/Governance Chain: FAILED \(\d\/6 jobs\)/);
    expect(audit.code).toBe(0);
    expect(readFileSync(join(root, 'audit.md'), 'utf8')).toContain('outcome');
  });

  it('activates dual commitment ahead of the streams, and later blocks carry SHA3', async () => {
    // Prepare
    const root = copyFixture('planted');
    await analyzeTimes(root, 2);

    // Act
    const behind = await run(root, ['ledger', 'activate-dual', '.', '--at', '1']);
    const dry = await run(root, ['ledger', 'activate-dual', '.', '--at', '2', '--dry-run']);
    const active = await run(root, ['ledger', 'activate-dual', '.', '--at', '2']);
    await run(root, ['analyze', '.', '--repository', REPO, '-o', 'dual.json']);
    const replay = await run(root, ['ledger', 'replay', '.']);

    // Assess
    expect(behind.code).toBe(3);
    expect(dry.stdout).toContain('Dry-run: would activate dual commitment (dual-v1) from height 2');
    expect(active.code).toBe(0);
    const db = new Database(join(root, '.phase-mirror', 'state.db'), { readonly: true });
    try {
      const rows = db.prepare('SELECT height, hash_algorithm, hash_sha3 FROM ledger_blocks ORDER BY height').all() as { height: number; hash_algorithm: string; hash_sha3: unknown }[];
      expect(rows.map((r) => [r.height, r.hash_algorithm, r.hash_sha3 !== null])).toEqual([
        [0, 'sha256-v1', false],
        [1, 'sha256-v1', false],
        [2, 'dual-v1', true],
      ]);
    } finally {
      db.close();
    }
    expect(replay.stdout).toContain('Replayed 3 blocks, Success rate: 100%');
  });

  it('shows and rolls back the schema migrations', async () => {
    const root = copyFixture('clean');
    await run(root, ['analyze', '.']);
    const status = await run(root, ['db', 'status', '.', '-f', 'json']);
    expect(JSON.parse(status.stdout)).toMatchObject({ currentVersion: 6, latestVersion: 6 });
    const refused = await run(root, ['db', 'rollback', '.', '--to', '3']);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toContain('--force');
  });
});
