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

import { isUtf8 } from 'node:buffer';

export type FieldValue = string | number | boolean | Buffer;

export interface Field {
  name: string;
  value: FieldValue;
}

const MAGIC = Buffer.from('PMLR', 'ascii');
const FORMAT_VERSION = 1;
const NAME_LENGTH_PROBE = Buffer.alloc(2);
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
  // Two passes: validate and size every field, then write them all into one buffer.
  const count = fields.length;
  const types = new Uint8Array(count);
  const lengths = new Array<number>(count);
  let total = MAGIC.length + 1;
  let notBytes: string | undefined;
  for (let index = 0; index < count; index++) {
    const { name, value } = fields[index]!;
    if (typeof name !== 'string') throw new TypeError(`field name must be a string, got ${typeof name}`);
    let type: number;
    let length: number;
    if (typeof value === 'string') {
      type = TYPE_STRING;
      length = isShortAscii(value) ? value.length : Buffer.byteLength(value, 'utf8');
    } else if (typeof value === 'number') {
      if (!Number.isSafeInteger(value) || value < 0) throw new EncodingError(`field ${name}: ${value} is not an unsigned safe integer`, 0, name);
      type = TYPE_UINT;
      length = 8;
    } else if (typeof value === 'boolean') {
      type = TYPE_BOOL;
      length = 1;
    } else {
      type = TYPE_BYTES;
      if (value instanceof Uint8Array) {
        length = value.byteLength;
      } else if (value === null || value === undefined) {
        throw new TypeError(`field ${name}: a bytes value must be a Buffer or Uint8Array, got ${String(value)}`);
      } else {
        // Reported once every field was sized, so a bad integer further on is still the error named.
        notBytes ??= `field ${name}: a bytes value must be a Buffer or Uint8Array, got ${value === null ? 'null' : typeof value}`;
        length = 0;
      }
    }
    // A name longer than a u16 fails here, as writing its length header would (RangeError).
    if (name.length > 0xffff) NAME_LENGTH_PROBE.writeUInt16BE(name.length, 0);
    types[index] = type;
    lengths[index] = length;
    total += 2 + name.length + 1 + 4 + length;
  }
  if (notBytes !== undefined) throw new TypeError(notBytes);
  const out = Buffer.allocUnsafe(total);
  MAGIC.copy(out, 0);
  out[MAGIC.length] = FORMAT_VERSION;
  let offset = MAGIC.length + 1;
  for (let index = 0; index < count; index++) {
    const { name, value } = fields[index]!;
    const length = lengths[index]!;
    // One byte per UTF-16 unit (its low byte), as Buffer.from(name, 'ascii') writes it.
    offset = out.writeUInt16BE(name.length, offset);
    if (name.length <= SHORT_STRING) {
      for (let char = 0; char < name.length; char++) out[offset + char] = name.charCodeAt(char) & 0xff;
      offset += name.length;
    } else {
      offset += out.write(name, offset, 'ascii');
    }
    out[offset] = types[index]!;
    offset = out.writeUInt32BE(length, offset + 1);
    switch (types[index]) {
      case TYPE_STRING: {
        const text = value as string;
        if (length === text.length && length <= SHORT_STRING) {
          // 7-bit (one UTF-8 byte per unit): written directly, as UTF-8 would write it.
          for (let char = 0; char < length; char++) out[offset + char] = text.charCodeAt(char);
          offset += length;
        } else {
          offset += out.write(text, offset, 'utf8');
        }
        break;
      }
      case TYPE_UINT: {
        const number = value as number;
        out.writeUInt32BE(Math.floor(number / 0x1_0000_0000), offset);
        out.writeUInt32BE(number % 0x1_0000_0000, offset + 4);
        offset += 8;
        break;
      }
      case TYPE_BOOL:
        out[offset] = value ? 1 : 0;
        offset += 1;
        break;
      default:
        out.set(value as Uint8Array, offset);
        offset += length;
    }
  }
  return out;
}

/** Strings up to this many units are encoded in JS rather than through a native call. */
const SHORT_STRING = 64;

/** True when `text` is short and 7-bit, so its UTF-8 is one byte per unit. */
function isShortAscii(text: string): boolean {
  if (text.length > SHORT_STRING) return false;
  for (let char = 0; char < text.length; char++) if (text.charCodeAt(char) >= 0x80) return false;
  return true;
}

