/**
 * The SQLite ledger store: the shared LedgerStore contract on a real
 * state.db, plus what is specific to the embedded database: the row layout,
 * reads that return tampered columns as stored (no silent repair), unreadable
 * blobs reported with height and column, forks refused across connections and
 * processes, input checks and error wrapping.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { IntegrityError } from '../../../src/errors';
import { buildBlock, type StoredBlock } from '../../../src/ledger/block';
import type { LedgerStore } from '../../../src/ledger/store';
import { sha256Hex } from '../../../src/hashing';
import { decodeLeaves, encodeLeaves, openStateDatabase, SqliteLedgerStore, type StateDatabase } from '../../../src/store/sqlite';
import type { DissonanceReport } from '../../../src/types';
import type { MakeStore } from '../contract/harness';
import { describeLedgerStoreContract } from '../contract/ledger-store.contract';

const tempDirs: string[] = [];

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pm-ledger-'));
  tempDirs.push(dir);
  return dir;
}

afterAll(() => {
  for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
});

const makeStore: MakeStore<LedgerStore> = async () => {
  const db = openStateDatabase(path.join(tempDir(), '.phase-mirror'));
  return { store: db.ledger, close: async () => db.close() };
};

describeLedgerStoreContract('sqlite', makeStore);

const NOW = Date.parse('2030-05-01T08:00:00.000Z');

function report(findings: number, seed: string): DissonanceReport {
  return {
    meta: { schema_version: '2.0.0', run_id: `run-${seed}`, timestamp: new Date(NOW).toISOString(), rules_hash: sha256Hex('rules') },
    items: Array.from({ length: findings }, (_, i) => ({
      id: sha256Hex(`${seed}:${i}`),
      rule_id: 'MD-001',
      rule_version: '1.0.0',
      severity: 'high' as const,
      title: `finding ${i}`,
      evidence: [],
    })),
    summary: { total: findings, by_severity: { critical: 0, high: findings, medium: 0, low: 0 } },
    machine_decision: { outcome: findings > 0 ? 'block' : 'pass', degraded: false, reason: 'test' },
  };
}

function blocksOf(repository: string, count: number, options: { dualActivationHeight?: number; seed?: string } = {}): StoredBlock[] {
  const blocks: StoredBlock[] = [];
  for (let height = 0; height < count; height++) {
    blocks.push(
      buildBlock({
        report: report(2, `${options.seed ?? 's'}:${height}`),
        repository,
        mode: 'pull_request',
        commit: 'c'.repeat(40),
        previous: blocks.at(-1),
        actions: [],
        dualActivationHeight: options.dualActivationHeight,
        timestamp: new Date(NOW + height * 1000),
      }),
    );
  }
  return blocks;
}

/** A state database with `count` blocks of acme/widgets and a raw second connection for tampering. */
async function withLedger(count: number, body: (state: StateDatabase, raw: BetterSqlite3.Database, blocks: StoredBlock[]) => Promise<void>, dual?: number): Promise<void> {
  const state = openStateDatabase(tempDir(), { now: () => NOW });
  const raw = new BetterSqlite3(state.file);
  try {
    const blocks = blocksOf('acme/widgets', count, dual === undefined ? {} : { dualActivationHeight: dual });
    for (const block of blocks) await state.ledger.append(block);
    await body(state, raw, blocks);
  } finally {
    raw.close();
    state.close();
  }
}

