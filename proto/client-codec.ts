// The client's half of the wire codec, without the protobufjs runtime: ClientMessage out, DaemonMessage in, to the
// same bytes and the same values as codec.ts (jaid's). The generated code and protobufjs/minimal were ~60% of the
// client bundle and ~2 ms of every `jai` start (docs/benchmarks.md). The enums below are checked against the
// generated declarations at compile time; test/unit/client-codec.test.ts checks the message tables against
// proto/jai.proto and the codec against protobufjs, both ways.
import { isUtf8 } from 'node:buffer';
import type { jai } from './gen/jai';
import { MAX_PACKET_BYTES, type DecodeResult } from './protocol';

export type ClientMessage = jai.v1.ClientMessage.$Properties;
export type DaemonMessage = jai.v1.DaemonMessage.$Properties;
export type SpawnRequest = jai.v1.SpawnRequest.$Properties;
export type Grant = jai.v1.Grant.$Properties;
export type ErrorMessage = jai.v1.Error.$Properties;

/** An enum of proto/jai.proto with the generated code's names and values (a missing or wrong one does not compile). */
type EnumTable<E> = { readonly [K in keyof E]: E[K] };
// Each enum is a value (the table) and a type (its values), as in the generated code.
export type Mode = jai.v1.Mode;
export type StdioKind = jai.v1.StdioKind;
export type GrantAccess = jai.v1.GrantAccess;
export type Network = jai.v1.Network;
export type NoticeKind = jai.v1.NoticeKind;
export type ErrorCode = jai.v1.ErrorCode;

/* eslint-disable @typescript-eslint/no-unsafe-enum-assignment -- numbers into the generated enum types: the
   declaration checks each name and value against them */
export const Mode: EnumTable<typeof jai.v1.Mode> = {
  MODE_UNSPECIFIED: 0,
  MODE_CASUAL: 1,
  MODE_STRICT: 2,
  MODE_BARE: 3,
};
export const StdioKind: EnumTable<typeof jai.v1.StdioKind> = {
  STDIO_UNSPECIFIED: 0,
  STDIO_PASS: 1,
  STDIO_PTY: 2,
  STDIO_NULL: 3,
};
export const GrantAccess: EnumTable<typeof jai.v1.GrantAccess> = {
  GRANT_UNSPECIFIED: 0,
  GRANT_READ_WRITE: 1,
  GRANT_READ_ONLY: 2,
};
export const Network: EnumTable<typeof jai.v1.Network> = {
  NETWORK_UNSPECIFIED: 0,
  NETWORK_HOST: 1,
  NETWORK_LOOPBACK: 2,
  NETWORK_NONE: 3,
};
export const NoticeKind: EnumTable<typeof jai.v1.NoticeKind> = { NOTICE_INFO: 0, NOTICE_MASKS_IGNORED: 1 };
export const ErrorCode: EnumTable<typeof jai.v1.ErrorCode> = {
  ERROR_UNSPECIFIED: 0,
  PROTO_BAD_FRAME: 1,
  PROTO_FRAME_TOO_LARGE: 2,
  PROTO_UNEXPECTED: 3,
  PROTO_VERSION: 4,
  REQUEST_INVALID: 5,
  REQUEST_FDS: 6,
  USER_UNKNOWN: 7,
  POLICY_DENIED: 8,
  MODE_UNSUPPORTED: 9,
  HELPER_FAILED: 10,
  EXEC_FAILED: 11,
  SESSION_LIMIT: 12,
  INTERNAL: 13,
  DAEMON_STOPPING: 14,
  GRANT_REFUSED: 15,
  RATE_LIMITED: 16,
  CONNECTION_LIMIT: 17,
  REQUEST_TIMEOUT: 18,
  AUDIT_UNAVAILABLE: 19,
  BUSY: 20,
};
/* eslint-enable @typescript-eslint/no-unsafe-enum-assignment */

export type ErrorCodeName = keyof typeof ErrorCode;

/** The name of an ErrorCode value; undefined for one this client does not know (a newer daemon's). */
export function errorCodeName(code: number): ErrorCodeName | undefined {
  for (const name of Object.keys(ErrorCode) as ErrorCodeName[]) {
    const value: number = ErrorCode[name];
    if (value === code) return name;
  }
  return undefined;
}

// --- the message tables (proto/jai.proto; enums travel as int32) ---

