/**
 * Consensus rules on chains built with buildBlock: a valid chain (SHA-256,
 * across the dual boundary) breaks no rule; each rule is broken by a
 * consistent forgery (fields changed, bytes re-encoded and re-hashed) so the
 * rule itself is what catches it; and a byte changed anywhere in the stored
 * block is named by height and field.
 */
import { encodeBlockFields, buildBlock, type BlockFields, type JournaledAction, type StoredBlock } from '../../src/ledger/block';
import {
  assertValidBlock,
  describeViolation,
  LedgerRuleViolationError,
  validateAttestationRoots,
  validateBlock,
  validateBlockStructure,
  type RuleViolation,
} from '../../src/ledger/consensus';
import { encodeRecord, decodeRecord, type Field } from '../../src/ledger/encoding';
import { digest, ZERO_HASH } from '../../src/ledger/hash';
import { merkleRoot } from '../../src/ledger/merkle';
import type { Outcome } from '../../src/types';
import { IntegrityError } from '../../src/errors';
import { validReport } from '../report/report-fixture';

const REPO = 'acme/widgets';
const T0 = Date.UTC(2025, 0, 1, 12, 0, 0);

function action(seq: number): JournaledAction {
  return { seq, kind: 'fp_mark', actor: 'reviewer', at: new Date(T0 + seq).toISOString(), subject: `event-${seq}`, detail: 'false positive' };
}

/** n blocks of one stream, one minute apart; every other block includes a journaled action. */
function chain(n: number, options: { dualAt?: number; outcome?: Outcome } = {}): StoredBlock[] {
  const blocks: StoredBlock[] = [];
  let seq = 0;
  for (let i = 0; i < n; i++) {
    const report = validReport();
    report.machine_decision.outcome = options.outcome ?? 'warn';
    const actions = i % 2 === 1 ? [action(++seq)] : [];
    blocks.push(
      buildBlock({
        report,
        repository: REPO,
        mode: 'pull_request',
        commit: `${i}`.padStart(40, 'c'),
        previous: blocks.at(-1),
        actions,
        dualActivationHeight: options.dualAt,
        timestamp: new Date(T0 + i * 60_000),
      }),
    );
  }
  return blocks;
}

/** A consistent forgery: the fields changed, then the bytes re-encoded and every stored hash recomputed. */
function forge(block: StoredBlock, edit: (fields: BlockFields) => void): StoredBlock {
  const fields = { ...block.fields };
  edit(fields);
  return withCanonical(block, encodeBlockFields(fields), fields);
}

/** The block with these canonical bytes and matching stored hashes (columns given or left as they were). */
function withCanonical(block: StoredBlock, canonical: Buffer, fields: BlockFields = block.fields): StoredBlock {
  const dual = block.hashSha3 !== undefined;
  return {
    ...block,
    canonical,
    hash: digest('sha256', canonical).toString('hex'),
    ...(dual ? { hashSha3: digest('sha3-256', canonical).toString('hex') } : {}),
    fields,
  };
}

/** Re-encodes the block's record after editing the raw field list (names, order, types). */
function reencodeRecord(block: StoredBlock, edit: (fields: Field[]) => Field[]): StoredBlock {
  return withCanonical(block, encodeRecord(edit(decodeRecord(block.canonical))));
}

function rulesAndFields(violations: readonly RuleViolation[]): string[] {
  return violations.map((v) => `${v.rule}:${v.field}`);
}

/** Byte offset of the first value byte of `name` in canonical bytes. */
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

