/**
 * The drift radar (docs/ledger.md, "Drift radar"): scans ledger streams for
 * signs that the record or the oracle drifted, and maps them through a
 * governance policy to `GOVERNANCE SIGNAL: OK | WARN | BLOCK`.
 *
 * Scans:
 * - `schema`: records that do not decode, unknown or missing fields, fields
 *   out of order or of the wrong type, unknown schema versions or hash
 *   algorithms, and changes of `schema_version` / `hash_algorithm` between
 *   consecutive blocks;
 * - `hash-delta`: stored versus recomputed — block hashes, columns against
 *   the canonical bytes, attestation roots against the stored leaves, and the
 *   links (`prev_hash`, `prev_hash_sha3`) against the previous block;
 * - `metadata`: timestamp regressions, height gaps (missing blocks),
 *   heights that do not follow, `ui_through_seq` going back, and `rules_hash`
 *   changes between consecutive blocks;
 * - `statement`: nondeterminism. The statement key is (repository, commit,
 *   rules_hash, mode, ui_through_seq) of non-degraded blocks with a commit.
 *   A block carries no artifact digest, and `report_hash` cannot be the key:
 *   it covers the run id, the timestamp and the outcome itself, so it differs
 *   on every run. The commit fixes the repository content, rules_hash the rule
 *   set, mode the policy path and ui_through_seq the human actions (FP marks,
 *   overrides) taken into account; degraded decisions are excluded because
 *   they legitimately differ. Same key with a different outcome is
 *   `nondeterministic_outcome`; same outcome but different findings
 *   (`reasoning_root`) is `nondeterministic_findings`.
 *
 * Severities and policies (signal → governance signal):
 *
 * | severity | strict | moderate | permissive |
 * |---|---|---|---|
 * | critical (integrity: hashes, links, roots, gaps, undecodable records) | BLOCK | BLOCK | BLOCK |
 * | error (nondeterministic outcome, unknown fields, values out of domain) | BLOCK | BLOCK | WARN |
 * | warn (schema version change, nondeterministic findings) | BLOCK | WARN | OK |
 * | info (rules_hash change, dual activation) | OK | OK | OK |
 *
 * Integrity signals block under every policy: the failure contract (DESIGN §6)
 * fails closed on a hash mismatch. Exit codes: OK 0, WARN 0 (printed), BLOCK 1.
 */
import { InputError } from '../errors';
import type { StoredBlock } from './block';
import { decodeStoredBlock, inspectBlock, type ConsensusRule, type DecodedBlock } from './consensus';
import { digest } from './hash';
import { inclusionProof, merkleRootOfLeafHashes, leafHash } from './merkle';
import { readOnlyLedger, walkStream } from './replay';
import type { LedgerStore } from './store';

export type DriftScanType = 'schema' | 'hash-delta' | 'metadata' | 'statement';
export const DRIFT_SCAN_TYPES: readonly DriftScanType[] = ['schema', 'hash-delta', 'metadata', 'statement'];

export type GovernancePolicy = 'strict' | 'moderate' | 'permissive';
export const GOVERNANCE_POLICIES: readonly GovernancePolicy[] = ['strict', 'moderate', 'permissive'];

export type SignalSeverity = 'info' | 'warn' | 'error' | 'critical';
export type GovernanceSignal = 'OK' | 'WARN' | 'BLOCK';

export const GOVERNANCE_EXIT_CODES: Readonly<Record<GovernanceSignal, number>> = { OK: 0, WARN: 0, BLOCK: 1 };

const POLICY_TABLE: Readonly<Record<GovernancePolicy, Readonly<Record<SignalSeverity, GovernanceSignal>>>> = {
  strict: { critical: 'BLOCK', error: 'BLOCK', warn: 'BLOCK', info: 'OK' },
  moderate: { critical: 'BLOCK', error: 'BLOCK', warn: 'WARN', info: 'OK' },
  permissive: { critical: 'BLOCK', error: 'WARN', warn: 'OK', info: 'OK' },
};

const SIGNAL_RANK: Readonly<Record<GovernanceSignal, number>> = { OK: 0, WARN: 1, BLOCK: 2 };

export interface DriftSignal {
  /** Stable id: `scan:kind:repository@height:field`. */
  id: string;
  scan: DriftScanType;
  kind: string;
  severity: SignalSeverity;
  /** What the policy made of this signal. */
  governance: GovernanceSignal;
  repository: string;
  height: number;
  field: string;
  /** Other heights behind the signal (the predecessor, the earlier conflicting decision). */
  related?: number[];
  expected?: string;
  actual?: string;
  message: string;
}

