// The spawn socket: AF_UNIX SOCK_SEQPACKET, accepted on Node's loop through the addon.
import fs from 'node:fs';
import path from 'node:path';
import * as native from '../../native/addon';
import { closeQuietly } from '../../proto/channel';
import type { Logger } from '../log';
import { Connection, type ConnectionContext } from './connection';

/** Connections beyond these are closed at accept: one user cannot take every fd of the daemon. */
export const MAX_CONNECTIONS = 4096;
export const MAX_CONNECTIONS_PER_UID = 256;

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
  private readonly perUid = new Map<number, number>();
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
    for (;;) {
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
    const count = this.perUid.get(peer.uid) ?? 0;
    if (this.closed || this.connections.size >= MAX_CONNECTIONS || count >= MAX_CONNECTIONS_PER_UID) {
      this.options.log.warn({ uid: peer.uid, connections: this.connections.size }, 'connection limit; closed');
      closeQuietly(fd);
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
    this.perUid.set(peer.uid, count + 1);
  }

  private forget(connection: Connection): void {
    if (!this.connections.delete(connection)) return;
    const uid = this.uidOf.get(connection);
    this.uidOf.delete(connection);
    if (uid !== undefined) {
      const left = (this.perUid.get(uid) ?? 1) - 1;
      if (left > 0) this.perUid.set(uid, left);
      else this.perUid.delete(uid);
    }
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
