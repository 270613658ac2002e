// What the daemon does when the audit log cannot be written (disk full, I/O error, read-only): the session writes
// of the audit log behind one object that never throws. A start record is a precondition of the session: with
// `--audit-failure=refuse` (the default) a session that cannot be recorded is refused with AUDIT_UNAVAILABLE before
// the helper runs; with `allow` it runs, and the journal (one warning per session) is its only record. End records
// that cannot be written are kept and written once the log takes writes again. Failing and recovering are logged
// once per transition, never per request; every failed write is counted in /metrics.
import { escapeControl } from '../escape';
import { failure, type Failure } from '../errors';
import type { Logger } from '../log';
import type { Metrics } from '../admin/metrics';
import type { AuditLog, SessionChanges, SessionDenied, SessionEnd, SessionStart } from './audit-log';

export const AUDIT_FAILURE_MODES = ['refuse', 'allow'] as const;
export type AuditFailureMode = (typeof AUDIT_FAILURE_MODES)[number];

/** The audit writes whose failures are counted (label `record` of jai_audit_write_failures_total). */
export type AuditRecordKind = 'start' | 'end' | 'denied';

/** End records kept for a later write while the log fails; beyond this the oldest are dropped (and logged). */
export const MAX_PENDING_ENDS = 4096;
/** While end records wait, a write is retried this often even when no session comes to try one. */
export const PENDING_RETRY_MS = 10_000;
/**
 * End and refusal rows are synced at most this long after their write; a start row's sync, which a busy daemon asks
 * for sooner, takes them along. Only a crash of the machine in that window can lose them (a crash of jaid leaves
 * its commits in the page cache).
 */
export const LATER_SYNC_MS = 20;

/** How the admin API reports the audit log (/v1/health). */
export interface AuditStatus {
  writable: boolean;
  failureMode: AuditFailureMode;
  /** When the current failure began (ISO), null while writable. */
  failingSince: string | null;
  /** The last write error (escaped), null while writable. */
  error: string | null;
  /** End records waiting to be written. */
  pendingEnds: number;
}

export type StartWrite = { ok: true; audited: boolean } | Failure;

type Writes = Pick<AuditLog, 'recordStart' | 'recordDenied' | 'recordEnd' | 'recordChanges' | 'sync' | 'syncNow'>;
type Counters = Pick<Metrics, 'auditWriteFailed' | 'auditWritable' | 'sessionUnaudited'>;

/** `SQLITE_FULL: database or disk is full`, from better-sqlite3's SqliteError or any other thrown value. */
export function describeWriteError(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  const code = e instanceof Error && 'code' in e && typeof e.code === 'string' ? e.code : null;
  return escapeControl(code === null || message.includes(code) ? message : `${code}: ${message}`);
}

export class AuditGuard {
  private failingSince: Date | null = null;
  private lastError: string | null = null;
  /** Per failure period: sessions refused or run unaudited, end records dropped. */
  private refused = 0;
  private unaudited = 0;
  private readonly pendingEnds = new Map<string, { end: SessionEnd; at: Date }>();
  private retryTimer: NodeJS.Timeout | null = null;
  /** End and refusal rows written and not yet synced (their kinds, for the failure counts), and their timer. */
  private later: { kinds: AuditRecordKind[]; timer: NodeJS.Timeout } | null = null;

  constructor(
    private readonly audit: Writes,
    readonly failureMode: AuditFailureMode,
    private readonly log: Logger,
    private readonly metrics: Counters,
    private readonly laterSyncMs = LATER_SYNC_MS,
  ) {
    metrics.auditWritable(true);
  }

  /**
   * The session's start row. ok with audited: true when written; otherwise, in refuse mode, the AUDIT_UNAVAILABLE
   * refusal to send (the caller starts nothing), in allow mode ok with audited: false (logged per session).
   */
  recordStart(start: SessionStart): StartWrite {
    const written = this.write('start', () => {
      this.audit.recordStart(start);
      return true;
    });
    if (written) return { ok: true, audited: true };
    if (this.failureMode === 'refuse') {
      this.refused++;
      return failure(
        'AUDIT_UNAVAILABLE',
        `the audit log cannot be written: ${this.lastError ?? 'unknown error'}; refusing new sessions`,
      );
    }
    this.runUnaudited(start);
    return { ok: true, audited: false };
  }

