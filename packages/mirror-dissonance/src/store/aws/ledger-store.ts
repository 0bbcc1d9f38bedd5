/**
 * DynamoDB adapter of the ledger store port (src/ledger/store.ts, DESIGN §7),
 * passing the same contract suite as the SQLite adapter. Tables and keys as in
 * table-definitions.ts (`ledger`, `ledgerEpochs`); ledger data is permanent
 * (no TTL attribute is ever written).
 *
 * Items of the `ledger` table:
 * - block: pk `repo#<repository>`, sk `block#<height, 12 digits>`: `canonical`
 *   (Binary, the exact bytes every hash is computed over), `hash`,
 *   `hashSha3` (dual blocks), `height`, `repository`, `fields` (a map of the
 *   decoded fields, for queries; replay compares them with the bytes) and
 *   the leaves, packed into one Binary (see `packLeaves`): inline as `leaves`
 *   when the item stays well under DynamoDB's 400 KB, otherwise in
 *   `leafChunks` chunk items of at most LEAF_CHUNK_BYTES;
 * - leaf chunk: pk `repo#<repository>`, sk `leaves#<height>#<index, 3 digits>`, `data`;
 * - stream registration: pk `ledger#repositories`, sk `repo#<repository>`,
 *   written with block 0, so `repositories()` reads one small partition
 *   instead of scanning every block;
 * - journal: pk `repo#<repository>`, sk `action#<seq, 12 digits>`, and the
 *   stream's sequence counter, sk `journal`, `seq`;
 * - setting: pk `ledger#settings`, sk `setting#<key>`, `value`.
 *
 * Items of the `ledgerEpochs` table: pk `repo#<repository>`, sk
 * `epoch#<number, 12 digits>`, with `statement` and each signature Binary.
 *
 * No forks: a block is written by one TransactWriteItems that puts the block
 * on condition `attribute_not_exists(pk)` (the height is free), checks that
 * the previous height exists (no gap; skipped at height 0) and puts the
 * block's leaf chunks and, at height 0, the stream registration. Losing
 * either condition (a concurrent append won) is IntegrityError
 * LEDGER_CONFLICT naming the repository and height; nothing of the losing
 * block is written. Each transaction carries a ClientRequestToken, so an SDK
 * retry after a lost response is recognised as the same write instead of
 * reporting our own block as a conflict.
 *
 * Journal sequence numbers are allocated in the same transaction as the
 * action they number: the counter is read, then `SET seq = n+1` on condition
 * `seq = n` and the action put happen together (a lost race re-reads and
 * retries). An `ADD` on the counter followed by a separate put would let a
 * block builder read action n+1 before action n is written and then skip n
 * forever (blocks include the actions after the previous block's
 * `ui_through_seq`); a put that failed after the `ADD` would leave a gap.
 *
 * Reads are strongly consistent and follow every page (`LastEvaluatedKey`):
 * nothing is silently truncated. A stored item that cannot be read back as a
 * block or epoch (missing bytes, chunks missing) is IntegrityError
 * LEDGER_INVALID; AWS failures are DependencyError STORE_FAILED naming the
 * table and the operation.
 */
