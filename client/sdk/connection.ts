// One connection to jaid: the Hello, then requests one at a time, each answered by messages up to its final one
// (Exited, TornDown or Error). Protocol version 2 keeps the connection for the next request; version 1, or an Error
// after which jaid closes the connection, ends it after the first. See docs/protocol.md.
import * as native from '../../native/addon';
import {
  decodeDaemonMessage,
  encodeClientMessage,
  errorCodeName,
  type ClientMessage,
  type DaemonMessage,
  type ErrorMessage,
} from '../../proto/client-codec';
import { PacketChannel, closeQuietly, type ChannelEnd, type Packet } from '../../proto/channel';
import { JaiClientError, type DaemonErrorCode } from './errors';

/** What a request's handler makes of a message: more to come, its final one, or a reply it cannot accept. */
export type Verdict = 'more' | 'final' | 'broken';

/** The handler of one request on a connection (a session, a teardown). */
export interface Exchange {
  /** A message for the current request; the handler owns `fds`. After 'broken' it has settled itself. */
  onMessage(message: DaemonMessage, fds: number[]): Verdict;
  /**
   * The connection failed before the request's final message. `unanswered`: nothing arrived for this request, so
   * on a connection that had served earlier requests it was never acted on (jaid closed the idle connection).
   */
  onLost(error: JaiClientError, unanswered: boolean): void;
}

export interface ConnectionEvents {
  /** A request had its final message. */
  onServed?(connection: ClientConnection): void;
  /** The request ended and the connection takes another (version 2 only). */
  onIdle?(connection: ClientConnection): void;
  /** The connection closed (either side); called once. */
  onClosed?(connection: ClientConnection): void;
}

/** Errors after which jaid closes the connection whatever the version (mirrors daemon/server/connection.ts). */
const CLOSES_CONNECTION: ReadonlySet<DaemonErrorCode> = new Set<DaemonErrorCode>([
  'PROTO_BAD_FRAME',
  'PROTO_FRAME_TOO_LARGE',
  'PROTO_UNEXPECTED',
  'PROTO_VERSION',
  'REQUEST_FDS',
  'DAEMON_STOPPING',
]);

export function daemonError(e: ErrorMessage): JaiClientError {
  const name = errorCodeName(e.code ?? 0) ?? 'ERROR_UNSPECIFIED';
  return new JaiClientError(name, e.message ?? 'refused', e.exitCode ?? 1);
}

function closesConnection(message: DaemonMessage): boolean {
  if (message.body !== 'error') return false;
  const name = errorCodeName(message.error?.code ?? 0) as DaemonErrorCode | undefined;
  return name !== undefined && CLOSES_CONNECTION.has(name);
}

export class ClientConnection {
  private phase: 'hello' | 'idle' | 'busy' | 'closed' = 'hello';
  private exchange: Exchange | null = null;
  private answered = false;
  private failure: JaiClientError | null = null;
  private readonly channel: PacketChannel;
  private settleReady: { resolve: () => void; reject: (e: Error) => void } | null = null;
  /** Resolves when jaid accepted the Hello; rejects if it refused it or the connection failed first. */
  readonly ready: Promise<void>;
  /** Requests that had their final message on this connection. */
  served = 0;

  /** Owns `fd` (a connected socket); sends the Hello at once. */
  constructor(
    fd: number,
    readonly version: number,
    private readonly events: ConnectionEvents = {},
  ) {
    this.ready = new Promise<void>((resolve, reject) => {
      this.settleReady = { resolve, reject };
    });
    this.ready.catch(() => undefined); // a one-shot request learns of the failure through its exchange
    this.channel = new PacketChannel(fd, {
      onPacket: (p) => {
        this.onPacket(p);
      },
      onEnd: (end) => {
        this.onEnd(end);
      },
    });
    this.channel.send(encodeClientMessage({ hello: { version, agent: 'jai-client' } }));
  }

  get isIdle(): boolean {
    return this.phase === 'idle';
  }

  get isClosed(): boolean {
    return this.phase === 'closed';
  }

  /**
   * Sends a request (pipelined after the Hello if that is not answered yet). The fds are duplicated into the packet
   * by the kernel: the caller closes its copies once the request is answered.
   */
  request(exchange: Exchange, packet: Uint8Array, fds: readonly number[] = []): void {
    if (this.phase === 'closed' && this.exchange === null) {
      // jaid refused or dropped the connection before the request went out (CONNECTION_LIMIT at accept): the
      // request learns why, as it would have had it been sent a moment earlier.
      const error = this.failure ?? new JaiClientError('DAEMON_LOST', 'lost the connection to jaid');
      queueMicrotask(() => {
        exchange.onLost(error, false);
      });
      return;
    }
    if (this.exchange !== null || (this.phase !== 'idle' && this.phase !== 'hello'))
      throw new Error(`connection is ${this.phase}: one request at a time`);
    this.exchange = exchange;
    this.answered = false;
    if (this.phase === 'idle') this.phase = 'busy';
    this.channel.send(packet, fds);
  }