  /**
   * The second half of a start: `then(null)` once the start row written by recordStart is on disk, so the program
   * may run; if it cannot be synced, in refuse mode `then(AUDIT_UNAVAILABLE)` (the caller stops the session before
   * anything of the user's runs), in allow mode `then(null)` after the unaudited warning. A session run unaudited
   * (`audited: false`) goes on at once.
   */
  whenDurable(start: SessionStart, audited: boolean, then: (refusal: Failure | null) => void): void {
    if (!audited) {
      then(null);
      return;
    }
    const later = this.takeLater();
    this.audit.sync((err) => {
      if (err === null) {
        then(null);
        return;
      }
      this.failed('start', err);
      this.laterSynced(later, err);
      if (this.failureMode === 'refuse') {
        this.refused++;
        then(failure('AUDIT_UNAVAILABLE', `the audit log cannot be synced: ${this.lastError ?? 'unknown error'}`));
        return;
      }
      this.runUnaudited(start);
      then(null);
    });
  }

  private runUnaudited(start: SessionStart): void {
    this.unaudited++;
    this.metrics.sessionUnaudited();
    // The journal is this session's only record: what the start row would have held, minus env-like detail.
    this.log.warn(
      {
        session: start.id,
        user: start.user,
        uid: start.uid,
        peerPid: start.peerPid,
        argv: start.argv.slice(0, 64).map((a) => escapeControl(a)),
        cwd: escapeControl(start.cwd),
        mode: start.mode,
        jail: start.jail,
        rule: start.rule,
      },
      'UNAUDITED session starts: the audit log cannot be written (--audit-failure=allow)',
    );
  }

  /** A refusal row; false when it could not be written (the refusal is sent either way). */
  recordDenied(denied: SessionDenied): boolean {
    return this.write('denied', () => {
      this.audit.recordDenied(denied);
      return true;
    });
  }

  /** The end of a session; kept for a later write when it cannot be written now (the time is kept too). */
  recordEnd(id: string, end: SessionEnd, now = new Date()): boolean {
    if (this.write('end', () => this.audit.recordEnd(id, end, now))) return true;
    if (this.pendingEnds.size >= MAX_PENDING_ENDS) {
      const oldest = this.pendingEnds.keys().next();
      if (oldest.done !== true) {
        this.pendingEnds.delete(oldest.value);
        this.log.error({ session: oldest.value }, 'audit end record dropped: too many waiting to be written');
      }
    }
    this.pendingEnds.set(id, { end, at: now });
    this.scheduleRetry();
    return false;
  }

  /**
   * A casual session's changes, reported by the helper after the program's end (its end row is written by then, or
   * waiting here to be: they go with it). Not kept when the write fails: they are a summary, and the files are in
   * the changes directory.
   */
  recordChanges(id: string, changes: SessionChanges): void {
    const pending = this.pendingEnds.get(id);
    if (pending !== undefined) {
      this.pendingEnds.set(id, { end: { ...pending.end, changes }, at: pending.at });
      return;
    }
    this.write('end', () => this.audit.recordChanges(id, changes));
  }

  status(): AuditStatus {
    return {
      writable: this.failingSince === null,
      failureMode: this.failureMode,
      failingSince: this.failingSince?.toISOString() ?? null,
      error: this.failingSince === null ? null : this.lastError,
      pendingEnds: this.pendingEnds.size,
    };
  }

  /** Daemon shutdown: one last try for the waiting end records; the timer goes. */
  close(): void {
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.flushPending();
    // The rows whose sync was left for later, now (the log's close checkpoints the WAL, but SQLite skips that when
    // another process has the database open, and says nothing).
    const kinds = this.takeLater();
    if (kinds.length === 0) return;
    try {
      this.audit.syncNow();
    } catch (e) {
      for (const kind of kinds) this.failed(kind, e);
    }
  }

