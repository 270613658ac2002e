// The session audit log: SQLite (better-sqlite3), WAL, synchronous=NORMAL with the WAL synced by WalSync (a start
// row is durable before the program runs; see sync()). Append-only from the code's point of view: a start row is written before the session is started and closed exactly once; refusals are one closed
// row; admin actions (kill, reload) have their own table. Every stored string is escaped and capped, and so is
// every JSON column as a whole, so that a row has a known worst-case size (docs/audit.md).
import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import { escapeControl } from '../escape';
import type { Limits, NetworkMode } from '../policy/types';
import { WalSync, type SyncDone } from './wal-sync';
import { adminLine, rowToView, type AdminActionRow, type SessionRow, type SessionView } from './session-view';

export type { SessionRow, SessionState, SessionView, AdminActionRow } from './session-view';

export const SCHEMA_VERSION = 2;
/**
 * Caps on the stored JSON columns as a whole, in UTF-8 bytes of the column text (each string in them is already
 * capped by escapeControl). Entries are kept in order while they fit; argv, grants and masks then end with a
 * `… N more` entry (inside the cap); changed paths have their exact count and a truncated flag instead.
 */
export const MAX_ARGV_BYTES = 32 * 1024;
export const MAX_GRANTS_BYTES = 16 * 1024;
export const MAX_MASKS_BYTES = 16 * 1024;
export const MAX_CHANGED_PATHS_BYTES = 8 * 1024;
/** Cap on the changed paths kept per session (the count is kept exactly). */
export const MAX_CHANGED_PATHS = 20;
/** Cap on the masks kept per session. */
const MAX_MASKS = 256;
export const DEFAULT_LIST_LIMIT = 100;
/** With the caps above a row is at most ~172 KB (docs/audit.md), so a full list stays well under V8's string limit. */
export const MAX_LIST_LIMIT = 1000;
/** Rows per export query; each query runs to completion on its own, nothing stays open between pages. */
export const EXPORT_PAGE_ROWS = 500;
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
  /**
   * Beyond this many rows, the oldest refusals (`denied`) are deleted first, then the oldest ended sessions (and the
   * oldest admin actions beyond this many of theirs); 0: no row limit.
   */
  maxRows: number;
}

export interface AuditLogOptions {
  /** Rows per export query (tests use small pages to cross page boundaries); default EXPORT_PAGE_ROWS. */
  exportPageRows?: number;
}

interface CapOptions<T> {
  maxBytes: number;
  maxEntries?: number;
  /** The last entry when some were left out; none: the caller records the truncation itself. */
  more?: (omitted: number) => T;
}

/**
 * A JSON array of `entries`, in order, kept while the text stays within maxBytes of UTF-8 (and maxEntries); when
 * some are left out, `more(n)` is the last entry, and the text with it is still within maxBytes.
 */
function capJsonArray<T>(entries: readonly T[], cap: CapOptions<T>): { json: string; omitted: number } {
  const maxEntries = cap.maxEntries ?? Infinity;
  const kept: string[] = [];
  let size = 2; // []
  for (const entry of entries) {
    const text = JSON.stringify(entry);
    const add = Buffer.byteLength(text) + (kept.length > 0 ? 1 : 0);
    if (kept.length >= maxEntries || size + add > cap.maxBytes) break;
    kept.push(text);
    size += add;
  }
  if (kept.length < entries.length && cap.more !== undefined) {
    // Room for the marker with the largest count it could carry, and its comma.
    const reserve = Buffer.byteLength(JSON.stringify(cap.more(entries.length))) + 1;
    while (kept.length > 0 && size + reserve > cap.maxBytes) {
      const last = kept.pop() ?? '';
      size -= Buffer.byteLength(last) + (kept.length > 0 ? 1 : 0);
    }
    const omitted = entries.length - kept.length;
    return { json: `[${[...kept, JSON.stringify(cap.more(omitted))].join(',')}]`, omitted };
  }
  return { json: `[${kept.join(',')}]`, omitted: entries.length - kept.length };
}

const moreText = (omitted: number): string => `… ${omitted} more`;

function argvJson(argv: readonly string[]): string {
  return capJsonArray(
    argv.map((a) => escapeControl(a)),
    { maxBytes: MAX_ARGV_BYTES, more: moreText },
  ).json;
}

function grantsJson(grants: readonly { path: string; readOnly: boolean }[]): string {
  return capJsonArray(
    grants.map((g) => ({ path: escapeControl(g.path), readOnly: g.readOnly })),
    // The marker is grant-shaped so that readers (and the API schema) see a well-formed list.
    { maxBytes: MAX_GRANTS_BYTES, more: (omitted) => ({ path: moreText(omitted), readOnly: true }) },
  ).json;
}

