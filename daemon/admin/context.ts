// What the admin API (daemon/admin/server.ts) needs from the rest of the daemon. The composition root
// (daemon/main.ts) builds it; tests build fakes.
import type { AuditStatus } from '../audit/audit-guard';
import type { AuditLog } from '../audit/audit-log';
import type { Logger } from '../log';
import type { Policy } from '../policy/types';
import type { NssLookup } from '../server/peer';
import type { Mode } from '../server/validate';
import type { Metrics } from './metrics';

/** How per-session limits are enforced on this host (detected once at start). */
export interface LimitsStatus {
  backend: 'cgroup2' | 'cgroup1' | 'none';
  /** false: sessions run without memory/pids/cpu ceilings, and the API says so. */
  enforced: boolean;
  /** Which hierarchy and base directory, or why none is usable. */
  detail: string;
}

/** The live sessions of this daemon. */
export interface SessionControl {
  /** Hangs the session up (SIGHUP, grace, SIGKILL). false when no such live session. */
  kill(id: string): boolean;
  activeByMode(): Record<Mode, number>;
}

export interface PolicyControl {
  current(): Policy;
  loadedAt(): Date;
  /** Re-reads the policy file; on error the old policy stays and the message says why. */
  reload(): { ok: true } | { ok: false; message: string };
}

export interface AdminContext {
  audit: AuditLog;
  /** Whether session records can be written now (/v1/health). */
  auditStatus: () => AuditStatus;
  sessions: SessionControl;
  policy: PolicyControl;
  limits: LimitsStatus;
  metrics: Metrics;
  nss: NssLookup;
  log: Logger;
  startedAt: Date;
  version: string;
}