import { randomUUID } from 'node:crypto';
import type { DynamoDBDocumentClient, QueryCommandInput, TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import { DependencyError, InputError, IntegrityError } from '../../errors';
import { compareCodePoints } from '../../hashing';
import type { BlockFields, JournaledAction, LedgerAction, StoredBlock } from '../../ledger/block';
import type { EpochSignature, LedgerSettingKey, LedgerStore, SealedEpoch } from '../../ledger/store';
import { awsStoreFailure } from './errors';
import { DynamoTable, lib } from './dynamo-table';

type Item = Record<string, unknown>;
type TransactItems = NonNullable<TransactWriteCommandInput['TransactItems']>;

export interface DynamoLedgerStoreOptions {
  client: DynamoDBDocumentClient;
  /** Physical name of the `ledger` table (blocks, journal, settings). */
  tableName: string;
  /** Physical name of the `ledgerEpochs` table. */
  epochsTableName: string;
  /**
   * Attempts of `recordAction` that lost the sequence-number race to a
   * concurrent action on the same stream before giving up with STORE_FAILED.
   * Every round one contender wins, so N concurrent callers need at most N.
   * @default 64
   */
  maxJournalAttempts?: number;
}

/** Digits of heights, journal sequence numbers and epoch numbers in sort keys. */
export const LEDGER_KEY_DIGITS = 12;
/** The highest height, sequence or epoch number the 12-digit sort keys can order. */
export const LEDGER_MAX_NUMBER = 10 ** LEDGER_KEY_DIGITS - 1;
/** Packed leaves up to this size are stored inside the block item. */
export const LEDGER_INLINE_LEAF_BYTES = 300_000;
/** Size of one leaf chunk item's data (an item must stay under 400 KB). */
export const LEDGER_LEAF_CHUNK_BYTES = 350_000;
/**
 * The most packed leaf bytes one block may carry: chunks are written in the
 * block's transaction, whose items may total at most 4 MB. About 14,000
 * findings of a few hundred bytes each; a larger block is refused with
 * InputError LEDGER_INVALID before anything is written.
 */
export const LEDGER_MAX_LEAF_BYTES = 10 * LEDGER_LEAF_CHUNK_BYTES;
/** Longest repository name (UTF-8 bytes): `repo#` + name must fit a 1,024-byte sort key. */
const MAX_REPOSITORY_BYTES = 1000;
/** Block fields and canonical bytes beyond this are refused (a block is normally about 1 KB). */
const MAX_BLOCK_BYTES = 64 * 1024;

const REPO_PREFIX = 'repo#';
const BLOCK_PREFIX = 'block#';
const LEAVES_PREFIX = 'leaves#';
const ACTION_PREFIX = 'action#';
const EPOCH_PREFIX = 'epoch#';
const JOURNAL_SK = 'journal';
const REPOSITORIES_PK = 'ledger#repositories';
const SETTINGS_PK = 'ledger#settings';
const SETTING_PREFIX = 'setting#';

const ACTION_KINDS: ReadonlySet<string> = new Set(['fp_mark', 'consent_grant', 'consent_revoke', 'override']);
const SETTING_KEYS: ReadonlySet<string> = new Set(['dual_activation_height', 'epoch_size']);
const SIGNATURE_ALGORITHMS: ReadonlySet<string> = new Set(['ed25519', 'ecdsa-p256-sha256', 'ml-dsa-44']);

function pad(value: number): string {
  return String(value).padStart(LEDGER_KEY_DIGITS, '0');
}

/** Partition key of a repository's stream (blocks, journal) and of its epochs. */
export function ledgerStreamKey(repository: string): string {
  return `${REPO_PREFIX}${repository}`;
}

/** Sort key of the block at `height`. */
export function ledgerBlockKey(height: number): string {
  return `${BLOCK_PREFIX}${pad(height)}`;
}

/** Sort key of a sealed epoch. */
export function ledgerEpochKey(number: number): string {
  return `${EPOCH_PREFIX}${pad(number)}`;
}

function leafChunkKey(height: number, index: number): string {
  return `${LEAVES_PREFIX}${pad(height)}#${String(index).padStart(3, '0')}`;
}

function actionKey(seq: number): string {
  return `${ACTION_PREFIX}${pad(seq)}`;
}

/**
 * Packs both leaf lists into one byte string: u32be(#reasoning) ‖
 * u32be(#ui) ‖ for each leaf, reasoning first, u32be(length) ‖ bytes.
 */
export function packLeaves(reasoningLeaves: readonly Uint8Array[], uiLeaves: readonly Uint8Array[]): Buffer {
  const all = [...reasoningLeaves, ...uiLeaves];
  const out = Buffer.alloc(8 + all.reduce((sum, leaf) => sum + 4 + leaf.length, 0));
  out.writeUInt32BE(reasoningLeaves.length, 0);
  out.writeUInt32BE(uiLeaves.length, 4);
  let offset = 8;
  for (const leaf of all) {
    out.writeUInt32BE(leaf.length, offset);
    out.set(leaf, offset + 4);
    offset += 4 + leaf.length;
  }
  return out;
}

/** The inverse of `packLeaves`; undefined when the bytes are not exactly one packing. */
export function unpackLeaves(packed: Uint8Array): { reasoningLeaves: Buffer[]; uiLeaves: Buffer[] } | undefined {
  const bytes = Buffer.from(packed.buffer, packed.byteOffset, packed.byteLength);
  if (bytes.length < 8) return undefined;
  const counts = [bytes.readUInt32BE(0), bytes.readUInt32BE(4)];
  const lists: Buffer[][] = [[], []];
  let offset = 8;
  for (let list = 0; list < 2; list++) {
    for (let i = 0; i < counts[list]; i++) {
      if (offset + 4 > bytes.length) return undefined;
      const length = bytes.readUInt32BE(offset);
      if (offset + 4 + length > bytes.length) return undefined;
      lists[list].push(Buffer.from(bytes.subarray(offset + 4, offset + 4 + length)));
      offset += 4 + length;
    }
  }
  if (offset !== bytes.length) return undefined;
  return { reasoningLeaves: lists[0], uiLeaves: lists[1] };
}

/** LedgerStore over the `ledger` and `ledgerEpochs` DynamoDB tables. */
export class DynamoLedgerStore extends DynamoTable implements LedgerStore {
  readonly location: string;
  private readonly epochsTableName: string;
  private readonly epochsResource: string;
  private readonly maxJournalAttempts: number;

  constructor(options: DynamoLedgerStoreOptions) {
    super(options);
    this.epochsTableName = options.epochsTableName;
    this.epochsResource = `DynamoDB table ${options.epochsTableName}`;
    this.location = `DynamoDB tables ${options.tableName} and ${options.epochsTableName}`;
    this.maxJournalAttempts = Math.max(1, Math.trunc(options.maxJournalAttempts ?? 64));
  }

  async head(repository: string): Promise<StoredBlock | undefined> {
    validateRepository(repository);
    const { QueryCommand } = lib();
    const page = await this.call('Query', () =>
      this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
          ExpressionAttributeValues: { ':pk': ledgerStreamKey(repository), ':prefix': BLOCK_PREFIX },
          ScanIndexForward: false,
          Limit: 1,
          ConsistentRead: true,
        }),
      ),
    );
    const items = page.Items ?? [];
    if (items.length === 0) return undefined;
    return (await this.withLeaves(repository, items, 'Query'))[0];
  }

  async append(block: StoredBlock): Promise<void> {
    validateBlock(block);
    const { repository, height } = block;
    const pk = ledgerStreamKey(repository);
    const packed = packLeaves(block.reasoningLeaves, block.uiLeaves);
    if (packed.length > LEDGER_MAX_LEAF_BYTES) {
      throw new InputError(
        'LEDGER_INVALID',
        `block ${height} of ${repository} has ${packed.length} bytes of leaves (${block.reasoningLeaves.length} findings, ${block.uiLeaves.length} actions); ${this.resource} holds at most ${LEDGER_MAX_LEAF_BYTES} per block (one 4 MB transaction)`,
        { location: { field: 'reasoningLeaves' }, context: { repository, height, leafBytes: packed.length, limit: LEDGER_MAX_LEAF_BYTES } },
      );
    }
    const fields = definedFields(block.fields);
    const blockBytes = block.canonical.length + JSON.stringify(fields).length;
    if (blockBytes > MAX_BLOCK_BYTES) {
      throw new InputError(
        'LEDGER_INVALID',
        `block ${height} of ${repository} has ${blockBytes} bytes of canonical bytes and fields; at most ${MAX_BLOCK_BYTES} are stored`,
        { location: { field: 'canonical' }, context: { repository, height } },
      );
    }

    const item: Item = {
      pk,
      sk: ledgerBlockKey(height),
      repository,
      height,
      hash: block.hash,
      canonical: Buffer.from(block.canonical),
      fields,
    };
    if (block.hashSha3 !== undefined) item.hashSha3 = block.hashSha3;
    const chunks: Buffer[] = [];
    if (packed.length <= LEDGER_INLINE_LEAF_BYTES) {
      item.leaves = packed;
    } else {
      for (let offset = 0; offset < packed.length; offset += LEDGER_LEAF_CHUNK_BYTES) {
        chunks.push(packed.subarray(offset, offset + LEDGER_LEAF_CHUNK_BYTES));
      }
      item.leafChunks = chunks.length;
      item.leafBytes = packed.length;
    }

    // Index 0: the block; index 1: the previous height (when there is one). Cancellation reasons come in this order.
    const items: TransactItems = [{ Put: { TableName: this.tableName, Item: item, ConditionExpression: 'attribute_not_exists(pk)' } }];
    if (height > 0) {
      items.push({
        ConditionCheck: {
          TableName: this.tableName,
          Key: { pk, sk: ledgerBlockKey(height - 1) },
          ConditionExpression: 'attribute_exists(pk)',
        },
      });
    } else {
      items.push({ Put: { TableName: this.tableName, Item: { pk: REPOSITORIES_PK, sk: ledgerStreamKey(repository), repository } } });
    }
    chunks.forEach((data, index) => {
      items.push({ Put: { TableName: this.tableName, Item: { pk, sk: leafChunkKey(height, index), height, chunk: index, data } } });
    });

    const { TransactWriteCommand } = lib();
    try {
      await this.client.send(new TransactWriteCommand({ TransactItems: items, ClientRequestToken: randomUUID() }));
    } catch (error) {
      const codes = cancellationCodes(error);
      if (codes === undefined || !isRaceOnly(codes)) throw awsStoreFailure(error, { resource: this.resource, operation: 'TransactWriteItems' });
      const reason =
        codes[0] === 'ConditionalCheckFailed'
          ? 'height_taken'
          : height > 0 && codes[1] === 'ConditionalCheckFailed'
            ? 'previous_missing'
            : 'concurrent_write';
      const why =
        reason === 'height_taken'
          ? `height ${height} is already taken (a concurrent append won: rebuild on the new head and retry)`
          : reason === 'previous_missing'
            ? `height ${height - 1} does not exist, so height ${height} would leave a gap (append at the head's height + 1)`
            : `another transaction was writing height ${height} at the same time (rebuild on the new head and retry)`;
      throw new IntegrityError('LEDGER_CONFLICT', `cannot append block ${height} to the ledger of ${repository} in ${this.resource}: ${why}`, {
        location: { field: 'height' },
        context: { repository, height, reason, resource: this.resource, operation: 'TransactWriteItems' },
        cause: error,
      });
    }
  }

  async get(repository: string, height: number): Promise<StoredBlock | undefined> {
    validateRepository(repository);
    validateNumber(height, 'height');
    const { GetCommand } = lib();
    const response = await this.call('GetItem', () =>
      this.client.send(
        new GetCommand({ TableName: this.tableName, Key: { pk: ledgerStreamKey(repository), sk: ledgerBlockKey(height) }, ConsistentRead: true }),
      ),
    );
    if (response.Item === undefined) return undefined;
    return (await this.withLeaves(repository, [response.Item], 'GetItem'))[0];
  }

  async range(repository: string, start: number, end: number): Promise<StoredBlock[]> {
    validateRepository(repository);
    validateNumber(start, 'start');
    validateNumber(end, 'end');
    if (end < start) return [];
    const items = await this.queryAll(this.tableName, this.resource, {
      KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
      ExpressionAttributeValues: { ':pk': ledgerStreamKey(repository), ':from': ledgerBlockKey(start), ':to': ledgerBlockKey(end) },
    });
    return this.withLeaves(repository, items, 'Query');
  }

  async repositories(): Promise<string[]> {
    const items = await this.queryAll(this.tableName, this.resource, {
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': REPOSITORIES_PK },
    });
    return items
      .map((item) => {
        if (typeof item.repository !== 'string') throw this.unreadable(item, 'Query', 'a stream registration without repository');
        return item.repository;
      })
      .sort(compareCodePoints);
  }

  async recordAction(repository: string, action: LedgerAction): Promise<number> {
    validateRepository(repository);
    validateAction(action);
    const pk = ledgerStreamKey(repository);
    const { GetCommand, TransactWriteCommand } = lib();
    for (let attempt = 1; ; attempt++) {
      const counter = await this.call('GetItem', () =>
        this.client.send(new GetCommand({ TableName: this.tableName, Key: { pk, sk: JOURNAL_SK }, ConsistentRead: true })),
      );
      const current = counter.Item === undefined ? 0 : counter.Item.seq;
      if (typeof current !== 'number' || !Number.isSafeInteger(current) || current < 0) {
        throw this.unreadable(counter.Item ?? {}, 'GetItem', `a journal counter whose seq is ${String(current)}`);
      }
      const seq = current + 1;
      const counterUpdate =
        current === 0
          ? { ConditionExpression: 'attribute_not_exists(pk)', ExpressionAttributeValues: { ':next': seq } }
          : { ConditionExpression: '#seq = :current', ExpressionAttributeValues: { ':next': seq, ':current': current } };
      const items: TransactItems = [
        {
          Update: {
            TableName: this.tableName,
            Key: { pk, sk: JOURNAL_SK },
            UpdateExpression: 'SET #seq = :next',
            ExpressionAttributeNames: { '#seq': 'seq' },
            ...counterUpdate,
          },
        },
        {
          Put: {
            TableName: this.tableName,
            Item: {
              pk,
              sk: actionKey(seq),
              seq,
              kind: action.kind,
              actor: action.actor,
              at: action.at,
              subject: action.subject,
              detail: action.detail,
            },
            ConditionExpression: 'attribute_not_exists(pk)',
          },
        },
      ];
      try {
        await this.client.send(new TransactWriteCommand({ TransactItems: items, ClientRequestToken: randomUUID() }));
        return seq;
      } catch (error) {
        const codes = cancellationCodes(error);
        if (codes === undefined || !isRaceOnly(codes)) throw awsStoreFailure(error, { resource: this.resource, operation: 'TransactWriteItems' });
      }
      if (attempt >= this.maxJournalAttempts) {
        throw new DependencyError(
          'STORE_FAILED',
          `TransactWriteItems on ${this.resource} failed: the action journal of ${repository} kept moving under concurrent actions (${attempt} attempts)`,
          { context: { resource: this.resource, operation: 'TransactWriteItems', repository, attempts: attempt } },
        );
      }
      // A short random pause spreads the contenders of the next round.
      await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(50, 2 * attempt)));
    }
  }

  async actionsAfter(repository: string, afterSeq: number): Promise<JournaledAction[]> {
    validateRepository(repository);
    validateNumber(afterSeq, 'afterSeq');
    if (afterSeq >= LEDGER_MAX_NUMBER) return [];
    const items = await this.queryAll(this.tableName, this.resource, {
      KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
      ExpressionAttributeValues: { ':pk': ledgerStreamKey(repository), ':from': actionKey(afterSeq + 1), ':to': actionKey(LEDGER_MAX_NUMBER) },
    });
    return items.map((item) => {
      const { seq, kind, actor, at, subject, detail } = item;
      if (
        typeof seq !== 'number' ||
        typeof kind !== 'string' ||
        !ACTION_KINDS.has(kind) ||
        typeof actor !== 'string' ||
        typeof at !== 'string' ||
        typeof subject !== 'string' ||
        typeof detail !== 'string'
      ) {
        throw this.unreadable(item, 'Query', 'a journaled action without seq, kind, actor, at, subject or detail');
      }
      return { seq, kind: kind as LedgerAction['kind'], actor, at, subject, detail };
    });
  }

  async putEpoch(epoch: SealedEpoch): Promise<void> {
    validateEpoch(epoch);
    const item: Item = {
      pk: ledgerStreamKey(epoch.repository),
      sk: ledgerEpochKey(epoch.number),
      repository: epoch.repository,
      number: epoch.number,
      startHeight: epoch.startHeight,
      endHeight: epoch.endHeight,
      root: epoch.root,
      sealedAt: epoch.sealedAt,
      statement: Buffer.from(epoch.statement),
      signatures: epoch.signatures.map((signature) => ({
        algorithm: signature.algorithm,
        keyId: signature.keyId,
        signature: Buffer.from(signature.signature),
      })),
    };
    if (epoch.rootSha3 !== undefined) item.rootSha3 = epoch.rootSha3;
    const { PutCommand } = lib();
    try {
      await this.client.send(new PutCommand({ TableName: this.epochsTableName, Item: item, ConditionExpression: 'attribute_not_exists(pk)' }));
    } catch (error) {
      if ((error as { name?: string } | null)?.name !== 'ConditionalCheckFailedException') {
        throw awsStoreFailure(error, { resource: this.epochsResource, operation: 'PutItem' });
      }
      throw new IntegrityError(
        'LEDGER_CONFLICT',
        `epoch ${epoch.number} of ${epoch.repository} is already sealed in ${this.epochsResource}: a sealed epoch is never replaced`,
        {
          location: { field: 'number' },
          context: { repository: epoch.repository, number: epoch.number, resource: this.epochsResource, operation: 'PutItem' },
          cause: error,
        },
      );
    }
  }

  async epochs(repository: string): Promise<SealedEpoch[]> {
    validateRepository(repository);
    const items = await this.queryAll(this.epochsTableName, this.epochsResource, {
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: { ':pk': ledgerStreamKey(repository), ':prefix': EPOCH_PREFIX },
    });
    return items.map((item) => this.toEpoch(item));
  }

  async getSetting(key: LedgerSettingKey): Promise<string | undefined> {
    validateSettingKey(key);
    const { GetCommand } = lib();
    const response = await this.call('GetItem', () =>
      this.client.send(new GetCommand({ TableName: this.tableName, Key: { pk: SETTINGS_PK, sk: `${SETTING_PREFIX}${key}` }, ConsistentRead: true })),
    );
    if (response.Item === undefined) return undefined;
    const value = response.Item.value;
    if (typeof value !== 'string') throw this.unreadable(response.Item, 'GetItem', 'a setting without a text value');
    return value;
  }

  async putSetting(key: LedgerSettingKey, value: string): Promise<void> {
    validateSettingKey(key);
    if (typeof value !== 'string') {
      throw new InputError('INPUT_INVALID', `ledger setting ${key} must be a string`, { location: { field: 'value' } });
    }
    const { PutCommand } = lib();
    await this.call('PutItem', () =>
      this.client.send(new PutCommand({ TableName: this.tableName, Item: { pk: SETTINGS_PK, sk: `${SETTING_PREFIX}${key}`, key, value } })),
    );
  }

  /** Every page of a strongly consistent Query, in sort-key order. */
  private async queryAll(
    tableName: string,
    resource: string,
    input: Pick<QueryCommandInput, 'KeyConditionExpression' | 'ExpressionAttributeValues'>,
  ): Promise<Item[]> {
    const { QueryCommand } = lib();
    const items: Item[] = [];
    let startKey: Item | undefined;
    do {
      let page;
      try {
        page = await this.client.send(
          new QueryCommand({
            TableName: tableName,
            ...input,
            ConsistentRead: true,
            ...(startKey !== undefined ? { ExclusiveStartKey: startKey } : {}),
          }),
        );
      } catch (error) {
        throw awsStoreFailure(error, { resource, operation: 'Query' });
      }
      items.push(...(page.Items ?? []));
      startKey = page.LastEvaluatedKey;
    } while (startKey !== undefined);
    return items;
  }

  /** Blocks of `items` (ascending or one), their chunked leaves read with one paginated Query. */
  private async withLeaves(repository: string, items: readonly Item[], operation: string): Promise<StoredBlock[]> {
    const chunked = items.filter((item) => item.leafChunks !== undefined).map((item) => Number(item.height));
    const chunksByHeight = new Map<number, Item[]>();
    if (chunked.length > 0) {
      const low = Math.min(...chunked);
      const high = Math.max(...chunked);
      const chunkItems = await this.queryAll(this.tableName, this.resource, {
        KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
        ExpressionAttributeValues: {
          ':pk': ledgerStreamKey(repository),
          ':from': `${LEAVES_PREFIX}${pad(low)}#`,
          ':to': `${LEAVES_PREFIX}${pad(high)}#~`,
        },
      });
      for (const chunk of chunkItems) {
        const height = Number(chunk.height);
        const list = chunksByHeight.get(height) ?? [];
        list.push(chunk);
        chunksByHeight.set(height, list);
      }
    }
    return items.map((item) => this.toBlock(repository, item, chunksByHeight.get(Number(item.height)) ?? [], operation));
  }

  private toBlock(repository: string, item: Item, chunks: readonly Item[], operation: string): StoredBlock {
    const { height, hash, canonical, fields, hashSha3 } = item;
    if (
      typeof height !== 'number' ||
      typeof hash !== 'string' ||
      !(canonical instanceof Uint8Array) ||
      typeof fields !== 'object' ||
      fields === null ||
      (hashSha3 !== undefined && typeof hashSha3 !== 'string')
    ) {
      throw this.corrupt(repository, item, operation, 'lacks its height, hash, canonical bytes or fields');
    }
    let packed: Uint8Array;
    if (item.leafChunks === undefined) {
      if (!(item.leaves instanceof Uint8Array)) throw this.corrupt(repository, item, operation, 'lacks its leaves');
      packed = item.leaves;
    } else {
      const sorted = [...chunks].sort((a, b) => Number(a.chunk) - Number(b.chunk));
      const complete =
        sorted.length === item.leafChunks && sorted.every((chunk, index) => chunk.chunk === index && chunk.data instanceof Uint8Array);
      packed = complete ? Buffer.concat(sorted.map((chunk) => chunk.data as Uint8Array)) : Buffer.alloc(0);
      if (!complete || packed.length !== item.leafBytes) {
        throw this.corrupt(repository, item, operation, `has ${sorted.length} of its ${String(item.leafChunks)} leaf chunks (or a chunk is damaged)`);
      }
    }
    const leaves = unpackLeaves(packed);
    if (leaves === undefined) throw this.corrupt(repository, item, operation, 'has leaves that are not a valid packing');
    const block: StoredBlock = {
      repository: typeof item.repository === 'string' ? item.repository : repository,
      height,
      canonical: Buffer.from(canonical),
      hash,
      reasoningLeaves: leaves.reasoningLeaves,
      uiLeaves: leaves.uiLeaves,
      fields: fields as BlockFields,
    };
    if (hashSha3 !== undefined) block.hashSha3 = hashSha3;
    return block;
  }

  private toEpoch(item: Item): SealedEpoch {
    const { repository, number, startHeight, endHeight, root, rootSha3, sealedAt, statement, signatures } = item;
    const signatureList = Array.isArray(signatures) ? (signatures as unknown[]) : undefined;
    if (
      typeof repository !== 'string' ||
      typeof number !== 'number' ||
      typeof startHeight !== 'number' ||
      typeof endHeight !== 'number' ||
      typeof root !== 'string' ||
      (rootSha3 !== undefined && typeof rootSha3 !== 'string') ||
      typeof sealedAt !== 'string' ||
      !(statement instanceof Uint8Array) ||
      signatureList === undefined
    ) {
      throw this.corruptEpoch(item, 'lacks its repository, number, heights, root, sealedAt, statement or signatures');
    }
    const parsed: EpochSignature[] = signatureList.map((entry) => {
      const { algorithm, keyId, signature } = (entry ?? {}) as Item;
      if (typeof algorithm !== 'string' || !SIGNATURE_ALGORITHMS.has(algorithm) || typeof keyId !== 'string' || !(signature instanceof Uint8Array)) {
        throw this.corruptEpoch(item, 'has a signature without a known algorithm, keyId or bytes');
      }
      return { algorithm: algorithm as EpochSignature['algorithm'], keyId, signature: Buffer.from(signature) };
    });
    const epoch: SealedEpoch = { repository, number, startHeight, endHeight, root, sealedAt, statement: Buffer.from(statement), signatures: parsed };
    if (rootSha3 !== undefined) epoch.rootSha3 = rootSha3;
    return epoch;
  }

  private corrupt(repository: string, item: Item, operation: string, what: string): IntegrityError {
    const height = typeof item.height === 'number' ? item.height : undefined;
    return new IntegrityError(
      'LEDGER_INVALID',
      `ledger item ${String(item.pk)} / ${String(item.sk)} in ${this.resource} ${what}: it cannot be read as block ${String(height ?? '?')} of ${repository} (run \`phase-mirror ledger replay\`)`,
      { context: { repository, height, resource: this.resource, operation, sk: item.sk } },
    );
  }

  private corruptEpoch(item: Item, what: string): IntegrityError {
    return new IntegrityError('LEDGER_INVALID', `epoch item ${String(item.pk)} / ${String(item.sk)} in ${this.epochsResource} ${what}`, {
      context: { resource: this.epochsResource, operation: 'Query', sk: item.sk },
    });
  }

  private unreadable(item: Item, operation: string, what: string): DependencyError {
    return awsStoreFailure(new Error(`item ${String(item.pk)} / ${String(item.sk)} is ${what}`), { resource: this.resource, operation });
  }
}

