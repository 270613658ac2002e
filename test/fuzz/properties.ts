// The fuzz properties: hostile bytes into the frame decoder and the request validators (what a local user controls),
// the helper's status records and the policy file's text. Each never throws and only returns well-formed results.
// Run briefly by test/unit/fuzz-*.test.ts and without bound by `npm run fuzz` (test/fuzz/main.ts).
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { MAX_PACKET_BYTES, decodeClientMessage, encodeClientMessage, v1 } from '../../proto/codec';
import { validateSpawnRequest, validateTeardown } from '../../daemon/server/validate';
import { parseStatusRecord } from '../../daemon/session/status-record';
import { parsePolicy } from '../../daemon/policy/load';
import { fuzzProperty, type FuzzProperty } from './harness';
import { assertPolicyLoad, assertSpawnVerdict, assertStatusRecord, assertTeardownVerdict } from './invariants';
import { mutatedBytes, pseudoRandomBytes, type Packet } from './mutate';
import { clientMessage, messageNearTheCap, spawnFields, toSpawnRequest, type SpawnFields } from './requests';
import { policyText, statusRecordBytes } from './texts';

const raw = (bytes: Uint8Array): Packet => ({ bytes, intact: false });

/** Every string in it is well-formed UTF-16 (no lone surrogate), so its encoding is valid UTF-8. */
function hasWellFormedStrings(value: unknown): boolean {
  if (typeof value === 'string') return Buffer.from(value, 'utf8').toString('utf8') === value;
  if (Array.isArray(value)) return value.every(hasWellFormedStrings);
  if (typeof value === 'object' && value !== null) return Object.values(value).every(hasWellFormedStrings);
  return true;
}

/** The encoding of a message, intact (a decoder must take it) when its strings are well-formed. */
const encoded = (message: v1.ClientMessage.$Properties): Packet => ({
  bytes: encodeClientMessage(message),
  intact: hasWellFormedStrings(message),
});

/** Mostly small, mostly mutations of real messages, some around and past the cap (up to 70,000 bytes). */
const packet: fc.Arbitrary<Packet> = fc.oneof(
  { weight: 3, arbitrary: fc.uint8Array({ maxLength: 64 }).map(raw) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 2048, size: 'large' }).map(raw) },
  { weight: 8, arbitrary: mutatedBytes(clientMessage.map(encoded)) },
  {
    weight: 1,
    arbitrary: mutatedBytes(
      messageNearTheCap.map((bytes) => ({ bytes, intact: true })),
      2,
    ),
  },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.integer(), fc.integer({ min: 0, max: 70000 }))
      .map(([seed, n]) => raw(pseudoRandomBytes(seed, n))),
  },
);

/** Spawn messages lightly damaged: most still decode, so the validator sees what a fuzzed wire produces. */
const spawnPacket: fc.Arbitrary<Packet> = mutatedBytes(
  spawnFields.map((s) => encoded({ spawn: toSpawnRequest(s.fields) })),
  3,
);

const ONEOF = ['hello', 'spawn', 'signal', 'teardown', 'continue'] as const;

/** A decoded message as the daemon dispatches it (daemon/server/connection.ts), through its validator. */
function checkDecodedMessage(m: v1.ClientMessage): string {
  const present = ONEOF.filter((field) => m[field] !== undefined && m[field] !== null);
  assert.deepEqual(present, m.body === undefined ? [] : [m.body], 'oneof members other than the body are set');
  // Encoding what was decoded is stable: the daemon and a re-encoding peer agree on what the packet says.
  const encoded = encodeClientMessage(m);
  const again = decodeClientMessage(encoded);
  assert.ok(again.ok, 'a decoded message does not decode once re-encoded');
  assert.deepEqual(Buffer.from(encodeClientMessage(again.message)), Buffer.from(encoded), 're-encoding is not stable');
  switch (m.body) {
    case 'spawn': {
      const req = v1.SpawnRequest.create(m.spawn ?? {});
      return `spawn ${assertSpawnVerdict(req, validateSpawnRequest(req))}`;
    }
    case 'teardown': {
      const req = v1.Teardown.create(m.teardown ?? {});
      return `teardown ${assertTeardownVerdict(req, validateTeardown(req))}`;
    }
    case undefined:
      return 'empty';
    default:
      return m.body;
  }
}

function checkPacket({ bytes, intact }: Packet): string {
  const decoded = decodeClientMessage(bytes);
  if (bytes.length > MAX_PACKET_BYTES) {
    assert.equal(decoded.ok, false, `a packet of ${bytes.length} bytes was decoded`);
    return 'refused: over the cap';
  }
  if (!decoded.ok) {
    assert.ok(decoded.reason.length > 0, 'a refusal without a reason');
    assert.ok(!intact, `a well-formed message of ${bytes.length} bytes was refused: ${decoded.reason}`);
    return 'refused';
  }
  return checkDecodedMessage(decoded.message);
}

