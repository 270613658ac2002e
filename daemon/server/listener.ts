// The spawn socket: AF_UNIX SOCK_SEQPACKET, accepted on Node's loop through the addon.
import fs from 'node:fs';
import path from 'node:path';
import * as native from '../../native/addon';
import { closeQuietly } from '../../proto/channel';
import { encodeDaemonMessage } from '../../proto/codec';
import { failure, toWireCode, type Failure } from '../errors';
import type { Logger } from '../log';
import { Connection, type ConnectionContext } from './connection';

/**
 * Connections accepted per readiness callback: then the loop turns, so that a user who connects as fast as it can
 * does not keep jaid from reading the requests of connections already accepted (another user's among them).
 */
const ACCEPT_BATCH = 64;

export interface ListenerOptions {
  socketPath: string;
  /** A listening socket inherited from systemd (jaid.socket); the path then belongs to systemd. */
  inheritedFd: number | null;
  socketMode: number;
  log: Logger;
  context: Omit<ConnectionContext, 'onClosed'>;
}

export class Listener {
  private readonly fd: number;
  private readonly watcher: native.Watcher;
  private readonly connections = new Set<Connection>();
  private readonly uidOf = new Map<Connection, number>();
  private closed = false;
  private drained: (() => void) | null = null;

  constructor(private readonly options: ListenerOptions) {
    const { socketPath, inheritedFd } = options;
    if (inheritedFd !== null) {
      native.seqpacketAdopt(inheritedFd);
      this.fd = inheritedFd;
    } else {
      // Explicit chmod: mkdir's mode is filtered by the umask (0077 under the unit), and users must reach the socket.
      const dir = path.dirname(socketPath);
      if (fs.mkdirSync(dir, { recursive: true, mode: 0o755 }) !== undefined) fs.chmodSync(dir, 0o755);
      removeStaleSocket(socketPath);
      this.fd = native.seqpacketListen(socketPath, options.socketMode, 512);
    }
    this.watcher = native.watch(this.fd, (err) => {
      if (err !== null) options.log.error({ err }, 'listener poll error');
      this.acceptAll();
    });
    this.watcher.start('r');
  }

  get activeConnections(): number {
    return this.connections.size;
  }

  private acceptAll(): void {
    for (let i = 0; i < ACCEPT_BATCH; i++) {
      let fd: number | null;
      try {
        fd = native.seqpacketAccept(this.fd);
      } catch (e) {
        this.options.log.error({ err: e }, 'accept failed');
        return;
      }
      if (fd === null) return;
      this.adopt(fd);
    }
  }

  private adopt(fd: number): void {
    let peer: native.PeerCred;
    try {
      peer = native.peerCred(fd);
    } catch (e) {
      this.options.log.warn({ err: e }, 'no peer credentials; connection closed');
      closeQuietly(fd);
      return;
    }
    const { limits, metrics } = this.options.context;
    if (this.closed) {
      refuseAtAccept(fd, failure('DAEMON_STOPPING', 'jaid is stopping'));
      return;
    }
    const refusal = limits.openConnection(peer.uid);
    if (refusal !== null) {
      // Not audited: nothing was asked yet, and a row (an fsync) per refused connect would serve the flood.
      metrics.limitRefused(refusal.code);
      const logged = limits.shouldLog(peer.uid, Date.now());
      if (logged.log)
        this.options.log.warn(
          { uid: peer.uid, pid: peer.pid, open: limits.connectionsFor(peer.uid), unlogged: logged.unlogged },
          refusal.message,
        );
      refuseAtAccept(fd, refusal);
      return;
    }
    const connection = new Connection(fd, peer, {
      ...this.options.context,
      onClosed: (c) => {
        this.forget(c);
      },
    });
    this.connections.add(connection);
    this.uidOf.set(connection, peer.uid);
  }

  private forget(connection: Connection): void {
    if (!this.connections.delete(connection)) return;
    const uid = this.uidOf.get(connection);
    this.uidOf.delete(connection);
    if (uid !== undefined) this.options.context.limits.closeConnection(uid);
    if (this.closed && this.connections.size === 0) this.drained?.();
  }

  /** Stops accepting, hangs up every session and resolves when all are recorded as ended. */
  async close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      this.watcher.close();
      closeQuietly(this.fd);
      // An inherited socket's path is systemd's: it keeps listening there and starts jaid again on demand.
      if (this.options.inheritedFd === null) {
        try {
          fs.unlinkSync(this.options.socketPath);
        } catch {
          // Already gone.
        }
      }
    }
    if (this.connections.size === 0) return;
    const done = new Promise<void>((resolve) => {
      this.drained = resolve;
    });
    for (const c of [...this.connections]) c.shutdown();
    await done;
  }
}

/**
 * A connection refused before it is read: one Error packet if the socket takes it at once (it is new, so it does
 * unless the client has shrunk its buffers), never waiting for it; then the fd is closed. Whatever the client sent
 * is dropped unread: it then reads ECONNRESET once, then this Error (proto/channel.ts reads past the reset).
 */
function refuseAtAccept(fd: number, refusal: Failure): void {
  try {
    native.sendMessage(
      fd,
      encodeDaemonMessage({ error: { code: toWireCode(refusal.code), message: refusal.message, exitCode: 1 } }),
      [],
    );
  } catch {
    // The client has gone already: nothing to tell.
  }
  closeQuietly(fd);
}

/**
 * A socket left by a previous daemon is removed; a socket someone still accepts on means another jaid is serving,
 * and anything else at the path is an error, not overwritten.
 */
function removeStaleSocket(socketPath: string): void {
  let stat: fs.Stats;
  try {
    stat = fs.lstatSync(socketPath);
  } catch {
    return;
  }
  if (!stat.isSocket()) throw new Error(`${socketPath} exists and is not a socket`);
  let probe: number | null = null;
  try {
    probe = native.seqpacketConnect(socketPath);
  } catch {
    // ECONNREFUSED: nobody listens; the socket is stale.
  }
  if (probe !== null) {
    closeQuietly(probe);
    throw new Error(`another jaid is serving ${socketPath}`);
  }
  fs.unlinkSync(socketPath);
}