describe('validateBlockStructure', () => {
  it('accepts every block of a valid SHA-256 chain, the genesis block without a predecessor', () => {
    // Prepare
    const blocks = chain(6);

    // Act
    const violations = blocks.flatMap((block, i) => validateBlockStructure(block, blocks[i - 1]));

    // Assess
    expect(violations).toEqual([]);
    expect(blocks[0]!.fields.prev_hash).toBe(ZERO_HASH);
  });

  it('accepts a chain across the dual boundary, the first dual block linked by both algorithms', () => {
    // Prepare
    const blocks = chain(5, { dualAt: 2 });

    // Act
    const violations = blocks.flatMap((block, i) => validateBlock(block, blocks[i - 1]));

    // Assess
    expect(violations).toEqual([]);
    expect(blocks[1]!.fields.hash_algorithm).toBe('sha256-v1');
    expect(blocks[2]!.fields.prev_hash_sha3).toBe(digest('sha3-256', blocks[1]!.canonical).toString('hex'));
  });

  it('names height when a block does not follow its predecessor', () => {
    // Prepare
    const blocks = chain(3);
    const skipped = forge(blocks[2]!, (f) => {
      f.height = 3;
    });

    // Act
    const violations = validateBlockStructure({ ...skipped, height: 3 }, blocks[1]);

    // Assess
    expect(violations).toEqual([
      expect.objectContaining({ rule: 'height', field: 'height', height: 3, repository: REPO, expected: '2', actual: '3' }),
    ]);
  });

  it('requires a block without predecessor to be height 0 linking to the zero hash', () => {
    // Prepare
    const [genesis, second] = chain(2);
    const badGenesis = forge(genesis!, (f) => {
      f.prev_hash = 'ab'.repeat(32);
    });

    // Act
    const orphan = validateBlockStructure(second!, undefined);
    const badLink = validateBlockStructure(badGenesis, undefined);

    // Assess
    expect(rulesAndFields(orphan)).toEqual(['height:height', 'prev_hash:prev_hash']);
    expect(rulesAndFields(badLink)).toEqual(['prev_hash:prev_hash']);
  });

  it('names prev_hash when the link is not the hash of the predecessor', () => {
    // Prepare
    const blocks = chain(3);
    const relinked = forge(blocks[2]!, (f) => {
      f.prev_hash = blocks[0]!.hash;
    });

    // Act
    const violations = validateBlockStructure(relinked, blocks[1]);

    // Assess
    expect(violations).toEqual([expect.objectContaining({ rule: 'prev_hash', field: 'prev_hash', height: 2, expected: blocks[1]!.hash, actual: blocks[0]!.hash })]);
  });

  it('names prev_hash_sha3 when the first dual block breaks the cross-algorithm link', () => {
    // Prepare
    const blocks = chain(3, { dualAt: 2 });
    const forged = forge(blocks[2]!, (f) => {
      f.prev_hash_sha3 = digest('sha3-256', blocks[0]!.canonical).toString('hex');
    });

    // Act
    const violations = validateBlockStructure(forged, blocks[1]);

    // Assess
    expect(rulesAndFields(violations)).toEqual(['prev_hash_sha3:prev_hash_sha3']);
  });

  it('names timestamp when it is earlier than the predecessor', () => {
    // Prepare
    const blocks = chain(2);
    const early = forge(blocks[1]!, (f) => {
      f.timestamp = new Date(T0 - 1000).toISOString();
    });

    // Act
    const violations = validateBlockStructure(early, blocks[0]);

    // Assess
    expect(rulesAndFields(violations)).toEqual(['timestamp:timestamp']);
  });

  it('accepts an equal timestamp and rejects one that is not ISO 8601 UTC', () => {
    // Prepare
    const blocks = chain(2);
    const same = forge(blocks[1]!, (f) => {
      f.timestamp = blocks[0]!.fields.timestamp;
    });
    const local = forge(blocks[1]!, (f) => {
      f.timestamp = '2025-01-01 13:00';
    });

    // Act
    const sameViolations = validateBlockStructure(same, blocks[0]);
    const localViolations = validateBlockStructure(local, blocks[0]);

    // Assess
    expect(sameViolations).toEqual([]);
    expect(rulesAndFields(localViolations)).toEqual(['field_value:timestamp']);
  });

  it('names schema_version when the version is unknown', () => {
    // Prepare
    const [genesis] = chain(1);
    const future = forge(genesis!, (f) => {
      f.schema_version = 2;
    });

    // Act
    const violations = validateBlockStructure(future, undefined);

    // Assess
    expect(violations).toEqual([expect.objectContaining({ rule: 'schema_version', field: 'schema_version', actual: '2' })]);
  });

  it('rejects an unknown hash algorithm and sha3-v1 as a block algorithm', () => {
    // Prepare
    const [genesis] = chain(1);
    const unknown = forge(genesis!, (f) => {
      (f as { hash_algorithm: string }).hash_algorithm = 'md5-v1';
    });
    const sha3Only = forge(genesis!, (f) => {
      f.hash_algorithm = 'sha3-v1';
    });

    // Act
    const unknownViolations = validateBlockStructure(unknown, undefined);
    const sha3Violations = validateBlockStructure(sha3Only, undefined);

    // Assess
    expect(unknownViolations).toEqual([expect.objectContaining({ rule: 'hash_algorithm', field: 'hash_algorithm', message: expect.stringContaining('unknown') })]);
    expect(sha3Violations).toEqual([expect.objectContaining({ rule: 'hash_algorithm', message: expect.stringContaining('not a block hash algorithm') })]);
  });

  it('requires the SHA3 fields exactly on dual-v1 blocks', () => {
    // Prepare
    const blocks = chain(3, { dualAt: 2 });
    const strayed = forge(blocks[1]!, (f) => {
      f.ui_root_sha3 = blocks[2]!.fields.ui_root_sha3!;
    });
    const lacking = forge(blocks[2]!, (f) => {
      delete f.reasoning_root_sha3;
    });

    // Act
    const strayedViolations = validateBlockStructure(strayed, blocks[0]);
    const lackingViolations = validateBlockStructure(lacking, blocks[1]);

    // Assess
    expect(rulesAndFields(strayedViolations)).toEqual(['sha3_fields:ui_root_sha3']);
    expect(rulesAndFields(lackingViolations)).toEqual(['sha3_fields:reasoning_root_sha3']);
  });

  it('rejects a stream going back from dual-v1 to sha256-v1', () => {
    // Prepare
    const dual = chain(2, { dualAt: 0 });
    const downgraded = buildBlock({
      report: validReport(),
      repository: REPO,
      mode: 'pull_request',
      commit: 'c'.repeat(40),
      previous: dual[1],
      actions: [],
      dualActivationHeight: undefined,
      timestamp: new Date(T0 + 10 * 60_000),
    });

    // Act
    const violations = validateBlockStructure(downgraded, dual[1]);

    // Assess
    expect(rulesAndFields(violations)).toEqual(['hash_algorithm:hash_algorithm']);
  });

  it('names a missing required field, an unknown field, a field out of order and a field of the wrong type', () => {
    // Prepare
    const [genesis] = chain(1);
    const missing = reencodeRecord(genesis!, (fields) => fields.filter((f) => f.name !== 'mode'));
    const unknown = reencodeRecord(genesis!, (fields) => [...fields, { name: 'approved_by', value: 'mallory' }]);
    const swapped = reencodeRecord(genesis!, (fields) => {
      const out = [...fields];
      [out[5], out[6]] = [out[6]!, out[5]!];
      return out;
    });
    const mistyped = reencodeRecord(genesis!, (fields) => fields.map((f) => (f.name === 'degraded' ? { name: 'degraded', value: 'no' } : f)));

    // Act
    const results = [missing, unknown, swapped, mistyped].map((block) => rulesAndFields(validateBlockStructure(block, undefined)));

    // Assess
    expect(results[0]).toEqual(['missing_field:mode', 'column:mode']);
    expect(results[1]).toEqual(['unknown_field:approved_by', 'column:approved_by']);
    expect(results[2]).toEqual(['field_order:mode']);
    expect(results[3]).toEqual(['field_type:degraded', 'column:degraded']);
  });

  it('names a digest field that is not 32 bytes', () => {
    // Prepare
    const [genesis] = chain(1);
    const short = reencodeRecord(genesis!, (fields) => fields.map((f) => (f.name === 'report_hash' ? { name: 'report_hash', value: Buffer.alloc(20) } : f)));

    // Act
    const violations = validateBlockStructure(short, undefined);

    // Assess
    expect(violations).toContainEqual(expect.objectContaining({ rule: 'field_type', field: 'report_hash', expected: 'a 32-byte digest', actual: '20 bytes' }));
  });

  it('names an outcome outside pass, warn and block', () => {
    // Prepare
    const [genesis] = chain(1);
    const odd = forge(genesis!, (f) => {
      (f as { outcome: string }).outcome = 'allow';
    });

    // Act
    const violations = validateBlockStructure(odd, undefined);

    // Assess
    expect(rulesAndFields(violations)).toEqual(['field_value:outcome']);
  });

  it('names hash when the stored hash is not the digest of the canonical bytes', () => {
    // Prepare
    const blocks = chain(3, { dualAt: 1 });
    const badSha256 = { ...blocks[0]!, hash: 'f'.repeat(64) };
    const badSha3 = { ...blocks[2]!, hashSha3: 'e'.repeat(64) };

    // Act
    const sha256Violations = validateBlockStructure(badSha256, undefined);
    const sha3Violations = validateBlockStructure(badSha3, blocks[1]);

    // Assess
    expect(sha256Violations).toEqual([expect.objectContaining({ rule: 'block_hash', field: 'hash', actual: 'f'.repeat(64), expected: blocks[0]!.hash })]);
    expect(sha3Violations).toEqual([expect.objectContaining({ rule: 'block_hash_sha3', field: 'hashSha3', height: 2 })]);
  });

  it('requires a stored SHA3 hash exactly on dual blocks', () => {
    // Prepare
    const blocks = chain(2, { dualAt: 1 });
    const { hashSha3: _dropped, ...withoutSha3 } = blocks[1]!;
    const extraSha3 = { ...blocks[0]!, hashSha3: digest('sha3-256', blocks[0]!.canonical).toString('hex') };

    // Act
    const lacking = validateBlockStructure(withoutSha3, blocks[0]);
    const extra = validateBlockStructure(extraSha3, undefined);

    // Assess
    expect(rulesAndFields(lacking)).toEqual(['block_hash_sha3:hashSha3']);
    expect(rulesAndFields(extra)).toEqual(['block_hash_sha3:hashSha3']);
  });

  it('names a stored column that differs from the canonical bytes', () => {
    // Prepare
    const blocks = chain(2);
    const edited: StoredBlock = { ...blocks[1]!, fields: { ...blocks[1]!.fields, outcome: 'pass' } };

    // Act
    const violations = validateBlockStructure(edited, blocks[0]);

    // Assess
    expect(violations).toEqual([expect.objectContaining({ rule: 'column', field: 'outcome', expected: 'warn', actual: 'pass', height: 1 })]);
  });

  it('names the stored envelope when height or repository differ from the bytes', () => {
    // Prepare
    const blocks = chain(2);
    const moved = { ...blocks[1]!, repository: 'acme/other' };

    // Act
    const violations = validateBlockStructure(moved, blocks[0]);

    // Assess
    expect(rulesAndFields(violations)).toEqual(['envelope:repository']);
  });

  it('names the field whose bytes break the encoding', () => {
    // Prepare
    const [genesis] = chain(1);
    const canonical = Buffer.from(genesis!.canonical);
    // The type byte of `degraded` becomes 0x09, an unknown type.
    const offset = valueOffset(canonical, 'degraded') - 5;
    canonical[offset] = 0x09;
    const broken = { ...genesis!, canonical };

    // Act
    const violations = validateBlockStructure(broken, undefined);

    // Assess
    expect(rulesAndFields(violations)).toEqual(['block_hash:hash', 'encoding:degraded']);
  });

  it.each([false, true])('names the height and field of one byte changed in any field of the canonical bytes (dual %s)', (dual) => {
    // Prepare
    const blocks = chain(3, dual ? { dualAt: 0 } : {});
    const target = blocks[2]!;
    const names = decodeRecord(target.canonical).map((f) => f.name);

    for (const name of names) {
      const canonical = Buffer.from(target.canonical);
      const offset = valueOffset(canonical, name);
      canonical[offset] ^= 0x01;
      const tampered = { ...target, canonical };

      // Act
      const violations = validateBlock(tampered, blocks[1]);

      // Assess
      expect(violations.every((v) => v.height === 2 && v.repository === REPO)).toBe(true);
      expect(violations.map((v) => v.field)).toContain(name);
      expect(violations.map((v) => v.field)).toContain('hash');
    }
  });
});