/** The cancellation reason codes of a TransactionCanceledException, in item order; undefined for any other error. */
function cancellationCodes(error: unknown): string[] | undefined {
  const candidate = error as { name?: string; CancellationReasons?: Array<{ Code?: string } | undefined> } | null;
  if (candidate?.name !== 'TransactionCanceledException') return undefined;
  return (candidate.CancellationReasons ?? []).map((reason) => reason?.Code ?? 'None');
}

/** Cancelled only by failed conditions or a concurrent transaction on the same items: a lost race, not a failure. */
function isRaceOnly(codes: readonly string[]): boolean {
  return (
    codes.some((code) => code === 'ConditionalCheckFailed' || code === 'TransactionConflict') &&
    codes.every((code) => code === 'None' || code === 'ConditionalCheckFailed' || code === 'TransactionConflict')
  );
}

/** The fields without undefined members (optional SHA3 fields of sha256-v1 blocks). */
function definedFields(fields: BlockFields): Item {
  const out: Item = {};
  for (const [name, value] of Object.entries(fields)) if (value !== undefined) out[name] = value;
  return out;
}

function validateRepository(repository: string): void {
  if (typeof repository !== 'string' || repository.length === 0) {
    throw new InputError('INPUT_INVALID', 'ledger repository must be a non-empty string', { location: { field: 'repository' } });
  }
  // `repo#<repository>` is the sort key of the stream's registration: DynamoDB sort keys hold at most 1,024 bytes.
  if (Buffer.byteLength(repository, 'utf8') > MAX_REPOSITORY_BYTES) {
    throw new InputError('INPUT_INVALID', `ledger repository names are at most ${MAX_REPOSITORY_BYTES} bytes of UTF-8 on DynamoDB`, {
      location: { field: 'repository' },
    });
  }
}

