/**
 * The drift radar over the in-memory ledger store: each scan type on a
 * crafted stream, the policy table, the scan-type filter, and the evidence
 * pack (blocks behind the signals, inclusion proofs in sealed epochs).
 */
import { buildBlock, encodeBlockFields, type StoredBlock } from '../../src/ledger/block';
import {
  buildEvidencePack,
  formatGovernanceSignal,
  GOVERNANCE_EXIT_CODES,
  governanceSignalFor,
  parseGovernancePolicy,
  parseScanTypes,
  runDriftRadar,
  type DriftRadarResult,
} from '../../src/ledger/drift-radar';
import { decodeRecord, encodeRecord } from '../../src/ledger/encoding';
import { sealEpochs } from '../../src/ledger/epochs';
import { digest } from '../../src/ledger/hash';
import { leafHash, verifyInclusion } from '../../src/ledger/merkle';
import { Ed25519Signer } from '../../src/ledger/signing';
import { sha256Hex } from '../../src/hashing';
import { InputError } from '../../src/errors';
import type { Outcome } from '../../src/types';
import { validReport } from '../report/report-fixture';
import { MemoryLedgerStore } from './memory-ledger-store';

const REPO = 'acme/widgets';
const T0 = Date.UTC(2025, 8, 1, 9, 0, 0);
const NOW = () => new Date(Date.UTC(2025, 8, 2, 0, 0, 0));

interface Decision {
  commit?: string;
  outcome?: Outcome;
  degraded?: boolean;
  rules?: string;
  /** Drop the report's second finding. */
  fewerFindings?: boolean;
  /** Journal a human action before this decision. */
  action?: boolean;
}

/** Appends one block per decision; defaults: a fresh commit per height, outcome warn, one rule set. */
async function stream(store: MemoryLedgerStore, decisions: Decision[], options: { dualAt?: number; repository?: string } = {}): Promise<StoredBlock[]> {
  const repository = options.repository ?? REPO;
  const blocks: StoredBlock[] = [];
  let previous = await store.head(repository);
  for (const d of decisions) {
    const height = previous === undefined ? 0 : previous.height + 1;
    if (d.action === true) await store.recordAction(repository, { kind: 'fp_mark', actor: 'reviewer', at: new Date(T0).toISOString(), subject: `e${height}`, detail: 'fp' });
    const report = validReport();
    report.machine_decision.outcome = d.outcome ?? 'warn';
    report.machine_decision.degraded = d.degraded ?? false;
    report.meta.rules_hash = sha256Hex(d.rules ?? 'rules-v1');
    if (d.fewerFindings === true) report.items = report.items.slice(0, 1);
    const block = buildBlock({
      report,
      repository,
      mode: 'pull_request',
      commit: d.commit ?? height.toString(16).padStart(40, '0'),
      previous,
      actions: await store.actionsAfter(repository, previous?.fields.ui_through_seq ?? 0),
      dualActivationHeight: options.dualAt,
      timestamp: new Date(T0 + height * 60_000),
    });
    await store.append(block);
    blocks.push(block);
    previous = block;
  }
  return blocks;
}

function plain(n: number): Decision[] {
  return Array.from({ length: n }, () => ({}));
}

function ids(result: DriftRadarResult): string[] {
  return result.signals.map((s) => `${s.scan}:${s.kind}@${s.height}:${s.field}`);
}

function valueOffset(canonical: Buffer, name: string): number {
  let cursor = 5;
  while (cursor < canonical.length) {
    const nameLength = canonical.readUInt16BE(cursor);
    const fieldName = canonical.toString('ascii', cursor + 2, cursor + 2 + nameLength);
    const valueLength = canonical.readUInt32BE(cursor + 2 + nameLength + 1);
    const value = cursor + 2 + nameLength + 5;
    if (fieldName === name) return value;
    cursor = value + valueLength;
  }
  throw new Error(`no field ${name}`);
}

