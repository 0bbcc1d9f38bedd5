/**
 * The DynamoDB ledger store against the emulator: the LedgerStore contract
 * the SQLite adapter runs, the item layout of table-definitions.ts (Binary
 * bytes, no TTL), no forks (50 concurrent appends of one height: exactly one
 * wins; no gaps), byte-exact round trips, leaves chunked past one item,
 * pagination over more than 1 MB of blocks, the journal's sequence under
 * concurrency, sealed epochs, and failures naming the table and operation.
 */
import { randomBytes } from 'node:crypto';
import { CreateTableCommand, DeleteTableCommand, GetItemCommand, waitUntilTableExists } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { DependencyError, InputError, IntegrityError, type PhaseMirrorError } from '../../src/errors';
import { attestationRoots, encodeBlockFields, LEDGER_SCHEMA_VERSION, type BlockFields, type LedgerAction, type StoredBlock } from '../../src/ledger/block';
import { digest, ZERO_HASH } from '../../src/ledger/hash';
import type { LedgerStore, SealedEpoch } from '../../src/ledger/store';
import {
  DynamoLedgerStore,
  LEDGER_INLINE_LEAF_BYTES,
  LEDGER_MAX_LEAF_BYTES,
  ledgerBlockKey,
  ledgerStreamKey,
} from '../../src/store/aws/ledger-store';
import { TABLE_DEFINITIONS } from '../../src/store/aws/table-definitions';
import { uniqueId } from '../store/contract/harness';
import { describeLedgerStoreContract } from '../store/contract/ledger-store.contract';
import { createTableInput, useSuiteTables } from './tables';
import { throttledDocumentClient } from './throttle';

const tables = useSuiteTables('ledger');

const openStore = (overrides: Partial<ConstructorParameters<typeof DynamoLedgerStore>[0]> = {}): DynamoLedgerStore =>
  new DynamoLedgerStore({ client: tables.documents, tableName: tables.names.ledger, epochsTableName: tables.names.ledgerEpochs, ...overrides });

/**
 * A store on its own fresh pair of ledger tables (settings and `repositories()`
 * are ledger-wide, so tests of them cannot share the suite's tables); `close` drops them.
 */
async function freshStore(): Promise<{ store: DynamoLedgerStore; close: () => Promise<void> }> {
  const suffix = randomBytes(6).toString('hex');
  const names = { ledger: `ledger-${suffix}`, ledgerEpochs: `ledger-${suffix}-epochs` };
  for (const id of ['ledger', 'ledgerEpochs'] as const) {
    await tables.admin.send(new CreateTableCommand(createTableInput(TABLE_DEFINITIONS[id], names[id])));
    await waitUntilTableExists({ client: tables.admin, maxWaitTime: 60 }, { TableName: names[id] });
  }
  return {
    store: openStore({ tableName: names.ledger, epochsTableName: names.ledgerEpochs }),
    close: async () => {
      for (const name of Object.values(names)) await tables.admin.send(new DeleteTableCommand({ TableName: name }));
    },
  };
}

// Fresh tables per test: the contract lists repositories and reads settings of an empty store.
describeLedgerStoreContract('dynamodb', freshStore);

interface BlockOptions {
  /** Number of reasoning leaves. @default 2 */
  findings?: number;
  /** Bytes of each reasoning leaf. @default 48 */
  leafBytes?: number;
  /** Journaled actions included as ui leaves. @default [] */
  actions?: readonly LedgerAction[];
  dual?: boolean;
}