export interface DriftRadarOptions {
  /** @default every scan type */
  scanTypes?: readonly DriftScanType[];
  /** @default 'moderate' */
  policy?: GovernancePolicy;
  repository?: string;
  start?: number;
  end?: number;
  now?: () => Date;
}

export interface DriftRadarResult {
  kind: 'phase-mirror.drift-signals';
  version: 1;
  generatedAt: string;
  policy: GovernancePolicy;
  scanTypes: DriftScanType[];
  range: { start: number | null; end: number | null };
  scanned: { repositories: number; blocks: number };
  counts: Record<SignalSeverity, number>;
  /** The governance signal: the most severe mapping of any signal. */
  signal: GovernanceSignal;
  exitCode: number;
  signals: DriftSignal[];
}

/** Where each consensus rule is reported, with which kind and severity. */
const RULE_ROUTES: Readonly<Record<ConsensusRule, { scan: DriftScanType; kind: string; severity: SignalSeverity }>> = {
  encoding: { scan: 'schema', kind: 'undecodable_record', severity: 'critical' },
  unknown_field: { scan: 'schema', kind: 'unknown_field', severity: 'error' },
  missing_field: { scan: 'schema', kind: 'missing_field', severity: 'critical' },
  field_order: { scan: 'schema', kind: 'field_order', severity: 'critical' },
  field_type: { scan: 'schema', kind: 'field_type', severity: 'critical' },
  field_value: { scan: 'schema', kind: 'field_value', severity: 'error' },
  schema_version: { scan: 'schema', kind: 'unknown_schema_version', severity: 'critical' },
  hash_algorithm: { scan: 'schema', kind: 'hash_algorithm', severity: 'critical' },
  sha3_fields: { scan: 'schema', kind: 'sha3_fields', severity: 'critical' },
  envelope: { scan: 'hash-delta', kind: 'envelope_mismatch', severity: 'critical' },
  block_hash: { scan: 'hash-delta', kind: 'hash_mismatch', severity: 'critical' },
  block_hash_sha3: { scan: 'hash-delta', kind: 'hash_mismatch', severity: 'critical' },
  column: { scan: 'hash-delta', kind: 'column_mismatch', severity: 'critical' },
  attestation_root: { scan: 'hash-delta', kind: 'root_mismatch', severity: 'critical' },
  attestation_leaf: { scan: 'hash-delta', kind: 'leaf_invalid', severity: 'critical' },
  prev_hash: { scan: 'hash-delta', kind: 'link_mismatch', severity: 'critical' },
  prev_hash_sha3: { scan: 'hash-delta', kind: 'link_mismatch', severity: 'critical' },
  height: { scan: 'metadata', kind: 'height_sequence', severity: 'critical' },
  repository: { scan: 'metadata', kind: 'stream_mismatch', severity: 'critical' },
  timestamp: { scan: 'metadata', kind: 'timestamp_regression', severity: 'critical' },
  ui_through_seq: { scan: 'metadata', kind: 'ui_sequence_regression', severity: 'error' },
};

export function governanceSignalFor(severity: SignalSeverity, policy: GovernancePolicy): GovernanceSignal {
  return POLICY_TABLE[policy][severity];
}

/** Parses `schema,hash-delta,...`. @throws InputError naming --scan-types */
export function parseScanTypes(text: string): DriftScanType[] {
  const names = text
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name.length > 0);
  if (names.length === 0) throw new InputError('INPUT_INVALID', `--scan-types names no scan: use ${DRIFT_SCAN_TYPES.join(',')}`, { location: { flag: '--scan-types' } });
  for (const name of names) {
    if (!DRIFT_SCAN_TYPES.includes(name as DriftScanType)) {
      throw new InputError('INPUT_INVALID', `unknown scan type ${JSON.stringify(name)}: use ${DRIFT_SCAN_TYPES.join(', ')}`, { location: { flag: '--scan-types' } });
    }
  }
  return DRIFT_SCAN_TYPES.filter((type) => names.includes(type));
}

export function parseGovernancePolicy(text: string): GovernancePolicy {
  if (!GOVERNANCE_POLICIES.includes(text as GovernancePolicy)) {
    throw new InputError('INPUT_INVALID', `unknown governance policy ${JSON.stringify(text)}: use strict, moderate or permissive`, {
      location: { flag: '--governance-policy' },
    });
  }
  return text as GovernancePolicy;
}

