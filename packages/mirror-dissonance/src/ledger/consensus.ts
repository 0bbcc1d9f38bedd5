/**
 * Consensus rules of the ledger (docs/ledger.md): what makes a stored block
 * valid on its own and as the successor of the previous block. The canonical
 * bytes are the authority: every rule is checked on the decoded bytes, and the
 * stored columns (`fields`), hashes and leaves must agree with them.
 *
 * `validateBlockStructure` checks the record (required fields, types, order,
 * known schema version and hash algorithm, SHA3 fields present exactly on
 * `dual-v1` blocks), the link to the previous block (height, prev_hash and, on
 * dual blocks, prev_hash_sha3 — the cross-algorithm link at the first dual
 * block), timestamps that never decrease, the stored hash(es) and the columns.
 * `validateAttestationRoots` recomputes the attestation roots from the stored
 * leaves (SHA-256, and SHA3-256 on dual blocks). Each violation names the
 * height and the field.
 */
import { IntegrityError } from '../errors';
import {
  attestationRootOf,
  BLOCK_FIELD_ORDER,
  compositeRoot,
  encodeBlockFields,
  LEDGER_SCHEMA_VERSION,
  type BlockFields,
  type StoredBlock,
} from './block';
import { decodeRecord, EncodingError, fieldAtOffset, type FieldValue } from './encoding';
import { digest, isHashAlgorithmId, ZERO_HASH, type DigestAlgorithm } from './hash';

/** Schema versions this code can validate. */
export const KNOWN_SCHEMA_VERSIONS: readonly number[] = [LEDGER_SCHEMA_VERSION];

/** Hash algorithms a block may declare (`sha3-v1` is a registry entry for epochs and proofs, not a block algorithm). */
export const BLOCK_HASH_ALGORITHMS: readonly string[] = ['sha256-v1', 'dual-v1'];

export type ConsensusRule =
  /** The canonical bytes do not decode. */
  | 'encoding'
  | 'unknown_field'
  | 'missing_field'
  | 'field_order'
  | 'field_type'
  /** A value outside its domain (outcome, timestamp, empty repository). */
  | 'field_value'
  | 'schema_version'
  | 'hash_algorithm'
  /** SHA3 fields present on a non-dual block or missing on a dual one. */
  | 'sha3_fields'
  /** The stored height or repository differs from the bytes. */
  | 'envelope'
  | 'height'
  | 'repository'
  | 'prev_hash'
  | 'prev_hash_sha3'
  | 'timestamp'
  | 'ui_through_seq'
  | 'block_hash'
  | 'block_hash_sha3'
  /** A stored column differs from the canonical bytes. */
  | 'column'
  | 'attestation_root'
  | 'attestation_leaf';

export interface RuleViolation {
  rule: ConsensusRule;
  height: number;
  repository: string;
  /** The block field (or stored attribute: `hash`, `hashSha3`, `reasoning_leaves[i]`) that breaks the rule. */
  field: string;
  expected?: string;
  actual?: string;
  message: string;
}

/** Thrown by `assertValidBlock`: the block breaks at least one consensus rule. */
export class LedgerRuleViolationError extends IntegrityError {
  readonly violations: readonly RuleViolation[];

  constructor(violations: readonly RuleViolation[]) {
    const first = violations[0];
    const summary = first === undefined ? 'ledger block breaks the consensus rules' : describeViolation(first);
    const more = violations.length > 1 ? ` (and ${violations.length - 1} more)` : '';
    super('LEDGER_INVALID', `${summary}${more}`, {
      location: first === undefined ? {} : { field: first.field },
      context: { violations: violations.map((v) => ({ rule: v.rule, height: v.height, repository: v.repository, field: v.field })) },
    });
    this.violations = violations;
  }
}

/** `repository@height field: message`. */
export function describeViolation(violation: RuleViolation): string {
  return `${violation.repository}@${violation.height} ${violation.field}: ${violation.message}`;
}

type FieldKind = 'uint' | 'string' | 'bool' | 'digest';