type Scalar = 'string' | 'bool' | 'uint32' | 'int32' | 'uint64';
export interface FieldSchema {
  readonly no: number;
  /** As the generated code names it (camelCase). */
  readonly name: string;
  readonly type: Scalar | MessageSchema;
  readonly repeated?: true;
  /** The oneof's virtual property (`body`, `status`): set to the name of the member present. */
  readonly oneof?: string;
}
export interface MessageSchema {
  readonly name: string;
  readonly fields: readonly FieldSchema[];
}

const HELLO: MessageSchema = {
  name: 'Hello',
  fields: [
    { no: 1, name: 'version', type: 'uint32' },
    { no: 2, name: 'agent', type: 'string' },
  ],
};
const SPAWN_REQUEST: MessageSchema = {
  name: 'SpawnRequest',
  fields: [
    { no: 1, name: 'argv', type: 'string', repeated: true },
    { no: 2, name: 'cwd', type: 'string' },
    { no: 3, name: 'env', type: 'string', repeated: true },
    { no: 4, name: 'mode', type: 'int32' },
    { no: 5, name: 'jail', type: 'string' },
    { no: 6, name: 'nocwd', type: 'bool' },
    {
      no: 7,
      name: 'grants',
      repeated: true,
      type: {
        name: 'Grant',
        fields: [
          { no: 1, name: 'path', type: 'string' },
          { no: 2, name: 'access', type: 'int32' },
        ],
      },
    },
    { no: 8, name: 'masks', type: 'string', repeated: true },
    { no: 9, name: 'storage', type: 'string' },
    { no: 10, name: 'configDir', type: 'string' },
    { no: 11, name: 'stdin', type: 'int32' },
    { no: 12, name: 'stdout', type: 'int32' },
    { no: 13, name: 'stderr', type: 'int32' },
    {
      no: 14,
      name: 'terminal',
      type: {
        name: 'Terminal',
        fields: [
          { no: 1, name: 'rows', type: 'uint32' },
          { no: 2, name: 'cols', type: 'uint32' },
        ],
      },
    },
    { no: 15, name: 'umask', type: 'uint32' },
    { no: 16, name: 'actAsUser', type: 'string' },
    { no: 17, name: 'script', type: 'string' },
    { no: 18, name: 'initjail', type: 'string' },
    { no: 19, name: 'network', type: 'int32' },
    {
      no: 20,
      name: 'limits',
      type: {
        name: 'Limits',
        fields: [
          { no: 1, name: 'memoryBytes', type: 'uint64' },
          { no: 2, name: 'pids', type: 'uint32' },
          { no: 3, name: 'cpuMillis', type: 'uint32' },
        ],
      },
    },
  ],
};
const TEARDOWN: MessageSchema = {
  name: 'Teardown',
  fields: [
    { no: 1, name: 'jail', type: 'string' },
    { no: 2, name: 'mode', type: 'int32' },
    { no: 3, name: 'storage', type: 'string' },
    { no: 4, name: 'configDir', type: 'string' },
    { no: 5, name: 'actAsUser', type: 'string' },
  ],
};
const body = (no: number, name: string, type: MessageSchema): FieldSchema => ({ no, name, type, oneof: 'body' });

export const CLIENT_MESSAGE: MessageSchema = {
  name: 'ClientMessage',
  fields: [
    body(1, 'hello', HELLO),
    body(2, 'spawn', SPAWN_REQUEST),
    body(3, 'signal', { name: 'Signal', fields: [{ no: 1, name: 'signo', type: 'uint32' }] }),
    body(4, 'teardown', TEARDOWN),
    body(5, 'continue', { name: 'Continue', fields: [] }),
  ],
};

