// The session audit log: SQLite (better-sqlite3), WAL, synchronous=FULL. Append-only from the code's point of
// view: a start row is written before the session is started and closed exactly once; refusals are one closed
// row; admin actions (kill, reload) have their own table. Every stored string is escaped and capped.
import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import { escapeControl } from '../escape';
import type { Limits, NetworkMode } from '../policy/types';
import { adminLine, rowToView, type AdminActionRow, type SessionRow, type SessionView } from './session-view';

export type { SessionRow, SessionState, SessionView, AdminActionRow } from './session-view';

export const SCHEMA_VERSION = 2;
/** Cap on the stored argv as a whole (each string is capped by escapeControl). */
const MAX_ARGV_JSON = 65536;
/** Cap on the changed paths kept per session (the count is kept exactly). */
export const MAX_CHANGED_PATHS = 20;
/** Cap on the masks kept per session. */
const MAX_MASKS = 256;
export const DEFAULT_LIST_LIMIT = 100;
export const MAX_LIST_LIMIT = 10000;
const DAY_MS = 86_400_000;

const MIGRATIONS: readonly string[] = [
  // v1
  `CREATE TABLE sessions (
     id TEXT PRIMARY KEY,
     uid INTEGER NOT NULL,
     user TEXT NOT NULL,
     peer_uid INTEGER NOT NULL,
     peer_pid INTEGER NOT NULL,
     argv TEXT NOT NULL,
     cwd TEXT NOT NULL,
     mode TEXT NOT NULL,
     jail TEXT NOT NULL,
     grants TEXT NOT NULL,
     rule TEXT NOT NULL,
     started_at TEXT NOT NULL,
     ended_at TEXT,
     duration_ms INTEGER,
     outcome TEXT NOT NULL DEFAULT 'running',
     exit_code INTEGER,
     signal INTEGER,
     error_code TEXT,
     error TEXT
   ) STRICT;
   CREATE INDEX sessions_uid_started ON sessions (uid, started_at);`,
  // v2: what the sandbox looked like (masks, network, limits), what it changed, refusals, admin actions.
  // Rows from v1 keep NULL network/limits/changes: unknown, not "none".
  `ALTER TABLE sessions ADD COLUMN masks TEXT NOT NULL DEFAULT '[]';
   ALTER TABLE sessions ADD COLUMN network TEXT;
   ALTER TABLE sessions ADD COLUMN limits TEXT;
   ALTER TABLE sessions ADD COLUMN changes_count INTEGER;
   ALTER TABLE sessions ADD COLUMN changes_truncated INTEGER;
   ALTER TABLE sessions ADD COLUMN changes_paths TEXT;
   CREATE INDEX sessions_started ON sessions (started_at);
   CREATE INDEX sessions_ended ON sessions (ended_at);
   CREATE TABLE admin_actions (
     id INTEGER PRIMARY KEY,
     at TEXT NOT NULL,
     actor_uid INTEGER NOT NULL,
     actor_user TEXT NOT NULL,
     action TEXT NOT NULL,
     target TEXT,
     result TEXT NOT NULL,
     detail TEXT NOT NULL
   ) STRICT;
   CREATE INDEX admin_actions_at ON admin_actions (at);`,
];

export interface SessionStart {
  id: string;
  uid: number;
  user: string;
  peerUid: number;
  peerPid: number;
  argv: readonly string[];
  cwd: string;
  mode: string;
  jail: string;
  grants: readonly { path: string; readOnly: boolean }[];
  /** Whited-out paths (casual overlay); at most 256 kept. */
  masks: readonly string[];
  network: NetworkMode;
  limits: Limits;
  rule: string;
}

/** A refused spawn: one closed row, outcome `denied`. */
export interface SessionDenied {
  id: string;
  uid: number;
  user: string;
  peerUid: number;
  peerPid: number;
  argv: readonly string[];
  cwd: string;
  mode: string;
  jail: string;
  grants: readonly { path: string; readOnly: boolean }[];
  rule: string;
  /** POLICY_DENIED, SESSION_LIMIT, … */
  code: string;
  reason: string;
}

export interface SessionChanges {
  count: number;
  truncated: boolean;
  paths: readonly string[];
}

export type SessionEnd = (
  | { outcome: 'exited'; exitCode: number }
  | { outcome: 'signaled'; signal: number }
  | { outcome: 'failed'; errorCode: string; error: string; exitCode: number | null }
) & { changes?: SessionChanges };

export type AdminActionKind = 'kill' | 'reload';

export interface AdminAction {
  actorUid: number;
  actorUser: string;
  action: AdminActionKind;
  target: string | null;
  result: string;
  detail: string;
}

