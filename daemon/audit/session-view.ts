// Audit rows as stored (snake_case, JSON columns) and as the admin API returns them (camelCase, parsed).
import type { Limits, NetworkMode } from '../policy/types';
import { NETWORK_MODES } from '../policy/types';

export const SESSION_STATES = ['running', 'exited', 'signaled', 'failed', 'denied', 'daemon-restart'] as const;
export type SessionState = (typeof SESSION_STATES)[number];

export interface SessionRow {
  id: string;
  uid: number;
  user: string;
  peer_uid: number;
  peer_pid: number;
  argv: string;
  cwd: string;
  mode: string;
  jail: string;
  grants: string;
  masks: string;
  network: string | null;
  limits: string | null;
  rule: string;
  started_at: string;
  ended_at: string | null;
  duration_ms: number | null;
  outcome: string;
  exit_code: number | null;
  signal: number | null;
  error_code: string | null;
  error: string | null;
  changes_count: number | null;
  changes_truncated: number | null;
  changes_paths: string | null;
}

export interface AdminActionRow {
  id: number;
  at: string;
  actor_uid: number;
  actor_user: string;
  action: string;
  target: string | null;
  result: string;
  detail: string;
}

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
  /** null: not recorded (a refusal, or a row written before schema v2). */
  network: NetworkMode | null;
  /** null: not recorded (a refusal, or a row written before schema v2); a null field: no limit. */
  limits: Limits | null;
  rule: string;
  startedAt: string;
  endedAt: string | null;
  durationMs: number | null;
  state: SessionState;
  exitCode: number | null;
  signal: number | null;
  errorCode: string | null;
  error: string | null;
  changes: { count: number; truncated: boolean; paths: string[] } | null;
}

export interface AdminActionLine {
  type: 'admin';
  at: string;
  actorUid: number;
  actorUser: string;
  action: string;
  target: string | null;
  result: string;
  detail: string;
}

// The JSON columns are written by this daemon only; still, a damaged row reads as empty rather than throwing.
function parseJson(text: string | null): unknown {
  if (text === null) return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}

function stringArray(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function grantsOf(value: unknown): { path: string; readOnly: boolean }[] {
  if (!Array.isArray(value)) return [];
  const grants: { path: string; readOnly: boolean }[] = [];
  for (const g of value) {
    if (isRecord(g) && typeof g['path'] === 'string')
      grants.push({ path: g['path'], readOnly: g['readOnly'] === true });
  }
  return grants;
}

function numberOrNull(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

function limitsOf(value: unknown): Limits | null {
  if (!isRecord(value)) return null;
  return {
    memoryBytes: numberOrNull(value['memoryBytes']),
    pids: numberOrNull(value['pids']),
    cpu: numberOrNull(value['cpu']),
  };
}

function networkOf(value: string | null): NetworkMode | null {
  return NETWORK_MODES.find((m) => m === value) ?? null;
}

function stateOf(value: string): SessionState {
  // An unknown outcome cannot be written by this code; reading one as 'failed' keeps the type honest.
  return SESSION_STATES.find((s) => s === value) ?? 'failed';
}

export function rowToView(row: SessionRow): SessionView {
  return {
    id: row.id,
    uid: row.uid,
    user: row.user,
    peerUid: row.peer_uid,
    peerPid: row.peer_pid,
    argv: stringArray(parseJson(row.argv)),
    cwd: row.cwd,
    mode: row.mode,
    jail: row.jail,
    grants: grantsOf(parseJson(row.grants)),
    masks: stringArray(parseJson(row.masks)),
    network: networkOf(row.network),
    limits: limitsOf(parseJson(row.limits)),
    rule: row.rule,
    startedAt: row.started_at,
    endedAt: row.ended_at,
    durationMs: row.duration_ms,
    state: stateOf(row.outcome),
    exitCode: row.exit_code,
    signal: row.signal,
    errorCode: row.error_code,
    error: row.error,
    changes:
      row.changes_count === null
        ? null
        : {
            count: row.changes_count,
            truncated: row.changes_truncated === 1,
            paths: stringArray(parseJson(row.changes_paths)),
          },
  };
}

export function adminLine(row: AdminActionRow): AdminActionLine {
  return {
    type: 'admin',
    at: row.at,
    actorUid: row.actor_uid,
    actorUser: row.actor_user,
    action: row.action,
    target: row.target,
    result: row.result,
    detail: row.detail,
  };
}
