// Mutations of valid inputs (bytes of an encoded message, text of a policy file), as fast-check arbitraries. A
// mutation is data, so fast-check prints it in a counterexample and shrinks the list of them.
import fc from 'fast-check';

/**
 * A deterministic byte stream (xorshift32) for large buffers: fast-check draws only the seed and the length, which
 * is far cheaper than 70,000 drawn bytes. The counterexample still names both, so it reproduces.
 */
export function pseudoRandomBytes(seed: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed | 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

export type ByteMutation =
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'set'; at: number; value: number }
  | { kind: 'insert'; at: number; bytes: Uint8Array }
  | { kind: 'delete'; at: number; count: number }
  | { kind: 'duplicate'; at: number; count: number }
  | { kind: 'truncate'; at: number };

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

function applyByteMutation(bytes: Uint8Array, m: ByteMutation): Uint8Array {
  const n = bytes.length;
  // Positions are drawn unbounded and taken modulo the current length, so a mutation list stays meaningful while
  // earlier mutations change the length (and while fast-check shrinks it).
  const at = m.at % (n + 1);
  switch (m.kind) {
    case 'flip':
    case 'set': {
      if (n === 0) return bytes;
      const out = bytes.slice();
      const i = m.at % n;
      out[i] = m.kind === 'flip' ? (out[i] ?? 0) ^ (1 << m.bit) : m.value;
      return out;
    }
    case 'insert':
      return concat(bytes.subarray(0, at), m.bytes, bytes.subarray(at));
    case 'delete':
      return concat(bytes.subarray(0, at), bytes.subarray(at + m.count));
    case 'duplicate':
      return concat(bytes.subarray(0, at + m.count), bytes.subarray(at, at + m.count), bytes.subarray(at + m.count));
    case 'truncate':
      return bytes.subarray(0, at);
  }
}

export function applyByteMutations(input: Uint8Array, mutations: readonly ByteMutation[]): Uint8Array {
  return mutations.reduce(applyByteMutation, input);
}

/** Bytes a protobuf parser has to get right: continuation bits, tags of every wire type, group markers, huge lengths. */
const PROTOBUF_SNIPPETS: readonly Uint8Array[] = [
  [0x80],
  [0xff],
  [0x00],
  [0x7f],
  [0xff, 0xff, 0xff, 0xff, 0x0f],
  [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01],
  [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80],
  // Field 2 (spawn), length-delimited, then a length far past the packet.
  [0x12, 0xff, 0xff, 0xff, 0xff, 0x07],
  // Tags of fields 1-5 (the oneof members) with each wire type.
  [0x0a],
  [0x12],
  [0x1a],
  [0x22],
  [0x2a],
  [0x10],
  [0x15],
  [0x11],
  // Start and end group (wire types 3 and 4), nested.
  [0x0b],
  [0x0c],
  [0x13, 0x13, 0x13, 0x13],
  // An unknown field (50, varint) and an unknown length-delimited one (99).
  [0x90, 0x03, 0x01],
  [0x9a, 0x06, 0x00],
  // Invalid UTF-8 inside a string.
  [0xc3, 0x28],
  [0xed, 0xa0, 0x80],
].map((bytes) => Uint8Array.from(bytes));

const insertedBytes: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.constantFrom(...PROTOBUF_SNIPPETS),
  fc.uint8Array({ minLength: 1, maxLength: 8 }),
);

export const byteMutation: fc.Arbitrary<ByteMutation> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.nat({ max: 7 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: fc.nat({ max: 255 }) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: insertedBytes }) },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), count: fc.nat({ max: 16 }) }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('duplicate' as const), at: fc.nat(), count: fc.nat({ max: 64 }) }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }) },
);

/** Bytes and whether they are a faithful encoding of a well-formed message (so a decoder must take them). */
export interface Packet {
  bytes: Uint8Array;
  intact: boolean;
}

/** Mutated copies of `base`, from untouched (no mutation, still intact) to a handful of changes. */
export function mutatedBytes(base: fc.Arbitrary<Packet>, maxMutations = 6): fc.Arbitrary<Packet> {
  return fc.tuple(base, fc.array(byteMutation, { maxLength: maxMutations })).map(([packet, mutations]) => ({
    bytes: applyByteMutations(packet.bytes, mutations),
    intact: packet.intact && mutations.length === 0,
  }));
}

export type TextMutation =
  | { kind: 'insert'; at: number; text: string }
  | { kind: 'delete'; at: number; count: number }
  | { kind: 'replace'; at: number; count: number; text: string }
  | { kind: 'truncate'; at: number }
  | { kind: 'drop-line'; line: number }
  | { kind: 'duplicate-line'; line: number }
  | { kind: 'swap-lines'; a: number; b: number };

function applyTextMutation(text: string, m: TextMutation): string {
  switch (m.kind) {
    case 'insert': {
      const at = m.at % (text.length + 1);
      return text.slice(0, at) + m.text + text.slice(at);
    }
    case 'delete': {
      const at = m.at % (text.length + 1);
      return text.slice(0, at) + text.slice(at + m.count);
    }
    case 'replace': {
      const at = m.at % (text.length + 1);
      return text.slice(0, at) + m.text + text.slice(at + m.count);
    }
    case 'truncate':
      return text.slice(0, m.at % (text.length + 1));
    case 'drop-line':
    case 'duplicate-line':
    case 'swap-lines': {
      const lines = text.split('\n');
      if (m.kind === 'swap-lines') {
        const a = m.a % lines.length;
        const b = m.b % lines.length;
        [lines[a], lines[b]] = [lines[b] ?? '', lines[a] ?? ''];
      } else {
        const i = m.line % lines.length;
        lines.splice(i, m.kind === 'drop-line' ? 1 : 0, ...(m.kind === 'drop-line' ? [] : [lines[i] ?? '']));
      }
      return lines.join('\n');
    }
  }
}

export function applyTextMutations(input: string, mutations: readonly TextMutation[]): string {
  return mutations.reduce(applyTextMutation, input);
}

export function textMutation(inserted: fc.Arbitrary<string>): fc.Arbitrary<TextMutation> {
  return fc.oneof(
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), text: inserted }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), count: fc.nat(20) }) },
    {
      weight: 3,
      arbitrary: fc.record({ kind: fc.constant('replace' as const), at: fc.nat(), count: fc.nat(8), text: inserted }),
    },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('drop-line' as const), line: fc.nat() }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('duplicate-line' as const), line: fc.nat() }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('swap-lines' as const), a: fc.nat(), b: fc.nat() }) },
  );
}
