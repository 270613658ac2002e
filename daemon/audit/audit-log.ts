// The session audit log: SQLite (better-sqlite3), WAL, synchronous=FULL. Append-only from the code's point of
// view: a start row is written before the session is started, and closed exactly once.
import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import { escapeControl } from '../escape';

export const SCHEMA_VERSION = 1;
/** Cap on the stored argv as a whole (each string is capped by escapeControl). */
const MAX_ARGV_JSON = 65536;

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
  rule: string;
}

export type SessionEnd =
  | { outcome: 'exited'; exitCode: number }
  | { outcome: 'signaled'; signal: number }
  | { outcome: 'failed'; errorCode: string; error: string; exitCode: number | null };

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
  rule: string;
  started_at: string;
  ended_at: string | null;
  duration_ms: number | null;
  outcome: string;
  exit_code: number | null;
  signal: number | null;
  error_code: string | null;
  error: string | null;
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

export class AuditLog {
  private readonly db: Database.Database;
  private readonly insertStart: Database.Statement;
  private readonly updateEnd: Database.Statement;
  private readonly startedMs = new Map<string, number>();

  constructor(file: string) {
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    this.db = new Database(file);
    fs.chmodSync(file, 0o600);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.pragma('foreign_keys = ON');
    this.migrate();
    this.insertStart = this.db.prepare(
      `INSERT INTO sessions (id, uid, user, peer_uid, peer_pid, argv, cwd, mode, jail, grants, rule, started_at)
       VALUES (@id, @uid, @user, @peer_uid, @peer_pid, @argv, @cwd, @mode, @jail, @grants, @rule, @started_at)`,
    );
    this.updateEnd = this.db.prepare(
      `UPDATE sessions SET ended_at = @ended_at, duration_ms = @duration_ms, outcome = @outcome,
         exit_code = @exit_code, signal = @signal, error_code = @error_code, error = @error
       WHERE id = @id AND ended_at IS NULL`,
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
      id: start.id,
      uid: start.uid,
      user: escapeControl(start.user),
      peer_uid: start.peerUid,
      peer_pid: start.peerPid,
      argv: argvJson(start.argv),
      cwd: escapeControl(start.cwd),
      mode: start.mode,
      jail: escapeControl(start.jail),
      grants: JSON.stringify(start.grants.map((g) => ({ path: escapeControl(g.path), readOnly: g.readOnly }))),
      rule: escapeControl(start.rule),
      started_at: now.toISOString(),
    });
    this.startedMs.set(start.id, now.getTime());
  }

  recordEnd(id: string, end: SessionEnd, now = new Date()): void {
    const started = this.startedMs.get(id);
    this.startedMs.delete(id);
    this.updateEnd.run({
      id,
      ended_at: now.toISOString(),
      duration_ms: started === undefined ? null : now.getTime() - started,
      outcome: end.outcome,
      exit_code: end.outcome === 'exited' ? end.exitCode : end.outcome === 'failed' ? end.exitCode : null,
      signal: end.outcome === 'signaled' ? end.signal : null,
      error_code: end.outcome === 'failed' ? end.errorCode : null,
      error: end.outcome === 'failed' ? escapeControl(end.error) : null,
    });
  }

  /** Rows left open by a daemon that died: closed at start-up with outcome 'daemon-restart'. */
  closeAbandoned(now = new Date()): number {
    return this.db
      .prepare(`UPDATE sessions SET ended_at = ?, outcome = 'daemon-restart' WHERE ended_at IS NULL`)
      .run(now.toISOString()).changes;
  }

  /** Audit retention: deletes sessions that ended before `cutoff`; running sessions are never deleted. */
  pruneEndedBefore(cutoff: Date): number {
    return this.db.prepare('DELETE FROM sessions WHERE ended_at IS NOT NULL AND ended_at < ?').run(cutoff.toISOString())
      .changes;
  }

  session(id: string): SessionRow | undefined {
    return this.db.prepare('SELECT * FROM sessions WHERE id = ?').get(id) as SessionRow | undefined;
  }

  recent(limit: number): SessionRow[] {
    return this.db
      .prepare('SELECT * FROM sessions ORDER BY started_at DESC, rowid DESC LIMIT ?')
      .all(limit) as SessionRow[];
  }

  close(): void {
    this.db.close();
  }
}
