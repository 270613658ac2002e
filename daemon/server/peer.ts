// Who is asking: identity from SO_PEERCRED only, names and groups from NSS. Pure given the lookups.
import { failure, type Failure } from '../errors';

export interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  dir: string;
  shell: string;
  gecos: string;
}

export interface NssLookup {
  getpwuid(uid: number): PasswdEntry | null;
  getpwnam(name: string): PasswdEntry | null;
  getgrouplist(name: string, gid: number): number[];
  getgrnam(name: string): GroupEntry | null;
  getgrgid(gid: number): GroupEntry | null;
}

export interface GroupEntry {
  name: string;
  gid: number;
}

export interface PeerCredentials {
  pid: number;
  uid: number;
  gid: number;
}

export interface Identity {
  /** The user the session runs for. */
  user: string;
  uid: number;
  gid: number;
  groups: number[];
  home: string;
  shell: string;
  /** The connecting process, for the audit record (never used to authorise). */
  peerPid: number;
  peerUid: number;
}

/**
 * A non-root peer is who SO_PEERCRED says, whatever the request claims. A root peer (`sudo jai`) may name the
 * user to act for (SUDO_USER, as upstream); without one it is refused, since sandboxes never run as root.
 */
export function resolveIdentity(
  peer: PeerCredentials,
  actAsUser: string | null,
  nss: NssLookup,
): { ok: true; value: Identity } | Failure {
  let entry: PasswdEntry | null;
  if (peer.uid === 0) {
    if (actAsUser === null)
      return failure('POLICY_DENIED', 'refusing to run a sandbox as root; run jai as your own user or through sudo');
    entry = nss.getpwnam(actAsUser);
    if (entry === null) return failure('USER_UNKNOWN', `cannot find password entry for user ${actAsUser}`);
  } else {
    entry = nss.getpwuid(peer.uid);
    if (entry === null) return failure('USER_UNKNOWN', `cannot find password entry for uid ${peer.uid}`);
  }
  if (entry.uid === 0 || entry.gid === 0)
    return failure('POLICY_DENIED', `refusing to run a sandbox with uid or gid 0 (user ${entry.name})`);
  if (!entry.dir.startsWith('/')) return failure('USER_UNKNOWN', `home directory of ${entry.name} is not absolute`);
  const groups = [...new Set(nss.getgrouplist(entry.name, entry.gid))].filter((g) => g !== 0);
  return {
    ok: true,
    value: {
      user: entry.name,
      uid: entry.uid,
      gid: entry.gid,
      groups,
      home: entry.dir.length > 1 ? entry.dir.replace(/\/+$/, '') : entry.dir,
      shell: entry.shell === '' ? '/bin/sh' : entry.shell,
      peerPid: peer.pid,
      peerUid: peer.uid,
    },
  };
}