/** Runs the requested scans over the ledger (read-only). */
export async function runDriftRadar(store: LedgerStore, options: DriftRadarOptions = {}): Promise<DriftRadarResult> {
  const scanTypes = options.scanTypes === undefined ? [...DRIFT_SCAN_TYPES] : DRIFT_SCAN_TYPES.filter((t) => options.scanTypes!.includes(t));
  const policy = options.policy ?? 'moderate';
  if (!GOVERNANCE_POLICIES.includes(policy)) parseGovernancePolicy(policy);
  for (const [flag, value] of [
    ['--start', options.start],
    ['--end', options.end],
  ] as const) {
    if (value !== undefined && (!Number.isSafeInteger(value) || value < 0)) {
      throw new InputError('INPUT_INVALID', `${flag} must be a whole number ≥ 0, got ${String(value)}`, { location: { flag } });
    }
  }
  if (options.start !== undefined && options.end !== undefined && options.start > options.end) {
    throw new InputError('INPUT_INVALID', `--start ${options.start} is after --end ${options.end}`, { location: { flag: '--start' } });
  }
  const ledger = readOnlyLedger(store);
  const wanted = new Set<DriftScanType>(scanTypes);
  const signals: DriftSignal[] = [];
  const emit = (signal: Omit<DriftSignal, 'id' | 'governance'>): void => {
    if (!wanted.has(signal.scan)) return;
    signals.push({
      id: `${signal.scan}:${signal.kind}:${signal.repository}@${signal.height}:${signal.field}`,
      governance: governanceSignalFor(signal.severity, policy),
      ...signal,
    });
  };

  const repositories = options.repository !== undefined ? [options.repository] : await ledger.repositories();
  let blocks = 0;
  for (const repository of repositories) {
    const head = await ledger.head(repository);
    if (head === undefined) continue;
    const start = options.start ?? 0;
    const end = Math.min(options.end ?? head.height, head.height);
    let previous: StoredBlock | undefined = start > 0 && start <= end ? await ledger.get(repository, start - 1) : undefined;
    let previousDecoded: DecodedBlock | undefined = previous === undefined ? undefined : decodedOrUndefined(previous);
    let linkKnown = start === 0 || previous !== undefined;
    const statements = new Map<string, { height: number; outcome: unknown; reasoningRoot: unknown }>();
    for await (const { height, block } of walkStream(ledger, repository, start, end)) {
      if (block === undefined) {
        emit({
          scan: 'metadata',
          kind: 'height_gap',
          severity: 'critical',
          repository,
          height,
          field: 'height',
          message: `block ${height} is missing: the stream has a gap`,
        });
        previous = undefined;
        previousDecoded = undefined;
        linkKnown = false;
        continue;
      }
      blocks += 1;
      const inspection = inspectBlock(block, previous, { checkLink: linkKnown });
      for (const violation of inspection.violations) {
        const route = RULE_ROUTES[violation.rule];
        emit({
          scan: route.scan,
          kind: route.kind,
          severity: route.severity,
          repository,
          height: violation.height,
          field: violation.field,
          ...(linkKnown && previous !== undefined && isLinkRule(violation.rule) ? { related: [previous.height] } : {}),
          ...(violation.expected === undefined ? {} : { expected: violation.expected }),
          ...(violation.actual === undefined ? {} : { actual: violation.actual }),
          message: violation.message,
        });
      }
      const decoded = inspection.decoded;
      if (decoded !== undefined && previousDecoded !== undefined && previous !== undefined) {
        compareConsecutive(repository, previous.height, previousDecoded, height, decoded, emit);
      }
      if (decoded !== undefined) checkStatement(repository, height, decoded, statements, emit);
      previous = block;
      previousDecoded = decoded;
      linkKnown = true;
    }
  }

  signals.sort((a, b) => (a.repository < b.repository ? -1 : a.repository > b.repository ? 1 : a.height - b.height));
  const counts: Record<SignalSeverity, number> = { info: 0, warn: 0, error: 0, critical: 0 };
  let signal: GovernanceSignal = 'OK';
  for (const s of signals) {
    counts[s.severity] += 1;
    if (SIGNAL_RANK[s.governance] > SIGNAL_RANK[signal]) signal = s.governance;
  }
  return {
    kind: 'phase-mirror.drift-signals',
    version: 1,
    generatedAt: (options.now ?? (() => new Date()))().toISOString(),
    policy,
    scanTypes,
    range: { start: options.start ?? null, end: options.end ?? null },
    scanned: { repositories: repositories.length, blocks },
    counts,
    signal,
    exitCode: GOVERNANCE_EXIT_CODES[signal],
    signals,
  };
}