describe('SqliteLedgerStore layout', () => {
  it('is the ledger of the state database, located at its file', () => {
    const state = openStateDatabase(tempDir());
    try {
      expect(state.ledger).toBeInstanceOf(SqliteLedgerStore);
      expect(state.ledger.location).toBe(state.file);
      expect(state.ledger).toBe(state.ledger);
    } finally {
      state.close();
    }
  });

  it('stores canonical bytes, hashes, length-prefixed leaves and the decoded fields as columns', async () => {
    await withLedger(
      3,
      async (_state, raw, blocks) => {
        // Act
        const row = raw.prepare('SELECT * FROM ledger_blocks WHERE repository = ? AND height = 2').get('acme/widgets') as Record<string, unknown>;

        // Assess
        const block = blocks[2];
        expect(row).toMatchObject({
          repository: 'acme/widgets',
          height: 2,
          hash: block.hash,
          hash_sha3: block.hashSha3,
          schema_version: 1,
          prev_hash: blocks[1].hash,
          prev_hash_sha3: block.fields.prev_hash_sha3,
          timestamp: block.fields.timestamp,
          mode: 'pull_request',
          commit_sha: 'c'.repeat(40),
          outcome: 'block',
          degraded: 0,
          ui_through_seq: 0,
          hash_algorithm: 'dual-v1',
          appended_at: new Date(NOW).toISOString(),
        });
        expect((row.canonical as Buffer).equals(block.canonical)).toBe(true);
        expect((row.reasoning_leaves as Buffer).equals(encodeLeaves(block.reasoningLeaves, 'reasoningLeaves'))).toBe(true);
        expect((row.reasoning_leaves as Buffer).readUInt32BE(0)).toBe(block.reasoningLeaves[0].length);
        expect((row.ui_leaves as Buffer).length).toBe(0);
      },
      2,
    );
  });

  it('stores the SHA3-256 columns as NULL on sha256-v1 blocks', async () => {
    await withLedger(1, async (_state, raw) => {
      const row = raw.prepare('SELECT hash_sha3, prev_hash_sha3, reasoning_root_sha3, ui_root_sha3, composite_root_sha3 FROM ledger_blocks').get();
      expect(row).toEqual({ hash_sha3: null, prev_hash_sha3: null, reasoning_root_sha3: null, ui_root_sha3: null, composite_root_sha3: null });
    });
  });

  it('encodes leaves so that decoding gives back exactly the same list', () => {
    const leaves = [Buffer.alloc(0), Buffer.from([1, 2, 3]), Buffer.alloc(300, 7)];
    expect(decodeLeaves(encodeLeaves(leaves, 'leaves'), 'leaves')).toStrictEqual(leaves);
    expect(encodeLeaves([], 'leaves').length).toBe(0);
    expect(decodeLeaves(Buffer.alloc(0), 'leaves')).toEqual([]);
  });
});