  /**
   * Runs one write (one statement: one transaction, all or nothing); keeps the state and the counters. `run` says
   * whether it wrote anything: an end without an open row (a session run unaudited) writes nothing, and proves
   * nothing about the log.
   */
  private write(kind: AuditRecordKind, run: () => boolean): boolean {
    let wrote: boolean;
    try {
      wrote = run();
    } catch (e) {
      this.failed(kind, e);
      return false;
    }
    if (!wrote) return true;
    if (this.failingSince !== null) this.recovered();
    if (this.pendingEnds.size > 0) this.flushPending();
    // End and refusal rows are made durable later (syncLater), not waited for: a crash of the machine before then
    // loses at most the end of a session, which the next daemon closes as 'daemon-restart'. The start row is waited
    // for (whenDurable).
    if (kind !== 'start') this.syncLater(kind);
    return true;
  }

  /**
   * Not at once: handing the fdatasync to the thread pool wakes a worker, which on 2 CPUs takes the CPU from jaid
   * before it has sent the Exited that follows an end row, or from the client that Exited wakes (0.3-0.6 ms in
   * traces of the SDK loop); and the next session's start row, synced anyway, takes the row along.
   */
  private syncLater(kind: AuditRecordKind): void {
    if (this.later !== null) {
      this.later.kinds.push(kind);
      return;
    }
    const timer = setTimeout(() => {
      const kinds = this.takeLater();
      this.audit.sync((err) => {
        this.laterSynced(kinds, err);
      });
    }, this.laterSyncMs);
    // Nothing is lost if jaid exits first: close() checkpoints the log, and a crash leaves the page cache.
    timer.unref();
    this.later = { kinds: [kind], timer };
  }

  /** The kinds of the rows waiting for syncLater's sync, which is no longer needed: the caller syncs them. */
  private takeLater(): AuditRecordKind[] {
    if (this.later === null) return [];
    clearTimeout(this.later.timer);
    const { kinds } = this.later;
    this.later = null;
    return kinds;
  }

  private laterSynced(kinds: readonly AuditRecordKind[], err: Error | null): void {
    if (err !== null) for (const kind of kinds) this.failed(kind, err);
  }

  private failed(kind: AuditRecordKind, e: unknown): void {
    this.metrics.auditWriteFailed(kind);
    this.lastError = describeWriteError(e);
    if (this.failingSince !== null) {
      this.log.debug({ record: kind, error: this.lastError }, 'audit write failed (still failing)');
      return;
    }
    this.failingSince = new Date();
    this.refused = 0;
    this.unaudited = 0;
    this.metrics.auditWritable(false);
    this.log.error(
      { err: e, record: kind, failureMode: this.failureMode },
      this.failureMode === 'refuse'
        ? `the audit log cannot be written: ${this.lastError}; refusing new sessions until it can (--audit-failure=refuse)`
        : `the audit log cannot be written: ${this.lastError}; sessions run UNAUDITED until it can (--audit-failure=allow)`,
    );
  }

  private recovered(): void {
    const since = this.failingSince;
    this.failingSince = null;
    this.lastError = null;
    this.metrics.auditWritable(true);
    this.log.warn(
      {
        failingSince: since?.toISOString(),
        failedForMs: since === null ? 0 : Date.now() - since.getTime(),
        refused: this.refused,
        unaudited: this.unaudited,
        pendingEnds: this.pendingEnds.size,
      },
      'the audit log can be written again; sessions are recorded again',
    );
  }

  /** Writes the waiting end records, oldest first, until one fails (then a retry is scheduled). */
  private flushPending(): void {
    let written = 0;
    for (const [id, { end, at }] of [...this.pendingEnds]) {
      let wrote: boolean;
      try {
        wrote = this.audit.recordEnd(id, end, at);
      } catch (e) {
        this.failed('end', e);
        this.scheduleRetry();
        break;
      }
      this.pendingEnds.delete(id);
      if (wrote) written++;
      if (wrote && this.failingSince !== null) this.recovered();
    }
    if (written > 0) this.syncLater('end');
  }

  private scheduleRetry(): void {
    if (this.retryTimer !== null) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.flushPending();
    }, PENDING_RETRY_MS);
    this.retryTimer.unref();
  }
}
