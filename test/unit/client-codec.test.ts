// The client's codec (proto/client-codec.ts, no protobufjs at run time) against jaid's (proto/codec.ts, the
// protobufjs-generated code): its tables are proto/jai.proto's, it encodes every ClientMessage to the same bytes, and
// every packet decodes to the same values, or is refused, as with jaid's codec.
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import protobuf from 'protobufjs';
import * as lite from '../../proto/client-codec';
import * as full from '../../proto/codec';

const PROTO = path.join(__dirname, '../../../proto/jai.proto');
const SEED = Number(process.env['FUZZ_SEED'] ?? 0x6a6169);
const RUNS = 2000;

// --- the tables against the .proto ---

const SCALARS = new Set(['string', 'bool', 'uint32', 'uint64']);

/** A message's fields as the client's tables describe them, from protobufjs's reflection of jai.proto. */
function reflected(type: protobuf.Type): lite.MessageSchema {
  return {
    name: type.name,
    fields: type.fieldsArray.map((f) => {
      f.resolve();
      const resolved = f.resolvedType;
      let kind: lite.FieldSchema['type'];
      if (resolved instanceof protobuf.Type) kind = reflected(resolved);
      else if (resolved instanceof protobuf.Enum) kind = 'int32';
      else if (SCALARS.has(f.type)) kind = f.type as 'string' | 'bool' | 'uint32' | 'uint64';
      else throw new Error(`${type.name}.${f.name}: type ${f.type} is not in the client codec`);
      return {
        no: f.id,
        name: f.name,
        type: kind,
        ...(f.repeated ? { repeated: true as const } : {}),
        ...(f.partOf === null ? {} : { oneof: f.partOf.name }),
      };
    }),
  };
}

/** Whether a field of the message, or of one it contains, is repeated or uint64 (the decoder has neither). */
function outsideDecoder(schema: lite.MessageSchema): boolean {
  return schema.fields.some(
    (f) => f.repeated === true || f.type === 'uint64' || (typeof f.type === 'object' && outsideDecoder(f.type)),
  );
}

// --- arbitrary messages from the tables ---

const UINT32 = fc.oneof(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: -0x80000000, max: -1 }));
const NUMBERS: Record<'uint32' | 'int32' | 'uint64', fc.Arbitrary<number>> = {
  uint32: UINT32,
  int32: fc.oneof(fc.integer({ min: -0x80000000, max: 0x7fffffff }), fc.constantFrom(0, 1, 2, 3)),
  uint64: fc.oneof(fc.maxSafeNat(), fc.constantFrom(0, 2 ** 53 + 2, 2 ** 63, 2 ** 64 - 2048, -1, -(2 ** 40))),
};

function arbitraryField(field: lite.FieldSchema): fc.Arbitrary<unknown> {
  const type = field.type;
  const one: fc.Arbitrary<unknown> =
    typeof type === 'object'
      ? arbitraryMessage(type)
      : type === 'string'
        ? fc.oneof(fc.string({ unit: 'binary', maxLength: 60 }), fc.constant(''))
        : type === 'bool'
          ? fc.boolean()
          : NUMBERS[type];
  return field.repeated === true ? fc.array(one, { maxLength: 4 }) : fc.oneof(one, fc.constant(null));
}

function arbitraryMessage(schema: lite.MessageSchema): fc.Arbitrary<Record<string, unknown>> {
  const model: Record<string, fc.Arbitrary<unknown>> = {};
  for (const field of schema.fields) model[field.name] = arbitraryField(field);
  return fc.record(model, { requiredKeys: [] });
}

// --- what a decoded message holds, read the same way from both decoders ---

/** Every field (prototype defaults included) and every oneof's member name; absent reads as null. */
function view(schema: lite.MessageSchema, message: unknown): unknown {
  if (message === null || message === undefined) return null;
  const record = message as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const field of schema.fields) {
    const value = record[field.name];
    out[field.name] = typeof field.type === 'object' ? view(field.type, value) : (value ?? null);
    if (field.oneof !== undefined) out[field.oneof] = record[field.oneof] ?? null;
  }
  return out;
}