describe('SqliteLedgerStore reads what is stored (no silent repair)', () => {
  it('returns a tampered field column as stored, with the canonical bytes untouched', async () => {
    await withLedger(2, async (state, raw, blocks) => {
      // Prepare: an attacker rewrites the outcome and the timestamp column of height 1
      raw.prepare("UPDATE ledger_blocks SET outcome = 'pass', timestamp = '1999-01-01T00:00:00.000Z' WHERE height = 1").run();

      // Act
      const stored = (await state.ledger.get('acme/widgets', 1))!;

      // Assess: the columns come back tampered, the bytes (what replay hashes) do not
      expect(stored.fields.outcome).toBe('pass');
      expect(stored.fields.timestamp).toBe('1999-01-01T00:00:00.000Z');
      expect(stored.canonical.equals(blocks[1].canonical)).toBe(true);
      expect(stored.hash).toBe(blocks[1].hash);
      expect(stored).not.toStrictEqual(blocks[1]);
    });
  });

  it('returns tampered canonical bytes and hash exactly as stored', async () => {
    await withLedger(2, async (state, raw, blocks) => {
      // Prepare: flip one byte of the canonical encoding of height 0, and rewrite the stored hash of height 1
      const tampered = Buffer.from(blocks[0].canonical);
      tampered[tampered.length - 1] ^= 0x01;
      raw.prepare('UPDATE ledger_blocks SET canonical = ? WHERE height = 0').run(tampered);
      raw.prepare('UPDATE ledger_blocks SET hash = ? WHERE height = 1').run('f'.repeat(64));

      // Act
      const [first, second] = await state.ledger.range('acme/widgets', 0, 1);

      // Assess
      expect(first.canonical.equals(tampered)).toBe(true);
      expect(first.hash).toBe(blocks[0].hash);
      expect(second.hash).toBe('f'.repeat(64));
      expect((await state.ledger.head('acme/widgets'))?.hash).toBe('f'.repeat(64));
    });
  });

  it('returns a degraded value that is neither 0 nor 1 unchanged rather than coercing it', async () => {
    await withLedger(1, async (state, raw) => {
      raw.prepare('UPDATE ledger_blocks SET degraded = 2, schema_version = 9, ui_through_seq = ? WHERE height = 0').run('seven');

      const stored = (await state.ledger.get('acme/widgets', 0))!;

      expect(stored.fields.degraded as unknown).toBe(2);
      expect(stored.fields.schema_version).toBe(9);
      expect(stored.fields.ui_through_seq as unknown).toBe('seven');
    });
  });

  it('drops nothing and adds nothing: a removed SHA3 value reads back absent, a forged one present', async () => {
    await withLedger(
      3,
      async (state, raw, blocks) => {
        // Prepare: strip the SHA3 hash of dual height 1, forge one on sha256-v1 height 0
        raw.prepare('UPDATE ledger_blocks SET hash_sha3 = NULL, composite_root_sha3 = NULL WHERE height = 1').run();
        raw.prepare('UPDATE ledger_blocks SET prev_hash_sha3 = ? WHERE height = 0').run('e'.repeat(64));

        // Act
        const [zero, one] = await state.ledger.range('acme/widgets', 0, 1);

        // Assess
        expect(one).not.toHaveProperty('hashSha3');
        expect(one.fields).not.toHaveProperty('composite_root_sha3');
        expect(one.fields.prev_hash_sha3).toBe(blocks[1].fields.prev_hash_sha3);
        expect(zero.fields.prev_hash_sha3).toBe('e'.repeat(64));
      },
      1,
    );
  });

  it('reports an unreadable leaves blob as LEDGER_INVALID naming the repository, height and column', async () => {
    await withLedger(3, async (state, raw) => {
      // Prepare: truncate the reasoning leaves of height 1 in the middle of a leaf
      const blob = raw.prepare('SELECT reasoning_leaves FROM ledger_blocks WHERE height = 1').pluck().get() as Buffer;
      raw.prepare('UPDATE ledger_blocks SET reasoning_leaves = ? WHERE height = 1').run(blob.subarray(0, blob.length - 3));

      // Act
      const error = await state.ledger.range('acme/widgets', 0, 2).then(
        () => undefined,
        (caught: unknown) => caught,
      );

      // Assess
      expect(error).toBeInstanceOf(IntegrityError);
      expect(error).toMatchObject({ code: 'LEDGER_INVALID', location: { field: 'reasoning_leaves' }, context: { repository: 'acme/widgets', height: 1 } });
      expect((error as Error).message).toContain('height 1 of acme/widgets');
      // Other heights stay readable.
      expect((await state.ledger.get('acme/widgets', 2))?.height).toBe(2);
    });
  });

  it('reports unparseable epoch signatures as LEDGER_INVALID naming the epoch', async () => {
    await withLedger(0, async (state, raw) => {
      // Prepare
      await state.ledger.putEpoch({
        repository: 'acme/widgets',
        number: 4,
        startHeight: 400,
        endHeight: 499,
        root: 'a'.repeat(64),
        sealedAt: new Date(NOW).toISOString(),
        statement: Buffer.from('statement'),
        signatures: [{ algorithm: 'ed25519', keyId: 'k', signature: Buffer.alloc(64, 1) }],
      });
      raw.prepare("UPDATE ledger_epochs SET signatures = '[{\"algorithm\":' WHERE number = 4").run();

      // Act / Assess
      await expect(state.ledger.epochs('acme/widgets')).rejects.toMatchObject({
        code: 'LEDGER_INVALID',
        location: { field: 'signatures' },
        context: { repository: 'acme/widgets', number: 4 },
      });
    });
  });

  it('returns a tampered epoch root as stored', async () => {
    await withLedger(0, async (state, raw) => {
      const sealed = {
        repository: 'acme/widgets',
        number: 0,
        startHeight: 0,
        endHeight: 99,
        root: 'a'.repeat(64),
        rootSha3: 'b'.repeat(64),
        sealedAt: new Date(NOW).toISOString(),
        statement: Buffer.from([0, 1, 2]),
        signatures: [],
      };
      await state.ledger.putEpoch(sealed);
      raw.prepare('UPDATE ledger_epochs SET root = ?, root_sha3 = NULL').run('c'.repeat(64));

      expect(await state.ledger.epochs('acme/widgets')).toStrictEqual([{ ...(({ rootSha3: _omit, ...rest }) => rest)(sealed), root: 'c'.repeat(64) }]);
    });
  });
});