/** Rewrites the stored block consistently (bytes re-encoded, hashes recomputed). */
function rewrite(block: StoredBlock, canonical: Buffer): void {
  block.canonical = canonical;
  block.hash = digest('sha256', canonical).toString('hex');
  if (block.hashSha3 !== undefined) block.hashSha3 = digest('sha3-256', canonical).toString('hex');
}

describe('runDriftRadar', () => {
  it('signals OK on an intact stream, noting the dual activation, and writes nothing', async () => {
    // Prepare
    const store = new MemoryLedgerStore();
    await stream(store, plain(6), { dualAt: 3 });

    // Act
    const result = await runDriftRadar(store, { policy: 'strict', now: NOW });

    // Assess
    expect(result).toMatchObject({
      kind: 'phase-mirror.drift-signals',
      version: 1,
      generatedAt: '2025-09-02T00:00:00.000Z',
      policy: 'strict',
      scanTypes: ['schema', 'hash-delta', 'metadata', 'statement'],
      scanned: { repositories: 1, blocks: 6 },
      counts: { info: 1, warn: 0, error: 0, critical: 0 },
      signal: 'OK',
      exitCode: 0,
    });
    expect(result.signals).toEqual([
      expect.objectContaining({ id: `schema:dual_activation:${REPO}@3:hash_algorithm`, severity: 'info', governance: 'OK', related: [2] }),
    ]);
    expect(store.count('append')).toBe(6);
  });

  it('names the height and field of a byte changed in any field, and blocks under every policy', async () => {
    // Prepare
    const store = new MemoryLedgerStore();
    const blocks = await stream(store, plain(4), { dualAt: 0 });
    const names = decodeRecord(blocks[2]!.canonical).map((f) => f.name);
    const missed: string[] = [];
    const verdicts = new Set<string>();

    for (const name of names) {
      const copy = new MemoryLedgerStore();
      for (const block of blocks) copy.seedBlock(block);
      copy.tamperBlock(REPO, 2, (b) => {
        b.canonical[valueOffset(b.canonical, name)] ^= 0x01;
      });

      // Act
      for (const policy of ['strict', 'moderate', 'permissive'] as const) {
        const result = await runDriftRadar(copy, { policy });
        verdicts.add(`${result.signal}/${result.exitCode}`);
        if (policy === 'moderate' && !result.signals.some((s) => s.height === 2 && s.field === name)) missed.push(name);
      }
    }

    // Assess
    expect(missed).toEqual([]);
    expect([...verdicts]).toEqual(['BLOCK/1']);
  });

  it('reports hash-delta signals for a changed column, leaf and stored hash', async () => {
    // Prepare
    const store = new MemoryLedgerStore();
    await stream(store, plain(4));
    store.tamperBlock(REPO, 1, (b) => {
      b.fields = { ...b.fields, degraded: true };
    });
    store.tamperBlock(REPO, 2, (b) => {
      b.reasoningLeaves = b.reasoningLeaves.slice(1);
    });
    store.tamperBlock(REPO, 3, (b) => {
      b.hash = 'e'.repeat(64);
    });

    // Act
    const result = await runDriftRadar(store, { scanTypes: ['hash-delta'] });

    // Assess
    expect(ids(result)).toEqual(['hash-delta:column_mismatch@1:degraded', 'hash-delta:root_mismatch@2:reasoning_root', 'hash-delta:hash_mismatch@3:hash']);
    expect(result.signals.every((s) => s.severity === 'critical' && s.governance === 'BLOCK')).toBe(true);
  });

  it('reports a broken link with the predecessor as related height', async () => {
    // Prepare
    const store = new MemoryLedgerStore();
    await stream(store, plain(3));
    store.tamperBlock(REPO, 2, (b) => {
      b.fields = { ...b.fields, prev_hash: '9'.repeat(64) };
      rewrite(b, encodeBlockFields(b.fields));
    });

    // Act
    const result = await runDriftRadar(store);

    // Assess
    expect(result.signals).toEqual([expect.objectContaining({ scan: 'hash-delta', kind: 'link_mismatch', height: 2, field: 'prev_hash', related: [1] })]);
  });

  it('reports schema drift: unknown fields (error) and an unknown schema version with its change (critical, warn)', async () => {
    // Prepare
    const store = new MemoryLedgerStore();
    await stream(store, plain(4));
    store.tamperBlock(REPO, 3, (b) => {
      rewrite(b, encodeRecord([...decodeRecord(b.canonical), { name: 'reviewer', value: 'bot' }]));
    });
    store.tamperBlock(REPO, 1, (b) => {
      b.fields = { ...b.fields, schema_version: 2 };
      rewrite(b, encodeBlockFields(b.fields));
    });

    // Act
    const moderate = await runDriftRadar(store, { scanTypes: ['schema'] });
    const permissiveUnknownOnly = await runDriftRadar(store, { scanTypes: ['schema'], policy: 'permissive', start: 3 });

    // Assess
    expect(ids(moderate)).toEqual(['schema:unknown_schema_version@1:schema_version', 'schema:schema_version_change@1:schema_version', 'schema:schema_version_change@2:schema_version', 'schema:unknown_field@3:reviewer']);
    expect(moderate.signals.map((s) => s.severity)).toEqual(['critical', 'warn', 'warn', 'error']);
    expect(moderate.signal).toBe('BLOCK');
    expect(permissiveUnknownOnly).toMatchObject({ signal: 'WARN', exitCode: 0 });
  });

  it('reports metadata drift: timestamp regression, a height gap and a rule-set change', async () => {
    // Prepare
    const store = new MemoryLedgerStore();
    await stream(store, [{}, {}, { rules: 'rules-v2' }, {}, {}, {}]);
    store.removeBlock(REPO, 4);
    store.tamperBlock(REPO, 5, (b) => {
      b.fields = { ...b.fields, timestamp: new Date(T0 - 1).toISOString() };
      rewrite(b, encodeBlockFields(b.fields));
    });
    store.tamperBlock(REPO, 3, (b) => {
      b.fields = { ...b.fields, timestamp: new Date(T0).toISOString() };
      rewrite(b, encodeBlockFields(b.fields));
    });

    // Act
    const result = await runDriftRadar(store, { scanTypes: ['metadata'] });

    // Assess
    expect(ids(result)).toEqual([
      'metadata:rules_hash_change@2:rules_hash',
      'metadata:timestamp_regression@3:timestamp',
      'metadata:rules_hash_change@3:rules_hash',
      'metadata:height_gap@4:height',
    ]);
    expect(result.signals[0]).toMatchObject({ severity: 'info', governance: 'OK', expected: sha256Hex('rules-v1'), actual: sha256Hex('rules-v2') });
    expect(result).toMatchObject({ signal: 'BLOCK', counts: { critical: 2, info: 2 } });
  });

  it('reports a nondeterministic outcome for the same commit, rules, mode and human actions', async () => {
    // Prepare
    const store = new MemoryLedgerStore();
    const c = 'f'.repeat(40);
    await stream(store, [{ commit: c, outcome: 'block' }, {}, { commit: c, outcome: 'pass' }]);

    // Act
    const moderate = await runDriftRadar(store, { scanTypes: ['statement'] });
    const permissive = await runDriftRadar(store, { scanTypes: ['statement'], policy: 'permissive' });

    // Assess
    expect(moderate.signals).toEqual([
      expect.objectContaining({ scan: 'statement', kind: 'nondeterministic_outcome', height: 2, field: 'outcome', related: [0], expected: 'block', actual: 'pass', severity: 'error' }),
    ]);
    expect(moderate).toMatchObject({ signal: 'BLOCK', exitCode: 1 });
    expect(permissive).toMatchObject({ signal: 'WARN', exitCode: 0 });
  });

  it('does not call a different outcome nondeterministic when degraded, after a human action, under other rules or without a commit', async () => {
    // Prepare
    const store = new MemoryLedgerStore();
    const c = 'e'.repeat(40);
    await stream(store, [
      { commit: c, outcome: 'block' },
      { commit: c, outcome: 'pass', degraded: true },
      { commit: c, outcome: 'pass', rules: 'rules-v2' },
      { commit: c, outcome: 'warn', rules: 'rules-v2', action: true },
      { commit: '', outcome: 'pass' },
      { commit: '', outcome: 'block' },
    ]);

    // Act
    const result = await runDriftRadar(store, { scanTypes: ['statement'] });

    // Assess
    expect(result.signals).toEqual([]);
  });

  it('reports same-outcome findings drift as a warning that only strict blocks', async () => {
    // Prepare
    const store = new MemoryLedgerStore();
    const c = 'd'.repeat(40);
    await stream(store, [{ commit: c }, { commit: c, fewerFindings: true }]);

    // Act
    const results = await Promise.all((['strict', 'moderate', 'permissive'] as const).map((policy) => runDriftRadar(store, { policy, scanTypes: ['statement'] })));

    // Assess
    expect(ids(results[0]!)).toEqual(['statement:nondeterministic_findings@1:reasoning_root']);
    expect(results.map((r) => r.signal)).toEqual(['BLOCK', 'WARN', 'OK']);
  });

  it('scans only the requested types, streams and heights', async () => {
    // Prepare
    const store = new MemoryLedgerStore();
    await stream(store, plain(5));
    await stream(store, plain(2), { repository: 'acme/other' });
    store.tamperBlock(REPO, 1, (b) => {
      b.hash = '0'.repeat(64);
    });
    store.tamperBlock('acme/other', 1, (b) => {
      b.hash = '0'.repeat(64);
    });

    // Act
    const metadataOnly = await runDriftRadar(store, { scanTypes: ['metadata'] });
    const fromTwo = await runDriftRadar(store, { repository: REPO, start: 2, end: 3 });
    const oneStream = await runDriftRadar(store, { repository: 'acme/other' });

    // Assess
    expect(metadataOnly.signals).toEqual([]);
    expect(fromTwo).toMatchObject({ scanned: { repositories: 1, blocks: 2 }, range: { start: 2, end: 3 } });
    expect(ids(fromTwo)).toEqual(['hash-delta:link_mismatch@2:prev_hash']);
    expect(ids(oneStream)).toEqual(['hash-delta:hash_mismatch@1:hash']);
  });

  it('rejects an unknown policy and a reversed range', async () => {
    // Prepare
    const store = new MemoryLedgerStore();

    // Act
    const badPolicy = runDriftRadar(store, { policy: 'lenient' as never });
    const reversed = runDriftRadar(store, { start: 4, end: 2 });
    const negative = runDriftRadar(store, { end: -1 });

    // Assess
    await expect(badPolicy).rejects.toMatchObject({ code: 'INPUT_INVALID', location: { flag: '--governance-policy' } });
    await expect(reversed).rejects.toMatchObject({ location: { flag: '--start' } });
    await expect(negative).rejects.toMatchObject({ location: { flag: '--end' } });
  });
});

