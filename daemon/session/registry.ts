// The daemon's live sessions: counted per user for max_sessions, listed by mode for metrics, killed by the admin
// API. Admission and registration happen in the same tick, so the count cannot be raced past.
import type { SessionControl } from '../admin/context';
import type { Mode } from '../server/validate';

export interface LiveSession {
  id: string;
  uid: number;
  mode: Mode;
  /** Hangs the session up (SIGHUP, grace, SIGKILL). */
  hangup(): void;
}

interface Entry {
  session: LiveSession;
  /** The program has ended and the client has its status; the helper is still walking the changes and exiting. */
  finishing: boolean;
}

interface Waiter {
  uid: number;
  run: () => void;
  timer: NodeJS.Timeout;
}

export class SessionRegistry implements SessionControl {
  private readonly live = new Map<string, Entry>();
  private readonly waiters = new Set<Waiter>();

  /** `onChange` hears the number of live sessions after each start and end (systemd's STATUS=). */
  constructor(private readonly onChange: (live: number) => void = () => undefined) {}

  add(session: LiveSession): void {
    this.live.set(session.id, { session, finishing: false });
    this.onChange(this.live.size);
  }

  /**
   * The session's program has ended and the client has its status; the helper still walks the changes and exits
   * (Session kills it if that takes over FINISH_GRACE_MS). It still counts against max_sessions until removed.
   */
  finishing(id: string): void {
    const entry = this.live.get(id);
    if (entry !== undefined) entry.finishing = true;
  }

  remove(id: string): void {
    const entry = this.live.get(id);
    if (entry === undefined) return;
    this.live.delete(id);
    this.onChange(this.live.size);
    if (entry.finishing) this.wakeWaiters(entry.session.uid);
  }

  /** Live sessions of this uid, finishing ones included. */
  countForUid(uid: number): number {
    let n = 0;
    for (const { session } of this.live.values()) if (session.uid === uid) n++;
    return n;
  }

  /**
   * Runs `run` once no session of `uid` is finishing (at once if none is; else on a later turn of the loop), or
   * after `maxWaitMs` whatever: a teardown must not find the mounts held by a helper about to let them go, and a
   * spawn at the user's max_sessions waits for the session that is about to end rather than being refused.
   */
  afterFinishing(uid: number, maxWaitMs: number, run: () => void): void {
    if (!this.hasFinishing(uid)) {
      run();
      return;
    }
    const waiter: Waiter = {
      uid,
      run,
      timer: setTimeout(() => {
        this.waiters.delete(waiter);
        run();
      }, maxWaitMs),
    };
    // A waiting request does not keep a stopping jaid alive; the connection's end tells the callback so.
    waiter.timer.unref();
    this.waiters.add(waiter);
  }

  get size(): number {
    return this.live.size;
  }

  kill(id: string): boolean {
    const entry = this.live.get(id);
    if (entry === undefined) return false;
    entry.session.hangup();
    return true;
  }

  activeByMode(): Record<Mode, number> {
    const counts: Record<Mode, number> = { casual: 0, strict: 0, bare: 0 };
    for (const { session } of this.live.values()) counts[session.mode]++;
    return counts;
  }

  hasFinishing(uid: number): boolean {
    for (const { session, finishing } of this.live.values()) if (finishing && session.uid === uid) return true;
    return false;
  }

  private wakeWaiters(uid: number): void {
    if (this.waiters.size === 0 || this.hasFinishing(uid)) return;
    for (const waiter of [...this.waiters]) {
      if (waiter.uid !== uid) continue;
      this.waiters.delete(waiter);
      clearTimeout(waiter.timer);
      // Not from within the ending session's own callbacks.
      setImmediate(waiter.run);
    }
  }
}
