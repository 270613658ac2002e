// Encoding and decoding of the jai.v1 wire messages, one message per SEQPACKET packet.
// The generated static code (proto/gen, built from proto/jai.proto) is only imported here.
import { jai } from './gen/jai';

export import v1 = jai.v1;

/** Protocol version 1: one request per connection (the CLI's). */
export const PROTOCOL_VERSION = 1;
/**
 * Protocol version 2: the same messages; after a request's final message (Exited, TornDown, or an Error that does
 * not close the connection) the connection accepts the next request. See docs/protocol.md.
 */
export const PROTOCOL_VERSION_REUSE = 2;
/** What a daemon accepts in Hello (and echoes back); it refuses any other with PROTO_VERSION. */
export const PROTOCOL_VERSIONS: readonly number[] = [PROTOCOL_VERSION, PROTOCOL_VERSION_REUSE];
/** Hard cap on one packet, both directions. A larger packet is a protocol error (PROTO_FRAME_TOO_LARGE). */
export const MAX_PACKET_BYTES = 64 * 1024;
/** Most fds one packet may carry (cwd + grants + 3 stdio, with headroom). */
export const MAX_PACKET_FDS = 72;

export type DecodeResult<T> = { ok: true; message: T } | { ok: false; reason: string };

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

export function decodeClientMessage(bytes: Uint8Array): DecodeResult<v1.ClientMessage> {
  return decodeWith((b) => v1.ClientMessage.decode(b), bytes);
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
