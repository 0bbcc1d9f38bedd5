/**
 * Ledger blocks (docs/ledger.md): one per oracle decision, in a stream per
 * repository. A block is stored as its canonical bytes (encoding.ts), its
 * hash(es) and the leaves its attestation roots are computed from:
 *
 * - `reasoning_root` = MTH over one leaf per finding (fingerprint, rule,
 *   severity, evidence hashes);
 * - `ui_root` = MTH over the human actions journaled since the previous
 *   block (FP marks, consent changes, overrides);
 * - `composite_root` = MTH over [reasoning_root, ui_root].
 *
 * `prev_hash` is the SHA-256 of the previous block's canonical bytes (64
 * zeros at height 0). From the dual activation height on, blocks are
 * `dual-v1`: every root and the link also carry SHA3-256, and the first dual
 * block links to its (SHA-256) predecessor by both algorithms.
 */
import { canonicalJson, sha256Hex } from '../hashing';
import type { DissonanceReport } from '../types';
import { decodeRecord, encodeRecord, type Field } from './encoding';
import { digest, ZERO_HASH, type DigestAlgorithm, type HashAlgorithmId } from './hash';
import { leafHash, merkleRoot, nodeHash } from './merkle';

export const LEDGER_SCHEMA_VERSION = 1;

export type Outcome = 'pass' | 'warn' | 'block';

export interface BlockFields {
  schema_version: number;
  repository: string;
  height: number;
  prev_hash: string;
  timestamp: string;
  mode: string;
  commit: string;
  outcome: Outcome;
  degraded: boolean;
  rules_hash: string;
  report_hash: string;
  /** Sequence number of the last journaled human action this block includes (0: none yet). */
  ui_through_seq: number;
  reasoning_root: string;
  ui_root: string;
  composite_root: string;
  hash_algorithm: HashAlgorithmId;
  prev_hash_sha3?: string;
  reasoning_root_sha3?: string;
  ui_root_sha3?: string;
  composite_root_sha3?: string;
}

/** Field order of the canonical encoding; the optional SHA3 fields only on dual blocks. */
export const BLOCK_FIELD_ORDER: readonly (keyof BlockFields)[] = [
  'schema_version',
  'repository',
  'height',
  'prev_hash',
  'timestamp',
  'mode',
  'commit',
  'outcome',
  'degraded',
  'rules_hash',
  'report_hash',
  'ui_through_seq',
  'reasoning_root',
  'ui_root',
  'composite_root',
  'hash_algorithm',
  'prev_hash_sha3',
  'reasoning_root_sha3',
  'ui_root_sha3',
  'composite_root_sha3',
];

/** Fields whose value is a 32-byte digest (encoded as bytes, shown as hex). */
export const DIGEST_FIELDS: ReadonlySet<keyof BlockFields> = new Set([
  'prev_hash',
  'rules_hash',
  'report_hash',
  'reasoning_root',
  'ui_root',
  'composite_root',
  'prev_hash_sha3',
  'reasoning_root_sha3',
  'ui_root_sha3',
  'composite_root_sha3',
]);

/** A human action journaled for the next block's `ui_root`. */
export interface LedgerAction {
  kind: 'fp_mark' | 'consent_grant' | 'consent_revoke' | 'override';
  actor: string;
  at: string;
  /** What it acted on: an FP event id, a consent scope, a finding. */
  subject: string;
  detail: string;
}

export interface JournaledAction extends LedgerAction {
  seq: number;
}

export interface StoredBlock {
  repository: string;
  height: number;
  /** The canonical encoding of `fields`: the bytes every hash is computed over. */
  canonical: Buffer;
  /** SHA-256 of `canonical`, hex. */
  hash: string;
  /** SHA3-256 of `canonical`, hex, on dual blocks. */
  hashSha3?: string;
  reasoningLeaves: Buffer[];
  uiLeaves: Buffer[];
  /** The decoded fields, kept as queryable columns; replay compares them with the bytes. */
  fields: BlockFields;
}

export function encodeBlockFields(fields: BlockFields): Buffer {
  const record: Field[] = [];
  for (const name of BLOCK_FIELD_ORDER) {
    const value = fields[name];
    if (value === undefined) continue;
    record.push({ name, value: DIGEST_FIELDS.has(name) ? Buffer.from(value as string, 'hex') : (value as string | number | boolean) });
  }
  return encodeRecord(record);
}

/** The fields of canonical bytes, digests as hex; unknown or misplaced fields are kept for the consensus rules to name. */
export function decodeBlockFields(canonical: Uint8Array): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  for (const { name, value } of decodeRecord(canonical)) fields[name] = Buffer.isBuffer(value) ? value.toString('hex') : value;
  return fields;
}

export function reasoningLeaf(finding: { fingerprint: string; ruleId: string; severity: string; evidenceHashes: readonly string[] }): Buffer {
  return encodeRecord([
    { name: 'fingerprint', value: finding.fingerprint },
    { name: 'rule_id', value: finding.ruleId },
    { name: 'severity', value: finding.severity },
    { name: 'evidence_hashes', value: finding.evidenceHashes.join(',') },
  ]);
}

export function uiLeaf(action: LedgerAction): Buffer {
  return encodeRecord([
    { name: 'kind', value: action.kind },
    { name: 'actor', value: action.actor },
    { name: 'at', value: action.at },
    { name: 'subject', value: action.subject },
    { name: 'detail', value: action.detail },
  ]);
}

export interface AttestationRoots {
  reasoning_root: string;
  ui_root: string;
  composite_root: string;
}

