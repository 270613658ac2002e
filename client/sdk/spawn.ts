// One-shot requests: a connection of their own (protocol version 1, as the jai CLI speaks), closed when the request
// ends. For many sessions, connect() a JaiClient instead: it keeps connections for the next session.
import { PROTOCOL_VERSION } from '../../proto/protocol';
import { openConnection } from './connection';
import { prepareSpawn, type SpawnOptions } from './request';
import { ClientSession, type JaiSession } from './session';
import { TeardownExchange, teardownPacket, type TeardownOptions } from './teardown';

export type { Mode, NoticeHandler, NoticeKind, SpawnOptions, StdioOption, StdioSpec } from './request';
export type { ExitStatus, JaiSession } from './session';
export type { TeardownOptions } from './teardown';

export interface SpawnOnceOptions extends SpawnOptions {
  /** Default: $JAI_SOCKET, else /run/jai/jaid.sock. */
  socketPath?: string;
}

/** jaid's socket, unless $JAI_SOCKET or the options name another (here, not in client.ts: the CLI has no pool). */
export const DEFAULT_SOCKET = '/run/jai/jaid.sock';

function socketOf(options: { socketPath?: string }): string {
  return options.socketPath ?? process.env['JAI_SOCKET'] ?? DEFAULT_SOCKET;
}

/**
 * Starts a session on a connection of its own; resolves once the program is starting, rejects with JaiClientError
 * on refusal. The PTY master (if any) is the caller's (`ptyMaster: 'fd'` unless asked otherwise).
 */
export async function spawn(options: SpawnOnceOptions): Promise<JaiSession> {
  const session = new ClientSession(prepareSpawn(options, 'fd'), options);
  let connection;
  try {
    connection = await openConnection(socketOf(options), PROTOCOL_VERSION);
  } catch (e) {
    session.abandon();
    throw e;
  }
  // Hello and the request are pipelined: jaid answers Hello, then Started or Error.
  await session.start(connection, false);
  return session;
}

/** `jai -u`: releases the user's overlays and private tmp; resolves with 0, or 1 when something is still in use. */
export async function teardown(options: TeardownOptions = {}): Promise<number> {
  const packet = teardownPacket(options);
  const connection = await openConnection(socketOf(options), PROTOCOL_VERSION);
  const exchange = new TeardownExchange(options.onNotice, false);
  connection.request(exchange, packet);
  const result = await exchange.result;
  // Not retried, so never stale.
  return result === 'stale' ? 1 : result;
}