describe('validateAttestationRoots', () => {
  it('accepts roots recomputed from the stored leaves, on SHA-256 and dual blocks', () => {
    // Prepare
    const blocks = chain(4, { dualAt: 2 });

    // Act
    const violations = blocks.flatMap((block) => validateAttestationRoots(block));

    // Assess
    expect(violations).toEqual([]);
    expect(blocks[1]!.uiLeaves).toHaveLength(1);
    expect(blocks[1]!.reasoningLeaves).toHaveLength(2);
  });

  it('names reasoning_root when a finding leaf was changed, ui_root when an action leaf was', () => {
    // Prepare
    const blocks = chain(2);
    const reasoning = blocks[1]!.reasoningLeaves.map((leaf) => Buffer.from(leaf));
    reasoning[1]![reasoning[1]!.length - 1] ^= 0x01;
    const ui = blocks[1]!.uiLeaves.map((leaf) => Buffer.from(leaf));
    ui[0]![ui[0]!.length - 1] ^= 0x01;

    // Act
    const reasoningViolations = validateAttestationRoots({ ...blocks[1]!, reasoningLeaves: reasoning });
    const uiViolations = validateAttestationRoots({ ...blocks[1]!, uiLeaves: ui });

    // Assess
    expect(reasoningViolations).toEqual([expect.objectContaining({ rule: 'attestation_root', field: 'reasoning_root', height: 1, expected: merkleRoot('sha256', reasoning).toString('hex') })]);
    expect(rulesAndFields(uiViolations)).toEqual(['attestation_root:ui_root']);
  });

  it('names a removed or added leaf through the root it no longer matches', () => {
    // Prepare
    const blocks = chain(2);
    const dropped = { ...blocks[1]!, reasoningLeaves: blocks[1]!.reasoningLeaves.slice(0, 1) };
    const added = { ...blocks[0]!, uiLeaves: [...blocks[1]!.uiLeaves] };

    // Act
    const droppedViolations = validateAttestationRoots(dropped);
    const addedViolations = validateAttestationRoots(added);

    // Assess
    expect(rulesAndFields(droppedViolations)).toEqual(['attestation_root:reasoning_root']);
    expect(rulesAndFields(addedViolations)).toEqual(['attestation_root:ui_root']);
  });

  it('names the leaf that is not a canonical record', () => {
    // Prepare
    const [genesis] = chain(1);
    const leaves = genesis!.reasoningLeaves.map((leaf) => Buffer.from(leaf));
    leaves[1]![0] = 0x00;

    // Act
    const violations = validateAttestationRoots({ ...genesis!, reasoningLeaves: leaves });

    // Assess
    expect(rulesAndFields(violations)).toEqual(['attestation_leaf:reasoning_leaves[1]', 'attestation_root:reasoning_root']);
  });

  it('names composite_root when it is not the root over the stated roots', () => {
    // Prepare
    const [genesis] = chain(1);
    const forged = forge(genesis!, (f) => {
      f.composite_root = f.reasoning_root;
    });

    // Act
    const violations = validateAttestationRoots(forged);

    // Assess
    expect(rulesAndFields(violations)).toEqual(['attestation_root:composite_root']);
  });

  it('checks the SHA3-256 roots of dual blocks', () => {
    // Prepare
    const blocks = chain(1, { dualAt: 0 });
    const forged = forge(blocks[0]!, (f) => {
      f.reasoning_root_sha3 = 'a'.repeat(64);
    });

    // Act
    const violations = validateAttestationRoots(forged);

    // Assess
    expect(violations).toEqual([
      expect.objectContaining({ field: 'reasoning_root_sha3', expected: merkleRoot('sha3-256', blocks[0]!.reasoningLeaves).toString('hex') }),
      expect.objectContaining({ field: 'composite_root_sha3' }),
    ]);
  });

  it('reports undecodable bytes instead of roots', () => {
    // Prepare
    const [genesis] = chain(1);
    const truncated = { ...genesis!, canonical: genesis!.canonical.subarray(0, 40) };

    // Act
    const violations = validateAttestationRoots(truncated);

    // Assess
    expect(violations).toEqual([expect.objectContaining({ rule: 'encoding', height: 0 })]);
  });
});