export interface SessionFilter {
  uid?: number;
  user?: string;
  state?: string;
  since?: Date;
  until?: Date;
  limit?: number;
}

export type ExportFilter = Omit<SessionFilter, 'state' | 'limit'>;

export interface PruneOptions {
  /** Ended sessions and admin actions older than this are deleted; 0: no age limit. */
  maxAgeDays: number;
  /** Oldest ended sessions (and oldest admin actions) beyond this many rows are deleted; 0: no row limit. */
  maxRows: number;
}

function argvJson(argv: readonly string[]): string {
  const kept: string[] = [];
  let size = 2;
  for (const arg of argv) {
    const entry = escapeControl(arg);
    size += entry.length + 3;
    if (size > MAX_ARGV_JSON) {
      kept.push(`… ${argv.length - kept.length} more`);
      break;
    }
    kept.push(entry);
  }
  return JSON.stringify(kept);
}

function grantsJson(grants: readonly { path: string; readOnly: boolean }[]): string {
  return JSON.stringify(grants.map((g) => ({ path: escapeControl(g.path), readOnly: g.readOnly })));
}

function limitsJson(limits: Limits): string {
  const finite = (n: number | null): number | null => (n !== null && Number.isFinite(n) ? n : null);
  return JSON.stringify({
    memoryBytes: finite(limits.memoryBytes),
    pids: finite(limits.pids),
    cpu: finite(limits.cpu),
  });
}

function changesColumns(changes: SessionChanges | undefined): {
  changes_count: number | null;
  changes_truncated: number | null;
  changes_paths: string | null;
} {
  if (changes === undefined) return { changes_count: null, changes_truncated: null, changes_paths: null };
  const truncated = changes.truncated || changes.paths.length > MAX_CHANGED_PATHS;
  return {
    changes_count: Math.max(0, Math.trunc(changes.count)),
    changes_truncated: truncated ? 1 : 0,
    changes_paths: JSON.stringify(changes.paths.slice(0, MAX_CHANGED_PATHS).map((p) => escapeControl(p))),
  };
}

function filterParams(filter: ExportFilter): Record<string, string | number | null> {
  return {
    uid: filter.uid ?? null,
    user: filter.user ?? null,
    since: filter.since?.toISOString() ?? null,
    until: filter.until?.toISOString() ?? null,
  };
}

const FILTER_WHERE = `(@uid IS NULL OR uid = @uid) AND (@user IS NULL OR user = @user)
   AND (@since IS NULL OR started_at >= @since) AND (@until IS NULL OR started_at < @until)`;

export class AuditLog {
  private readonly file: string;
  private readonly db: Database.Database;
  private readonly insertStart: Database.Statement;
  private readonly insertDenied: Database.Statement;
  private readonly updateEnd: Database.Statement;
  private readonly insertAdmin: Database.Statement;
  private readonly selectSession: Database.Statement<[string], SessionRow>;
  private readonly selectSessions: Database.Statement<[Record<string, string | number | null>], SessionRow>;
  private readonly selectRecent: Database.Statement<[number], SessionRow>;
  private readonly updateAbandoned: Database.Statement;
  private readonly deleteEndedBefore: Database.Statement;
  private readonly deleteBeyondRows: Database.Statement;
  private readonly deleteAdminBefore: Database.Statement;
  private readonly deleteAdminBeyondRows: Database.Statement;