describe('SqliteLedgerStore forks across connections and processes', () => {
  it('refuses a height taken through another connection to the same file', async () => {
    // Prepare: two independent connections to one state.db
    const stateDir = tempDir();
    const first = openStateDatabase(stateDir);
    const second = openStateDatabase(stateDir);
    try {
      const [genesis] = blocksOf('acme/widgets', 1);
      const rival = blocksOf('acme/widgets', 1, { seed: 'rival' })[0];
      await first.ledger.append(genesis);

      // Act
      const error = await second.ledger.append(rival).then(
        () => undefined,
        (caught: unknown) => caught,
      );

      // Assess
      expect(error).toMatchObject({ code: 'LEDGER_CONFLICT', context: { repository: 'acme/widgets', height: 0, head: 0 } });
      expect((await second.ledger.head('acme/widgets'))?.hash).toBe(genesis.hash);
    } finally {
      first.close();
      second.close();
    }
  });

  it('lets exactly one of several processes append the same height', async () => {
    // Prepare: a genesis, then one different candidate for height 1 per process
    const stateDir = path.join(tempDir(), '.phase-mirror');
    const state = openStateDatabase(stateDir);
    const [genesis] = blocksOf('acme/widgets', 1);
    await state.ledger.append(genesis);
    state.close();
    const candidates = Array.from({ length: 4 }, (_, i) => {
      const block = buildBlock({
        report: report(i, `proc-${i}`),
        repository: 'acme/widgets',
        mode: 'pull_request',
        commit: undefined,
        previous: genesis,
        actions: [],
        dualActivationHeight: undefined,
        timestamp: new Date(NOW + 5000),
      });
      return JSON.stringify(block, (_key, value: unknown) =>
        value !== null && typeof value === 'object' && (value as { type?: unknown }).type === 'Buffer'
          ? { buffer: Buffer.from((value as { data: number[] }).data).toString('base64') }
          : value,
      );
    });
    const children = candidates.map((json) => appendInChild(stateDir, json));
    for (const child of children) await child.ready;

    // Act: release every child at once
    for (const child of children) child.go();
    const outcomes = await Promise.all(children.map((child) => child.done));

    // Assess
    expect(outcomes.filter((outcome) => outcome === 'appended')).toHaveLength(1);
    expect(outcomes.filter((outcome) => outcome === 'LEDGER_CONFLICT')).toHaveLength(3);
    const reopened = openStateDatabase(stateDir);
    try {
      const winner = outcomes.indexOf('appended');
      expect((await reopened.ledger.head('acme/widgets'))?.hash).toBe(JSON.parse(candidates[winner]).hash);
      expect(await reopened.ledger.range('acme/widgets', 0, 10)).toHaveLength(2);
    } finally {
      reopened.close();
    }
  }, 60_000);
});

/** A child process that opens the state database, waits for "go", appends one block and prints the outcome. */
function appendInChild(stateDir: string, blockJson: string): { ready: Promise<void>; go(): void; done: Promise<string> } {
  const database = path.join(__dirname, '..', '..', '..', 'src', 'store', 'sqlite', 'database.ts');
  const script = `
    const fs = require('node:fs');
    const ts = require('typescript');
    require.extensions['.ts'] = (module, filename) => {
      const { outputText } = ts.transpileModule(fs.readFileSync(filename, 'utf8'), {
        fileName: filename,
        compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
      });
      module._compile(outputText, filename);
    };
    const { openStateDatabase } = require(${JSON.stringify(database)});
    const block = JSON.parse(process.argv[2], (_key, value) => (value && typeof value === 'object' && typeof value.buffer === 'string' ? Buffer.from(value.buffer, 'base64') : value));
    const state = openStateDatabase(process.argv[1]);
    process.stdout.write('ready\\n');
    process.stdin.once('data', () => {
      process.stdin.destroy();
      state.ledger.append(block).then(
        () => { process.stdout.write('appended\\n'); state.close(); },
        (error) => { process.stdout.write((error.code || 'ERROR ' + error.message) + '\\n'); state.close(); },
      );
    });
  `;
  const child = spawn(process.execPath, ['-e', script, stateDir, blockJson], { cwd: path.join(__dirname, '..', '..', '..'), stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let markReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    if (stdout.includes('ready\n')) markReady();
  });
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const done = new Promise<string>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve(stdout.slice(stdout.indexOf('ready\n') + 'ready\n'.length).trim());
      else reject(new Error(`child exited ${String(code)}: ${stderr}`));
    });
  });
  done.catch(() => markReady());
  return { ready, go: () => child.stdin.write('go\n'), done };
}

