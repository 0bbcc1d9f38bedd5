/**
 * SQLite adapter of the ledger store port (src/ledger/store.ts) on the state
 * database (migrations 4-6). A block is one row keyed (repository, height):
 * its canonical bytes, hash(es) and leaves exactly as appended, plus the
 * decoded fields as columns. Appends run in an IMMEDIATE transaction that
 * checks the height is free and follows the stream's head, so two writers
 * (threads or processes on the same file) can never fork a stream.
 *
 * Reads return what is stored, never a repaired value: a column changed
 * behind the store's back comes back changed (for replay and the drift radar
 * to name), and bytes that cannot be represented at all (a truncated leaves
 * blob, unparseable signatures) fail with IntegrityError LEDGER_INVALID
 * naming the repository, height or epoch, and column.
 */
import type { Database, Statement, Transaction } from 'better-sqlite3';
import { InputError, IntegrityError } from '../../errors';
import { compareCodePoints } from '../../hashing';
import { BLOCK_FIELD_ORDER, type BlockFields, type JournaledAction, type LedgerAction, type Outcome, type StoredBlock } from '../../ledger/block';
import type { HashAlgorithmId } from '../../ledger/hash';
import type { EpochSignature, LedgerSettingKey, LedgerStore, SealedEpoch } from '../../ledger/store';
import type { SqliteAdapterOptions } from './fp-store';
import { guard } from './store-error';

/** The keys `getSetting`/`putSetting` accept. */
export const LEDGER_SETTING_KEYS: readonly LedgerSettingKey[] = ['dual_activation_height', 'epoch_size'];

const ACTION_KINDS: readonly LedgerAction['kind'][] = ['fp_mark', 'consent_grant', 'consent_revoke', 'override'];
const SIGNATURE_ALGORITHMS: readonly EpochSignature['algorithm'][] = ['ed25519', 'ecdsa-p256-sha256', 'ml-dsa-44'];
const SHA3_FIELDS = ['prev_hash_sha3', 'reasoning_root_sha3', 'ui_root_sha3', 'composite_root_sha3'] as const;
const REQUIRED_FIELDS = BLOCK_FIELD_ORDER.filter((name) => !(SHA3_FIELDS as readonly string[]).includes(name));

/** Column values as SQLite returns them: a tampered column may hold any storage class. */
type Stored = string | number | bigint | Buffer | null;

const BLOCK_COLUMNS =
  'repository, height, canonical, hash, hash_sha3, reasoning_leaves, ui_leaves, schema_version, prev_hash, timestamp, mode, commit_sha, ' +
  'outcome, degraded, rules_hash, report_hash, ui_through_seq, reasoning_root, ui_root, composite_root, hash_algorithm, ' +
  'prev_hash_sha3, reasoning_root_sha3, ui_root_sha3, composite_root_sha3';

/**
 * A block row read in raw mode (an array, in BLOCK_COLUMNS order): reading
 * 25 columns into arrays is markedly cheaper than into keyed objects, and
 * replay reads every column of every row.
 */
type BlockRawRow = [
  repository: string,
  height: number,
  canonical: Stored,
  hash: Stored,
  hash_sha3: Stored,
  reasoning_leaves: Stored,
  ui_leaves: Stored,
  schema_version: Stored,
  prev_hash: Stored,
  timestamp: Stored,
  mode: Stored,
  commit_sha: Stored,
  outcome: Stored,
  degraded: Stored,
  rules_hash: Stored,
  report_hash: Stored,
  ui_through_seq: Stored,
  reasoning_root: Stored,
  ui_root: Stored,
  composite_root: Stored,
  hash_algorithm: Stored,
  prev_hash_sha3: Stored,
  reasoning_root_sha3: Stored,
  ui_root_sha3: Stored,
  composite_root_sha3: Stored,
];

