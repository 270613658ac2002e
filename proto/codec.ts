// Encoding and decoding of the jai.v1 wire messages, one message per SEQPACKET packet.
// The generated static code (proto/gen, built from proto/jai.proto) is only imported here; the client uses
// client-codec.ts, which does without it.
import { Reader } from 'protobufjs/minimal';
import { jai } from './gen/jai';
import { MAX_PACKET_BYTES, type DecodeResult } from './protocol';

export import v1 = jai.v1;

export {
  MAX_PACKET_BYTES,
  MAX_PACKET_FDS,
  PROTOCOL_VERSION,
  PROTOCOL_VERSION_REUSE,
  PROTOCOL_VERSIONS,
  type DecodeResult,
} from './protocol';

function decodeWith<T extends { $unknowns?: Uint8Array[] }>(
  decode: (bytes: Uint8Array) => T,
  bytes: Uint8Array,
): DecodeResult<T> {
  if (bytes.length > MAX_PACKET_BYTES) return { ok: false, reason: `packet of ${bytes.length} bytes over the cap` };
  let message: T;
  try {
    message = decode(bytes);
  } catch (e) {
    return { ok: false, reason: e instanceof Error ? e.message : 'undecodable packet' };
  }
  if (hasUnknownFields(message)) return { ok: false, reason: 'unknown fields' };
  return { ok: true, message };
}

/** Unknown fields anywhere in the tree mean a peer speaking another schema: refuse rather than ignore. */
function hasUnknownFields(value: unknown): boolean {
  if (value === null || typeof value !== 'object') return false;
  if (Array.isArray(value)) return value.some(hasUnknownFields);
  const record = value as Record<string, unknown>;
  if (Array.isArray(record['$unknowns']) && record['$unknowns'].length > 0) return true;
  return Object.values(record).some(hasUnknownFields);
}

/** What jaid reads: unknown fields are kept (protobufjs discards them by default) so that they can be refused. */
export function decodeClientMessage(bytes: Uint8Array): DecodeResult<v1.ClientMessage> {
  return decodeWith((b) => {
    const reader = Reader.create(b);
    reader.discardUnknown = false;
    return v1.ClientMessage.decode(reader);
  }, bytes);
}

export function decodeDaemonMessage(bytes: Uint8Array): DecodeResult<v1.DaemonMessage> {
  return decodeWith((b) => v1.DaemonMessage.decode(b), bytes);
}

export function encodeClientMessage(message: v1.ClientMessage.$Properties): Uint8Array {
  return v1.ClientMessage.encode(message).finish();
}

export function encodeDaemonMessage(message: v1.DaemonMessage.$Properties): Uint8Array {
  return v1.DaemonMessage.encode(message).finish();
}