describe('governance policies', () => {
  it('maps severities to governance signals per policy', () => {
    // Act
    const table = (['strict', 'moderate', 'permissive'] as const).map((policy) =>
      (['critical', 'error', 'warn', 'info'] as const).map((severity) => governanceSignalFor(severity, policy)),
    );

    // Assess
    expect(table).toEqual([
      ['BLOCK', 'BLOCK', 'BLOCK', 'OK'],
      ['BLOCK', 'BLOCK', 'WARN', 'OK'],
      ['BLOCK', 'WARN', 'OK', 'OK'],
    ]);
    expect(GOVERNANCE_EXIT_CODES).toEqual({ OK: 0, WARN: 0, BLOCK: 1 });
    expect(formatGovernanceSignal({ signal: 'WARN' })).toBe('GOVERNANCE SIGNAL: WARN');
  });

  it('parses scan types in canonical order and policies, naming the flag on error', () => {
    // Act
    const types = parseScanTypes(' statement,schema ,, hash-delta');
    const unknown = (): unknown => parseScanTypes('schema,entropy');
    const empty = (): unknown => parseScanTypes(' , ');
    const policy = parseGovernancePolicy('permissive');
    const badPolicy = (): unknown => parseGovernancePolicy('STRICT');

    // Assess
    expect(types).toEqual(['schema', 'hash-delta', 'statement']);
    expect(unknown).toThrow(InputError);
    expect(unknown).toThrow('unknown scan type "entropy"');
    expect(empty).toThrow('--scan-types names no scan');
    expect(policy).toBe('permissive');
    expect(badPolicy).toThrow(expect.objectContaining({ location: { flag: '--governance-policy' } }));
  });
});

