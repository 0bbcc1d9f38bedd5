/**
 * DynamoLedgerStore against a mocked SDK: the command shapes (the
 * conditional append transaction, chunked leaves, paginated queries, the
 * journal's counter transaction, conditional epochs, settings), the mapping
 * of cancellations and AWS failures to typed errors, and reading stored
 * items back (Uint8Array to Buffer, damaged items refused). The same adapter
 * runs the shared contract, 50 concurrent appends and > 1 MB ranges on the
 * emulator in test/integration/ledger-store.int.test.ts.
 */
import { ConditionalCheckFailedException, DynamoDBClient, ResourceNotFoundException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { DependencyError, InputError, IntegrityError, type PhaseMirrorError } from '../../../src/errors';
import { attestationRoots, encodeBlockFields, LEDGER_SCHEMA_VERSION, type BlockFields, type LedgerAction, type StoredBlock } from '../../../src/ledger/block';
import { digest, ZERO_HASH } from '../../../src/ledger/hash';
import type { LedgerSettingKey, SealedEpoch } from '../../../src/ledger/store';
import {
  DynamoLedgerStore,
  LEDGER_LEAF_CHUNK_BYTES,
  LEDGER_MAX_LEAF_BYTES,
  ledgerBlockKey,
  ledgerEpochKey,
  ledgerStreamKey,
  packLeaves,
  unpackLeaves,
} from '../../../src/store/aws/ledger-store';
import { TABLE_DEFINITIONS } from '../../../src/store/aws/table-definitions';

const dynamo = mockClient(DynamoDBDocumentClient);
const client = DynamoDBDocumentClient.from(
  new DynamoDBClient({ region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } }),
);
const TABLE = 'pm-test-ledger';
const EPOCHS = 'pm-test-ledger-epochs';
const REPO = 'acme/widgets';
const store = new DynamoLedgerStore({ client, tableName: TABLE, epochsTableName: EPOCHS, maxJournalAttempts: 3 });

afterEach(() => dynamo.reset());

function cancelled(...codes: string[]): TransactionCanceledException {
  return new TransactionCanceledException({ message: 'Transaction cancelled', $metadata: {}, CancellationReasons: codes.map((Code) => ({ Code })) });
}

const conditionFailed = (): ConditionalCheckFailedException =>
  new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });

const missingTable = (): ResourceNotFoundException => new ResourceNotFoundException({ message: 'Requested resource not found', $metadata: {} });

/** A well-formed block; `leaves` reasoning leaves of `leafBytes` bytes each. */
function makeBlock(height: number, options: { leaves?: number; leafBytes?: number; repository?: string } = {}): StoredBlock {
  const repository = options.repository ?? REPO;
  const reasoningLeaves = Array.from({ length: options.leaves ?? 2 }, (_, i) => Buffer.alloc(options.leafBytes ?? 8, i % 251));
  const uiLeaves = [Buffer.from('action')];
  const fields: BlockFields = {
    schema_version: LEDGER_SCHEMA_VERSION,
    repository,
    height,
    prev_hash: ZERO_HASH,
    timestamp: '2030-01-01T00:00:00.000Z',
    mode: 'pull_request',
    commit: '',
    outcome: 'pass',
    degraded: false,
    rules_hash: 'a'.repeat(64),
    report_hash: 'b'.repeat(64),
    ui_through_seq: 1,
    ...attestationRoots('sha256', reasoningLeaves, uiLeaves),
    hash_algorithm: 'sha256-v1',
  };
  const canonical = encodeBlockFields(fields);
  return { repository, height, canonical, hash: digest('sha256', canonical).toString('hex'), reasoningLeaves, uiLeaves, fields };
}

/** The item DynamoDB would return for `block` (binary as Uint8Array, as the SDK unmarshals it). */
function storedItem(block: StoredBlock): Record<string, unknown> {
  const packed = packLeaves(block.reasoningLeaves, block.uiLeaves);
  return {
    pk: ledgerStreamKey(block.repository),
    sk: ledgerBlockKey(block.height),
    repository: block.repository,
    height: block.height,
    hash: block.hash,
    canonical: new Uint8Array(block.canonical),
    fields: { ...block.fields },
    leaves: new Uint8Array(packed),
  };
}

