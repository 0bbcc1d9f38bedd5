import { decodeRecord, encodeRecord, EncodingError, fieldAtOffset } from '../../src/ledger/encoding';
import { digestAll, HASH_ALGORITHMS, isHashAlgorithmId } from '../../src/ledger/hash';

const sample = [
  { name: 'repository', value: 'acme/widgets' },
  { name: 'height', value: 42 },
  { name: 'degraded', value: false },
  { name: 'prev_hash', value: Buffer.alloc(32, 7) },
  { name: 'note', value: 'ünïcode ✓' },
];

function decodeError(bytes: Buffer): EncodingError {
  try {
    decodeRecord(bytes);
  } catch (error) {
    if (error instanceof EncodingError) return error;
    throw error;
  }
  throw new Error('decoded without error');
}

describe('canonical record encoding', () => {
  it('round-trips every type and lays out the documented bytes', () => {
    const bytes = encodeRecord(sample);
    expect(decodeRecord(bytes)).toEqual(sample);
    // "PMLR" 01 | u16 10 "repository" 01 u32 12 "acme/widgets" | ...
    expect(bytes.subarray(0, 5).toString('latin1')).toBe('PMLR\u0001');
    expect(bytes.readUInt16BE(5)).toBe(10);
    expect(bytes.subarray(7, 17).toString('ascii')).toBe('repository');
    expect(bytes[17]).toBe(0x01);
    expect(bytes.readUInt32BE(18)).toBe(12);
    const heightAt = 22 + 12;
    expect(bytes.subarray(heightAt + 2, heightAt + 8).toString('ascii')).toBe('height');
    expect(bytes[heightAt + 8]).toBe(0x02);
    expect(bytes.readUInt32BE(heightAt + 9)).toBe(8);
    expect(bytes.readBigUInt64BE(heightAt + 13)).toBe(42n);
  });

  it('gives one encoding per record: the same fields always encode to the same bytes', () => {
    expect(encodeRecord(sample).equals(encodeRecord(sample.map((f) => ({ ...f }))))).toBe(true);
    expect(encodeRecord([sample[1]!, sample[0]!]).equals(encodeRecord([sample[0]!, sample[1]!]))).toBe(false);
  });

  it('refuses negative, fractional and unsafe integers', () => {
    for (const value of [-1, 1.5, 2 ** 53]) expect(() => encodeRecord([{ name: 'n', value }])).toThrow(EncodingError);
  });

  it.each([
    ['a wrong magic', (b: Buffer) => b.write('XMLR', 0, 'latin1'), 0],
    ['an unknown format version', (b: Buffer) => (b[4] = 2), 4],
    ['an unknown type', (b: Buffer) => (b[17] = 0x09), 5],
  ])('rejects %s, naming the offset', (_label, edit, offset) => {
    const bytes = encodeRecord(sample);
    edit(bytes);
    expect(decodeError(bytes).offset).toBe(offset);
  });

  it('rejects truncation, trailing garbage, duplicate names, bad booleans and bad integer widths', () => {
    const bytes = encodeRecord(sample);
    expect(decodeError(bytes.subarray(0, bytes.length - 1)).message).toContain('runs past the end');
    expect(decodeError(Buffer.concat([bytes, Buffer.from([0])])).message).toContain('truncated');
    expect(decodeError(encodeRecord([sample[0]!, sample[0]!])).message).toContain('appears twice');
    const bool = encodeRecord([{ name: 'b', value: true }]);
    bool[bool.length - 1] = 2;
    expect(decodeError(bool).field).toBe('b');
    const int = Buffer.concat([encodeRecord([]), Buffer.from([0, 1, 0x6e, 0x02, 0, 0, 0, 4, 0, 0, 0, 1])]);
    expect(decodeError(int).message).toContain('8 bytes');
    const big = encodeRecord([{ name: 'n', value: 1 }]);
    big.writeBigUInt64BE(2n ** 60n, big.length - 8);
    expect(decodeError(big).message).toContain('beyond 2^53');
    const utf8 = encodeRecord([{ name: 's', value: 'ab' }]);
    utf8[utf8.length - 1] = 0xff;
    expect(decodeError(utf8).message).toContain('invalid UTF-8');
  });

  it('names the field a byte offset belongs to', () => {
    const bytes = encodeRecord(sample);
    expect(fieldAtOffset(bytes, 8)).toBe('repository');
    expect(fieldAtOffset(bytes, bytes.length - 1)).toBe('note');
    expect(fieldAtOffset(bytes, bytes.length + 5)).toBeUndefined();
  });
});

describe('hash algorithm registry', () => {
  it('knows sha256-v1, sha3-v1 and dual-v1, and dual returns both digests', () => {
    expect(Object.keys(HASH_ALGORITHMS)).toEqual(['sha256-v1', 'sha3-v1', 'dual-v1']);
    expect(isHashAlgorithmId('dual-v1')).toBe(true);
    expect(isHashAlgorithmId('md5')).toBe(false);
    const both = digestAll('dual-v1', Buffer.from(''));
    expect(both.sha256?.toString('hex')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(both['sha3-256']?.toString('hex')).toBe('a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a');
    expect(Object.keys(digestAll('sha3-v1', Buffer.from('x')))).toEqual(['sha3-256']);
  });
});