describe('validateBlock', () => {
  it('skips the link rules when the predecessor is unknown', () => {
    // Prepare
    const blocks = chain(4);

    // Act
    const unchecked = validateBlock(blocks[3]!, undefined, { checkLink: false });
    const checked = validateBlock(blocks[3]!, undefined);

    // Assess
    expect(unchecked).toEqual([]);
    expect(rulesAndFields(checked)).toEqual(['height:height', 'prev_hash:prev_hash']);
  });

  it('names ui_through_seq when it goes back', () => {
    // Prepare
    const blocks = chain(3);
    const back = forge(blocks[2]!, (f) => {
      f.ui_through_seq = 0;
    });

    // Act
    const violations = validateBlock(back, blocks[1]);

    // Assess
    expect(rulesAndFields(violations)).toEqual(['ui_through_seq:ui_through_seq']);
  });
});

describe('assertValidBlock', () => {
  it('throws a LedgerRuleViolationError naming height and field', () => {
    // Prepare
    const blocks = chain(2);
    const edited: StoredBlock = { ...blocks[1]!, fields: { ...blocks[1]!.fields, commit: 'd'.repeat(40) } };

    // Act
    let thrown: unknown;
    try {
      assertValidBlock(edited, blocks[0]);
    } catch (error) {
      thrown = error;
    }

    // Assess
    expect(thrown).toBeInstanceOf(LedgerRuleViolationError);
    expect(thrown).toBeInstanceOf(IntegrityError);
    const error = thrown as LedgerRuleViolationError;
    expect(error.code).toBe('LEDGER_INVALID');
    expect(error.location.field).toBe('commit');
    expect(error.message).toBe(`${REPO}@1 commit: stored column commit differs from the canonical bytes`);
    expect(error.violations).toHaveLength(1);
  });

  it('does not throw on a valid block and counts further violations in the message', () => {
    // Prepare
    const blocks = chain(2);
    const twice: StoredBlock = { ...blocks[1]!, hash: '0'.repeat(64), fields: { ...blocks[1]!.fields, mode: 'drift' } };

    // Act
    const valid = (): void => assertValidBlock(blocks[1]!, blocks[0]);
    const invalid = (): void => assertValidBlock(twice, blocks[0]);

    // Assess
    expect(valid).not.toThrow();
    expect(invalid).toThrow(/\(and 1 more\)$/);
    expect(describeViolation(validateBlock(twice, blocks[0])[0]!)).toBe(`${REPO}@1 hash: the stored hash is not the SHA-256 of the canonical bytes`);
  });
});
