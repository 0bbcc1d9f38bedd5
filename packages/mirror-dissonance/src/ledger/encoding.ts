/**
 * The ledger's canonical, length-prefixed encoding (docs/ledger.md). A record
 * is a fixed, ordered list of named fields; each field is written as
 *
 *   u16be(len(name)) ‖ name (ASCII) ‖ u8(type) ‖ u32be(len(value)) ‖ value
 *
 * with types 0x01 string (UTF-8), 0x02 unsigned integer (u64be, 8 bytes),
 * 0x03 boolean (one byte 0x00/0x01), 0x04 bytes (raw, e.g. a 32-byte digest).
 * The record starts with the magic `PMLR` and a u8 format version (1). The
 * order is part of the format, and decoding rejects unknown types, trailing
 * bytes and duplicate names, so one record has exactly one encoding: replay
 * hashes the stored bytes and compares, it never re-serializes.
 */

export type FieldValue = string | number | boolean | Buffer;

export interface Field {
  name: string;
  value: FieldValue;
}

const MAGIC = Buffer.from('PMLR', 'ascii');
const FORMAT_VERSION = 1;
const TYPE_STRING = 0x01;
const TYPE_UINT = 0x02;
const TYPE_BOOL = 0x03;
const TYPE_BYTES = 0x04;

export class EncodingError extends Error {
  constructor(
    message: string,
    readonly offset: number,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'EncodingError';
  }
}

export function encodeRecord(fields: readonly Field[]): Buffer {
  const parts: Buffer[] = [MAGIC, Buffer.from([FORMAT_VERSION])];
  for (const { name, value } of fields) {
    const nameBytes = Buffer.from(name, 'ascii');
    let type: number;
    let bytes: Buffer;
    if (typeof value === 'string') {
      type = TYPE_STRING;
      bytes = Buffer.from(value, 'utf8');
    } else if (typeof value === 'number') {
      if (!Number.isSafeInteger(value) || value < 0) throw new EncodingError(`field ${name}: ${value} is not an unsigned safe integer`, 0, name);
      type = TYPE_UINT;
      bytes = Buffer.alloc(8);
      bytes.writeBigUInt64BE(BigInt(value));
    } else if (typeof value === 'boolean') {
      type = TYPE_BOOL;
      bytes = Buffer.from([value ? 1 : 0]);
    } else {
      type = TYPE_BYTES;
      bytes = value;
    }
    const header = Buffer.alloc(2 + nameBytes.length + 1 + 4);
    header.writeUInt16BE(nameBytes.length, 0);
    nameBytes.copy(header, 2);
    header.writeUInt8(type, 2 + nameBytes.length);
    header.writeUInt32BE(bytes.length, 3 + nameBytes.length);
    parts.push(header, bytes);
  }
  return Buffer.concat(parts);
}

/** Decodes a record; every error says at which byte offset (and field) the encoding broke. */
export function decodeRecord(bytes: Uint8Array): Field[] {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buffer.length < 5 || !buffer.subarray(0, 4).equals(MAGIC)) throw new EncodingError('not a ledger record (magic PMLR missing)', 0);
  if (buffer[4] !== FORMAT_VERSION) throw new EncodingError(`unknown record format version ${buffer[4]}`, 4);
  const fields: Field[] = [];
  const seen = new Set<string>();
  let offset = 5;
  while (offset < buffer.length) {
    const start = offset;
    if (offset + 2 > buffer.length) throw new EncodingError('truncated field name length', offset);
    const nameLength = buffer.readUInt16BE(offset);
    offset += 2;
    if (offset + nameLength + 5 > buffer.length) throw new EncodingError('truncated field header', start);
    const name = buffer.toString('ascii', offset, offset + nameLength);
    offset += nameLength;
    const type = buffer.readUInt8(offset);
    const length = buffer.readUInt32BE(offset + 1);
    offset += 5;
    if (offset + length > buffer.length) throw new EncodingError(`field ${name}: value runs past the end of the record`, start, name);
    const raw = buffer.subarray(offset, offset + length);
    offset += length;
    if (seen.has(name)) throw new EncodingError(`field ${name} appears twice`, start, name);
    seen.add(name);
    let value: FieldValue;
    switch (type) {
      case TYPE_STRING:
        value = raw.toString('utf8');
        if (!Buffer.from(value, 'utf8').equals(raw)) throw new EncodingError(`field ${name}: invalid UTF-8`, start, name);
        break;
      case TYPE_UINT: {
        if (length !== 8) throw new EncodingError(`field ${name}: an integer takes 8 bytes, not ${length}`, start, name);
        const big = raw.readBigUInt64BE(0);
        if (big > BigInt(Number.MAX_SAFE_INTEGER)) throw new EncodingError(`field ${name}: integer beyond 2^53`, start, name);
        value = Number(big);
        break;
      }
      case TYPE_BOOL:
        if (length !== 1 || raw[0]! > 1) throw new EncodingError(`field ${name}: a boolean is one byte 0 or 1`, start, name);
        value = raw[0] === 1;
        break;
      case TYPE_BYTES:
        value = Buffer.from(raw);
        break;
      default:
        throw new EncodingError(`field ${name}: unknown type 0x${type.toString(16)}`, start, name);
    }
    fields.push({ name, value });
  }
  return fields;
}

/** The field whose bytes contain `offset` (for naming the field a tampered byte belongs to). */
export function fieldAtOffset(bytes: Uint8Array, offset: number): string | undefined {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let cursor = 5;
  while (cursor + 2 <= buffer.length) {
    const nameLength = buffer.readUInt16BE(cursor);
    if (cursor + 2 + nameLength + 5 > buffer.length) return undefined;
    const name = buffer.toString('ascii', cursor + 2, cursor + 2 + nameLength);
    const length = buffer.readUInt32BE(cursor + 2 + nameLength + 1);
    const end = cursor + 2 + nameLength + 5 + length;
    if (offset >= cursor && offset < end) return name;
    cursor = end;
  }
  return undefined;
}