/** A well-formed block at `previous.height + 1` (or 0), with random leaves of the given size. */
function makeBlock(repository: string, previous: StoredBlock | undefined, options: BlockOptions = {}): StoredBlock {
  const height = previous === undefined ? 0 : previous.height + 1;
  const reasoningLeaves = Array.from({ length: options.findings ?? 2 }, () => randomBytes(options.leafBytes ?? 48));
  const uiLeaves = (options.actions ?? []).map((action) => Buffer.from(JSON.stringify(action)));
  const fields: BlockFields = {
    schema_version: LEDGER_SCHEMA_VERSION,
    repository,
    height,
    prev_hash: previous?.hash ?? ZERO_HASH,
    timestamp: new Date(Date.UTC(2030, 0, 1) + height * 1000).toISOString(),
    mode: 'pull_request',
    commit: '',
    outcome: 'warn',
    degraded: false,
    rules_hash: randomBytes(32).toString('hex'),
    report_hash: randomBytes(32).toString('hex'),
    ui_through_seq: 0,
    ...attestationRoots('sha256', reasoningLeaves, uiLeaves),
    hash_algorithm: options.dual === true ? 'dual-v1' : 'sha256-v1',
  };
  if (options.dual === true) {
    const sha3 = attestationRoots('sha3-256', reasoningLeaves, uiLeaves);
    fields.prev_hash_sha3 = previous === undefined ? ZERO_HASH : digest('sha3-256', previous.canonical).toString('hex');
    fields.reasoning_root_sha3 = sha3.reasoning_root;
    fields.ui_root_sha3 = sha3.ui_root;
    fields.composite_root_sha3 = sha3.composite_root;
  }
  const canonical = encodeBlockFields(fields);
  return {
    repository,
    height,
    canonical,
    hash: digest('sha256', canonical).toString('hex'),
    ...(options.dual === true ? { hashSha3: digest('sha3-256', canonical).toString('hex') } : {}),
    reasoningLeaves,
    uiLeaves,
    fields,
  };
}

/** Appends `count` blocks to a fresh stream and returns them. */
async function appendChain(store: LedgerStore, repository: string, count: number, options: BlockOptions = {}): Promise<StoredBlock[]> {
  const blocks: StoredBlock[] = [];
  for (let i = 0; i < count; i++) {
    const block = makeBlock(repository, blocks.at(-1), options);
    await store.append(block);
    blocks.push(block);
  }
  return blocks;
}

function makeEpoch(repository: string, number: number, overrides: Partial<SealedEpoch> = {}): SealedEpoch {
  return {
    repository,
    number,
    startHeight: number * 100,
    endHeight: number * 100 + 99,
    root: randomBytes(32).toString('hex'),
    sealedAt: '2030-01-02T00:00:00.000Z',
    statement: randomBytes(120),
    signatures: [
      { algorithm: 'ecdsa-p256-sha256', keyId: 'arn:aws:kms:us-east-1:000000000000:key/1234', signature: randomBytes(71) },
      { algorithm: 'ml-dsa-44', keyId: 'pq-key', signature: randomBytes(2420) },
    ],
    ...overrides,
  };
}

const action = (subject: string): LedgerAction => ({ kind: 'fp_mark', actor: 'alice', at: '2030-01-01T00:00:00.000Z', subject, detail: 'reviewed' });