/** The request reaches the daemon unchanged: strings are well-formed UTF-16 and uint64 fits a double. */
function survivesTheWire(f: SpawnFields): boolean {
  const strings = [
    ...f.argv,
    ...f.env,
    ...f.masks,
    ...f.grants.map((g) => g.path),
    f.cwd,
    f.jail,
    f.storage,
    f.configDir,
    f.actAsUser,
    f.script,
    f.initjail,
  ];
  return (
    strings.every((s) => Buffer.from(s, 'utf8').toString('utf8') === s) &&
    Number.isSafeInteger(f.limits?.memoryBytes ?? 0)
  );
}

function checkStructuredSpawn({ fields, allValid }: { fields: SpawnFields; allValid: boolean }): string {
  const req = v1.SpawnRequest.create(toSpawnRequest(fields));
  const direct = validateSpawnRequest(req);
  const verdict = `${assertSpawnVerdict(req, direct)}${allValid ? ' (all fields valid)' : ''}`;
  if (allValid) assert.ok(direct.ok, `a valid request was refused: ${direct.ok ? '' : direct.message}`);
  // The same request through the wire: the decoder must take it, and the verdict must not change.
  const bytes = encodeClientMessage({ spawn: toSpawnRequest(fields) });
  if (bytes.length > MAX_PACKET_BYTES) return `${verdict}, over the cap`;
  const decoded = decodeClientMessage(bytes);
  const exact = survivesTheWire(fields);
  if (!decoded.ok) {
    // Only a lone surrogate (encoded as invalid UTF-8) makes the decoder refuse what was encoded.
    assert.ok(!exact, `an encoded request was refused: ${decoded.reason}`);
    return `${verdict}, refused by the decoder`;
  }
  const wireReq = v1.SpawnRequest.create(decoded.message.spawn ?? {});
  const wire = validateSpawnRequest(wireReq);
  assertSpawnVerdict(wireReq, wire);
  if (exact) assert.deepEqual(wire, direct, 'the verdict changed through the wire');
  return verdict;
}

const POLICY_FILE = '/etc/jai/policy.toml';

export const DECODE_PACKET = fuzzProperty({
  name: 'decode-packet',
  title: 'arbitrary packets (0-70,000 bytes, mostly mutated messages) decode to a well-formed message or a refusal',
  unitRuns: 10000,
  arbitrary: packet,
  check: checkPacket,
});

export const DECODE_SPAWN = fuzzProperty({
  name: 'decode-spawn',
  title: 'every decoded spawn request is accepted as a well-formed ValidRequest or refused as REQUEST_INVALID',
  unitRuns: 4000,
  arbitrary: spawnPacket,
  check: checkPacket,
});

export const VALIDATE_SPAWN = fuzzProperty({
  name: 'validate-spawn',
  title: 'structured hostile spawn requests: valid ones accepted, the rest refused, the same verdict through the wire',
  unitRuns: 3000,
  arbitrary: spawnFields,
  check: checkStructuredSpawn,
});

export const STATUS_RECORD = fuzzProperty({
  name: 'status-record',
  title: 'arbitrary helper status records parse to null or a well-formed record that reads back the same',
  unitRuns: 100000,
  arbitrary: statusRecordBytes,
  check: (data) => assertStatusRecord(data, parseStatusRecord(data)),
});

export const POLICY = fuzzProperty({
  name: 'policy',
  title: 'arbitrary and mutated policy files load, or are refused with a message naming the file (and line)',
  unitRuns: 8000,
  arbitrary: policyText,
  check: (text) => assertPolicyLoad(text, POLICY_FILE, parsePolicy(text, POLICY_FILE)),
});

/**
 * Found by fuzzing: a quoted key with a newline was echoed raw into its problem, so one problem spanned two lines and
 * the second could pose as another problem (`"x\n/etc/jai/policy.toml:99: forged" = 1`); load.ts now quotes such keys.
 */
export const POLICY_PROBLEM_LINES = fuzzProperty({
  name: 'policy-problem-lines',
  title: 'every line of a policy problem report starts with the file and a line number',
  unitRuns: 3000,
  arbitrary: policyText,
  check: (text) => assertPolicyLoad(text, POLICY_FILE, parsePolicy(text, POLICY_FILE), true),
});

export const ALL_PROPERTIES: readonly FuzzProperty[] = [
  DECODE_PACKET,
  DECODE_SPAWN,
  VALIDATE_SPAWN,
  STATUS_RECORD,
  POLICY,
  POLICY_PROBLEM_LINES,
];
