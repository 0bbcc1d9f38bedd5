/**
 * The DynamoDB block counter against the emulator: the BlockCounter contract
 * the SQLite adapter runs, the item layout, expiry by the injected clock,
 * throttling, and the reliability check on both backends: 1,000 concurrent
 * increments of one key count exactly 1,000, every returned value distinct.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { DependencyError } from '../../src/errors';
import { DynamoBlockCounter } from '../../src/store/aws/block-counter';
import type { BlockCounter } from '../../src/store/ports';
import { openStateDatabase } from '../../src/store/sqlite';
import { describeBlockCounterContract } from '../store/contract/block-counter.contract';
import { uniqueId, type MakeStore } from '../store/contract/harness';
import { useSuiteTables } from './tables';
import { throttledDocumentClient } from './throttle';

const tables = useSuiteTables('counter');

// One table for the suite: every contract test uses its own random keys.
const makeStore: MakeStore<BlockCounter> = async () => ({
  store: new DynamoBlockCounter({ client: tables.documents, tableName: tables.names.blockCounter }),
  close: async () => undefined,
});

describeBlockCounterContract('dynamodb', makeStore);

const inAnHour = (): Date => new Date(Date.now() + 60 * 60 * 1000);

describe('DynamoBlockCounter on the emulator', () => {
  it('keeps one item per key with the count, the exact expiry and the TTL in epoch seconds', async () => {
    // Prepare
    const counter = new DynamoBlockCounter({ client: tables.documents, tableName: tables.names.blockCounter });
    const key = uniqueId('acme/widgets#2030-01-01T00');
    const expiresAt = new Date('2030-01-01T01:00:00.250Z');

    // Act
    await counter.increment(key, expiresAt);
    await counter.increment(key, expiresAt);

    // Assess
    const item = await tables.documents.send(new GetCommand({ TableName: tables.names.blockCounter, Key: { pk: `counter#${key}` }, ConsistentRead: true }));
    expect(item.Item).toEqual({ pk: `counter#${key}`, count: 2, expiresAtMs: expiresAt.getTime(), expiresAt: Math.ceil(expiresAt.getTime() / 1000) });
  });

  it('expires by the injected clock, to the millisecond, and restarts at 1 with the new expiry', async () => {
    // Prepare
    let now = Date.parse('2030-01-01T00:00:00Z');
    const counter = new DynamoBlockCounter({ client: tables.documents, tableName: tables.names.blockCounter, now: () => now });
    const key = uniqueId('repo#hour');
    const hourEnd = new Date(now + 60 * 60 * 1000);
    await counter.increment(key, hourEnd);
    await counter.increment(key, hourEnd);

    // Act / Assess
    now = hourEnd.getTime() - 1;
    expect(await counter.get(key)).toBe(2);
    now = hourEnd.getTime();
    expect(await counter.get(key)).toBe(0);
    expect(await counter.increment(key, new Date(now + 60 * 60 * 1000))).toBe(1);
    expect(await counter.increment(key, new Date(now + 60 * 60 * 1000))).toBe(2);
    expect(await counter.get(key)).toBe(2);
  });

  it('is exact under 1,000 concurrent increments of one key: every value 1..1000 exactly once', async () => {
    // Prepare
    const counter = new DynamoBlockCounter({ client: tables.documents, tableName: tables.names.blockCounter });
    const key = uniqueId('hot');
    const expiresAt = inAnHour();

    // Act
    const values = await Promise.all(Array.from({ length: 1000 }, () => counter.increment(key, expiresAt)));

    // Assess
    expect(new Set(values).size).toBe(1000);
    expect([...values].sort((a, b) => a - b)).toEqual(Array.from({ length: 1000 }, (_, i) => i + 1));
    expect(await counter.get(key)).toBe(1000);
  }, 120_000);

  it('is exact when 200 concurrent increments race on an expired counter: exactly one restart', async () => {
    // Prepare: a counter at 5 that expired
    let now = Date.parse('2030-01-01T00:00:00Z');
    const counter = new DynamoBlockCounter({ client: tables.documents, tableName: tables.names.blockCounter, now: () => now });
    const key = uniqueId('restart');
    for (let i = 0; i < 5; i++) await counter.increment(key, new Date(now + 1000));
    now += 2000;

    // Act
    const values = await Promise.all(Array.from({ length: 200 }, () => counter.increment(key, new Date(now + 60_000))));

    // Assess
    expect([...values].sort((a, b) => a - b)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    expect(await counter.get(key)).toBe(200);
  }, 60_000);

  it('retries a throttled increment and counts it once', async () => {
    const { client, calls } = throttledDocumentClient(2, 4);
    const counter = new DynamoBlockCounter({ client, tableName: tables.names.blockCounter });
    const key = uniqueId('throttled');

    expect(await counter.increment(key, inAnHour())).toBe(1);
    expect(await counter.get(key)).toBe(1);
    // The increment of a live counter was throttled twice, then failed its condition (no counter yet); the restart went through.
    expect(calls).toEqual([
      { command: 'UpdateItemCommand', attempts: 3, failed: 'ConditionalCheckFailedException' },
      { command: 'UpdateItemCommand', attempts: 1 },
      { command: 'GetItemCommand', attempts: 1 },
    ]);
  }, 30_000);

  it('fails with STORE_FAILED naming the table and UpdateItem once every attempt was throttled', async () => {
    const { client, attempts } = throttledDocumentClient(100, 2);
    const counter = new DynamoBlockCounter({ client, tableName: tables.names.blockCounter });

    const attempt = counter.increment(uniqueId('k'), inAnHour());

    await expect(attempt).rejects.toBeInstanceOf(DependencyError);
    await expect(attempt).rejects.toMatchObject({
      code: 'STORE_FAILED',
      context: { resource: `DynamoDB table ${tables.names.blockCounter}`, operation: 'UpdateItem', awsError: 'ProvisionedThroughputExceededException' },
    });
    expect(attempts()).toBe(2);
  }, 30_000);

  it('fails with STORE_FAILED naming the table when it does not exist', async () => {
    const counter = new DynamoBlockCounter({ client: tables.documents, tableName: 'counter-missing-table' });
    await expect(counter.get('k')).rejects.toMatchObject({
      code: 'STORE_FAILED',
      context: { resource: 'DynamoDB table counter-missing-table', operation: 'GetItem', awsError: 'ResourceNotFoundException' },
    });
    await expect(counter.increment('k', inAnHour())).rejects.toMatchObject({ code: 'STORE_FAILED', context: { operation: 'UpdateItem' } });
  });
});

describe('SqliteBlockCounter under 1,000 concurrent increments', () => {
  it('counts exactly 1,000 across 10 processes incrementing one key at once, every value distinct', async () => {
    // Prepare: one state database, 10 child processes of 100 increments each, released together
    const stateDir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'pm-counter-')), '.phase-mirror');
    openStateDatabase(stateDir).close();
    const worker = path.join(__dirname, '..', 'fixtures', 'store', 'increment-worker.js');
    const key = 'acme/widgets#2030-01-01T00';
    const children = Array.from({ length: 10 }, () =>
      spawn(process.execPath, [worker, stateDir, key, '100'], { cwd: path.join(__dirname, '..', '..'), stdio: ['pipe', 'pipe', 'pipe'] }),
    );
    let ready = 0;

    try {
      // Act
      const outputs = await Promise.all(
        children.map(
          (child) =>
            new Promise<number[]>((resolve, reject) => {
              let stdout = '';
              let stderr = '';
              child.stdout.on('data', (chunk: Buffer) => {
                const before = stdout;
                stdout += chunk.toString();
                if (!before.includes('ready\n') && stdout.includes('ready\n') && ++ready === children.length) {
                  for (const each of children) each.stdin.write('go\n');
                }
              });
              child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
              child.on('error', reject);
              child.on('close', (code) => {
                if (code === 0) resolve(JSON.parse(stdout.slice(stdout.indexOf('ready\n') + 'ready\n'.length)) as number[]);
                else reject(new Error(`worker exited ${String(code)}: ${stderr}`));
              });
            }),
        ),
      );

      // Assess
      const all = outputs.flat();
      expect(all).toHaveLength(1000);
      expect(new Set(all).size).toBe(1000);
      expect([...all].sort((a, b) => a - b)).toEqual(Array.from({ length: 1000 }, (_, i) => i + 1));
      const db = openStateDatabase(stateDir);
      try {
        expect(await db.blockCounter.get(key)).toBe(1000);
      } finally {
        db.close();
      }
    } finally {
      for (const child of children) if (child.exitCode === null) child.kill();
      fs.rmSync(path.dirname(stateDir), { recursive: true, force: true });
    }
  }, 120_000);
});