  constructor(file: string) {
    this.file = file;
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    this.db = new Database(file);
    fs.chmodSync(file, 0o600);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.pragma('foreign_keys = ON');
    this.migrate();
    this.insertStart = this.db.prepare(
      `INSERT INTO sessions (id, uid, user, peer_uid, peer_pid, argv, cwd, mode, jail, grants, masks, network, limits,
         rule, started_at)
       VALUES (@id, @uid, @user, @peer_uid, @peer_pid, @argv, @cwd, @mode, @jail, @grants, @masks, @network, @limits,
         @rule, @started_at)`,
    );
    this.insertDenied = this.db.prepare(
      `INSERT INTO sessions (id, uid, user, peer_uid, peer_pid, argv, cwd, mode, jail, grants, rule, started_at,
         ended_at, duration_ms, outcome, error_code, error)
       VALUES (@id, @uid, @user, @peer_uid, @peer_pid, @argv, @cwd, @mode, @jail, @grants, @rule, @at,
         @at, 0, 'denied', @error_code, @error)`,
    );
    // The duration comes from the row itself, so an end recorded by a restarted daemon still gets one.
    this.updateEnd = this.db.prepare(
      `UPDATE sessions SET ended_at = @ended_at,
         duration_ms = max(0, CAST(round((unixepoch(@ended_at, 'subsec') - unixepoch(started_at, 'subsec')) * 1000)
           AS INTEGER)),
         outcome = @outcome, exit_code = @exit_code, signal = @signal, error_code = @error_code, error = @error,
         changes_count = @changes_count, changes_truncated = @changes_truncated, changes_paths = @changes_paths
       WHERE id = @id AND ended_at IS NULL`,
    );
    this.insertAdmin = this.db.prepare(
      `INSERT INTO admin_actions (at, actor_uid, actor_user, action, target, result, detail)
       VALUES (@at, @actor_uid, @actor_user, @action, @target, @result, @detail)`,
    );
    this.selectSession = this.db.prepare<[string], SessionRow>('SELECT * FROM sessions WHERE id = ?');
    this.selectSessions = this.db.prepare<[Record<string, string | number | null>], SessionRow>(
      `SELECT * FROM sessions WHERE ${FILTER_WHERE} AND (@state IS NULL OR outcome = @state)
       ORDER BY started_at DESC, rowid DESC LIMIT @limit`,
    );
    this.selectRecent = this.db.prepare<[number], SessionRow>(
      'SELECT * FROM sessions ORDER BY started_at DESC, rowid DESC LIMIT ?',
    );
    this.updateAbandoned = this.db.prepare(
      `UPDATE sessions SET ended_at = ?, outcome = 'daemon-restart' WHERE ended_at IS NULL`,
    );
    this.deleteEndedBefore = this.db.prepare('DELETE FROM sessions WHERE ended_at IS NOT NULL AND ended_at < ?');
    // Running rows count towards the total but are never candidates.
    this.deleteBeyondRows = this.db.prepare(
      `DELETE FROM sessions WHERE rowid IN (
         SELECT rowid FROM sessions WHERE ended_at IS NOT NULL ORDER BY started_at, rowid
         LIMIT max(0, (SELECT count(*) FROM sessions) - @max))`,
    );
    this.deleteAdminBefore = this.db.prepare('DELETE FROM admin_actions WHERE at < ?');
    this.deleteAdminBeyondRows = this.db.prepare(
      `DELETE FROM admin_actions WHERE id IN (
         SELECT id FROM admin_actions ORDER BY at, id LIMIT max(0, (SELECT count(*) FROM admin_actions) - @max))`,
    );
  }

  private migrate(): void {
    const version = this.db.pragma('user_version', { simple: true });
    if (typeof version !== 'number' || version > SCHEMA_VERSION)
      throw new Error(`audit database schema version ${String(version)} is newer than this jaid (${SCHEMA_VERSION})`);
    for (let v = version; v < SCHEMA_VERSION; v++) {
      const step = MIGRATIONS[v];
      if (step === undefined) throw new Error(`no migration to schema version ${v + 1}`);
      this.db.transaction(() => {
        this.db.exec(step);
        this.db.pragma(`user_version = ${v + 1}`);
      })();
    }
  }

  recordStart(start: SessionStart, now = new Date()): void {
    this.insertStart.run({
      id: escapeControl(start.id),
      uid: start.uid,
      user: escapeControl(start.user),
      peer_uid: start.peerUid,
      peer_pid: start.peerPid,
      argv: argvJson(start.argv),
      cwd: escapeControl(start.cwd),
      mode: escapeControl(start.mode),
      jail: escapeControl(start.jail),
      grants: grantsJson(start.grants),
      masks: JSON.stringify(start.masks.slice(0, MAX_MASKS).map((m) => escapeControl(m))),
      network: start.network,
      limits: limitsJson(start.limits),
      rule: escapeControl(start.rule),
      started_at: now.toISOString(),
    });
  }

  recordDenied(denied: SessionDenied, now = new Date()): void {
    this.insertDenied.run({
      id: escapeControl(denied.id),
      uid: denied.uid,
      user: escapeControl(denied.user),
      peer_uid: denied.peerUid,
      peer_pid: denied.peerPid,
      argv: argvJson(denied.argv),
      cwd: escapeControl(denied.cwd),
      mode: escapeControl(denied.mode),
      jail: escapeControl(denied.jail),
      grants: grantsJson(denied.grants),
      rule: escapeControl(denied.rule),
      at: now.toISOString(),
      error_code: escapeControl(denied.code),
      error: escapeControl(denied.reason),
    });
  }

  recordEnd(id: string, end: SessionEnd, now = new Date()): void {
    this.updateEnd.run({
      id,
      ended_at: now.toISOString(),
      outcome: end.outcome,
      exit_code: end.outcome === 'exited' ? end.exitCode : end.outcome === 'failed' ? end.exitCode : null,
      signal: end.outcome === 'signaled' ? end.signal : null,
      error_code: end.outcome === 'failed' ? escapeControl(end.errorCode) : null,
      error: end.outcome === 'failed' ? escapeControl(end.error) : null,
      ...changesColumns(end.changes),
    });
  }