/** Decoded without repeated or uint64 fields (the decoder has neither): the test keeps it so. */
export const DAEMON_MESSAGE: MessageSchema = {
  name: 'DaemonMessage',
  fields: [
    body(1, 'hello', HELLO),
    body(2, 'started', {
      name: 'Started',
      fields: [
        { no: 1, name: 'sessionId', type: 'string' },
        { no: 2, name: 'pty', type: 'bool' },
      ],
    }),
    body(3, 'exited', {
      name: 'Exited',
      fields: [
        { no: 1, name: 'code', type: 'uint32', oneof: 'status' },
        { no: 2, name: 'signal', type: 'uint32', oneof: 'status' },
      ],
    }),
    body(4, 'error', {
      name: 'Error',
      fields: [
        { no: 1, name: 'code', type: 'int32' },
        { no: 2, name: 'message', type: 'string' },
        { no: 3, name: 'exitCode', type: 'uint32' },
      ],
    }),
    body(5, 'notice', {
      name: 'Notice',
      fields: [
        { no: 1, name: 'kind', type: 'int32' },
        { no: 2, name: 'message', type: 'string' },
      ],
    }),
    body(6, 'tornDown', { name: 'TornDown', fields: [{ no: 1, name: 'exitCode', type: 'uint32' }] }),
    body(7, 'stopped', { name: 'Stopped', fields: [{ no: 1, name: 'signal', type: 'uint32' }] }),
  ],
};

// --- encoding: protobufjs's rules (a scalar at its default is left out unless in a oneof; a message field present
// is written even when empty; strings as UTF-8, a lone surrogate as U+FFFD as Buffer writes it). The bytes are built
// as a binary string (one character per byte) and copied into a Buffer once: string concatenation is ~4 times
// faster than a Buffer.write per field in code that runs once, interpreted (the spawn request has ~80 strings) ---

/** A varint of up to 32 bits (value >>> 0, as protobufjs's Writer.uint32). */
function varint32(value: number): string {
  let v = value >>> 0;
  let out = '';
  while (v > 127) {
    out += String.fromCharCode((v & 127) | 128);
    v >>>= 7;
  }
  return out + String.fromCharCode(v);
}

function varint64(low: number, high: number): string {
  let lo = low;
  let hi = high;
  let out = '';
  while (hi !== 0) {
    out += String.fromCharCode((lo & 127) | 128);
    lo = ((lo >>> 7) | (hi << 25)) >>> 0;
    hi >>>= 7;
  }
  while (lo > 127) {
    out += String.fromCharCode((lo & 127) | 128);
    lo >>>= 7;
  }
  return out + String.fromCharCode(lo);
}

/** protobufjs's LongBits.fromNumber: the low and high 32 bits of a uint64 given as a number. */
function uint64Bits(value: number): [number, number] {
  if (value === 0) return [0, 0];
  const negative = value < 0;
  const abs = negative ? -value : value;
  let lo = abs >>> 0;
  let hi = ((abs - lo) / 4294967296) >>> 0;
  if (negative) {
    hi = ~hi >>> 0;
    lo = ~lo >>> 0;
    if (++lo > 4294967295) {
      lo = 0;
      if (++hi > 4294967295) hi = 0;
    }
  }
  return [lo, hi];
}

const NON_ASCII = /[\u0080-\uffff]/;

/** A string's UTF-8 bytes as a binary string (ASCII is its own). */
function utf8(value: string): string {
  return NON_ASCII.test(value) ? Buffer.from(value, 'utf8').toString('latin1') : value;
}

function isDefault(type: Scalar, value: unknown): boolean {
  return type === 'string' ? value === '' : type === 'bool' ? value === false : value === 0;
}

function delimited(no: number, bytes: string): string {
  return varint32((no << 3) | 2) + varint32(bytes.length) + bytes;
}

function fieldBytes(field: FieldSchema, value: unknown): string {
  const type = field.type;
  if (typeof type === 'object') {
    if (typeof value !== 'object' || value === null) throw new TypeError(`${field.name}: object expected`);
    return delimited(field.no, encodeFields(type, value));
  }
  if (type === 'string') {
    if (typeof value !== 'string') throw new TypeError(`${field.name}: string expected`);
    return delimited(field.no, utf8(value));
  }
  const tag = varint32(field.no << 3);
  const n = Number(value);
  switch (type) {
    case 'bool':
      return tag + (value ? '\x01' : '\x00');
    case 'uint32':
      return tag + varint32(n);
    case 'int32': {
      // A negative int32 takes ten bytes, sign-extended to 64 bits.
      const v = n | 0;
      return tag + (v < 0 ? varint64(v >>> 0, 0xffffffff) : varint32(v));
    }
    case 'uint64': {
      if (typeof value !== 'number') throw new TypeError(`${field.name}: number expected`);
      const [lo, hi] = uint64Bits(value);
      return tag + varint64(lo, hi);
    }
  }
}