function makeEpoch(number: number): SealedEpoch {
  return {
    repository: REPO,
    number,
    startHeight: number * 100,
    endHeight: number * 100 + 99,
    root: 'c'.repeat(64),
    sealedAt: '2030-01-02T00:00:00.000Z',
    statement: Buffer.from('statement'),
    signatures: [{ algorithm: 'ecdsa-p256-sha256', keyId: 'key-1', signature: Buffer.from([0x30, 0x44, 1, 2]) }],
  };
}

const action: LedgerAction = { kind: 'fp_mark', actor: 'alice', at: '2030-01-01T00:00:00.000Z', subject: 'event-1', detail: 'not exploitable' };

async function rejection(promise: Promise<unknown>): Promise<PhaseMirrorError> {
  try {
    await promise;
  } catch (error) {
    return error as PhaseMirrorError;
  }
  throw new Error('expected a rejection, but the promise resolved');
}

describe('DynamoLedgerStore', () => {
  it('uses the keys of the ledger table definitions, which have no TTL', () => {
    for (const id of ['ledger', 'ledgerEpochs'] as const) {
      expect([TABLE_DEFINITIONS[id].partitionKey.name, TABLE_DEFINITIONS[id].sortKey?.name]).toEqual(['pk', 'sk']);
      expect(TABLE_DEFINITIONS[id].timeToLiveAttribute).toBeUndefined();
      expect(TABLE_DEFINITIONS[id].globalSecondaryIndexes).toEqual([]);
    }
    expect(ledgerStreamKey('acme/widgets')).toBe('repo#acme/widgets');
    expect(ledgerBlockKey(7)).toBe('block#000000000007');
    expect(ledgerEpochKey(12)).toBe('epoch#000000000012');
    expect(store.location).toBe(`DynamoDB tables ${TABLE} and ${EPOCHS}`);
  });

  describe('packLeaves / unpackLeaves', () => {
    it('round-trips both leaf lists, empty leaves and every byte value included', () => {
      const reasoning = [Buffer.from(Array.from({ length: 256 }, (_, i) => i)), Buffer.alloc(0)];
      const ui = [Buffer.from([0, 0, 0, 0])];

      const unpacked = unpackLeaves(packLeaves(reasoning, ui));

      expect(unpacked).toEqual({ reasoningLeaves: reasoning, uiLeaves: ui });
      expect(unpackLeaves(packLeaves([], []))).toEqual({ reasoningLeaves: [], uiLeaves: [] });
    });

    it('refuses truncated bytes, trailing bytes and a short header', () => {
      const packed = packLeaves([Buffer.from('abc')], [Buffer.from('de')]);

      expect(unpackLeaves(packed.subarray(0, packed.length - 1))).toBeUndefined();
      expect(unpackLeaves(Buffer.concat([packed, Buffer.from([0])]))).toBeUndefined();
      expect(unpackLeaves(Buffer.from([0, 0, 0]))).toBeUndefined();
    });
  });

  describe('append', () => {
    it('writes a genesis block with its stream registration in one conditional transaction', async () => {
      // Prepare
      dynamo.on(TransactWriteCommand).resolves({});
      const block = makeBlock(0);

      // Act
      await store.append(block);

      // Assess
      const input = dynamo.commandCalls(TransactWriteCommand)[0].args[0].input;
      expect(input.ClientRequestToken).toMatch(/^[0-9a-f-]{36}$/);
      expect(input.TransactItems).toEqual([
        {
          Put: {
            TableName: TABLE,
            Item: {
              pk: 'repo#acme/widgets',
              sk: 'block#000000000000',
              repository: REPO,
              height: 0,
              hash: block.hash,
              canonical: block.canonical,
              fields: block.fields,
              leaves: packLeaves(block.reasoningLeaves, block.uiLeaves),
            },
            ConditionExpression: 'attribute_not_exists(pk)',
          },
        },
        { Put: { TableName: TABLE, Item: { pk: 'ledger#repositories', sk: 'repo#acme/widgets', repository: REPO } } },
      ]);
    });

    it('checks that the previous height exists when appending above 0, and stores the SHA3 hash of a dual block', async () => {
      dynamo.on(TransactWriteCommand).resolves({});
      const block = { ...makeBlock(5), hashSha3: 'd'.repeat(64) };

      await store.append(block);

      const items = dynamo.commandCalls(TransactWriteCommand)[0].args[0].input.TransactItems!;
      expect(items).toHaveLength(2);
      expect(items[0].Put?.Item).toMatchObject({ sk: 'block#000000000005', hashSha3: 'd'.repeat(64) });
      expect(items[1]).toEqual({
        ConditionCheck: { TableName: TABLE, Key: { pk: 'repo#acme/widgets', sk: 'block#000000000004' }, ConditionExpression: 'attribute_exists(pk)' },
      });
    });

    it('stores leaves too large for one item as chunk items in the same transaction', async () => {
      // Prepare: about 2.5 chunks of leaves
      dynamo.on(TransactWriteCommand).resolves({});
      const block = makeBlock(3, { leaves: 25, leafBytes: Math.floor(LEDGER_LEAF_CHUNK_BYTES / 10) });
      const packed = packLeaves(block.reasoningLeaves, block.uiLeaves);

      // Act
      await store.append(block);

      // Assess
      const items = dynamo.commandCalls(TransactWriteCommand)[0].args[0].input.TransactItems!;
      const blockItem = items[0].Put!.Item!;
      expect(blockItem).not.toHaveProperty('leaves');
      expect(blockItem).toMatchObject({ leafChunks: 3, leafBytes: packed.length });
      const chunks = items.slice(2).map((item) => item.Put!.Item!);
      expect(chunks.map((chunk) => [chunk.sk, chunk.chunk, chunk.height])).toEqual([
        ['leaves#000000000003#000', 0, 3],
        ['leaves#000000000003#001', 1, 3],
        ['leaves#000000000003#002', 2, 3],
      ]);
      expect(chunks.every((chunk) => (chunk.data as Buffer).length <= LEDGER_LEAF_CHUNK_BYTES)).toBe(true);
      expect(Buffer.concat(chunks.map((chunk) => chunk.data as Buffer)).equals(packed)).toBe(true);
    });

    it.each([
      ['height_taken', ['ConditionalCheckFailed', 'None'], /height 4 is already taken/],
      ['previous_missing', ['None', 'ConditionalCheckFailed'], /height 3 does not exist/],
      ['concurrent_write', ['TransactionConflict', 'None'], /another transaction was writing height 4/],
    ])('maps a cancellation (%s) to IntegrityError LEDGER_CONFLICT naming repository and height', async (reason, codes, message) => {
      dynamo.on(TransactWriteCommand).rejects(cancelled(...codes));

      const error = await rejection(store.append(makeBlock(4)));

      expect(error).toBeInstanceOf(IntegrityError);
      expect(error).toMatchObject({ code: 'LEDGER_CONFLICT', context: { repository: REPO, height: 4, reason, operation: 'TransactWriteItems' } });
      expect(error.message).toMatch(message);
      expect(error.message).toContain(REPO);
    });

    it('maps a cancellation that is not a lost race, and any other failure, to STORE_FAILED naming the table', async () => {
      dynamo.on(TransactWriteCommand).rejectsOnce(cancelled('ValidationError', 'None')).rejectsOnce(missingTable());

      const invalid = await rejection(store.append(makeBlock(4)));
      const missing = await rejection(store.append(makeBlock(4)));

      expect(invalid).toBeInstanceOf(DependencyError);
      expect(invalid).toMatchObject({ code: 'STORE_FAILED', context: { resource: `DynamoDB table ${TABLE}`, operation: 'TransactWriteItems', awsError: 'TransactionCanceledException' } });
      expect(missing).toMatchObject({ code: 'STORE_FAILED', context: { resource: `DynamoDB table ${TABLE}`, operation: 'TransactWriteItems', awsError: 'ResourceNotFoundException' } });
      expect(missing.message).toContain('does not exist');
    });

    it('refuses leaves over the per-block limit with InputError LEDGER_INVALID before calling AWS', async () => {
      const block = makeBlock(0, { leaves: 11, leafBytes: LEDGER_LEAF_CHUNK_BYTES });

      const error = await rejection(store.append(block));

      expect(error).toBeInstanceOf(InputError);
      expect(error).toMatchObject({ code: 'LEDGER_INVALID', context: { repository: REPO, height: 0, limit: LEDGER_MAX_LEAF_BYTES } });
      expect(dynamo.calls()).toHaveLength(0);
    });

    it('refuses a block whose key disagrees with its fields, and a malformed block, before calling AWS', async () => {
      const block = makeBlock(2);

      const otherHeight = await rejection(store.append({ ...block, height: 3 }));
      const otherRepository = await rejection(store.append({ ...block, repository: 'acme/other' }));
      const negative = await rejection(store.append({ ...block, height: -1 }));
      const noBytes = await rejection(store.append({ ...block, canonical: Buffer.alloc(0) }));
      const badLeaves = await rejection(store.append({ ...block, uiLeaves: ['text' as unknown as Buffer] }));

      expect(otherHeight).toBeInstanceOf(IntegrityError);
      expect(otherHeight).toMatchObject({ code: 'LEDGER_INVALID', location: { field: 'height' } });
      expect(otherRepository).toMatchObject({ code: 'LEDGER_INVALID', location: { field: 'repository' } });
      for (const error of [negative, noBytes, badLeaves]) expect(error).toBeInstanceOf(InputError);
      expect(dynamo.calls()).toHaveLength(0);
    });
  });

  describe('head, get and range', () => {
    it('reads the head with one strongly consistent reverse Query of one block item', async () => {
      // Prepare
      const block = makeBlock(9);
      dynamo.on(QueryCommand).resolves({ Items: [storedItem(block)] });

      // Act
      const head = await store.head(REPO);

      // Assess
      expect(head).toStrictEqual(block);
      expect(Buffer.isBuffer(head?.canonical)).toBe(true);
      expect(dynamo.commandCalls(QueryCommand).map((call) => call.args[0].input)).toEqual([
        {
          TableName: TABLE,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
          ExpressionAttributeValues: { ':pk': 'repo#acme/widgets', ':prefix': 'block#' },
          ScanIndexForward: false,
          Limit: 1,
          ConsistentRead: true,
        },
      ]);
    });

    it('has no head for a stream without blocks', async () => {
      dynamo.on(QueryCommand).resolves({ Items: [] });

      expect(await store.head(REPO)).toBeUndefined();
    });

    it('gets one block with a consistent GetItem, undefined when absent', async () => {
      const block = makeBlock(2);
      dynamo.on(GetCommand).resolvesOnce({ Item: storedItem(block) }).resolvesOnce({});

      expect(await store.get(REPO, 2)).toStrictEqual(block);
      expect(await store.get(REPO, 3)).toBeUndefined();
      expect(dynamo.commandCalls(GetCommand)[0].args[0].input).toEqual({
        TableName: TABLE,
        Key: { pk: 'repo#acme/widgets', sk: 'block#000000000002' },
        ConsistentRead: true,
      });
    });

    it('follows every page of a range (never truncates) and keeps height order', async () => {
      // Prepare: three pages
      const blocks = [0, 1, 2, 3].map((height) => makeBlock(height));
      dynamo
        .on(QueryCommand)
        .resolvesOnce({ Items: [storedItem(blocks[0]), storedItem(blocks[1])], LastEvaluatedKey: { pk: 'repo#acme/widgets', sk: 'block#000000000001' } })
        .resolvesOnce({ Items: [storedItem(blocks[2])], LastEvaluatedKey: { pk: 'repo#acme/widgets', sk: 'block#000000000002' } })
        .resolvesOnce({ Items: [storedItem(blocks[3])] });

      // Act
      const range = await store.range(REPO, 0, 10);

      // Assess
      expect(range).toStrictEqual(blocks);
      const inputs = dynamo.commandCalls(QueryCommand).map((call) => call.args[0].input);
      expect(inputs).toHaveLength(3);
      expect(inputs[0]).toEqual({
        TableName: TABLE,
        KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
        ExpressionAttributeValues: { ':pk': 'repo#acme/widgets', ':from': 'block#000000000000', ':to': 'block#000000000010' },
        ConsistentRead: true,
      });
      expect(inputs[1].ExclusiveStartKey).toEqual({ pk: 'repo#acme/widgets', sk: 'block#000000000001' });
      expect(inputs[2].ExclusiveStartKey).toEqual({ pk: 'repo#acme/widgets', sk: 'block#000000000002' });
    });

    it('returns an empty range without calling AWS when end is below start', async () => {
      expect(await store.range(REPO, 5, 4)).toEqual([]);
      expect(dynamo.calls()).toHaveLength(0);
    });

    it('reassembles chunked leaves with one Query over the chunk keys of the range', async () => {
      // Prepare: block 1 chunked into two items (returned out of order), block 2 inline
      const chunkedBlock = makeBlock(1, { leaves: 3 });
      const inline = makeBlock(2);
      const packed = packLeaves(chunkedBlock.reasoningLeaves, chunkedBlock.uiLeaves);
      const { leaves: _leaves, ...withoutLeaves } = storedItem(chunkedBlock);
      const chunkedItem = { ...withoutLeaves, leafChunks: 2, leafBytes: packed.length };
      const half = Math.floor(packed.length / 2);
      dynamo
        .on(QueryCommand)
        .resolvesOnce({ Items: [chunkedItem, storedItem(inline)] })
        .resolvesOnce({
          Items: [
            { pk: 'repo#acme/widgets', sk: 'leaves#000000000001#001', height: 1, chunk: 1, data: new Uint8Array(packed.subarray(half)) },
            { pk: 'repo#acme/widgets', sk: 'leaves#000000000001#000', height: 1, chunk: 0, data: new Uint8Array(packed.subarray(0, half)) },
          ],
        });

      // Act
      const range = await store.range(REPO, 1, 2);

      // Assess
      expect(range).toStrictEqual([chunkedBlock, inline]);
      expect(dynamo.commandCalls(QueryCommand)[1].args[0].input.ExpressionAttributeValues).toEqual({
        ':pk': 'repo#acme/widgets',
        ':from': 'leaves#000000000001#',
        ':to': 'leaves#000000000001#~',
      });
    });

    it('refuses a block whose chunks are missing or whose item is damaged with IntegrityError LEDGER_INVALID', async () => {
      const block = makeBlock(1);
      const { leaves: _leaves, ...withoutLeaves } = storedItem(block);
      dynamo
        .on(GetCommand)
        .resolvesOnce({ Item: { ...withoutLeaves, leafChunks: 2, leafBytes: 100 } })
        .resolvesOnce({ Item: { ...storedItem(block), canonical: 'not bytes' } })
        .resolvesOnce({ Item: { ...storedItem(block), leaves: new Uint8Array([0, 0, 0, 9]) } });
      dynamo.on(QueryCommand).resolves({ Items: [{ pk: 'repo#acme/widgets', sk: 'leaves#000000000001#000', height: 1, chunk: 0, data: new Uint8Array(50) }] });

      for (const what of [/1 of its 2 leaf chunks/, /lacks its height, hash, canonical bytes or fields/, /not a valid packing/]) {
        const error = await rejection(store.get(REPO, 1));
        expect(error).toBeInstanceOf(IntegrityError);
        expect(error).toMatchObject({ code: 'LEDGER_INVALID', context: { repository: REPO, height: 1 } });
        expect(error.message).toMatch(what);
      }
    });

    it('maps a failed read to STORE_FAILED naming the table and the operation', async () => {
      dynamo.on(QueryCommand).rejects(missingTable());
      dynamo.on(GetCommand).rejects(missingTable());

      expect(await rejection(store.head(REPO))).toMatchObject({ code: 'STORE_FAILED', context: { resource: `DynamoDB table ${TABLE}`, operation: 'Query' } });
      expect(await rejection(store.range(REPO, 0, 1))).toMatchObject({ code: 'STORE_FAILED', context: { operation: 'Query' } });
      expect(await rejection(store.get(REPO, 0))).toMatchObject({ code: 'STORE_FAILED', context: { operation: 'GetItem' } });
    });

    it('refuses invalid repositories and heights with InputError', async () => {
      expect(await rejection(store.head(''))).toBeInstanceOf(InputError);
      expect(await rejection(store.head('é'.repeat(501)))).toBeInstanceOf(InputError);
      expect(await rejection(store.epochs('a'.repeat(1001)))).toBeInstanceOf(InputError);
      expect(await rejection(store.get(REPO, 1.5))).toBeInstanceOf(InputError);
      expect(await rejection(store.range(REPO, -1, 4))).toBeInstanceOf(InputError);
      expect(await rejection(store.range(REPO, 0, 10 ** 12))).toBeInstanceOf(InputError);
      expect(dynamo.calls()).toHaveLength(0);
    });
  });

  describe('repositories', () => {
    it('reads every page of the stream registrations and sorts them by code point', async () => {
      dynamo
        .on(QueryCommand)
        .resolvesOnce({ Items: [{ repository: 'zeta/z' }, { repository: 'Alpha/a' }], LastEvaluatedKey: { pk: 'ledger#repositories', sk: 'repo#zeta/z' } })
        .resolvesOnce({ Items: [{ repository: 'beta/b' }] });

      expect(await store.repositories()).toEqual(['Alpha/a', 'beta/b', 'zeta/z']);
      const inputs = dynamo.commandCalls(QueryCommand).map((call) => call.args[0].input);
      expect(inputs[0]).toEqual({
        TableName: TABLE,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': 'ledger#repositories' },
        ConsistentRead: true,
      });
      expect(inputs[1].ExclusiveStartKey).toEqual({ pk: 'ledger#repositories', sk: 'repo#zeta/z' });
    });
  });

  describe('recordAction', () => {
    it('starts a stream journal at 1: counter created on condition it is absent, with the action, in one transaction', async () => {
      // Prepare
      dynamo.on(GetCommand).resolves({});
      dynamo.on(TransactWriteCommand).resolves({});

      // Act
      const seq = await store.recordAction(REPO, action);

      // Assess
      expect(seq).toBe(1);
      expect(dynamo.commandCalls(GetCommand)[0].args[0].input).toEqual({ TableName: TABLE, Key: { pk: 'repo#acme/widgets', sk: 'journal' }, ConsistentRead: true });
      const input = dynamo.commandCalls(TransactWriteCommand)[0].args[0].input;
      expect(input.ClientRequestToken).toMatch(/^[0-9a-f-]{36}$/);
      expect(input.TransactItems).toEqual([
        {
          Update: {
            TableName: TABLE,
            Key: { pk: 'repo#acme/widgets', sk: 'journal' },
            UpdateExpression: 'SET #seq = :next',
            ExpressionAttributeNames: { '#seq': 'seq' },
            ConditionExpression: 'attribute_not_exists(pk)',
            ExpressionAttributeValues: { ':next': 1 },
          },
        },
        {
          Put: {
            TableName: TABLE,
            Item: { pk: 'repo#acme/widgets', sk: 'action#000000000001', seq: 1, ...action },
            ConditionExpression: 'attribute_not_exists(pk)',
          },
        },
      ]);
    });

    it('re-reads the counter and retries when a concurrent action took the number', async () => {
      // Prepare: counter at 4, then 5 after the lost race
      dynamo.on(GetCommand).resolvesOnce({ Item: { seq: 4 } }).resolvesOnce({ Item: { seq: 5 } });
      dynamo.on(TransactWriteCommand).rejectsOnce(cancelled('ConditionalCheckFailed', 'None')).resolves({});

      // Act
      const seq = await store.recordAction(REPO, action);

      // Assess
      expect(seq).toBe(6);
      const attempts = dynamo.commandCalls(TransactWriteCommand).map((call) => call.args[0].input.TransactItems!);
      expect(attempts[0][0].Update).toMatchObject({ ConditionExpression: '#seq = :current', ExpressionAttributeValues: { ':next': 5, ':current': 4 } });
      expect(attempts[1][0].Update).toMatchObject({ ConditionExpression: '#seq = :current', ExpressionAttributeValues: { ':next': 6, ':current': 5 } });
      expect(attempts[1][1].Put?.Item).toMatchObject({ sk: 'action#000000000006', seq: 6 });
    });

    it('gives up with STORE_FAILED after maxJournalAttempts lost races', async () => {
      dynamo.on(GetCommand).resolves({ Item: { seq: 1 } });
      dynamo.on(TransactWriteCommand).rejects(cancelled('TransactionConflict', 'None'));

      const error = await rejection(store.recordAction(REPO, action));

      expect(error).toBeInstanceOf(DependencyError);
      expect(error).toMatchObject({ code: 'STORE_FAILED', context: { resource: `DynamoDB table ${TABLE}`, repository: REPO, attempts: 3 } });
      expect(dynamo.commandCalls(TransactWriteCommand)).toHaveLength(3);
    });

    it('maps other failures to STORE_FAILED and refuses a malformed counter or action', async () => {
      dynamo.on(GetCommand).resolvesOnce({}).resolvesOnce({ Item: { seq: 'three' } });
      dynamo.on(TransactWriteCommand).rejects(missingTable());

      expect(await rejection(store.recordAction(REPO, action))).toMatchObject({ code: 'STORE_FAILED', context: { operation: 'TransactWriteItems', awsError: 'ResourceNotFoundException' } });
      expect(await rejection(store.recordAction(REPO, action))).toMatchObject({ code: 'STORE_FAILED', context: { operation: 'GetItem' } });
      const badKind = await rejection(store.recordAction(REPO, { ...action, kind: 'delete' as LedgerAction['kind'] }));
      expect(badKind).toBeInstanceOf(InputError);
    });
  });

  describe('actionsAfter', () => {
    it('queries the journal keys after the given seq and returns the actions in order', async () => {
      dynamo.on(QueryCommand).resolves({ Items: [{ pk: 'repo#acme/widgets', sk: 'action#000000000004', seq: 4, ...action }] });

      const actions = await store.actionsAfter(REPO, 3);

      expect(actions).toStrictEqual([{ seq: 4, ...action }]);
      expect(dynamo.commandCalls(QueryCommand)[0].args[0].input.ExpressionAttributeValues).toEqual({
        ':pk': 'repo#acme/widgets',
        ':from': 'action#000000000004',
        ':to': 'action#999999999999',
      });
    });

    it('refuses a damaged journal item with STORE_FAILED', async () => {
      dynamo.on(QueryCommand).resolves({ Items: [{ pk: 'repo#acme/widgets', sk: 'action#000000000001', seq: 1, kind: 'fp_mark' }] });

      expect(await rejection(store.actionsAfter(REPO, 0))).toMatchObject({ code: 'STORE_FAILED', context: { operation: 'Query' } });
    });
  });

  describe('epochs', () => {
    it('stores an epoch with a conditional PutItem on the epochs table, bytes as Binary', async () => {
      dynamo.on(PutCommand).resolves({});
      const epoch = { ...makeEpoch(2), rootSha3: 'e'.repeat(64) };

      await store.putEpoch(epoch);

      expect(dynamo.commandCalls(PutCommand)[0].args[0].input).toEqual({
        TableName: EPOCHS,
        Item: {
          pk: 'repo#acme/widgets',
          sk: 'epoch#000000000002',
          repository: REPO,
          number: 2,
          startHeight: 200,
          endHeight: 299,
          root: 'c'.repeat(64),
          rootSha3: 'e'.repeat(64),
          sealedAt: '2030-01-02T00:00:00.000Z',
          statement: Buffer.from('statement'),
          signatures: [{ algorithm: 'ecdsa-p256-sha256', keyId: 'key-1', signature: Buffer.from([0x30, 0x44, 1, 2]) }],
        },
        ConditionExpression: 'attribute_not_exists(pk)',
      });
    });

    it('maps an epoch already sealed to IntegrityError LEDGER_CONFLICT and other failures to STORE_FAILED naming the epochs table', async () => {
      dynamo.on(PutCommand).rejectsOnce(conditionFailed()).rejectsOnce(missingTable());

      const conflict = await rejection(store.putEpoch(makeEpoch(1)));
      const missing = await rejection(store.putEpoch(makeEpoch(1)));

      expect(conflict).toBeInstanceOf(IntegrityError);
      expect(conflict).toMatchObject({ code: 'LEDGER_CONFLICT', context: { repository: REPO, number: 1 } });
      expect(conflict.message).toContain(REPO);
      expect(missing).toMatchObject({ code: 'STORE_FAILED', context: { resource: `DynamoDB table ${EPOCHS}`, operation: 'PutItem' } });
    });

    it('refuses a malformed epoch before calling AWS', async () => {
      const unknownAlgorithm = { ...makeEpoch(0), signatures: [{ algorithm: 'rsa', keyId: 'k', signature: Buffer.from('x') }] } as unknown as SealedEpoch;

      expect(await rejection(store.putEpoch(unknownAlgorithm))).toBeInstanceOf(InputError);
      expect(await rejection(store.putEpoch({ ...makeEpoch(0), endHeight: -1 }))).toBeInstanceOf(InputError);
      expect(await rejection(store.putEpoch({ ...makeEpoch(3), startHeight: 10, endHeight: 5 }))).toBeInstanceOf(InputError);
      expect(dynamo.calls()).toHaveLength(0);
    });

    it('reads every page of a stream epochs and returns Buffers', async () => {
      const epoch = makeEpoch(0);
      const item = {
        ...epoch,
        pk: 'repo#acme/widgets',
        sk: 'epoch#000000000000',
        statement: new Uint8Array(epoch.statement),
        signatures: epoch.signatures.map((signature) => ({ ...signature, signature: new Uint8Array(signature.signature) })),
      };
      dynamo
        .on(QueryCommand)
        .resolvesOnce({ Items: [item], LastEvaluatedKey: { pk: 'repo#acme/widgets', sk: 'epoch#000000000000' } })
        .resolvesOnce({ Items: [{ ...item, sk: 'epoch#000000000001', number: 1 }] });

      const epochs = await store.epochs(REPO);

      expect(epochs).toStrictEqual([epoch, { ...epoch, number: 1 }]);
      const inputs = dynamo.commandCalls(QueryCommand).map((call) => call.args[0].input);
      expect(inputs[0]).toMatchObject({ TableName: EPOCHS, ExpressionAttributeValues: { ':pk': 'repo#acme/widgets', ':prefix': 'epoch#' }, ConsistentRead: true });
      expect(inputs[1].ExclusiveStartKey).toEqual({ pk: 'repo#acme/widgets', sk: 'epoch#000000000000' });
    });

    it('refuses a damaged epoch item with IntegrityError LEDGER_INVALID', async () => {
      dynamo.on(QueryCommand).resolves({ Items: [{ ...makeEpoch(0), pk: 'repo#acme/widgets', sk: 'epoch#000000000000', statement: 'text' }] });

      expect(await rejection(store.epochs(REPO))).toMatchObject({ code: 'LEDGER_INVALID' });
    });
  });

  describe('settings', () => {
    it('reads and writes a setting under ledger#settings', async () => {
      dynamo.on(GetCommand).resolvesOnce({ Item: { value: '120' } }).resolvesOnce({});
      dynamo.on(PutCommand).resolves({});

      expect(await store.getSetting('dual_activation_height')).toBe('120');
      expect(await store.getSetting('epoch_size')).toBeUndefined();
      await store.putSetting('epoch_size', '100');

      expect(dynamo.commandCalls(GetCommand)[0].args[0].input).toEqual({
        TableName: TABLE,
        Key: { pk: 'ledger#settings', sk: 'setting#dual_activation_height' },
        ConsistentRead: true,
      });
      expect(dynamo.commandCalls(PutCommand)[0].args[0].input).toEqual({
        TableName: TABLE,
        Item: { pk: 'ledger#settings', sk: 'setting#epoch_size', key: 'epoch_size', value: '100' },
      });
    });

    it('refuses an unknown setting key with InputError and maps failures to STORE_FAILED', async () => {
      dynamo.on(PutCommand).rejects(missingTable());

      expect(await rejection(store.getSetting('colour' as LedgerSettingKey))).toBeInstanceOf(InputError);
      expect(await rejection(store.putSetting('epoch_size', '100'))).toMatchObject({ code: 'STORE_FAILED', context: { operation: 'PutItem' } });
    });
  });
});