/** Index in a BlockRawRow of each SHA3 field's column. */
const SHA3_COLUMN_INDEX: readonly (readonly [(typeof SHA3_FIELDS)[number], number])[] = [
  ['prev_hash_sha3', 21],
  ['reasoning_root_sha3', 22],
  ['ui_root_sha3', 23],
  ['composite_root_sha3', 24],
];

interface ActionRow {
  seq: number;
  kind: string;
  actor: string;
  at: string;
  subject: string;
  detail: string;
}

interface EpochRow {
  repository: string;
  number: number;
  start_height: Stored;
  end_height: Stored;
  root: Stored;
  root_sha3: Stored;
  sealed_at: Stored;
  statement: Stored;
  signatures: Stored;
}

type Params = Record<string, string | number | Buffer | null>;

export class SqliteLedgerStore implements LedgerStore {
  readonly location: string;
  private readonly now: () => number;
  private readonly headHeight: Statement<[string], number | null>;
  private readonly insertBlock: Statement<[Params]>;
  private readonly headBlock: Statement<[string], BlockRawRow>;
  private readonly oneBlock: Statement<[string, number], BlockRawRow>;
  private readonly blockRange: Statement<[string, number, number], BlockRawRow>;
  /** The IMMEDIATE transaction of `append`, built once. */
  private readonly appendTransaction: Transaction<(params: Params) => void>;
  private readonly repositoryList: Statement<[], string>;
  private readonly insertAction: Statement<[Params], number>;
  private readonly actionList: Statement<[string, number], ActionRow>;
  private readonly insertEpoch: Statement<[Params]>;
  private readonly epochList: Statement<[string], EpochRow>;
  private readonly readSetting: Statement<[string], string>;
  private readonly writeSetting: Statement<[string, string, string]>;