const FIELD_KIND: Readonly<Record<keyof BlockFields, FieldKind>> = {
  schema_version: 'uint',
  repository: 'string',
  height: 'uint',
  prev_hash: 'digest',
  timestamp: 'string',
  mode: 'string',
  commit: 'string',
  outcome: 'string',
  degraded: 'bool',
  rules_hash: 'digest',
  report_hash: 'digest',
  ui_through_seq: 'uint',
  reasoning_root: 'digest',
  ui_root: 'digest',
  composite_root: 'digest',
  hash_algorithm: 'string',
  prev_hash_sha3: 'digest',
  reasoning_root_sha3: 'digest',
  ui_root_sha3: 'digest',
  composite_root_sha3: 'digest',
};

export const SHA3_FIELDS: readonly (keyof BlockFields)[] = ['prev_hash_sha3', 'reasoning_root_sha3', 'ui_root_sha3', 'composite_root_sha3'];
const SHA3_FIELD_SET: ReadonlySet<string> = new Set(SHA3_FIELDS);
const FIELD_INDEX: ReadonlyMap<string, number> = new Map(BLOCK_FIELD_ORDER.map((name, index) => [name, index]));
const OUTCOMES: ReadonlySet<string> = new Set(['pass', 'warn', 'block']);
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;

/** The canonical bytes of a block decoded once: raw values (digests as Buffers) and the display form (digests as hex). */
export interface DecodedBlock {
  /** Field names in the order they appear in the bytes. */
  names: string[];
  raw: Map<string, FieldValue>;
  /** Values as the columns hold them: digests as lowercase hex. */
  values: Record<string, unknown>;
}

/** Decodes a block's canonical bytes, or returns the encoding violation. */
export function decodeStoredBlock(block: StoredBlock): DecodedBlock | RuleViolation {
  try {
    const names: string[] = [];
    const raw = new Map<string, FieldValue>();
    const values: Record<string, unknown> = {};
    for (const { name, value } of decodeRecord(block.canonical)) {
      names.push(name);
      raw.set(name, value);
      values[name] = Buffer.isBuffer(value) ? value.toString('hex') : value;
    }
    return { names, raw, values };
  } catch (error) {
    if (!(error instanceof EncodingError)) throw error;
    return {
      rule: 'encoding',
      height: block.height,
      repository: block.repository,
      field: tamperedField(block) ?? error.field ?? 'canonical',
      message: `the canonical bytes do not decode: ${error.message} (byte ${error.offset})`,
    };
  }
}

/**
 * The field a change in the canonical bytes falls in: the stored columns are
 * re-encoded and the first differing byte is located. Only a diagnostic (the
 * bytes stay the authority); undefined when the columns cannot be encoded or
 * agree with the bytes.
 */
function tamperedField(block: StoredBlock): string | undefined {
  let expected: Buffer;
  try {
    expected = encodeBlockFields(block.fields);
  } catch {
    return undefined;
  }
  const actual = block.canonical;
  const length = Math.min(expected.length, actual.length);
  let offset = 0;
  while (offset < length && expected[offset] === actual[offset]) offset += 1;
  if (offset === length && expected.length === actual.length) return undefined;
  return fieldAtOffset(expected, offset) ?? fieldAtOffset(actual, offset);
}

function isDecoded(value: DecodedBlock | RuleViolation): value is DecodedBlock {
  return 'names' in value;
}

/**
 * Every structural and chain rule `block` breaks as the successor of
 * `previous` (undefined: `block` must be the genesis block, height 0).
 * `previous` is trusted as given: its own bytes are checked when it is validated.
 */
export function validateBlockStructure(block: StoredBlock, previous: StoredBlock | undefined): RuleViolation[] {
  const decoded = decodeStoredBlock(block);
  return structureViolations(block, previous, decoded, true, blockDigests(block, decoded));
}

/** Recomputes the attestation roots from the stored leaves (SHA-256; SHA3-256 too on dual blocks). */
export function validateAttestationRoots(block: StoredBlock): RuleViolation[] {
  const decoded = decodeStoredBlock(block);
  if (!isDecoded(decoded)) return [decoded];
  return attestationViolations(block, decoded);
}