describe('buildEvidencePack', () => {
  it('holds the signals and the blocks behind them, with bytes that decode back to the stored block', async () => {
    // Prepare
    const store = new MemoryLedgerStore();
    const c = 'b'.repeat(40);
    await stream(store, [{ commit: c, outcome: 'pass' }, {}, { commit: c, outcome: 'block' }, {}, {}]);
    store.removeBlock(REPO, 3);
    const result = await runDriftRadar(store, { now: NOW });

    // Act
    const pack = await buildEvidencePack(store, result, { now: NOW });

    // Assess
    expect(pack).toMatchObject({ kind: 'phase-mirror.evidence-pack', version: 1, generatedAt: '2025-09-02T00:00:00.000Z', policy: 'moderate', signal: 'BLOCK', proofs: [] });
    expect(pack.signals).toEqual(result.signals);
    expect(pack.blocks.map((b) => [b.height, b.signals])).toEqual([
      [0, [`statement:nondeterministic_outcome:${REPO}@2:outcome`]],
      [2, [`statement:nondeterministic_outcome:${REPO}@2:outcome`]],
    ]);
    expect(result.signals.map((s) => s.id)).toEqual([`statement:nondeterministic_outcome:${REPO}@2:outcome`, `metadata:height_gap:${REPO}@3:height`]);
    expect(pack.missing).toEqual([{ repository: REPO, height: 3 }]);
    const stored = (await store.get(REPO, 2))!;
    const evidence = pack.blocks[1]!;
    expect(Buffer.from(evidence.canonical, 'base64').equals(stored.canonical)).toBe(true);
    expect(evidence.fields).toEqual(stored.fields);
    expect(evidence.reasoningLeaves.map((l) => Buffer.from(l, 'base64'))).toEqual(stored.reasoningLeaves);
    expect(evidence.hash).toBe(stored.hash);
  });

  it('proves each block in its sealed epoch, and shows when the bytes are not what was sealed', async () => {
    // Prepare
    const store = new MemoryLedgerStore();
    await stream(store, plain(6));
    await sealEpochs(store, [new Ed25519Signer(Buffer.alloc(32, 3))], { epochSize: 4, clock: NOW });
    const [epoch] = await store.epochs(REPO);
    store.tamperBlock(REPO, 2, (b) => {
      b.canonical[valueOffset(b.canonical, 'mode')] ^= 0x01;
    });
    const result = await runDriftRadar(store, { scanTypes: ['hash-delta'] });

    // Act
    const pack = await buildEvidencePack(store, result);

    // Assess
    expect(pack.proofs).toEqual([
      expect.objectContaining({ repository: REPO, height: 2, epoch: 0, leafIndex: 2, treeSize: 4, root: epoch!.root, rootMatches: true, leafMatchesBytes: false }),
    ]);
    const proof = pack.proofs[0]!;
    const storedHash = Buffer.from(pack.blocks[0]!.hash, 'hex');
    const path = proof.path.map((p) => Buffer.from(p, 'hex'));
    expect(verifyInclusion('sha256', leafHash('sha256', storedHash), proof.leafIndex, proof.treeSize, path, Buffer.from(proof.root, 'hex'))).toBe(true);
    expect(store.count('putEpoch')).toBe(1);
  });

  it('is empty of blocks when there is no signal', async () => {
    // Prepare
    const store = new MemoryLedgerStore();
    await stream(store, plain(2));
    const result = await runDriftRadar(store);

    // Act
    const pack = await buildEvidencePack(store, result);

    // Assess
    expect(pack).toMatchObject({ signal: 'OK', signals: [], blocks: [], proofs: [], missing: [] });
  });
});