/** Decodes a record; every error says at which byte offset (and field) the encoding broke. */
export function decodeRecord(bytes: Uint8Array): Field[] {
  const input = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (input.length < 5 || input[0] !== MAGIC[0] || input[1] !== MAGIC[1] || input[2] !== MAGIC[2] || input[3] !== MAGIC[3]) {
    throw new EncodingError('not a ledger record (magic PMLR missing)', 0);
  }
  if (input[4] !== FORMAT_VERSION) throw new EncodingError(`unknown record format version ${input[4]}`, 4);
  // Bytes values are views into one private copy of the record: never aliases of `bytes`.
  let copy: Buffer | undefined;
  const fields: Field[] = [];
  const seen = new Set<string>();
  const end = input.length;
  let offset = 5;
  while (offset < end) {
    const start = offset;
    if (offset + 2 > end) throw new EncodingError('truncated field name length', offset);
    const nameLength = input.readUInt16BE(offset);
    offset += 2;
    if (offset + nameLength + 5 > end) throw new EncodingError('truncated field header', start);
    const name = readAscii(input, offset, nameLength) ?? input.toString('ascii', offset, offset + nameLength);
    offset += nameLength;
    const type = input[offset]!;
    const length = input.readUInt32BE(offset + 1);
    offset += 5;
    if (offset + length > end) throw new EncodingError(`field ${name}: value runs past the end of the record`, start, name);
    const valueStart = offset;
    offset += length;
    if (seen.has(name)) throw new EncodingError(`field ${name} appears twice`, start, name);
    seen.add(name);
    let value: FieldValue;
    switch (type) {
      case TYPE_STRING: {
        // 7-bit bytes are valid UTF-8 and decode the same; anything else is validated (not repaired).
        const ascii = readAscii(input, valueStart, length);
        if (ascii !== undefined) {
          value = ascii;
        } else {
          if (!isUtf8(input.subarray(valueStart, offset))) throw new EncodingError(`field ${name}: invalid UTF-8`, start, name);
          value = input.toString('utf8', valueStart, offset);
        }
        break;
      }
      case TYPE_UINT: {
        if (length !== 8) throw new EncodingError(`field ${name}: an integer takes 8 bytes, not ${length}`, start, name);
        const high = input.readUInt32BE(valueStart);
        // 2^53 - 1 is 0x001fffff_ffffffff.
        if (high > 0x1f_ffff) throw new EncodingError(`field ${name}: integer beyond 2^53`, start, name);
        value = high * 0x1_0000_0000 + input.readUInt32BE(valueStart + 4);
        break;
      }
      case TYPE_BOOL:
        if (length !== 1 || input[valueStart]! > 1) throw new EncodingError(`field ${name}: a boolean is one byte 0 or 1`, start, name);
        value = input[valueStart] === 1;
        break;
      case TYPE_BYTES:
        copy ??= Buffer.from(input);
        value = copy.subarray(valueStart, offset);
        break;
      default:
        throw new EncodingError(`field ${name}: unknown type 0x${type.toString(16)}`, start, name);
    }
    fields.push({ name, value });
  }
  return fields;
}

/**
 * Short 7-bit strings decoded so far (field names, and values that repeat
 * such as modes, outcomes, algorithms, repositories), keyed by their length
 * and three of their bytes: reusing the string saves a native decode per
 * field. A hit is compared byte by byte. Bounded, so records with arbitrary
 * strings cannot grow it without limit.
 */
const ASCII_CACHE = new Map<number, string>();
const ASCII_CACHE_LIMIT = 1024;
const ASCII_CACHE_MAX_LENGTH = 64;

/** The 7-bit string at [start, start + length), or undefined when a byte is >= 0x80. */
function readAscii(input: Buffer, start: number, length: number): string | undefined {
  const end = start + length;
  if (length === 0) return '';
  const cacheable = length <= ASCII_CACHE_MAX_LENGTH;
  let cached: string | undefined;
  let key = 0;
  if (cacheable) {
    key = length * 0x1000000 + input[start]! * 0x10000 + input[end - 1]! * 0x100 + input[start + (length >> 1)]!;
    cached = ASCII_CACHE.get(key);
    if (cached !== undefined) {
      let index = 0;
      // A cached string is 7-bit, so a byte >= 0x80 never matches.
      while (index < length && cached.charCodeAt(index) === input[start + index]) index++;
      if (index === length) return cached;
    }
  }
  for (let index = start; index < end; index++) if (input[index]! >= 0x80) return undefined;
  const text = input.toString('latin1', start, end);
  if (cacheable && cached === undefined && ASCII_CACHE.size < ASCII_CACHE_LIMIT) ASCII_CACHE.set(key, text);
  return text;
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