/**
 * Both rule sets, decoding once: what replay runs on every block. With
 * `checkLink: false` (the predecessor is missing from the store) the link
 * rules — height, prev_hash, timestamp order — are skipped, not assumed.
 */
export function validateBlock(block: StoredBlock, previous: StoredBlock | undefined, options: { checkLink?: boolean } = {}): RuleViolation[] {
  return inspectBlock(block, previous, options).violations;
}

/** What validating a block computed, for callers that need more than the violations (replay, the drift radar). */
export interface BlockInspection {
  violations: RuleViolation[];
  /** The decoded canonical bytes; undefined when they do not decode. */
  decoded: DecodedBlock | undefined;
  /** SHA-256 of the canonical bytes. */
  sha256: Buffer;
  /** SHA3-256 of the canonical bytes, when the block is dual-v1 or stores a SHA3 hash. */
  sha3?: Buffer;
}

/** `validateBlock`, returning the decoded record and the recomputed digests too (each computed once). */
export function inspectBlock(block: StoredBlock, previous: StoredBlock | undefined, options: { checkLink?: boolean } = {}): BlockInspection {
  const decoded = decodeStoredBlock(block);
  const digests = blockDigests(block, decoded);
  const violations = structureViolations(block, previous, decoded, options.checkLink ?? true, digests);
  if (isDecoded(decoded)) violations.push(...attestationViolations(block, decoded));
  return { violations, decoded: isDecoded(decoded) ? decoded : undefined, ...digests };
}

function blockDigests(block: StoredBlock, decoded: DecodedBlock | RuleViolation): { sha256: Buffer; sha3?: Buffer } {
  const sha256 = digest('sha256', block.canonical);
  const dual = isDecoded(decoded) && decoded.raw.get('hash_algorithm') === 'dual-v1';
  return dual || block.hashSha3 !== undefined ? { sha256, sha3: digest('sha3-256', block.canonical) } : { sha256 };
}

/** @throws LedgerRuleViolationError when `block` breaks any consensus rule as the successor of `previous`. */
export function assertValidBlock(block: StoredBlock, previous: StoredBlock | undefined): void {
  const violations = validateBlock(block, previous);
  if (violations.length > 0) throw new LedgerRuleViolationError(violations);
}