function masksJson(masks: readonly string[]): string {
  return capJsonArray(
    masks.map((m) => escapeControl(m)),
    { maxBytes: MAX_MASKS_BYTES, maxEntries: MAX_MASKS, more: moreText },
  ).json;
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
  // No marker entry: the exact count and the flag say how many are missing (jaictl prints "… and N more").
  const paths = capJsonArray(
    changes.paths.map((p) => escapeControl(p)),
    { maxBytes: MAX_CHANGED_PATHS_BYTES, maxEntries: MAX_CHANGED_PATHS },
  );
  return {
    changes_count: Math.max(0, Math.trunc(changes.count)),
    changes_truncated: changes.truncated || paths.omitted > 0 ? 1 : 0,
    changes_paths: paths.json,
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

type ExportSessionRow = SessionRow & { export_rowid: number };
type Params = Record<string, string | number | null>;

/**
 * One ordered query read a page at a time (keyset pagination: each page starts after the last row of the one
 * before). Every page is one statement run to completion with all(): no statement, iterator or read transaction
 * stays open between pages, so the WAL can be checkpointed and writes go on while the reader is slow.
 */
class PagedRows<R> {
  private rows: R[] = [];
  private index = 0;
  private done = false;

  constructor(
    private readonly pageRows: number,
    private readonly fetch: (after: R | undefined, limit: number) => R[],
  ) {}

  peek(): R | undefined {
    if (this.index >= this.rows.length && !this.done) {
      const after = this.rows[this.rows.length - 1];
      this.rows = this.fetch(after, this.pageRows);
      this.index = 0;
      if (this.rows.length < this.pageRows) this.done = true;
    }
    return this.rows[this.index];
  }

  next(): void {
    this.index++;
  }
}

export class AuditLog {
  private readonly db: Database.Database;
  private readonly exportPageRows: number;
  private readonly walSync: WalSync;
  private readonly insertStart: Database.Statement;
  private readonly insertDenied: Database.Statement;
  private readonly updateEnd: Database.Statement;
  private readonly updateChanges: Database.Statement;
  private readonly insertAdmin: Database.Statement;
  private readonly selectSession: Database.Statement<[string], SessionRow>;
  private readonly selectSessions: Database.Statement<[Record<string, string | number | null>], SessionRow>;
  private readonly selectRecent: Database.Statement<[number], SessionRow>;
  private readonly updateAbandoned: Database.Statement<[string], { id: string }>;
  private readonly deleteEndedBefore: Database.Statement;
  private readonly deleteDeniedBeyondRows: Database.Statement;
  private readonly deleteBeyondRows: Database.Statement;
  private readonly exportSessions: Database.Statement<[Params], ExportSessionRow>;
  private readonly exportActions: Database.Statement<[Params], AdminActionRow>;
  private readonly deleteAdminBefore: Database.Statement;
  private readonly deleteAdminBeyondRows: Database.Statement;

  constructor(file: string, opts: AuditLogOptions = {}) {
    this.exportPageRows = Math.max(1, Math.trunc(opts.exportPageRows ?? EXPORT_PAGE_ROWS));
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    this.db = new Database(file);
    fs.chmodSync(file, 0o600);
    this.db.pragma('journal_mode = WAL');
    // Commits do not fsync; sync() does, off the event loop, and every write that must be durable before the
    // daemon goes on is followed by one (docs/audit.md, "Durability").
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('foreign_keys = ON');
    this.migrate();
    this.walSync = new WalSync(`${file}-wal`);
    this.walSync.syncNow();
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
    // The changes come after the end row (the helper walks them once the program has ended and the client has its
    // exit status): written once, into an ended row that has none.
    this.updateChanges = this.db.prepare(
      `UPDATE sessions SET changes_count = @changes_count, changes_truncated = @changes_truncated,
         changes_paths = @changes_paths
       WHERE id = @id AND ended_at IS NOT NULL AND changes_count IS NULL`,
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
      `UPDATE sessions SET ended_at = ?, outcome = 'daemon-restart' WHERE ended_at IS NULL RETURNING id`,
    );
    this.deleteEndedBefore = this.db.prepare('DELETE FROM sessions WHERE ended_at IS NOT NULL AND ended_at < ?');
    // Refusals go first: any user can make them cheaply, and they must not push real sessions out.
    this.deleteDeniedBeyondRows = this.db.prepare(
      `DELETE FROM sessions WHERE rowid IN (
         SELECT rowid FROM sessions WHERE outcome = 'denied' ORDER BY started_at, rowid
         LIMIT max(0, (SELECT count(*) FROM sessions) - @max))`,
    );
    // Then ended sessions; running rows count towards the total but are never candidates.
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
    // Keyset pages: `started_at >= @after_at` is the index range, the rest skips what the last page returned. The
    // first page starts after ('', 0): every stored time is a non-empty ISO string and every rowid is positive.
    this.exportSessions = this.db.prepare<[Params], ExportSessionRow>(
      `SELECT rowid AS export_rowid, * FROM sessions
       WHERE ${FILTER_WHERE}
         AND started_at >= @after_at AND (started_at > @after_at OR rowid > @after_rowid)
       ORDER BY started_at, rowid LIMIT @page`,
    );
    this.exportActions = this.db.prepare<[Params], AdminActionRow>(
      `SELECT * FROM admin_actions
       WHERE (@since IS NULL OR at >= @since) AND (@until IS NULL OR at < @until)
         AND (@user IS NULL OR actor_user = @user OR target IN (SELECT id FROM sessions WHERE user = @user))
         AND at >= @after_at AND (at > @after_at OR id > @after_rowid)
       ORDER BY at, id LIMIT @page`,
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
      masks: masksJson(start.masks),
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

  /** A casual session's changes, into its ended row; false when there is no such row without changes. */
  recordChanges(id: string, changes: SessionChanges): boolean {
    return this.updateChanges.run({ id, ...changesColumns(changes) }).changes > 0;
  }

  /** Closes the session's row; false when there is no open row of that id (nothing was written). */
  recordEnd(id: string, end: SessionEnd, now = new Date()): boolean {
    const result = this.updateEnd.run({
      id,
      ended_at: now.toISOString(),
      outcome: end.outcome,
      exit_code: end.outcome === 'exited' ? end.exitCode : end.outcome === 'failed' ? end.exitCode : null,
      signal: end.outcome === 'signaled' ? end.signal : null,
      error_code: end.outcome === 'failed' ? escapeControl(end.errorCode) : null,
      error: end.outcome === 'failed' ? escapeControl(end.error) : null,
      ...changesColumns(end.changes),
    });
    return result.changes > 0;
  }

  /**
   * `done(null)` once every write committed so far is on disk (group-committed fdatasync of the WAL in the thread
   * pool), or `done(err)`. A session's program starts only after its start row's sync.
   */
  sync(done: SyncDone): void {
    this.walSync.request(done);
  }

  /** Blocking: every write committed so far on disk before it returns (jaid's stop: the end rows not synced yet). */
  syncNow(): void {
    this.walSync.syncNow();
  }

  /** Admin actions are rare and not on the spawn path: durable before the call returns. */
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
    this.walSync.syncNow();
  }

  /** Rows left open by a daemon that died: closed at start-up with outcome 'daemon-restart'. Returns their ids. */
  closeAbandoned(now = new Date()): string[] {
    const closed = this.updateAbandoned.all(now.toISOString()).map((row) => row.id);
    this.walSync.syncNow();
    return closed;
  }

  /**
   * Retention: ended sessions (and admin actions) older than maxAgeDays; then, beyond maxRows rows in all, the
   * oldest refusals first and only then the oldest ended sessions (and the oldest admin actions beyond maxRows of
   * theirs). A running session is never deleted. Returns how many rows were deleted from both tables.
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
        deleted += this.deleteDeniedBeyondRows.run({ max: opts.maxRows }).changes;
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

  /** Newest first; at most `limit` (default 100, at most 1000). */
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
   * JSON lines, oldest first: sessions (by start) and, without a uid filter, admin actions (by time), merged; on
   * equal times the session comes first. Read in pages (PagedRows): between two lines nothing is open on the
   * database, so a slow HTTP reader holds up neither the audit writes nor WAL checkpoints. The export is not one
   * snapshot: a row written or ended while it runs may appear in its later state, or (if new) at the end.
   */
  *exportLines(filter: ExportFilter): Generator<string, void, undefined> {
    const params = filterParams(filter);
    const sessions = new PagedRows<ExportSessionRow>(this.exportPageRows, (after, page) =>
      this.exportSessions.all({
        ...params,
        after_at: after?.started_at ?? '',
        after_rowid: after?.export_rowid ?? 0,
        page,
      }),
    );
    const actions =
      filter.uid === undefined
        ? new PagedRows<AdminActionRow>(this.exportPageRows, (after, page) =>
            this.exportActions.all({ ...params, after_at: after?.at ?? '', after_rowid: after?.id ?? 0, page }),
          )
        : undefined;
    for (;;) {
      const s = sessions.peek();
      const a = actions?.peek();
      if (s !== undefined && (a === undefined || s.started_at <= a.at)) {
        sessions.next();
        yield JSON.stringify({ type: 'session', ...rowToView(s) });
      } else if (a !== undefined) {
        actions?.next();
        yield JSON.stringify(adminLine(a));
      } else {
        return;
      }
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
    this.walSync.close();
    this.db.close();
  }
}