  constructor(
    private readonly db: Database,
    private readonly file: string,
    options: SqliteAdapterOptions = {},
  ) {
    this.location = file;
    this.now = options.now ?? Date.now;
    const prepared = guard(file, 'prepare ledger statements', () => ({
      headHeight: db.prepare<[string], number | null>('SELECT MAX(height) FROM ledger_blocks WHERE repository = ?').pluck(),
      insertBlock: db.prepare<[Params]>(
        `INSERT INTO ledger_blocks (${BLOCK_COLUMNS}, appended_at) VALUES (
           @repository, @height, @canonical, @hash, @hash_sha3, @reasoning_leaves, @ui_leaves, @schema_version, @prev_hash, @timestamp,
           @mode, @commit_sha, @outcome, @degraded, @rules_hash, @report_hash, @ui_through_seq, @reasoning_root, @ui_root,
           @composite_root, @hash_algorithm, @prev_hash_sha3, @reasoning_root_sha3, @ui_root_sha3, @composite_root_sha3, @appended_at)`,
      ),
      headBlock: db
        .prepare<[string], BlockRawRow>(`SELECT ${BLOCK_COLUMNS} FROM ledger_blocks WHERE repository = ? ORDER BY height DESC LIMIT 1`)
        .raw(),
      oneBlock: db.prepare<[string, number], BlockRawRow>(`SELECT ${BLOCK_COLUMNS} FROM ledger_blocks WHERE repository = ? AND height = ?`).raw(),
      blockRange: db
        .prepare<[string, number, number], BlockRawRow>(
          `SELECT ${BLOCK_COLUMNS} FROM ledger_blocks WHERE repository = ? AND height >= ? AND height <= ? ORDER BY height`,
        )
        .raw(),
      repositoryList: db.prepare<[], string>('SELECT DISTINCT repository FROM ledger_blocks').pluck(),
      // MAX + 1 inside the IMMEDIATE transaction of recordAction: no two actions share a seq.
      insertAction: db
        .prepare<[Params], number>(
          `INSERT INTO ledger_actions (repository, seq, kind, actor, at, subject, detail, recorded_at)
           SELECT @repository, COALESCE(MAX(seq), 0) + 1, @kind, @actor, @at, @subject, @detail, @recorded_at
           FROM ledger_actions WHERE repository = @repository
           RETURNING seq`,
        )
        .pluck(),
      actionList: db.prepare<[string, number], ActionRow>(
        'SELECT seq, kind, actor, at, subject, detail FROM ledger_actions WHERE repository = ? AND seq > ? ORDER BY seq',
      ),
      insertEpoch: db.prepare<[Params]>(
        `INSERT INTO ledger_epochs (repository, number, start_height, end_height, root, root_sha3, sealed_at, statement, signatures)
         VALUES (@repository, @number, @start_height, @end_height, @root, @root_sha3, @sealed_at, @statement, @signatures)
         ON CONFLICT (repository, number) DO NOTHING`,
      ),
      epochList: db.prepare<[string], EpochRow>(
        `SELECT repository, number, start_height, end_height, root, root_sha3, sealed_at, statement, signatures
         FROM ledger_epochs WHERE repository = ? ORDER BY number`,
      ),
      readSetting: db.prepare<[string], string>('SELECT value FROM ledger_settings WHERE key = ?').pluck(),
      writeSetting: db.prepare<[string, string, string]>(
        `INSERT INTO ledger_settings (key, value, updated_at) VALUES (?, ?, ?)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
      ),
    }));
    this.headHeight = prepared.headHeight;
    this.insertBlock = prepared.insertBlock;
    this.headBlock = prepared.headBlock;
    this.oneBlock = prepared.oneBlock;
    this.blockRange = prepared.blockRange;
    this.repositoryList = prepared.repositoryList;
    this.insertAction = prepared.insertAction;
    this.actionList = prepared.actionList;
    this.insertEpoch = prepared.insertEpoch;
    this.epochList = prepared.epochList;
    this.readSetting = prepared.readSetting;
    this.writeSetting = prepared.writeSetting;
    // The height is free exactly when it is the head's + 1 (MAX(height) + 1 is never taken), so one read decides.
    this.appendTransaction = db.transaction((params: Params): void => {
      const repository = params.repository as string;
      const height = params.height as number;
      const head = this.headHeight.get(repository) ?? undefined;
      if (height !== (head === undefined ? 0 : head + 1)) throw conflict(repository, height, head);
      params.appended_at = new Date(this.now()).toISOString();
      try {
        this.insertBlock.run(params);
      } catch (error) {
        // Unreachable while the check above holds the write lock; kept so a key clash is never reported as an outage.
        if (isConstraint(error, 'SQLITE_CONSTRAINT_PRIMARYKEY')) throw conflict(repository, height, head);
        throw error;
      }
    });
  }

  async head(repository: string): Promise<StoredBlock | undefined> {
    checkRepository(repository);
    return guard(this.file, 'read ledger head', () => {
      const row = this.headBlock.get(repository);
      return row === undefined ? undefined : toBlock(row);
    });
  }

  async append(block: StoredBlock): Promise<void> {
    const params = blockParams(block);
    guard(this.file, 'append ledger block', () => this.appendTransaction.immediate(params));
  }

  async get(repository: string, height: number): Promise<StoredBlock | undefined> {
    checkRepository(repository);
    checkHeight(height, 'height');
    return guard(this.file, 'read ledger block', () => {
      const row = this.oneBlock.get(repository, height);
      return row === undefined ? undefined : toBlock(row);
    });
  }

  async range(repository: string, start: number, end: number): Promise<StoredBlock[]> {
    checkRepository(repository);
    checkHeight(start, 'start');
    checkHeight(end, 'end');
    return guard(this.file, 'read ledger range', () => this.blockRange.all(repository, start, end).map(toBlock));
  }

  async repositories(): Promise<string[]> {
    // Sorted with the project's comparator (as the DynamoDB adapter), not SQLite's UTF-8 byte order, so both adapters agree.
    return guard(this.file, 'list ledger repositories', () => this.repositoryList.all().sort(compareCodePoints));
  }

  async recordAction(repository: string, action: LedgerAction): Promise<number> {
    checkRepository(repository);
    checkAction(action);
    return guard(this.file, 'record ledger action', () => {
      const write = this.db.transaction((): number => {
        const seq = this.insertAction.get({
          repository,
          kind: action.kind,
          actor: action.actor,
          at: action.at,
          subject: action.subject,
          detail: action.detail,
          recorded_at: new Date(this.now()).toISOString(),
        });
        if (seq === undefined) throw new Error(`INSERT of a ledger action for ${repository} returned no seq`);
        return seq;
      });
      return write.immediate();
    });
  }

  async actionsAfter(repository: string, afterSeq: number): Promise<JournaledAction[]> {
    checkRepository(repository);
    checkHeight(afterSeq, 'afterSeq');
    return guard(this.file, 'read ledger actions', () =>
      this.actionList.all(repository, afterSeq).map((row) => ({
        seq: row.seq,
        kind: row.kind as LedgerAction['kind'],
        actor: row.actor,
        at: row.at,
        subject: row.subject,
        detail: row.detail,
      })),
    );
  }

  async putEpoch(epoch: SealedEpoch): Promise<void> {
    const params = epochParams(epoch);
    guard(this.file, 'store sealed epoch', () => {
      const { changes } = this.insertEpoch.run(params);
      if (changes === 0) {
        throw new IntegrityError('LEDGER_CONFLICT', `epoch ${epoch.number} of ${epoch.repository} is already sealed`, {
          location: { field: 'number' },
          context: { repository: epoch.repository, epoch: epoch.number, file: this.file },
        });
      }
    });
  }

  async epochs(repository: string): Promise<SealedEpoch[]> {
    checkRepository(repository);
    return guard(this.file, 'read sealed epochs', () => this.epochList.all(repository).map(toEpoch));
  }

  async getSetting(key: LedgerSettingKey): Promise<string | undefined> {
    checkSettingKey(key);
    return guard(this.file, 'read ledger setting', () => this.readSetting.get(key));
  }

  async putSetting(key: LedgerSettingKey, value: string): Promise<void> {
    checkSettingKey(key);
    if (typeof value !== 'string') {
      throw new InputError('INPUT_INVALID', `ledger setting ${key} must be a string`, { location: { field: 'value' }, context: { key } });
    }
    guard(this.file, 'write ledger setting', () => {
      this.writeSetting.run(key, value, new Date(this.now()).toISOString());
    });
  }
}

function conflict(repository: string, height: number, head: number | undefined): IntegrityError {
  const where = head === undefined ? 'the stream is empty, so the next height is 0' : `its head is at ${head}, so the next height is ${head + 1}`;
  const what = head !== undefined && height <= head ? 'is taken' : 'does not follow the head';
  return new IntegrityError(
    'LEDGER_CONFLICT',
    `ledger height ${height} of ${repository} ${what} (${where}): rebuild the block on the current head and retry`,
    { location: { field: 'height' }, context: { repository, height, head: head ?? null } },
  );
}

function isConstraint(error: unknown, code: string): boolean {
  return error !== null && typeof error === 'object' && (error as { code?: unknown }).code === code;
}

function invalid(message: string, field: string, context: Record<string, unknown> = {}): InputError {
  return new InputError('LEDGER_INVALID', message, { location: { field }, context });
}

function checkRepository(repository: unknown): asserts repository is string {
  if (typeof repository !== 'string' || repository.length === 0) throw invalid('ledger repository must be a non-empty string', 'repository');
}

function checkHeight(value: unknown, field: string): asserts value is number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw invalid(`ledger ${field} must be a non-negative integer, got ${String(value)}`, field);
  }
}

function checkSettingKey(key: unknown): asserts key is LedgerSettingKey {
  if (!(LEDGER_SETTING_KEYS as readonly unknown[]).includes(key)) {
    throw new InputError('INPUT_INVALID', `unknown ledger setting ${JSON.stringify(key)}; use one of ${LEDGER_SETTING_KEYS.join(', ')}`, {
      location: { field: 'key' },
    });
  }
}

function checkAction(action: LedgerAction): void {
  if (action === null || typeof action !== 'object') throw invalid('ledger action must be an object', 'action');
  if (!ACTION_KINDS.includes(action.kind)) throw invalid(`unknown ledger action kind ${JSON.stringify(action.kind)}; use one of ${ACTION_KINDS.join(', ')}`, 'kind');
  for (const field of ['actor', 'at', 'subject', 'detail'] as const) {
    if (typeof action[field] !== 'string') throw invalid(`ledger action ${field} must be a string`, field);
  }
}

/** The row of a block to append; refuses a block whose key and fields disagree (one row holds both). */
function blockParams(block: StoredBlock): Params {
  if (block === null || typeof block !== 'object') throw invalid('ledger block must be an object', 'block');
  checkRepository(block.repository);
  checkHeight(block.height, 'height');
  const context = { repository: block.repository, height: block.height };
  if (!Buffer.isBuffer(block.canonical)) throw invalid('ledger block canonical bytes must be a Buffer', 'canonical', context);
  if (typeof block.hash !== 'string') throw invalid('ledger block hash must be a hex string', 'hash', context);
  if (block.hashSha3 !== undefined && typeof block.hashSha3 !== 'string') throw invalid('ledger block hashSha3 must be a hex string', 'hashSha3', context);
  const fields = block.fields;
  if (fields === null || typeof fields !== 'object') throw invalid('ledger block fields must be an object', 'fields', context);
  for (const name of REQUIRED_FIELDS) {
    if (fields[name] === undefined || fields[name] === null) throw invalid(`ledger block field ${name} is missing`, name, context);
  }
  if (fields.repository !== block.repository || fields.height !== block.height) {
    throw invalid(
      `ledger block key (${block.repository}, ${block.height}) disagrees with its fields (${String(fields.repository)}, ${String(fields.height)})`,
      fields.repository !== block.repository ? 'repository' : 'height',
      context,
    );
  }
  const sha3 = (value: string | undefined): string | null => (value === undefined ? null : value);
  return {
    repository: block.repository,
    height: block.height,
    canonical: block.canonical,
    hash: block.hash,
    hash_sha3: sha3(block.hashSha3),
    reasoning_leaves: encodeLeaves(block.reasoningLeaves, 'reasoningLeaves', context),
    ui_leaves: encodeLeaves(block.uiLeaves, 'uiLeaves', context),
    schema_version: fields.schema_version,
    prev_hash: fields.prev_hash,
    timestamp: fields.timestamp,
    mode: fields.mode,
    commit_sha: fields.commit,
    outcome: fields.outcome,
    degraded: fields.degraded ? 1 : 0,
    rules_hash: fields.rules_hash,
    report_hash: fields.report_hash,
    ui_through_seq: fields.ui_through_seq,
    reasoning_root: fields.reasoning_root,
    ui_root: fields.ui_root,
    composite_root: fields.composite_root,
    hash_algorithm: fields.hash_algorithm,
    prev_hash_sha3: sha3(fields.prev_hash_sha3),
    reasoning_root_sha3: sha3(fields.reasoning_root_sha3),
    ui_root_sha3: sha3(fields.ui_root_sha3),
    composite_root_sha3: sha3(fields.composite_root_sha3),
    appended_at: '',
  };
}

/** Leaves as u32be(length) ‖ bytes, concatenated (an empty list is an empty blob). */
export function encodeLeaves(leaves: readonly Buffer[], field: string, context: Record<string, unknown> = {}): Buffer {
  if (!Array.isArray(leaves) || !leaves.every((leaf) => Buffer.isBuffer(leaf))) throw invalid(`ledger block ${field} must be an array of Buffers`, field, context);
  let total = 0;
  for (const leaf of leaves) total += 4 + leaf.length;
  const blob = Buffer.allocUnsafe(total);
  let offset = 0;
  for (const leaf of leaves) {
    offset = blob.writeUInt32BE(leaf.length, offset);
    offset += leaf.copy(blob, offset);
  }
  return blob;
}

/** The inverse of encodeLeaves; a blob that does not parse is LEDGER_INVALID naming the block and column. */
export function decodeLeaves(blob: Buffer, column: string, context: Record<string, unknown> = {}): Buffer[] {
  return splitLeaves(blob, column, context, true);
}

/** decodeLeaves; with `copy` false the leaves are views into `blob` (for a blob nobody else holds). */
function splitLeaves(blob: Buffer, column: string, context: Record<string, unknown>, copy: boolean): Buffer[] {
  const leaves: Buffer[] = [];
  let offset = 0;
  while (offset < blob.length) {
    if (offset + 4 > blob.length) throw corrupt(column, `truncated leaf length at byte ${offset}`, context);
    const length = blob.readUInt32BE(offset);
    offset += 4;
    if (offset + length > blob.length) throw corrupt(column, `leaf of ${length} bytes runs past the end at byte ${offset}`, context);
    const leaf = blob.subarray(offset, offset + length);
    leaves.push(copy ? Buffer.from(leaf) : leaf);
    offset += length;
  }
  return leaves;
}

function corrupt(column: string, detail: string, context: Record<string, unknown>): IntegrityError {
  const where = 'number' in context ? `epoch ${String(context.number)}` : `height ${String(context.height)}`;
  return new IntegrityError('LEDGER_INVALID', `ledger ${where} of ${String(context.repository)}: stored ${column} cannot be read (${detail})`, {
    location: { field: column },
    context,
  });
}

/** A column's bytes as stored: a BLOB as is, any other storage class as the UTF-8 of its text (it will not hash to anything valid). */
function bytesOf(value: Stored): Buffer {
  if (Buffer.isBuffer(value)) return value;
  return Buffer.from(value === null ? '' : String(value), 'utf8');
}

/**
 * The stored row as a block. Values are passed through as stored: a 0/1
 * `degraded` becomes false/true, anything else in any column is returned
 * unchanged (even where its type is wrong) for the consensus rules to name.
 */
function toBlock(row: BlockRawRow): StoredBlock {
  const repository = row[0];
  const height = row[1];
  const asIs = <T>(value: Stored): T => value as unknown as T;
  const degraded = row[13];
  const fields: BlockFields = {
    schema_version: asIs<number>(row[7]),
    repository,
    height,
    prev_hash: asIs<string>(row[8]),
    timestamp: asIs<string>(row[9]),
    mode: asIs<string>(row[10]),
    commit: asIs<string>(row[11]),
    outcome: asIs<Outcome>(row[12]),
    degraded: degraded === 0 ? false : degraded === 1 ? true : asIs<boolean>(degraded),
    rules_hash: asIs<string>(row[14]),
    report_hash: asIs<string>(row[15]),
    ui_through_seq: asIs<number>(row[16]),
    reasoning_root: asIs<string>(row[17]),
    ui_root: asIs<string>(row[18]),
    composite_root: asIs<string>(row[19]),
    hash_algorithm: asIs<HashAlgorithmId>(row[20]),
  };
  for (const [name, index] of SHA3_COLUMN_INDEX) if (row[index] !== null) fields[name] = asIs<string>(row[index]);
  // Leaves are views into the row's own blob (a fresh Buffer per read): no copy needed.
  const context = { repository, height };
  const canonical = bytesOf(row[2]);
  const hash = asIs<string>(row[3]);
  const reasoningLeaves = splitLeaves(bytesOf(row[5]), 'reasoning_leaves', context, false);
  const uiLeaves = splitLeaves(bytesOf(row[6]), 'ui_leaves', context, false);
  return row[4] === null
    ? { repository, height, canonical, hash, reasoningLeaves, uiLeaves, fields }
    : { repository, height, canonical, hash, hashSha3: asIs<string>(row[4]), reasoningLeaves, uiLeaves, fields };
}

function epochParams(epoch: SealedEpoch): Params {
  if (epoch === null || typeof epoch !== 'object') throw invalid('sealed epoch must be an object', 'epoch');
  checkRepository(epoch.repository);
  checkHeight(epoch.number, 'number');
  checkHeight(epoch.startHeight, 'startHeight');
  checkHeight(epoch.endHeight, 'endHeight');
  const context = { repository: epoch.repository, number: epoch.number };
  if (epoch.endHeight < epoch.startHeight) throw invalid(`epoch ${epoch.number} ends (${epoch.endHeight}) before it starts (${epoch.startHeight})`, 'endHeight', context);
  if (typeof epoch.root !== 'string') throw invalid('epoch root must be a hex string', 'root', context);
  if (epoch.rootSha3 !== undefined && typeof epoch.rootSha3 !== 'string') throw invalid('epoch rootSha3 must be a hex string', 'rootSha3', context);
  if (typeof epoch.sealedAt !== 'string') throw invalid('epoch sealedAt must be an ISO string', 'sealedAt', context);
  if (!Buffer.isBuffer(epoch.statement)) throw invalid('epoch statement must be a Buffer', 'statement', context);
  if (!Array.isArray(epoch.signatures)) throw invalid('epoch signatures must be an array', 'signatures', context);
  const signatures = epoch.signatures.map((signature, index) => {
    if (!SIGNATURE_ALGORITHMS.includes(signature?.algorithm) || typeof signature.keyId !== 'string' || !Buffer.isBuffer(signature.signature)) {
      throw invalid(`epoch signature ${index} needs an algorithm (${SIGNATURE_ALGORITHMS.join(', ')}), a keyId and a Buffer signature`, 'signatures', context);
    }
    return { algorithm: signature.algorithm, keyId: signature.keyId, signature: signature.signature.toString('base64') };
  });
  return {
    repository: epoch.repository,
    number: epoch.number,
    start_height: epoch.startHeight,
    end_height: epoch.endHeight,
    root: epoch.root,
    root_sha3: epoch.rootSha3 ?? null,
    sealed_at: epoch.sealedAt,
    statement: epoch.statement,
    signatures: JSON.stringify(signatures),
  };
}

function toEpoch(row: EpochRow): SealedEpoch {
  const context = { repository: row.repository, number: row.number };
  let parsed: unknown;
  try {
    parsed = JSON.parse(String(row.signatures));
  } catch (error) {
    throw corrupt('signatures', error instanceof Error ? error.message : String(error), context);
  }
  if (!Array.isArray(parsed)) throw corrupt('signatures', 'not a JSON array', context);
  const signatures = parsed.map((entry: unknown, index): EpochSignature => {
    const item = entry as { algorithm?: unknown; keyId?: unknown; signature?: unknown } | null;
    if (item === null || typeof item !== 'object' || typeof item.signature !== 'string') {
      throw corrupt('signatures', `entry ${index} has no base64 signature`, context);
    }
    return {
      algorithm: item.algorithm as EpochSignature['algorithm'],
      keyId: item.keyId as string,
      signature: Buffer.from(item.signature, 'base64'),
    };
  });
  const asIs = <T>(value: Stored): T => value as unknown as T;
  return {
    repository: row.repository,
    number: row.number,
    startHeight: asIs<number>(row.start_height),
    endHeight: asIs<number>(row.end_height),
    root: asIs<string>(row.root),
    ...(row.root_sha3 !== null ? { rootSha3: asIs<string>(row.root_sha3) } : {}),
    sealedAt: asIs<string>(row.sealed_at),
    statement: bytesOf(row.statement),
    signatures,
  };
}