function isLinkRule(rule: ConsensusRule): boolean {
  return rule === 'prev_hash' || rule === 'prev_hash_sha3' || rule === 'height' || rule === 'timestamp' || rule === 'ui_through_seq' || rule === 'repository';
}

function decodedOrUndefined(block: StoredBlock): DecodedBlock | undefined {
  const decoded = decodeStoredBlock(block);
  return 'names' in decoded ? decoded : undefined;
}

type Emit = (signal: Omit<DriftSignal, 'id' | 'governance'>) => void;

/** Changes between consecutive blocks that are legal but worth an auditor's eye. */
function compareConsecutive(repository: string, previousHeight: number, previous: DecodedBlock, height: number, current: DecodedBlock, emit: Emit): void {
  const before = previous.values;
  const after = current.values;
  if (before.schema_version !== after.schema_version && after.schema_version !== undefined) {
    emit({
      scan: 'schema',
      kind: 'schema_version_change',
      severity: 'warn',
      repository,
      height,
      field: 'schema_version',
      related: [previousHeight],
      expected: String(before.schema_version),
      actual: String(after.schema_version),
      message: `schema_version changes from ${String(before.schema_version)} to ${String(after.schema_version)}`,
    });
  }
  if (before.hash_algorithm === 'sha256-v1' && after.hash_algorithm === 'dual-v1') {
    emit({
      scan: 'schema',
      kind: 'dual_activation',
      severity: 'info',
      repository,
      height,
      field: 'hash_algorithm',
      related: [previousHeight],
      expected: 'sha256-v1',
      actual: 'dual-v1',
      message: 'first dual-v1 block: SHA3-256 commitments start here',
    });
  }
  if (before.rules_hash !== after.rules_hash && typeof after.rules_hash === 'string') {
    emit({
      scan: 'metadata',
      kind: 'rules_hash_change',
      severity: 'info',
      repository,
      height,
      field: 'rules_hash',
      related: [previousHeight],
      expected: String(before.rules_hash),
      actual: after.rules_hash,
      message: `the rule set changed since block ${previousHeight}`,
    });
  }
}

function checkStatement(
  repository: string,
  height: number,
  decoded: DecodedBlock,
  statements: Map<string, { height: number; outcome: unknown; reasoningRoot: unknown }>,
  emit: Emit,
): void {
  const v = decoded.values;
  if (v.degraded !== false || typeof v.commit !== 'string' || v.commit.length === 0) return;
  const key = JSON.stringify([repository, v.commit, v.rules_hash, v.mode, v.ui_through_seq]);
  const earlier = statements.get(key);
  if (earlier === undefined) {
    statements.set(key, { height, outcome: v.outcome, reasoningRoot: v.reasoning_root });
    return;
  }
  if (earlier.outcome !== v.outcome) {
    emit({
      scan: 'statement',
      kind: 'nondeterministic_outcome',
      severity: 'error',
      repository,
      height,
      field: 'outcome',
      related: [earlier.height],
      expected: String(earlier.outcome),
      actual: String(v.outcome),
      message: `same commit ${v.commit.slice(0, 12)}, rule set, mode and human actions as block ${earlier.height}, but outcome ${String(v.outcome)} instead of ${String(earlier.outcome)}`,
    });
  } else if (earlier.reasoningRoot !== v.reasoning_root) {
    emit({
      scan: 'statement',
      kind: 'nondeterministic_findings',
      severity: 'warn',
      repository,
      height,
      field: 'reasoning_root',
      related: [earlier.height],
      expected: String(earlier.reasoningRoot),
      actual: String(v.reasoning_root),
      message: `same commit ${v.commit.slice(0, 12)}, rule set, mode and human actions as block ${earlier.height}, same outcome but different findings`,
    });
  }
}

/** `GOVERNANCE SIGNAL: OK|WARN|BLOCK`. */
export function formatGovernanceSignal(result: Pick<DriftRadarResult, 'signal'>): string {
  return `GOVERNANCE SIGNAL: ${result.signal}`;
}

export interface EvidenceBlock {
  repository: string;
  height: number;
  hash: string;
  hashSha3?: string;
  /** The stored canonical bytes, base64. */
  canonical: string;
  /** The stored columns. */
  fields: Record<string, unknown>;
  reasoningLeaves: string[];
  uiLeaves: string[];
  /** The signal ids this block is evidence for. */
  signals: string[];
}

