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

export class SessionRegistry implements SessionControl {
  private readonly live = new Map<string, LiveSession>();

  /** `onChange` hears the number of live sessions after each start and end (systemd's STATUS=). */
  constructor(private readonly onChange: (live: number) => void = () => undefined) {}

  add(session: LiveSession): void {
    this.live.set(session.id, session);
    this.onChange(this.live.size);
  }

  remove(id: string): void {
    if (this.live.delete(id)) this.onChange(this.live.size);
  }

  countForUid(uid: number): number {
    let n = 0;
    for (const s of this.live.values()) if (s.uid === uid) n++;
    return n;
  }

  get size(): number {
    return this.live.size;
  }

  kill(id: string): boolean {
    const session = this.live.get(id);
    if (session === undefined) return false;
    session.hangup();
    return true;
  }

  activeByMode(): Record<Mode, number> {
    const counts: Record<Mode, number> = { casual: 0, strict: 0, bare: 0 };
    for (const s of this.live.values()) counts[s.mode]++;
    return counts;
  }
}
