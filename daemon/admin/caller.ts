// Who is calling the admin API: SO_PEERCRED of the connection, read once when it is accepted, and NSS. Nothing
// the client sends (headers, query, body) takes part in it.
import type { Socket } from 'node:net';
import { peerCred } from '../../native/addon';
import type { NssLookup, PeerCredentials } from '../server/peer';

export interface Caller {
  uid: number;
  gid: number;
  pid: number;
  /** The user name from NSS, or the uid in decimal when NSS has none. */
  user: string;
  /** root or a member of the policy's adminGroup: sees and acts on everything; otherwise only own sessions. */
  admin: boolean;
}

/** The descriptor of an accepted Unix-socket connection (libuv keeps it on the socket's handle). */
export function socketFd(socket: Socket): number | null {
  const handle: unknown = Reflect.get(socket, '_handle');
  if (typeof handle !== 'object' || handle === null) return null;
  const fd: unknown = Reflect.get(handle, 'fd');
  return typeof fd === 'number' && Number.isInteger(fd) && fd >= 0 ? fd : null;
}

/**
 * Credentials per connection. Read at accept time: the peer is the process that connected, and the answer cannot
 * change for the connection's life. A connection whose credentials could not be read has no entry, and every
 * request on it is refused (fail closed).
 */
export class ConnectionCredentials {
  private readonly creds = new WeakMap<Socket, PeerCredentials>();

  /** Returns an error message when the credentials cannot be read. */
  track(socket: Socket, read: (fd: number) => PeerCredentials = peerCred): string | null {
    const fd = socketFd(socket);
    if (fd === null) return 'connection has no file descriptor';
    try {
      this.creds.set(socket, read(fd));
      return null;
    } catch (e) {
      return e instanceof Error ? e.message : 'cannot read peer credentials';
    }
  }

  get(socket: Socket): PeerCredentials | undefined {
    return this.creds.get(socket);
  }
}

/**
 * Admin: uid 0, or a user whose NSS group list (primary group included) holds the policy's adminGroup. The
 * process's own gid from SO_PEERCRED is not used: a setgid program would otherwise lend its group to anyone.
 */
export function resolveCaller(peer: PeerCredentials, adminGroup: string | null, nss: NssLookup): Caller {
  const entry = nss.getpwuid(peer.uid);
  const user = entry?.name ?? String(peer.uid);
  const base = { uid: peer.uid, gid: peer.gid, pid: peer.pid, user };
  if (peer.uid === 0) return { ...base, admin: true };
  if (adminGroup === null || entry === null) return { ...base, admin: false };
  const group = nss.getgrnam(adminGroup);
  if (group === null) return { ...base, admin: false };
  return { ...base, admin: nss.getgrouplist(entry.name, entry.gid).includes(group.gid) };
}