/** An RFC 6962 inclusion proof of a block's stored hash in its sealed epoch. */
export interface EvidenceProof {
  repository: string;
  height: number;
  epoch: number;
  leafIndex: number;
  treeSize: number;
  /** The sealed epoch root. */
  root: string;
  /** Audit path over the stored block hashes (leaf data = the 32-byte hash), hex. */
  path: string[];
  /** MTH over the stored hashes of the epoch's blocks equals the sealed root. */
  rootMatches: boolean;
  /** The block's canonical bytes hash to its stored hash (false: the bytes are not what was sealed). */
  leafMatchesBytes: boolean;
}

export interface EvidencePack {
  kind: 'phase-mirror.evidence-pack';
  version: 1;
  generatedAt: string;
  policy: GovernancePolicy;
  signal: GovernanceSignal;
  signals: DriftSignal[];
  blocks: EvidenceBlock[];
  proofs: EvidenceProof[];
  /** Heights a signal names that the store does not hold (gaps). */
  missing: { repository: string; height: number }[];
}

/** The blocks (bytes, columns, leaves) behind every signal, with inclusion proofs where an epoch seals them. Read-only. */
export async function buildEvidencePack(store: LedgerStore, result: DriftRadarResult, options: { now?: () => Date } = {}): Promise<EvidencePack> {
  const ledger = readOnlyLedger(store);
  const wanted = new Map<string, Map<number, string[]>>();
  for (const signal of result.signals) {
    for (const height of [signal.height, ...(signal.related ?? [])]) {
      let heights = wanted.get(signal.repository);
      if (heights === undefined) {
        heights = new Map();
        wanted.set(signal.repository, heights);
      }
      const ids = heights.get(height) ?? [];
      if (!ids.includes(signal.id)) ids.push(signal.id);
      heights.set(height, ids);
    }
  }
  const blocks: EvidenceBlock[] = [];
  const proofs: EvidenceProof[] = [];
  const missing: EvidencePack['missing'] = [];
  for (const repository of [...wanted.keys()].sort()) {
    const heights = wanted.get(repository)!;
    const epochs = await ledger.epochs(repository);
    const epochHashes = new Map<number, Buffer[] | undefined>();
    for (const height of [...heights.keys()].sort((a, b) => a - b)) {
      const block = await ledger.get(repository, height);
      if (block === undefined) {
        missing.push({ repository, height });
        continue;
      }
      blocks.push({
        repository,
        height,
        hash: block.hash,
        ...(block.hashSha3 !== undefined ? { hashSha3: block.hashSha3 } : {}),
        canonical: block.canonical.toString('base64'),
        fields: { ...block.fields },
        reasoningLeaves: block.reasoningLeaves.map((leaf) => leaf.toString('base64')),
        uiLeaves: block.uiLeaves.map((leaf) => leaf.toString('base64')),
        signals: heights.get(height)!,
      });
      const epoch = epochs.find((e) => e.startHeight <= height && height <= e.endHeight);
      if (epoch === undefined) continue;
      if (!epochHashes.has(epoch.number)) {
        const covered = await ledger.range(repository, epoch.startHeight, epoch.endHeight);
        const complete = covered.length === epoch.endHeight - epoch.startHeight + 1 && covered.every((b, i) => b.height === epoch.startHeight + i);
        epochHashes.set(epoch.number, complete && covered.every((b) => /^[0-9a-f]{64}$/.test(b.hash)) ? covered.map((b) => Buffer.from(b.hash, 'hex')) : undefined);
      }
      const hashes = epochHashes.get(epoch.number);
      if (hashes === undefined) continue;
      const leafHashes = hashes.map((h) => leafHash('sha256', h));
      const index = height - epoch.startHeight;
      proofs.push({
        repository,
        height,
        epoch: epoch.number,
        leafIndex: index,
        treeSize: hashes.length,
        root: epoch.root,
        path: inclusionProof('sha256', leafHashes, index).map((node) => node.toString('hex')),
        rootMatches: merkleRootOfLeafHashes('sha256', leafHashes).toString('hex') === epoch.root,
        leafMatchesBytes: digest('sha256', block.canonical).toString('hex') === block.hash,
      });
    }
  }
  return {
    kind: 'phase-mirror.evidence-pack',
    version: 1,
    generatedAt: (options.now ?? (() => new Date()))().toISOString(),
    policy: result.policy,
    signal: result.signal,
    signals: result.signals,
    blocks,
    proofs,
    missing,
  };
}