function validateNumber(value: number, field: string): void {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0 || value > LEDGER_MAX_NUMBER) {
    throw new InputError('INPUT_INVALID', `ledger ${field} must be an integer from 0 to ${LEDGER_MAX_NUMBER} (got ${String(value)})`, {
      location: { field },
    });
  }
}

function validateBlock(block: StoredBlock): void {
  if (typeof block !== 'object' || block === null) {
    throw new InputError('INPUT_INVALID', 'ledger block must be an object', { location: { field: 'block' } });
  }
  validateRepository(block.repository);
  validateNumber(block.height, 'height');
  const problems: string[] = [];
  if (!(block.canonical instanceof Uint8Array) || block.canonical.length === 0) problems.push('canonical must be non-empty bytes');
  if (typeof block.hash !== 'string' || block.hash.length === 0) problems.push('hash must be a non-empty string');
  if (block.hashSha3 !== undefined && typeof block.hashSha3 !== 'string') problems.push('hashSha3 must be a string');
  if (typeof block.fields !== 'object' || block.fields === null) problems.push('fields must be an object');
  for (const list of ['reasoningLeaves', 'uiLeaves'] as const) {
    if (!Array.isArray(block[list]) || !block[list].every((leaf) => leaf instanceof Uint8Array)) problems.push(`${list} must be a list of byte strings`);
  }
  if (problems.length > 0) {
    throw new InputError('INPUT_INVALID', `ledger block ${block.height} of ${block.repository}: ${problems.join('; ')}`, {
      location: { field: 'block' },
      context: { repository: block.repository, height: block.height },
    });
  }
  // The key (repository, height) is where the block is stored: it must be the block the fields describe.
  for (const field of ['repository', 'height'] as const) {
    if (block.fields[field] !== block[field]) {
      throw new IntegrityError(
        'LEDGER_INVALID',
        `ledger block keyed ${block.repository}@${block.height} says ${field} ${JSON.stringify(block.fields[field])} in its fields: refusing to store it`,
        { location: { field }, context: { repository: block.repository, height: block.height } },
      );
    }
  }
}