describe('DynamoLedgerStore on the emulator', () => {
  it('uses the ledger tables of TABLE_DEFINITIONS, with no TTL attribute', () => {
    expect(TABLE_DEFINITIONS.ledger).toMatchObject({ partitionKey: { name: 'pk', type: 'S' }, sortKey: { name: 'sk', type: 'S' } });
    expect(TABLE_DEFINITIONS.ledgerEpochs).toMatchObject({ partitionKey: { name: 'pk', type: 'S' }, sortKey: { name: 'sk', type: 'S' } });
    expect(TABLE_DEFINITIONS.ledger.timeToLiveAttribute).toBeUndefined();
    expect(TABLE_DEFINITIONS.ledgerEpochs.timeToLiveAttribute).toBeUndefined();
  });

  it('stores a block under repo#/block# with its canonical bytes and leaves as Binary, and registers the stream', async () => {
    // Prepare
    const store = openStore();
    const repository = uniqueId('acme/widgets');
    const block = makeBlock(repository, undefined);

    // Act
    await store.append(block);

    // Assess: the raw item, as DynamoDB typed it
    const raw = await tables.admin.send(
      new GetItemCommand({ TableName: tables.names.ledger, Key: { pk: { S: `repo#${repository}` }, sk: { S: 'block#000000000000' } }, ConsistentRead: true }),
    );
    expect(raw.Item?.canonical?.B).toBeDefined();
    expect(Buffer.from(raw.Item!.canonical!.B!).equals(block.canonical)).toBe(true);
    expect(raw.Item?.leaves?.B).toBeDefined();
    expect(raw.Item?.hash).toEqual({ S: block.hash });
    expect(raw.Item?.height).toEqual({ N: '0' });
    expect(raw.Item?.fields?.M?.prev_hash).toEqual({ S: ZERO_HASH });
    expect(raw.Item).not.toHaveProperty('expiresAt');
    const registration = await tables.documents.send(
      new GetCommand({ TableName: tables.names.ledger, Key: { pk: 'ledger#repositories', sk: `repo#${repository}` }, ConsistentRead: true }),
    );
    expect(registration.Item).toEqual({ pk: 'ledger#repositories', sk: `repo#${repository}`, repository });
    expect(ledgerStreamKey(repository)).toBe(`repo#${repository}`);
    expect(ledgerBlockKey(12)).toBe('block#000000000012');
  });

  it('round-trips every byte of canonical bytes, hashes, leaves and fields through append, get, head and range', async () => {
    // Prepare: a dual block whose leaves hold every byte value, an empty leaf and a journaled action
    const store = openStore();
    const repository = uniqueId('bytes/exact');
    const genesis = makeBlock(repository, undefined);
    const block = makeBlock(repository, genesis, { dual: true, actions: [action('fp-1')] });
    const allBytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    block.reasoningLeaves = [allBytes, Buffer.alloc(0), Buffer.from([0, 0, 0, 0]), Buffer.from([0xff])];
    await store.append(genesis);

    // Act
    await store.append(block);
    const got = await store.get(repository, 1);
    const head = await store.head(repository);
    const range = await store.range(repository, 0, 1);

    // Assess
    expect(got).toEqual(block);
    expect(head).toEqual(block);
    expect(range).toEqual([genesis, block]);
    expect(Buffer.isBuffer(got?.canonical)).toBe(true);
    expect(got?.reasoningLeaves.every((leaf) => Buffer.isBuffer(leaf))).toBe(true);
    expect(got?.canonical.equals(block.canonical)).toBe(true);
    expect(digest('sha256', got!.canonical).toString('hex')).toBe(block.hash);
    expect(got?.hashSha3).toBe(block.hashSha3);
    expect(got?.reasoningLeaves[0].equals(allBytes)).toBe(true);
    expect(got?.reasoningLeaves[1]).toHaveLength(0);
    expect(got?.fields).toEqual(block.fields);
  });

  it('lets exactly one of 50 concurrent appends of the same height win; the others get LEDGER_CONFLICT', async () => {
    // Prepare: a stream with a head at 0 and 50 different candidates for height 1
    const store = openStore();
    const repository = uniqueId('race/fifty');
    const genesis = makeBlock(repository, undefined);
    await store.append(genesis);
    const candidates = Array.from({ length: 50 }, () => makeBlock(repository, genesis));

    // Act
    const outcomes = await Promise.allSettled(candidates.map((block) => store.append(block)));

    // Assess
    const winners = outcomes.flatMap((outcome, index) => (outcome.status === 'fulfilled' ? [candidates[index]] : []));
    const losers = outcomes.filter((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
    expect(winners).toHaveLength(1);
    expect(losers).toHaveLength(49);
    for (const loser of losers) {
      expect(loser.reason).toBeInstanceOf(IntegrityError);
      expect(loser.reason).toMatchObject({ code: 'LEDGER_CONFLICT', context: { repository, height: 1 } });
    }
    expect(await store.get(repository, 1)).toEqual(winners[0]);
    expect(await store.range(repository, 0, 10)).toEqual([genesis, winners[0]]);
  }, 120_000);

  it('refuses a taken height naming the repository and height, and leaves the stored block unchanged', async () => {
    // Prepare
    const store = openStore();
    const repository = uniqueId('fork/attempt');
    const [genesis, first] = await appendChain(store, repository, 2);
    const fork = makeBlock(repository, genesis);

    // Act
    const attempt = store.append(fork);

    // Assess
    await expect(attempt).rejects.toBeInstanceOf(IntegrityError);
    await expect(attempt).rejects.toMatchObject({ code: 'LEDGER_CONFLICT', context: { repository, height: 1, reason: 'height_taken' } });
    await expect(attempt).rejects.toThrow(new RegExp(`block 1 to the ledger of ${repository}.*height 1 is already taken`));
    expect(await store.get(repository, 1)).toEqual(first);
  });

  it('refuses a block that would leave a gap, and a stream that does not start at 0', async () => {
    // Prepare
    const store = openStore();
    const repository = uniqueId('gap/attempt');
    const [genesis] = await appendChain(store, repository, 1);
    const skipping = makeBlock(repository, makeBlock(repository, genesis));
    const orphanRepository = uniqueId('gap/no-genesis');
    const orphan = makeBlock(orphanRepository, makeBlock(orphanRepository, undefined));

    // Act / Assess
    await expect(store.append(skipping)).rejects.toMatchObject({ code: 'LEDGER_CONFLICT', context: { repository, height: 2, reason: 'previous_missing' } });
    await expect(store.append(orphan)).rejects.toMatchObject({ code: 'LEDGER_CONFLICT', context: { repository: orphanRepository, height: 1, reason: 'previous_missing' } });
    expect(await store.range(repository, 0, 5)).toEqual([genesis]);
    expect(await store.head(orphanRepository)).toBeUndefined();
    expect(await store.repositories()).not.toContain(orphanRepository);
  });

  it('stores leaves larger than one item in chunks, within the same transaction, and reads them back exactly', async () => {
    // Prepare: 2,500 findings of 400 bytes (about 1 MB of leaves, three chunks) between two small blocks
    const store = openStore();
    const repository = uniqueId('many/findings');
    const genesis = makeBlock(repository, undefined);
    const big = makeBlock(repository, genesis, { findings: 2500, leafBytes: 400, actions: [action('fp-2')] });
    const after = makeBlock(repository, big);

    // Act
    await store.append(genesis);
    await store.append(big);
    await store.append(after);

    // Assess
    const chunkKeys: unknown[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      // Three chunks of ~350 KB exceed one 1 MB Query page.
      const page = await tables.documents.send(
        new QueryCommand({
          TableName: tables.names.ledger,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
          ExpressionAttributeValues: { ':pk': `repo#${repository}`, ':prefix': 'leaves#' },
          ProjectionExpression: 'sk',
          ConsistentRead: true,
          ExclusiveStartKey: startKey,
        }),
      );
      chunkKeys.push(...(page.Items ?? []).map((item) => item.sk));
      startKey = page.LastEvaluatedKey;
    } while (startKey !== undefined);
    expect(chunkKeys).toEqual(['leaves#000000000001#000', 'leaves#000000000001#001', 'leaves#000000000001#002']);
    expect(await store.get(repository, 1)).toEqual(big);
    expect(await store.range(repository, 0, 2)).toEqual([genesis, big, after]);
    expect(await store.range(repository, 1, 1)).toEqual([big]);
    expect(await store.head(repository)).toEqual(after);
    expect(big.reasoningLeaves.length * 404).toBeGreaterThan(LEDGER_INLINE_LEAF_BYTES);
  }, 60_000);

  it('refuses a block whose leaves exceed the per-block limit with InputError, writing nothing', async () => {
    // Prepare
    const store = openStore();
    const repository = uniqueId('too/many');
    const huge = makeBlock(repository, undefined, { findings: Math.ceil(LEDGER_MAX_LEAF_BYTES / 1000) + 10, leafBytes: 1000 });

    // Act
    const attempt = store.append(huge);

    // Assess
    await expect(attempt).rejects.toBeInstanceOf(InputError);
    await expect(attempt).rejects.toMatchObject({ code: 'LEDGER_INVALID', context: { repository, height: 0, limit: LEDGER_MAX_LEAF_BYTES } });
    expect(await store.head(repository)).toBeUndefined();
  }, 60_000);

  it('reads every page of a range over more than 1 MB of blocks (one Query page cannot hold them)', async () => {
    // Prepare: 30 blocks of about 50 KB each (1.5 MB)
    const store = openStore();
    const repository = uniqueId('big/range');
    const blocks = await appendChain(store, repository, 30, { findings: 50, leafBytes: 1000 });
    const firstPage = await tables.documents.send(
      new QueryCommand({
        TableName: tables.names.ledger,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: { ':pk': `repo#${repository}`, ':prefix': 'block#' },
        ConsistentRead: true,
      }),
    );

    // Act
    const range = await store.range(repository, 0, 29);
    const tail = await store.range(repository, 25, 100);

    // Assess
    expect(firstPage.LastEvaluatedKey).toBeDefined();
    expect(firstPage.Items!.length).toBeLessThan(30);
    expect(range.map((block) => block.height)).toEqual(Array.from({ length: 30 }, (_, i) => i));
    expect(range).toEqual(blocks);
    expect(tail).toEqual(blocks.slice(25));
    expect(await store.head(repository)).toEqual(blocks[29]);
  }, 120_000);

  it('lists every stream with a block, sorted by code point, and not streams with only journaled actions', async () => {
    // Prepare: a fresh ledger (the listing is ledger-wide)
    const { store, close } = await freshStore();
    try {
      const names = ['zeta/z', 'Alpha/a', 'beta/b', 'ä/umlaut', 'beta/b-2', 'beta/b/c'];
      for (const name of names) await store.append(makeBlock(name, undefined));
      await store.append(makeBlock('zeta/z', (await store.head('zeta/z'))!));
      await store.recordAction('journal/only', action('x'));

      // Act
      const repositories = await store.repositories();

      // Assess
      expect(repositories).toEqual(['Alpha/a', 'beta/b', 'beta/b-2', 'beta/b/c', 'zeta/z', 'ä/umlaut']);
    } finally {
      await close();
    }
  });

  it('numbers 40 concurrent actions of one stream 1..40 exactly once and journals every one', async () => {
    // Prepare
    const store = openStore();
    const repository = uniqueId('journal/race');

    // Act
    const seqs = await Promise.all(Array.from({ length: 40 }, (_, i) => store.recordAction(repository, action(`fp-${i}`))));

    // Assess
    expect([...seqs].sort((a, b) => a - b)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    const journal = await store.actionsAfter(repository, 0);
    expect(journal.map((entry) => entry.seq)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    const subjects = new Map(journal.map((entry) => [entry.subject, entry.seq]));
    seqs.forEach((seq, i) => expect(subjects.get(`fp-${i}`)).toBe(seq));
    expect((await store.actionsAfter(repository, 38)).map((entry) => entry.seq)).toEqual([39, 40]);
    const counter = await tables.documents.send(
      new GetCommand({ TableName: tables.names.ledger, Key: { pk: `repo#${repository}`, sk: 'journal' }, ConsistentRead: true }),
    );
    expect(counter.Item?.seq).toBe(40);
  }, 120_000);

  it('seals an epoch once, byte-exact, and refuses to replace it with LEDGER_CONFLICT', async () => {
    // Prepare
    const store = openStore();
    const repository = uniqueId('epochs');
    const first = makeEpoch(repository, 0, { rootSha3: randomBytes(32).toString('hex') });
    const second = makeEpoch(repository, 1);

    // Act
    await store.putEpoch(second);
    await store.putEpoch(first);
    const replace = store.putEpoch(makeEpoch(repository, 1));

    // Assess
    await expect(replace).rejects.toBeInstanceOf(IntegrityError);
    await expect(replace).rejects.toMatchObject({ code: 'LEDGER_CONFLICT', context: { repository, number: 1 } });
    expect(await store.epochs(repository)).toEqual([first, second]);
    const raw = await tables.admin.send(
      new GetItemCommand({ TableName: tables.names.ledgerEpochs, Key: { pk: { S: `repo#${repository}` }, sk: { S: 'epoch#000000000001' } }, ConsistentRead: true }),
    );
    expect(raw.Item?.statement?.B).toBeDefined();
    expect(raw.Item?.signatures?.L?.[0]?.M?.signature?.B).toBeDefined();
  });

  it('keeps settings ledger-wide: absent until put, then overwritten', async () => {
    // Prepare
    const { store, close } = await freshStore();
    try {
      // Act / Assess
      expect(await store.getSetting('dual_activation_height')).toBeUndefined();
      await store.putSetting('epoch_size', '100');
      await store.putSetting('epoch_size', '250');
      await store.putSetting('dual_activation_height', '0');
      expect(await store.getSetting('epoch_size')).toBe('250');
      expect(await store.getSetting('dual_activation_height')).toBe('0');
    } finally {
      await close();
    }
  });

  it('reads a block whose leaf chunks are missing as LEDGER_INVALID instead of returning partial leaves', async () => {
    // Prepare: a chunked block, then one chunk deleted behind the store's back
    const store = openStore();
    const repository = uniqueId('lost/chunk');
    const block = makeBlock(repository, undefined, { findings: 1000, leafBytes: 400 });
    await store.append(block);
    await tables.documents.send(new DeleteCommand({ TableName: tables.names.ledger, Key: { pk: `repo#${repository}`, sk: 'leaves#000000000000#001' } }));

    // Act
    const read = store.get(repository, 0);

    // Assess
    await expect(read).rejects.toBeInstanceOf(IntegrityError);
    await expect(read).rejects.toMatchObject({ code: 'LEDGER_INVALID', context: { repository, height: 0 } });
    await expect(store.range(repository, 0, 0)).rejects.toMatchObject({ code: 'LEDGER_INVALID' });
  }, 60_000);

  it('retries a throttled append through the SDK and writes the block once', async () => {
    // Prepare
    const { client, calls } = throttledDocumentClient(2, 4);
    const store = openStore({ client });
    const repository = uniqueId('throttled');
    const block = makeBlock(repository, undefined);

    // Act
    await store.append(block);

    // Assess
    expect(calls).toEqual([{ command: 'TransactWriteItemsCommand', attempts: 3 }]);
    expect(await openStore().get(repository, 0)).toEqual(block);
  }, 30_000);

  it('fails with STORE_FAILED naming the table and operation when a table does not exist', async () => {
    const store = openStore({ tableName: 'ledger-missing-table', epochsTableName: 'ledger-missing-epochs' });
    const repository = uniqueId('missing');
    const expectFailure = async (attempt: Promise<unknown>, resource: string, operation: string): Promise<void> => {
      await expect(attempt).rejects.toBeInstanceOf(DependencyError);
      await expect(attempt).rejects.toMatchObject({ code: 'STORE_FAILED', context: { resource, operation, awsError: 'ResourceNotFoundException' } });
    };
    await expectFailure(store.append(makeBlock(repository, undefined)), 'DynamoDB table ledger-missing-table', 'TransactWriteItems');
    await expectFailure(store.head(repository), 'DynamoDB table ledger-missing-table', 'Query');
    await expectFailure(store.get(repository, 0), 'DynamoDB table ledger-missing-table', 'GetItem');
    await expectFailure(store.repositories(), 'DynamoDB table ledger-missing-table', 'Query');
    await expectFailure(store.epochs(repository), 'DynamoDB table ledger-missing-epochs', 'Query');
    await expectFailure(store.putEpoch(makeEpoch(repository, 0)), 'DynamoDB table ledger-missing-epochs', 'PutItem');
    const failure = (await store.getSetting('epoch_size').catch((error: unknown) => error)) as PhaseMirrorError;
    expect(failure.message).toContain('ledger-missing-table');
  });
});