function encodeFields(schema: MessageSchema, message: object): string {
  const record = message as Readonly<Record<string, unknown>>;
  let out = '';
  for (const field of schema.fields) {
    const value = record[field.name];
    if (value === undefined || value === null) continue;
    if (field.repeated === true) {
      if (!Array.isArray(value)) throw new TypeError(`${field.name}: array expected`);
      for (const item of value as unknown[]) out += fieldBytes(field, item);
      continue;
    }
    if (!Object.hasOwn(record, field.name)) continue;
    if (typeof field.type === 'string' && field.oneof === undefined && isDefault(field.type, value)) continue;
    out += fieldBytes(field, value);
  }
  return out;
}

export function encodeClientMessage(message: ClientMessage): Buffer {
  return Buffer.from(encodeFields(CLIENT_MESSAGE, message), 'latin1');
}

// --- decoding: protobufjs's reader (BufferReader) step for step, so that a packet decodes, or fails to, as in
// codec.ts. A field the tables do not have, or with another wire type, is skipped as protobufjs skips it (its
// Reader.discardUnknown is on: codec.ts's check for unknown fields never sees any) ---

/** protobufjs's util.recursionLimit: how deep groups may nest in a skipped field. */
const RECURSION_LIMIT = 100;

function outOfRange(pos: number, length: number, len: number): RangeError {
  return new RangeError(`index out of range: ${pos} + ${length} > ${len}`);
}

class Reader {
  pos = 0;
  len: number;
  /** Set by low28(): a fifth byte follows. */
  private fifth = false;

  constructor(readonly buf: Buffer) {
    this.len = buf.length;
  }

  /** A varint's first four bytes; near the end (under five bytes left) it must end within them. */
  private low28(): number {
    const buf = this.buf;
    this.fifth = false;
    if (this.len - this.pos < 5) {
      if (this.pos >= this.len) throw outOfRange(this.pos, 1, this.len);
      if ((buf[this.pos] ?? 0) >= 128) {
        let value = 0;
        for (let i = 0; i < 4; ++i) {
          if (this.pos >= this.len) throw outOfRange(this.pos, 1, this.len);
          const b = buf[this.pos++] ?? 0;
          value = (value | ((b & 127) << (i * 7))) >>> 0;
          if (b < 128) return value;
        }
        throw outOfRange(this.pos, 1, this.len);
      }
    }
    let value = 0;
    for (let i = 0; i < 4; ++i) {
      const b = buf[this.pos++] ?? 0;
      value = (value | ((b & 127) << (i * 7))) >>> 0;
      if (b < 128) return value;
    }
    this.fifth = true;
    return value;
  }

  /** A varint's low 32 bits (uint32, int32): up to ten bytes. */
  uint32(): number {
    let value = this.low28();
    if (!this.fifth) return value;
    const b = this.buf[this.pos++] ?? 0;
    value = (value | ((b & 15) << 28)) >>> 0;
    if (b < 128) return value;
    for (let i = 0; i < 5; ++i) {
      if (this.pos >= this.len) throw outOfRange(this.pos, 1, this.len);
      if ((this.buf[this.pos++] ?? 0) < 128) return value;
    }
    throw new Error('invalid varint encoding');
  }

  /** A field's tag: five bytes at most, 32 bits. */
  tag(): number {
    const value = this.low28();
    if (!this.fifth) return value;
    const b = this.buf[this.pos++] ?? 0;
    if (b < 128 && (b & 112) === 0) return (value | (b << 28)) >>> 0;
    throw new Error('invalid tag encoding');
  }

  /** A length: five bytes at most, 31 bits. */
  size(): number {
    const value = this.low28();
    if (!this.fifth) return value;
    const b = this.buf[this.pos++] ?? 0;
    if (b > 7) throw new Error('invalid length encoding');
    return (value | (b << 28)) >>> 0;
  }

  bool(): boolean {
    let value = false;
    for (let i = 0; i < 10; ++i) {
      if (this.pos >= this.len) throw outOfRange(this.pos, 1, this.len);
      const b = this.buf[this.pos++] ?? 0;
      if ((b & 127) !== 0) value = true;
      if (b < 128) return value;
    }
    throw new Error('invalid varint encoding');
  }

  /** UTF-8, refused when not well-formed (protobufjs's stringVerify, a fatal TextDecoder). */
  string(): string {
    const length = this.size();
    const start = this.pos;
    const end = start + length;
    if (end > this.len) throw outOfRange(start, length, this.len);
    this.pos = end;
    if (!isUtf8(this.buf.subarray(start, end)))
      throw new TypeError('The encoded data was not valid for encoding utf-8');
    return this.buf.toString('utf8', start, end);
  }