function validateAction(action: LedgerAction): void {
  const valid =
    typeof action === 'object' &&
    action !== null &&
    ACTION_KINDS.has(action.kind) &&
    typeof action.actor === 'string' &&
    typeof action.at === 'string' &&
    typeof action.subject === 'string' &&
    typeof action.detail === 'string';
  if (!valid) {
    throw new InputError(
      'INPUT_INVALID',
      `ledger action must have kind (${[...ACTION_KINDS].join(', ')}) and text actor, at, subject and detail`,
      { location: { field: 'action' } },
    );
  }
}

function validateEpoch(epoch: SealedEpoch): void {
  if (typeof epoch !== 'object' || epoch === null) {
    throw new InputError('INPUT_INVALID', 'sealed epoch must be an object', { location: { field: 'epoch' } });
  }
  validateRepository(epoch.repository);
  validateNumber(epoch.number, 'number');
  validateNumber(epoch.startHeight, 'startHeight');
  validateNumber(epoch.endHeight, 'endHeight');
  const problems: string[] = [];
  if (epoch.endHeight < epoch.startHeight) problems.push('endHeight must not be below startHeight');
  if (typeof epoch.root !== 'string' || epoch.root.length === 0) problems.push('root must be a non-empty string');
  if (epoch.rootSha3 !== undefined && typeof epoch.rootSha3 !== 'string') problems.push('rootSha3 must be a string');
  if (typeof epoch.sealedAt !== 'string' || epoch.sealedAt.length === 0) problems.push('sealedAt must be a non-empty string');
  if (!(epoch.statement instanceof Uint8Array) || epoch.statement.length === 0) problems.push('statement must be non-empty bytes');
  if (
    !Array.isArray(epoch.signatures) ||
    !epoch.signatures.every(
      (signature) =>
        typeof signature === 'object' &&
        signature !== null &&
        SIGNATURE_ALGORITHMS.has(signature.algorithm) &&
        typeof signature.keyId === 'string' &&
        signature.signature instanceof Uint8Array,
    )
  ) {
    problems.push(`signatures must be a list of { algorithm (${[...SIGNATURE_ALGORITHMS].join(', ')}), keyId, signature bytes }`);
  }
  if (problems.length > 0) {
    throw new InputError('INPUT_INVALID', `sealed epoch ${epoch.number} of ${epoch.repository}: ${problems.join('; ')}`, {
      location: { field: 'epoch' },
      context: { repository: epoch.repository, number: epoch.number },
    });
  }
}

function validateSettingKey(key: LedgerSettingKey): void {
  if (!SETTING_KEYS.has(key)) {
    throw new InputError('INPUT_INVALID', `unknown ledger setting ${JSON.stringify(key)} (known: ${[...SETTING_KEYS].join(', ')})`, {
      location: { field: 'key' },
    });
  }
}