function varint(n: number): Buffer {
  const out: number[] = [];
  let v = n;
  while (v > 127) {
    out.push((v & 127) | 128);
    v >>>= 7;
  }
  out.push(v);
  return Buffer.from(out);
}

type Outcome = { ok: true; view: unknown } | { ok: false };

function decodeBoth(bytes: Buffer): [Outcome, Outcome] {
  const a = full.decodeDaemonMessage(bytes);
  const b = lite.decodeDaemonMessage(bytes);
  return [
    a.ok ? { ok: true, view: view(lite.DAEMON_MESSAGE, a.message) } : { ok: false },
    b.ok ? { ok: true, view: view(lite.DAEMON_MESSAGE, b.message) } : { ok: false },
  ];
}

/** A valid encoding, then damaged: truncated, a byte changed, bytes appended. */
const damagedPackets = arbitraryMessage(lite.DAEMON_MESSAGE).chain((m) => {
  const bytes = Buffer.from(full.encodeDaemonMessage(m));
  return fc.oneof(
    fc.nat({ max: bytes.length }).map((n) => bytes.subarray(0, n)),
    fc.tuple(fc.nat({ max: Math.max(0, bytes.length - 1) }), fc.integer({ min: 0, max: 255 })).map(([i, b]) => {
      const copy = Buffer.from(bytes);
      if (copy.length > 0) copy[i] = b;
      return copy;
    }),
    fc.uint8Array({ maxLength: 12 }).map((tail) => Buffer.concat([bytes, tail])),
  );
});