describe('SqliteLedgerStore input and errors', () => {
  it('rejects malformed arguments with typed input errors before touching SQLite', async () => {
    const state = openStateDatabase(tempDir());
    try {
      await expect(state.ledger.get('acme/widgets', -1)).rejects.toMatchObject({ code: 'LEDGER_INVALID', location: { field: 'height' } });
      await expect(state.ledger.get('acme/widgets', 1.5)).rejects.toMatchObject({ code: 'LEDGER_INVALID', location: { field: 'height' } });
      await expect(state.ledger.range('', 0, 1)).rejects.toMatchObject({ code: 'LEDGER_INVALID', location: { field: 'repository' } });
      await expect(state.ledger.getSetting('colour' as never)).rejects.toMatchObject({ code: 'INPUT_INVALID', location: { field: 'key' } });
      await expect(
        state.ledger.recordAction('acme/widgets', { kind: 'delete' as never, actor: 'a', at: 'now', subject: 's', detail: 'd' }),
      ).rejects.toMatchObject({ code: 'LEDGER_INVALID', location: { field: 'kind' } });
      const [genesis] = blocksOf('acme/widgets', 1);
      const { report_hash: _dropped, ...incomplete } = genesis.fields;
      await expect(state.ledger.append({ ...genesis, fields: incomplete as never })).rejects.toMatchObject({
        code: 'LEDGER_INVALID',
        location: { field: 'report_hash' },
      });
      await expect(state.ledger.append({ ...genesis, canonical: 'bytes' as never })).rejects.toMatchObject({ code: 'LEDGER_INVALID', location: { field: 'canonical' } });
      await expect(
        state.ledger.putEpoch({
          repository: 'acme/widgets',
          number: 0,
          startHeight: 10,
          endHeight: 5,
          root: 'a'.repeat(64),
          sealedAt: 'x',
          statement: Buffer.alloc(0),
          signatures: [],
        }),
      ).rejects.toMatchObject({ code: 'LEDGER_INVALID', location: { field: 'endHeight' } });
      expect(await state.ledger.repositories()).toEqual([]);
    } finally {
      state.close();
    }
  });

  it('wraps SQLite failures as STORE_FAILED naming the file and operation', async () => {
    const state = openStateDatabase(tempDir());
    state.close();

    await expect(state.ledger.head('acme/widgets')).rejects.toMatchObject({
      code: 'STORE_FAILED',
      context: { file: state.file, operation: 'read ledger head' },
    });
    await expect(state.ledger.append(blocksOf('acme/widgets', 1)[0])).rejects.toMatchObject({
      code: 'STORE_FAILED',
      context: { operation: 'append ledger block' },
    });
    await expect(state.ledger.recordAction('acme/widgets', { kind: 'override', actor: 'a', at: 't', subject: 's', detail: 'd' })).rejects.toMatchObject({
      code: 'STORE_FAILED',
      context: { operation: 'record ledger action' },
    });
    await expect(state.ledger.putSetting('epoch_size', '100')).rejects.toMatchObject({ code: 'STORE_FAILED', context: { operation: 'write ledger setting' } });
  });

  it('records when a block was appended and an action journaled, from the injected clock', async () => {
    await withLedger(1, async (state, raw) => {
      await state.ledger.recordAction('acme/widgets', { kind: 'fp_mark', actor: 'ana', at: '2030-01-01T00:00:00Z', subject: 'e1', detail: 'd' });
      await state.ledger.putSetting('epoch_size', '50');

      expect(raw.prepare('SELECT appended_at FROM ledger_blocks').pluck().get()).toBe(new Date(NOW).toISOString());
      expect(raw.prepare('SELECT recorded_at FROM ledger_actions').pluck().get()).toBe(new Date(NOW).toISOString());
      expect(raw.prepare('SELECT updated_at FROM ledger_settings').pluck().get()).toBe(new Date(NOW).toISOString());
    });
  });
});