  /** Past a varint; protobufjs's Reader.skip(). */
  private skipVarint(): void {
    do {
      if (this.pos >= this.len) throw outOfRange(this.pos, 1, this.len);
    } while (((this.buf[this.pos++] ?? 0) & 128) !== 0);
  }

  private skip(length: number): void {
    if (this.pos + length > this.len) throw outOfRange(this.pos, length, this.len);
    this.pos += length;
  }

  /** Past a field of a type the tables do not have; protobufjs's Reader.skipType(). */
  skipType(wireType: number, depth: number, fieldNumber: number | undefined): void {
    if (depth > RECURSION_LIMIT) throw new Error('max depth exceeded');
    if (fieldNumber === 0) throw new Error('illegal tag: field number 0');
    switch (wireType) {
      case 0:
        this.skipVarint();
        return;
      case 1:
        this.skip(8);
        return;
      case 2:
        this.skip(this.size());
        return;
      case 3:
        for (;;) {
          const tag = this.tag();
          const nested = tag >>> 3;
          const type = tag & 7;
          if (nested === 0) throw new Error('illegal tag: field number 0');
          if (type === 4) {
            if (fieldNumber !== undefined && nested !== fieldNumber) throw new Error('invalid end group tag');
            return;
          }
          this.skipType(type, depth + 1, nested);
        }
      case 5:
        this.skip(4);
        return;
      default:
        throw new Error(`invalid wire type ${wireType} at offset ${this.pos}`);
    }
  }
}

/** A message with its scalars at their defaults, as protobufjs's prototypes have them (oneof members: absent). */
function fresh(schema: MessageSchema): Record<string, unknown> {
  const m: Record<string, unknown> = {};
  for (const field of schema.fields) {
    if (field.oneof !== undefined || typeof field.type === 'object') continue;
    m[field.name] = field.type === 'string' ? '' : field.type === 'bool' ? false : 0;
  }
  return m;
}

function decodeFields(
  r: Reader,
  schema: MessageSchema,
  depth: number,
  into: Record<string, unknown> | undefined,
): Record<string, unknown> {
  const m = into ?? fresh(schema);
  while (r.pos < r.len) {
    const tag = r.tag();
    const no = tag >>> 3;
    const wireType = tag & 7;
    const field = schema.fields.find((f) => f.no === no);
    const type = field?.type;
    if (
      field === undefined ||
      type === undefined ||
      field.repeated === true ||
      type === 'uint64' ||
      wireType !== (typeof type === 'object' || type === 'string' ? 2 : 0)
    ) {
      r.skipType(wireType, depth, no);
      continue;
    }
    if (typeof type === 'object') {
      // A message field seen again is merged into the first, as protobufjs does.
      const length = r.size();
      const end = r.pos + length;
      if (end > r.len) throw new RangeError('index out of range');
      const outer = r.len;
      r.len = end;
      const previous = m[field.name];
      const merged =
        typeof previous === 'object' && previous !== null ? (previous as Record<string, unknown>) : undefined;
      m[field.name] = decodeFields(r, type, depth + 1, merged);
      if (r.pos !== end) throw new RangeError('index out of range');
      r.len = outer;
    } else if (type === 'string') m[field.name] = r.string();
    else if (type === 'bool') m[field.name] = r.bool();
    else if (type === 'int32') m[field.name] = r.uint32() | 0;
    else m[field.name] = r.uint32();
    if (field.oneof !== undefined) {
      // Setting a oneof member clears the others.
      for (const other of schema.fields)
        if (other.oneof === field.oneof && other !== field) Reflect.deleteProperty(m, other.name);
      m[field.oneof] = field.name;
    }
  }
  return m;
}

export function decodeDaemonMessage(bytes: Uint8Array): DecodeResult<DaemonMessage> {
  if (bytes.length > MAX_PACKET_BYTES) return { ok: false, reason: `packet of ${bytes.length} bytes over the cap` };
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  try {
    return { ok: true, message: decodeFields(new Reader(buf), DAEMON_MESSAGE, 0, undefined) };
  } catch (e) {
    return { ok: false, reason: e instanceof Error ? e.message : 'undecodable packet' };
  }
}