function structureViolations(
  block: StoredBlock,
  previous: StoredBlock | undefined,
  decoded: DecodedBlock | RuleViolation,
  checkLink: boolean,
  digests: { sha256: Buffer; sha3?: Buffer },
): RuleViolation[] {
  const out: RuleViolation[] = [];
  const at = (rule: ConsensusRule, field: string, message: string, expected?: unknown, actual?: unknown): void => {
    out.push({
      rule,
      height: block.height,
      repository: block.repository,
      field,
      ...(expected === undefined ? {} : { expected: show(expected) }),
      ...(actual === undefined ? {} : { actual: show(actual) }),
      message,
    });
  };

  // The stored hashes commit to the bytes whatever they contain.
  const sha256 = digests.sha256.toString('hex');
  if (block.hash !== sha256) at('block_hash', 'hash', 'the stored hash is not the SHA-256 of the canonical bytes', sha256, block.hash);
  const checkSha3Hash = (): void => {
    const sha3 = (digests.sha3 ?? digest('sha3-256', block.canonical)).toString('hex');
    if (block.hashSha3 !== sha3) at('block_hash_sha3', 'hashSha3', 'the stored SHA3 hash is not the SHA3-256 of the canonical bytes', sha3, block.hashSha3);
  };

  if (!isDecoded(decoded)) {
    out.push(decoded);
    if (block.hashSha3 !== undefined) checkSha3Hash();
    return out;
  }
  const { names, raw, values } = decoded;

  // Names: known, in canonical order, required ones present, each of its type.
  let lastIndex = -1;
  for (const name of names) {
    const index = FIELD_INDEX.get(name);
    if (index === undefined) {
      at('unknown_field', name, `field ${name} is not part of block schema ${LEDGER_SCHEMA_VERSION}`);
      continue;
    }
    if (index < lastIndex) at('field_order', name, `field ${name} is out of canonical order (after ${BLOCK_FIELD_ORDER[lastIndex]})`);
    lastIndex = Math.max(lastIndex, index);
  }
  for (const name of BLOCK_FIELD_ORDER) {
    const value = raw.get(name);
    if (value === undefined) {
      if (!SHA3_FIELD_SET.has(name)) at('missing_field', name, `required field ${name} is missing`);
      continue;
    }
    const kind = FIELD_KIND[name];
    if (!hasKind(value, kind)) at('field_type', name, `field ${name} must be ${describeKind(kind)}`, describeKind(kind), describeValueKind(value));
  }

  const str = (name: string): string | undefined => (typeof raw.get(name) === 'string' ? (raw.get(name) as string) : undefined);
  const num = (name: string): number | undefined => (typeof raw.get(name) === 'number' ? (raw.get(name) as number) : undefined);
  const hex = (name: string): string | undefined => {
    const value = raw.get(name);
    // `values` already holds the hex of every bytes field.
    return Buffer.isBuffer(value) && value.length === 32 ? (values[name] as string) : undefined;
  };

  // Values.
  const schemaVersion = num('schema_version');
  if (schemaVersion !== undefined && !KNOWN_SCHEMA_VERSIONS.includes(schemaVersion)) {
    at('schema_version', 'schema_version', `unknown schema version ${schemaVersion}`, KNOWN_SCHEMA_VERSIONS.join('|'), schemaVersion);
  }
  const repository = str('repository');
  if (repository !== undefined && repository.length === 0) at('field_value', 'repository', 'repository is empty');
  const outcome = str('outcome');
  if (outcome !== undefined && !OUTCOMES.has(outcome)) at('field_value', 'outcome', `outcome ${JSON.stringify(outcome)} is not pass, warn or block`, 'pass|warn|block', outcome);
  const timestamp = str('timestamp');
  const time = timestamp === undefined ? Number.NaN : parseTime(timestamp);
  if (timestamp !== undefined && (!ISO_UTC.test(timestamp) || Number.isNaN(time))) {
    at('field_value', 'timestamp', `timestamp ${JSON.stringify(timestamp)} is not an ISO 8601 UTC date-time`, 'YYYY-MM-DDTHH:MM:SS(.fff)Z', timestamp);
  }
  const algorithm = str('hash_algorithm');
  const dual = algorithm === 'dual-v1';
  if (algorithm !== undefined && !BLOCK_HASH_ALGORITHMS.includes(algorithm)) {
    const why = isHashAlgorithmId(algorithm) ? `${algorithm} is not a block hash algorithm` : `unknown hash algorithm ${JSON.stringify(algorithm)}`;
    at('hash_algorithm', 'hash_algorithm', why, BLOCK_HASH_ALGORITHMS.join('|'), algorithm);
  }
  if (algorithm !== undefined) {
    for (const name of SHA3_FIELDS) {
      const present = raw.has(name);
      if (dual && !present) at('sha3_fields', name, `dual-v1 block lacks ${name}`);
      if (!dual && present) at('sha3_fields', name, `${name} on a ${algorithm} block (SHA3 commitments only on dual-v1)`);
    }
  }

  // Stored envelope and hashes.
  const height = num('height');
  if (height !== undefined && height !== block.height) at('envelope', 'height', 'the stored height differs from the canonical bytes', height, block.height);
  if (repository !== undefined && repository !== block.repository) {
    at('envelope', 'repository', 'the stored repository differs from the canonical bytes', repository, block.repository);
  }
  if (dual && block.hashSha3 === undefined) at('block_hash_sha3', 'hashSha3', 'dual-v1 block has no stored SHA3-256 hash');
  if (!dual && algorithm !== undefined && block.hashSha3 !== undefined) at('block_hash_sha3', 'hashSha3', `stored SHA3-256 hash on a ${algorithm} block`);
  if (block.hashSha3 !== undefined) checkSha3Hash();

  // The link to the previous block.
  const prevHash = hex('prev_hash');
  const prevHashSha3 = hex('prev_hash_sha3');
  if (!checkLink) {
    // The predecessor is unknown: nothing to link against.
  } else if (previous === undefined) {
    if (height !== undefined && height !== 0) at('height', 'height', 'a block without a predecessor must be the genesis block', 0, height);
    if (prevHash !== undefined && prevHash !== ZERO_HASH) at('prev_hash', 'prev_hash', 'the genesis block links to the zero hash', ZERO_HASH, prevHash);
    if (dual && prevHashSha3 !== undefined && prevHashSha3 !== ZERO_HASH) {
      at('prev_hash_sha3', 'prev_hash_sha3', 'the genesis block links to the zero hash', ZERO_HASH, prevHashSha3);
    }
  } else {
    if (height !== undefined && height !== previous.height + 1) at('height', 'height', `height must follow ${previous.height}`, previous.height + 1, height);
    if (repository !== undefined && repository !== previous.repository) {
      at('repository', 'repository', 'a block links to a block of another stream', previous.repository, repository);
    }
    if (prevHash !== undefined && prevHash !== previous.hash) {
      at('prev_hash', 'prev_hash', `prev_hash is not the hash of block ${previous.height}`, previous.hash, prevHash);
    }
    if (dual && prevHashSha3 !== undefined) {
      const expected = previous.hashSha3 ?? digest('sha3-256', previous.canonical).toString('hex');
      if (prevHashSha3 !== expected) {
        at('prev_hash_sha3', 'prev_hash_sha3', `prev_hash_sha3 is not the SHA3-256 of block ${previous.height}`, expected, prevHashSha3);
      }
    }
    if (!dual && algorithm !== undefined && previous.fields.hash_algorithm === 'dual-v1') {
      at('hash_algorithm', 'hash_algorithm', `block ${previous.height} is dual-v1: a stream never goes back to ${algorithm}`, 'dual-v1', algorithm);
    }
    const previousTime = parseTime(previous.fields.timestamp);
    if (!Number.isNaN(time) && !Number.isNaN(previousTime) && time < previousTime) {
      at('timestamp', 'timestamp', `timestamp is earlier than block ${previous.height}'s`, `>= ${previous.fields.timestamp}`, timestamp);
    }
    const seq = num('ui_through_seq');
    if (seq !== undefined && seq < previous.fields.ui_through_seq) {
      at('ui_through_seq', 'ui_through_seq', `ui_through_seq goes back from block ${previous.height}'s`, `>= ${previous.fields.ui_through_seq}`, seq);
    }
  }

  // The stored columns must be the decoded bytes, field by field: every defined column (in its order), then the
  // names only the bytes hold.
  const columns = block.fields as unknown as Record<string, unknown>;
  const compare = (name: string): void => {
    const fromBytes = values[name];
    const column = columns[name];
    if (fromBytes !== column) {
      const message =
        fromBytes === undefined
          ? `stored column ${name} has no counterpart in the canonical bytes`
          : column === undefined
            ? `the canonical bytes hold ${name} but no stored column does`
            : `stored column ${name} differs from the canonical bytes`;
      at('column', name, message, fromBytes, column);
    }
  };
  const columnNames = Object.keys(columns);
  for (const name of columnNames) if (columns[name] !== undefined) compare(name);
  for (const name of names) if (!(Object.prototype.hasOwnProperty.call(columns, name) && columns[name] !== undefined)) compare(name);
  return out;
}