/** Per algorithm: the empty tree's root (every block without journaled actions has it as ui_root) and its leaf hash. */
const EMPTY_ROOTS = new Map<DigestAlgorithm, { root: Buffer; leaf: Buffer }>();

function emptyRoot(algorithm: DigestAlgorithm): { root: Buffer; leaf: Buffer } {
  let entry = EMPTY_ROOTS.get(algorithm);
  if (entry === undefined) {
    const root = merkleRoot(algorithm, []);
    entry = { root, leaf: leafHash(algorithm, root) };
    EMPTY_ROOTS.set(algorithm, entry);
  }
  return entry;
}

/**
 * MTH over attestation leaves; the empty tree's root (the UI root of every
 * block without journaled actions) is computed once and shared.
 * @internal callers must not modify the returned Buffer.
 */
export function attestationRootOf(algorithm: DigestAlgorithm, leaves: readonly Buffer[]): Buffer {
  return leaves.length === 0 ? emptyRoot(algorithm).root : merkleRoot(algorithm, leaves);
}

/**
 * `composite_root` = MTH([reasoning, ui]) = H(0x01 ‖ H(0x00 ‖ reasoning) ‖ H(0x00 ‖ ui)),
 * with the leaf hash of the empty UI root (the common case) computed once.
 */
export function compositeRoot(algorithm: DigestAlgorithm, reasoning: Buffer, ui: Buffer): Buffer {
  const empty = emptyRoot(algorithm);
  const right = ui.equals(empty.root) ? empty.leaf : leafHash(algorithm, ui);
  return nodeHash(algorithm, leafHash(algorithm, reasoning), right);
}

/** The three attestation roots under one digest algorithm. */
export function attestationRoots(algorithm: DigestAlgorithm, reasoningLeaves: readonly Buffer[], uiLeaves: readonly Buffer[]): AttestationRoots {
  const reasoning = attestationRootOf(algorithm, reasoningLeaves);
  const ui = attestationRootOf(algorithm, uiLeaves);
  return {
    reasoning_root: reasoning.toString('hex'),
    ui_root: ui.toString('hex'),
    composite_root: compositeRoot(algorithm, reasoning, ui).toString('hex'),
  };
}

/** SHA-256 of the canonical JSON of the report without `meta.ledger` (which records this very block). */
export function reportHash(report: DissonanceReport): string {
  const { ledger: _ledger, ...meta } = report.meta as DissonanceReport['meta'] & { ledger?: unknown };
  return sha256Hex(canonicalJson({ ...report, meta }));
}

export interface NewBlockInput {
  report: DissonanceReport;
  repository: string;
  mode: string;
  commit: string | undefined;
  /** The stream's current head, or undefined for height 0. */
  previous: StoredBlock | undefined;
  /** Actions journaled after the previous block's `ui_through_seq`, ascending. */
  actions: readonly JournaledAction[];
  /** Height from which blocks are dual-v1 (undefined: not activated). */
  dualActivationHeight: number | undefined;
  timestamp: Date;
}

/** Builds the next block of a stream. Pure: the store appends it conditionally on its height. */
export function buildBlock(input: NewBlockInput): StoredBlock {
  const height = input.previous === undefined ? 0 : input.previous.height + 1;
  const dual = input.dualActivationHeight !== undefined && height >= input.dualActivationHeight;
  const reasoningLeaves = input.report.items.map((item) =>
    reasoningLeaf({ fingerprint: item.id, ruleId: item.rule_id, severity: item.severity, evidenceHashes: item.evidence.map((e) => e.hash) }),
  );
  const uiLeaves = input.actions.map((action) => uiLeaf(action));
  const previousTimestamp = input.previous?.fields.timestamp;
  // Timestamps never decrease within a stream (a consensus rule), even if the host clock steps back.
  const timestamp =
    previousTimestamp !== undefined && Date.parse(previousTimestamp) > input.timestamp.getTime() ? previousTimestamp : input.timestamp.toISOString();
  const fields: BlockFields = {
    schema_version: LEDGER_SCHEMA_VERSION,
    repository: input.repository,
    height,
    prev_hash: input.previous?.hash ?? ZERO_HASH,
    timestamp,
    mode: input.mode,
    commit: input.commit ?? '',
    outcome: input.report.machine_decision.outcome,
    degraded: input.report.machine_decision.degraded,
    rules_hash: input.report.meta.rules_hash,
    report_hash: reportHash(input.report),
    ui_through_seq: input.actions.at(-1)?.seq ?? input.previous?.fields.ui_through_seq ?? 0,
    ...attestationRoots('sha256', reasoningLeaves, uiLeaves),
    hash_algorithm: dual ? 'dual-v1' : 'sha256-v1',
  };
  if (dual) {
    const sha3 = attestationRoots('sha3-256', reasoningLeaves, uiLeaves);
    fields.prev_hash_sha3 = input.previous === undefined ? ZERO_HASH : digest('sha3-256', input.previous.canonical).toString('hex');
    fields.reasoning_root_sha3 = sha3.reasoning_root;
    fields.ui_root_sha3 = sha3.ui_root;
    fields.composite_root_sha3 = sha3.composite_root;
  }
  const canonical = encodeBlockFields(fields);
  return {
    repository: input.repository,
    height,
    canonical,
    hash: digest('sha256', canonical).toString('hex'),
    ...(dual ? { hashSha3: digest('sha3-256', canonical).toString('hex') } : {}),
    reasoningLeaves,
    uiLeaves,
    fields,
  };
}
