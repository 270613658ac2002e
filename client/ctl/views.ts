// The admin API's answers as jaictl reads them (the contract in docs/jaictl.8 and the admin API's routes).
import { arrayOf, bool, nullable, num, object, str, unknownValue, type Decoder } from './decode';

export interface SessionView {
  id: string;
  uid: number;
  user: string;
  peerUid: number;
  peerPid: number;
  argv: string[];
  cwd: string;
  mode: string;
  jail: string;
  grants: { path: string; readOnly: boolean }[];
  masks: string[];
  /** null: not recorded (a refused session, or a row from before audit schema v2). */
  network: string | null;
  limits: { memoryBytes: number | null; pids: number | null; cpu: number | null } | null;
  rule: string;
  startedAt: string;
  endedAt: string | null;
  durationMs: number | null;
  /** running, exited, signaled, failed, denied, daemon-restart (or a state a newer daemon added). */
  state: string;
  exitCode: number | null;
  signal: number | null;
  errorCode: string | null;
  error: string | null;
  changes: { count: number; truncated: boolean; paths: string[] } | null;
}

export const SESSION_STATES = ['running', 'exited', 'signaled', 'failed', 'denied', 'daemon-restart'] as const;

export const sessionView: Decoder<SessionView> = object<SessionView>({
  id: str,
  uid: num,
  user: str,
  peerUid: num,
  peerPid: num,
  argv: arrayOf(str),
  cwd: str,
  mode: str,
  jail: str,
  grants: arrayOf(object<{ path: string; readOnly: boolean }>({ path: str, readOnly: bool })),
  masks: arrayOf(str),
  network: nullable(str),
  limits: nullable(
    object<NonNullable<SessionView['limits']>>({ memoryBytes: nullable(num), pids: nullable(num), cpu: nullable(num) }),
  ),
  rule: str,
  startedAt: str,
  endedAt: nullable(str),
  durationMs: nullable(num),
  state: str,
  exitCode: nullable(num),
  signal: nullable(num),
  errorCode: nullable(str),
  error: nullable(str),
  changes: nullable(object<NonNullable<SessionView['changes']>>({ count: num, truncated: bool, paths: arrayOf(str) })),
});

export const sessionList: Decoder<{ sessions: SessionView[] }> = object<{ sessions: SessionView[] }>({
  sessions: arrayOf(sessionView),
});

export interface HealthView {
  status: string;
  version: string;
  startedAt: string;
  uptimeSeconds: number;
  activeSessions: number;
  limits: { backend: string; enforced: boolean; detail: string };
  policy: { source: string | null; loadedAt: string };
  /** null: a daemon from before the audit health was reported. */
  audit: HealthAudit | null;
}

export interface HealthAudit {
  writable: boolean;
  failureMode: string;
  failingSince: string | null;
  error: string | null;
  pendingEnds: number;
}

const healthAudit = object<HealthAudit>({
  writable: bool,
  failureMode: str,
  failingSince: nullable(str),
  error: nullable(str),
  pendingEnds: num,
});

export const healthView: Decoder<HealthView> = object<HealthView>({
  status: str,
  version: str,
  startedAt: str,
  uptimeSeconds: num,
  activeSessions: num,
  limits: object<HealthView['limits']>({ backend: str, enforced: bool, detail: str }),
  policy: object<HealthView['policy']>({ source: nullable(str), loadedAt: str }),
  audit: (value, where) => (value === undefined || value === null ? null : healthAudit(value, where)),
});

export interface AdminEvent {
  at: string;
  actorUid: number;
  actorUser: string;
  action: string;
  /** A session id for kill, the policy file for reload; shown as given. */
  target: unknown;
  result: unknown;
  detail: unknown;
}

export const adminEvent: Decoder<AdminEvent> = object<AdminEvent>({
  at: str,
  actorUid: num,
  actorUser: str,
  action: str,
  target: unknownValue,
  result: unknownValue,
  detail: unknownValue,
});

export const eventType: Decoder<{ type: string }> = object<{ type: string }>({ type: str });

export const killAnswer: Decoder<{ id: string; killed: boolean }> = object<{ id: string; killed: boolean }>({
  id: str,
  killed: bool,
});

export const reloadAnswer: Decoder<{ source: string | null; loadedAt: string }> = object<{
  source: string | null;
  loadedAt: string;
}>({ source: nullable(str), loadedAt: str });