/** Date.parse, remembering the last answer: replay parses each block's timestamp again as the next block's predecessor. */
let lastParsed: { text: string; time: number } | undefined;
function parseTime(text: string): number {
  if (lastParsed !== undefined && lastParsed.text === text) return lastParsed.time;
  const time = Date.parse(text);
  lastParsed = { text, time };
  return time;
}

function attestationViolations(block: StoredBlock, decoded: DecodedBlock): RuleViolation[] {
  const out: RuleViolation[] = [];
  const at = (rule: ConsensusRule, field: string, message: string, expected?: string, actual?: string): void => {
    out.push({
      rule,
      height: block.height,
      repository: block.repository,
      field,
      ...(expected === undefined ? {} : { expected }),
      ...(actual === undefined ? {} : { actual }),
      message,
    });
  };
  // A leaf that is not a canonical record is named; only looked for when a root does not match (the roots commit to the leaves).
  const leafChecked = new Set<string>();
  const checkLeaves = (name: string, leaves: readonly Buffer[]): void => {
    if (leafChecked.has(name)) return;
    leafChecked.add(name);
    leaves.forEach((leaf, index) => {
      try {
        decodeRecord(leaf);
      } catch (error) {
        if (!(error instanceof EncodingError)) throw error;
        at('attestation_leaf', `${name}[${index}]`, `stored leaf is not a canonical record: ${error.message}`);
      }
    });
  };

  const algorithms: [DigestAlgorithm, string][] = [['sha256', '']];
  if (decoded.values.hash_algorithm === 'dual-v1') algorithms.push(['sha3-256', '_sha3']);
  for (const [algorithm, suffix] of algorithms) {
    const reasoningField = `reasoning_root${suffix}`;
    const uiField = `ui_root${suffix}`;
    const compositeField = `composite_root${suffix}`;
    const stored = (name: string): Buffer | undefined => {
      const value = decoded.raw.get(name);
      return Buffer.isBuffer(value) && value.length === 32 ? value : undefined;
    };
    const reasoning = stored(reasoningField);
    const ui = stored(uiField);
    const composite = stored(compositeField);
    const label = algorithm === 'sha256' ? 'SHA-256' : 'SHA3-256';
    if (reasoning !== undefined) {
      const expected = attestationRootOf(algorithm, block.reasoningLeaves);
      if (!expected.equals(reasoning)) {
        checkLeaves('reasoning_leaves', block.reasoningLeaves);
        at('attestation_root', reasoningField, `${label} root of the ${block.reasoningLeaves.length} stored finding leaves differs`, expected.toString('hex'), reasoning.toString('hex'));
      }
    }
    if (ui !== undefined) {
      const expected = attestationRootOf(algorithm, block.uiLeaves);
      if (!expected.equals(ui)) {
        checkLeaves('ui_leaves', block.uiLeaves);
        at('attestation_root', uiField, `${label} root of the ${block.uiLeaves.length} stored action leaves differs`, expected.toString('hex'), ui.toString('hex'));
      }
    }
    // The composite root commits to the two roots the block states; each of them is checked against its leaves above.
    if (composite !== undefined && reasoning !== undefined && ui !== undefined) {
      const expected = compositeRoot(algorithm, reasoning, ui);
      if (!expected.equals(composite)) {
        at('attestation_root', compositeField, `${label} composite root is not the root over the stated reasoning and UI roots`, expected.toString('hex'), composite.toString('hex'));
      }
    }
  }
  return out;
}

function hasKind(value: FieldValue, kind: FieldKind): boolean {
  switch (kind) {
    case 'uint':
      return typeof value === 'number';
    case 'string':
      return typeof value === 'string';
    case 'bool':
      return typeof value === 'boolean';
    case 'digest':
      return Buffer.isBuffer(value) && value.length === 32;
  }
}

function describeKind(kind: FieldKind): string {
  return kind === 'digest' ? 'a 32-byte digest' : kind === 'uint' ? 'an unsigned integer' : kind === 'bool' ? 'a boolean' : 'a string';
}

function describeValueKind(value: FieldValue): string {
  if (Buffer.isBuffer(value)) return `${value.length} bytes`;
  if (typeof value === 'number') return 'an unsigned integer';
  return typeof value === 'boolean' ? 'a boolean' : 'a string';
}

function show(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value) ?? String(value);
}
