// Protocol constants shared by jaid's codec (codec.ts, protobufjs) and the client's (client-codec.ts, without it):
// kept apart so that neither side loads the other's code for them.

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