  /** Another message of the current request (Signal, Continue). */
  send(message: ClientMessage): void {
    this.channel.send(encodeClientMessage(message));
  }

  /** Whether the open connection keeps the process alive. */
  setRef(ref: boolean): void {
    this.channel.setRef(ref);
  }

  /** Closes the connection; a request still running is hung up by jaid (and reported lost here). */
  close(): void {
    this.channel.close();
  }

  private fail(error: JaiClientError): void {
    this.failure ??= error;
    this.channel.close();
  }

  private onPacket(packet: Packet): void {
    const decoded = decodeDaemonMessage(packet.data);
    if (!decoded.ok) {
      packet.fds.forEach(closeQuietly);
      this.fail(new JaiClientError('DAEMON_PROTOCOL', `unexpected reply from jaid: ${decoded.reason}`));
      return;
    }
    const message = decoded.message;
    if (this.phase === 'hello') {
      if (message.body === 'hello' && packet.fds.length === 0) {
        if (message.hello?.version !== this.version) {
          this.fail(new JaiClientError('DAEMON_PROTOCOL', 'jaid speaks another protocol version'));
          return;
        }
        this.phase = this.exchange === null ? 'idle' : 'busy';
        this.settleReady?.resolve();
        return;
      }
      packet.fds.forEach(closeQuietly);
      // jaid refused the connection or the version (an error it ends the connection with).
      this.fail(
        message.body === 'error'
          ? daemonError(message.error ?? {})
          : new JaiClientError('DAEMON_PROTOCOL', `unexpected ${message.body ?? 'empty'} message before Hello`),
      );
      return;
    }
    const exchange = this.exchange;
    if (this.phase !== 'busy' || exchange === null) {
      // Between requests jaid only speaks to end the connection (idle deadline, stopping): let it.
      packet.fds.forEach(closeQuietly);
      this.channel.close();
      return;
    }
    this.answered = true;
    const verdict = exchange.onMessage(message, packet.fds);
    if (verdict === 'more') return;
    this.exchange = null;
    if (verdict === 'broken') {
      this.channel.close();
      return;
    }
    this.served++;
    this.events.onServed?.(this);
    if (this.version >= 2 && !closesConnection(message)) {
      this.phase = 'idle';
      this.events.onIdle?.(this);
    } else {
      this.channel.close();
    }
  }

  private onEnd(end: ChannelEnd): void {
    const wasHello = this.phase === 'hello';
    this.phase = 'closed';
    const why = end.kind === 'error' ? ` (${end.error.message})` : end.kind === 'oversize' ? ' (oversized packet)' : '';
    const error = this.failure ?? new JaiClientError('DAEMON_LOST', `lost the connection to jaid${why}`);
    if (wasHello) this.settleReady?.reject(error);
    const exchange = this.exchange;
    this.exchange = null;
    exchange?.onLost(error, !this.answered);
    this.events.onClosed?.(this);
  }
}

/** How long to wait for room in jaid's listen queue (full under a flood of connects), in slices of the second. */
const CONNECT_WAIT_MS = 5000;
const CONNECT_SLICE_MS = 20;

/**
 * Connects to jaid's socket; rejects with DAEMON_UNAVAILABLE. When jaid's listen queue is full (another user flooding
 * it), waits in the kernel for room, woken at each accept, in short slices that let the caller's event loop run.
 */
export async function openConnection(
  socketPath: string,
  version: number,
  events: ConnectionEvents = {},
): Promise<ClientConnection> {
  const deadline = Date.now() + CONNECT_WAIT_MS;
  for (let waitMs = 0; ; waitMs = CONNECT_SLICE_MS) {
    try {
      return new ClientConnection(native.seqpacketConnect(socketPath, waitMs), version, events);
    } catch (e) {
      const code = native.isNativeError(e) ? e.code : String(e);
      if (code === 'EAGAIN' && Date.now() < deadline) {
        await new Promise((resolve) => setImmediate(resolve));
        continue;
      }
      throw new JaiClientError(
        'DAEMON_UNAVAILABLE',
        code === 'EAGAIN'
          ? `jaid at ${socketPath} accepted no connection for ${CONNECT_WAIT_MS / 1000} s (EAGAIN); try again`
          : `cannot reach jaid at ${socketPath} (${code}); is the daemon running?`,
      );
    }
  }
}