  recordAdminAction(action: AdminAction, now = new Date()): void {
    this.insertAdmin.run({
      at: now.toISOString(),
      actor_uid: action.actorUid,
      actor_user: escapeControl(action.actorUser),
      action: action.action,
      target: action.target === null ? null : escapeControl(action.target),
      result: escapeControl(action.result),
      detail: escapeControl(action.detail),
    });
  }

  /** Rows left open by a daemon that died: closed at start-up with outcome 'daemon-restart'. */
  closeAbandoned(now = new Date()): number {
    return this.updateAbandoned.run(now.toISOString()).changes;
  }

  /**
   * Retention: ended sessions (and admin actions) older than maxAgeDays, then the oldest ended sessions beyond
   * maxRows rows in all (and the oldest admin actions beyond maxRows of theirs). A running session is never
   * deleted. Returns how many rows were deleted from both tables.
   */
  prune(opts: PruneOptions, now = new Date()): number {
    return this.db.transaction(() => {
      let deleted = 0;
      if (opts.maxAgeDays > 0) {
        const cutoff = new Date(now.getTime() - opts.maxAgeDays * DAY_MS).toISOString();
        deleted += this.deleteEndedBefore.run(cutoff).changes;
        deleted += this.deleteAdminBefore.run(cutoff).changes;
      }
      if (opts.maxRows > 0) {
        deleted += this.deleteBeyondRows.run({ max: opts.maxRows }).changes;
        deleted += this.deleteAdminBeyondRows.run({ max: opts.maxRows }).changes;
      }
      return deleted;
    })();
  }

  /** v1 retention, kept for callers: deletes sessions that ended before `cutoff`, never running ones. */
  pruneEndedBefore(cutoff: Date): number {
    return this.deleteEndedBefore.run(cutoff.toISOString()).changes;
  }

  /** Newest first; at most `limit` (default 100, at most 10000). */
  listSessions(filter: SessionFilter): SessionView[] {
    const limit = Math.min(Math.max(Math.trunc(filter.limit ?? DEFAULT_LIST_LIMIT), 1), MAX_LIST_LIMIT);
    return this.selectSessions
      .all({ ...filterParams(filter), state: filter.state ?? null, limit })
      .map((row) => rowToView(row));
  }

  getSession(id: string): SessionView | undefined {
    const row = this.selectSession.get(id);
    return row === undefined ? undefined : rowToView(row);
  }

  /**
   * JSON lines, oldest first: sessions (by start) and, without a uid filter, admin actions (by time), merged.
   * Read through a separate read-only connection inside one read transaction: better-sqlite3 refuses writes on a
   * connection while one of its iterators is open, and a slow HTTP reader must never block the audit writes
   * (no row, no session). The connection opens on the first line and closes when the iteration ends or is
   * abandoned (return()).
   */
  *exportLines(filter: ExportFilter): Generator<string, void, undefined> {
    const reader = new Database(this.file, { readonly: true, fileMustExist: true });
    try {
      reader.exec('BEGIN');
      const params = filterParams(filter);
      const sessions = reader
        .prepare<[Record<string, string | number | null>], SessionRow>(
          `SELECT * FROM sessions WHERE ${FILTER_WHERE} ORDER BY started_at, rowid`,
        )
        .iterate(params);
      const withAdmin = filter.uid === undefined;
      const actions = withAdmin
        ? reader
            .prepare<[Record<string, string | number | null>], AdminActionRow>(
              `SELECT * FROM admin_actions
               WHERE (@since IS NULL OR at >= @since) AND (@until IS NULL OR at < @until)
                 AND (@user IS NULL OR actor_user = @user OR target IN (SELECT id FROM sessions WHERE user = @user))
               ORDER BY at, id`,
            )
            .iterate(params)
        : undefined;
      try {
        let session = sessions.next();
        let action = actions?.next();
        for (;;) {
          const s = session.done === true ? undefined : session.value;
          const a = action === undefined || action.done === true ? undefined : action.value;
          if (s !== undefined && (a === undefined || s.started_at <= a.at)) {
            yield JSON.stringify({ type: 'session', ...rowToView(s) });
            session = sessions.next();
          } else if (a !== undefined) {
            yield JSON.stringify(adminLine(a));
            action = actions?.next();
          } else {
            return;
          }
        }
      } finally {
        sessions.return?.();
        actions?.return?.();
      }
    } finally {
      reader.close();
    }
  }

  /** The raw row (tests, tools). */
  session(id: string): SessionRow | undefined {
    return this.selectSession.get(id);
  }

  recent(limit: number): SessionRow[] {
    return this.selectRecent.all(limit);
  }

  close(): void {
    this.db.close();
  }
}
