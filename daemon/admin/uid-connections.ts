// A cap on concurrent admin-socket connections per peer uid. The socket may be 0666: without this, one local user
// could hold every connection the global cap allows and lock the admins out. Root is exempt (it can stop jaid
// anyway, and it must always get in).
import type { Socket } from 'node:net';
import type { Logger } from '../log';

export const MAX_CONNECTIONS_PER_UID = 16;
/** A refused uid is logged at most once per this interval (with how many were refused since). */
const WARN_INTERVAL_MS = 60_000;
/** Past this many remembered uids, those not warned about within the interval are forgotten. */
const MAX_WARNED_UIDS = 1024;

/** null: the connection's credentials could not be read; such connections share one cap (and get 500 anyway). */
export type PeerUid = number | null;

export class UidConnectionLimit {
  private readonly open = new Map<PeerUid, number>();
  private readonly warned = new Map<PeerUid, { at: number; refused: number }>();

  constructor(
    private readonly max: number,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * true: the connection is counted until its socket closes. false: the uid is at its cap; the caller closes the
   * socket (it has not been counted).
   */
  admit(uid: PeerUid, socket: Socket): boolean {
    if (uid === 0) return true;
    const count = this.open.get(uid) ?? 0;
    if (count >= this.max) {
      this.refused(uid);
      return false;
    }
    this.open.set(uid, count + 1);
    socket.once('close', () => {
      const left = (this.open.get(uid) ?? 1) - 1;
      if (left > 0) this.open.set(uid, left);
      else this.open.delete(uid);
    });
    return true;
  }

  /** Open connections counted for `uid` (tests, metrics). */
  openFor(uid: PeerUid): number {
    return this.open.get(uid) ?? 0;
  }

  private refused(uid: PeerUid): void {
    const now = this.now();
    const last = this.warned.get(uid);
    if (last !== undefined && now - last.at < WARN_INTERVAL_MS) {
      last.refused++;
      return;
    }
    if (this.warned.size >= MAX_WARNED_UIDS) {
      for (const [key, entry] of this.warned) if (now - entry.at >= WARN_INTERVAL_MS) this.warned.delete(key);
    }
    this.warned.set(uid, { at: now, refused: 0 });
    this.log.warn(
      { uid, limit: this.max, unloggedRefusals: last?.refused ?? 0 },
      'admin: too many connections from this uid; refusing more',
    );
  }
}