describe('the client codec', () => {
  it("has proto/jai.proto's messages, fields, numbers, types and oneofs", () => {
    const root = protobuf.loadSync(PROTO);
    assert.deepEqual(lite.CLIENT_MESSAGE, reflected(root.lookupType('jai.v1.ClientMessage')));
    assert.deepEqual(lite.DAEMON_MESSAGE, reflected(root.lookupType('jai.v1.DaemonMessage')));
    assert.equal(outsideDecoder(lite.DAEMON_MESSAGE), false, 'the decoder has no repeated or uint64 fields');
  });

  it("has the generated code's enums", () => {
    const pairs = [
      [lite.Mode, full.v1.Mode],
      [lite.StdioKind, full.v1.StdioKind],
      [lite.GrantAccess, full.v1.GrantAccess],
      [lite.Network, full.v1.Network],
      [lite.NoticeKind, full.v1.NoticeKind],
      [lite.ErrorCode, full.v1.ErrorCode],
    ] as const;
    for (const [mine, generated] of pairs) assert.deepEqual({ ...mine }, { ...generated });
    for (let code = -2; code < 40; code++) assert.equal(lite.errorCodeName(code), full.v1.ErrorCode[code]);
  });

  it('encodes every ClientMessage to the bytes protobufjs writes', () => {
    fc.assert(
      fc.property(arbitraryMessage(lite.CLIENT_MESSAGE), (m) => {
        const expected = Buffer.from(full.encodeClientMessage(m)).toString('hex');
        assert.equal(Buffer.from(lite.encodeClientMessage(m)).toString('hex'), expected);
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });

  it('encodes the messages the CLI sends as protobufjs does', () => {
    const spawn: lite.SpawnRequest = {
      argv: ['/bin/bash', '-c', 'source "${JAI_SCRIPT:-/dev/null}"; "$0" "$@"', 'true'],
      cwd: '/home/u/proj',
      env: ['HOME=/home/u', 'LANG=C.UTF-8', `LONG=${'é'.repeat(300)}`],
      mode: lite.Mode.MODE_CASUAL,
      jail: 'default',
      masks: ['.aws', '.ssh'],
      storage: '/home/u/.jai',
      configDir: '/home/u/.jai',
      network: lite.Network.NETWORK_UNSPECIFIED,
      limits: { memoryBytes: 2 ** 40 + 3, pids: 0, cpuMillis: 1500 },
      nocwd: false,
      grants: [{ path: '/home/u/ref', access: lite.GrantAccess.GRANT_READ_ONLY }],
      stdin: lite.StdioKind.STDIO_PTY,
      stdout: lite.StdioKind.STDIO_PASS,
      stderr: lite.StdioKind.STDIO_PASS,
      terminal: { rows: 24, cols: 80 },
      umask: 0o22,
      actAsUser: '',
    };
    for (const m of [
      { hello: { version: 1, agent: 'jai 0.1.0' } },
      { spawn },
      { signal: { signo: 15 } },
      { continue: {} },
      { teardown: { jail: 'work', mode: lite.Mode.MODE_STRICT, storage: '', configDir: '/c', actAsUser: 'u' } },
    ] satisfies lite.ClientMessage[])
      assert.deepEqual(lite.encodeClientMessage(m), Buffer.from(full.encodeClientMessage(m)));
  });

  it('decodes every DaemonMessage protobufjs writes to the same values', () => {
    fc.assert(
      fc.property(arbitraryMessage(lite.DAEMON_MESSAGE), (m) => {
        const [expected, got] = decodeBoth(Buffer.from(full.encodeDaemonMessage(m)));
        assert.ok(expected.ok);
        assert.deepEqual(got, expected);
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });

  it('accepts and refuses the damaged and random packets jaid’s codec does, with the same values', () => {
    const packets = fc.oneof(
      damagedPackets,
      fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a)),
    );
    fc.assert(
      fc.property(packets, (bytes) => {
        const [expected, got] = decodeBoth(bytes);
        assert.deepEqual(got, expected, bytes.toString('hex'));
      }),
      { seed: SEED, numRuns: RUNS * 5 },
    );
  });

  it('reads strings of any bytes as protobufjs does (well-formed UTF-8 only)', () => {
    const high = fc.uint8Array({ maxLength: 80 }).map((a) => a.map((b) => (b < 64 ? b : b | 0x80)));
    fc.assert(
      fc.property(fc.oneof(high, fc.uint8Array({ maxLength: 80 })), fc.boolean(), (text, inNotice) => {
        // hello { agent: text } or notice { message: text }
        const inner = Buffer.concat([Buffer.from([0x12]), varint(text.length), text]);
        const bytes = Buffer.concat([Buffer.from([inNotice ? 0x2a : 0x0a]), varint(inner.length), inner]);
        const [expected, got] = decodeBoth(bytes);
        assert.deepEqual(got, expected, bytes.toString('hex'));
      }),
      { seed: SEED, numRuns: RUNS * 5 },
    );
  });

  it('skips unknown fields and known ones with another wire type, as protobufjs does', () => {
    for (const hex of [
      'f00301',
      '12021801',
      '1002',
      '0800',
      '1a020a00',
      '1a04080a1002',
      '1b0a001c0a00',
      '0d01020304',
    ]) {
      const bytes = Buffer.from(hex, 'hex');
      const [expected, got] = decodeBoth(bytes);
      assert.ok(expected.ok, hex);
      assert.deepEqual(got, expected, hex);
    }
  });

  it('refuses what protobufjs cannot read (truncated, bad tags, bad groups, bad UTF-8), and oversize packets', () => {
    for (const hex of [
      'ff',
      '12',
      '1205',
      '07',
      '1b',
      '12021c00',
      '1b0a00ac021c2a00',
      'ffffffffffffffffffff01',
      '0a020a80',
    ]) {
      const bytes = Buffer.from(hex, 'hex');
      assert.equal(full.decodeDaemonMessage(bytes).ok, false, hex);
      assert.equal(lite.decodeDaemonMessage(bytes).ok, false, hex);
    }
    const oversize = Buffer.alloc(full.MAX_PACKET_BYTES + 1);
    assert.equal(lite.decodeDaemonMessage(oversize).ok, false);
  });
});
