// One sandboxed session: spawns the helper with its plan and fds, reads its status records, and reports
// start and end. The daemon keeps no copy of the client's fds or of the PTY master once handed on.
import * as native from '../../native/addon';
import { PacketChannel, closeQuietly } from '../../proto/channel';
import { failure, type Failure } from '../errors';
import { escapeControl } from '../escape';
import type { HelperBinary } from '../helper-binary';
import type { Logger } from '../log';
import { HelperProcess, type HelperExit } from './helper-process';
import { parseStatusRecord, type StatusRecord } from './status-record';

/** How the program ended, as init reported it. */
export type ProgramResult = { kind: 'exited'; code: number } | { kind: 'signaled'; signal: number };
export type SessionResult = ProgramResult | { kind: 'failed'; failure: Failure };

/** What the program changed in a casual overlay (the helper walks the upper dir after the program ended). */
export interface ChangesSummary {
  count: number;
  /** The walk stopped at its cap: count is a lower bound. */
  truncated: boolean;
  /** The first changed paths, relative to the home, control characters escaped. */
  paths: string[];
}

/** The helper reports at most this many paths. */
const MAX_CHANGED_PATHS = 20;

export type NoticeKind = 'info' | 'masks-ignored';

export interface SessionEvents {
  /**
   * The session exists: with a PTY as soon as its master is there (an initjail program may already write to it),
   * otherwise when init has started. `ptyMaster` (if any) is now the receiver's to send and close.
   */
  onStarted(ptyMaster: number | null): void;
  /** The job stopped with this signal; the client stops itself likewise and later asks to continue. */
  onStopped(signo: number): void;
  /** A message for the user (control characters already escaped). */
  onNotice(kind: NoticeKind, message: string): void;
  /**
   * The program ended (init's `exit` or `signal` record, after `started`, with no error before it): its outcome is
   * final, and the client may have it now. The helper still walks the changes and exits (its mount namespace's
   * teardown): onEnded follows with this same result. At most once; never for a session whose setup failed.
   */
  onExited(result: ProgramResult): void;
  /** Called exactly once; `changes` only for a casual session whose helper reported them. */
  onEnded(result: SessionResult, changes: ChangesSummary | null): void;
}

/** How long a hung-up session may take to exit before it is killed. */
export const HANGUP_GRACE_MS = 2000;
/**
 * How long the helper may take, once the program's end is reported, to walk the changes and exit before it is
 * killed (its last records are lost then, the result stands): init stuck in its exit (a FUSE request nobody answers)
 * must not keep a finishing session, and its max_sessions slot, forever.
 */
export const FINISH_GRACE_MS = 5000;
const MAX_HELPER_STDERR = 16 * 1024;
/** What the helper waits for on the status socket with the plan's `go wait` (native/README.md). */
const GO_RECORD = Buffer.from('go');

/**
 * The helper's error record as the user sees it. Its text may carry any byte of a path from the request, so
 * control characters are escaped before it reaches a terminal or a log.
 */
export function helperFailure(record: Extract<StatusRecord, { kind: 'error' }>): Failure {
  const message = escapeControl(record.message);
  switch (record.code) {
    case 1:
      return failure('GRANT_REFUSED', message, 1);
    case 126:
    case 127:
      return failure('EXEC_FAILED', message, record.code);
    default:
      return failure('HELPER_FAILED', `cannot set up the sandbox (${record.stage || 'helper'}): ${message}`, 125);
  }
}

export class Session {
  private child: HelperProcess | null = null;
  private status: PacketChannel | null = null;
  private started = false;
  private initStarted = false;
  private finalRecord: StatusRecord | null = null;
  private errorRecord: Extract<StatusRecord, { kind: 'error' }> | null = null;
  private protocolFault: string | null = null;
  private helperExit: HelperExit | null = null;
  private statusClosed = false;
  private ended = false;
  private killTimer: NodeJS.Timeout | null = null;
  private helperStderr = '';
  private changes: ChangesSummary | null = null;
  private abortedWith: Failure | null = null;
  /** What onExited reported: from then on the session's result. */
  private exited: ProgramResult | null = null;

  constructor(
    readonly id: string,
    private readonly helper: HelperBinary,
    private readonly log: Logger,
    private readonly events: SessionEvents,
  ) {}

  /** Takes ownership of `fds` (closed here once the helper has its copies, also on failure). */
  start(plan: Buffer, fds: readonly number[]): void {
    let pair: [number, number];
    try {
      pair = native.seqpacketPair();
    } catch (e) {
      fds.forEach(closeQuietly);
      this.end({ kind: 'failed', failure: failure('INTERNAL', `cannot create status socket: ${String(e)}`) });
      return;
    }
    const [mine, theirs] = pair;
    try {
      // The helper gets an empty environment: nothing of the daemon's (NOTIFY_SOCKET, INVOCATION_ID…) may reach
      // the jail through init's /proc/1/environ.
      this.child = HelperProcess.start(this.helper, plan, theirs, fds, {
        onExit: (exit) => {
          this.helperExit = exit;
          // No helper ran (the zygote failed first): nothing will close the status socket but us. A helper the
          // zygote may have forked meanwhile reads EOF before running anything of the user's.
          if (exit.notStarted !== undefined) this.status?.close();
          this.maybeEnd();
        },
        onDiagnostics: (text) => {
          if (this.helperStderr.length < MAX_HELPER_STDERR) this.helperStderr += text;
        },
      });
    } catch (e) {
      closeQuietly(mine);
      this.log.error({ session: this.id, err: e }, 'helper spawn failed');
      this.end({ kind: 'failed', failure: failure('HELPER_FAILED', `cannot start the sandbox helper: ${String(e)}`) });
      return;
    } finally {
      closeQuietly(theirs);
      fds.forEach(closeQuietly);
    }
    this.status = new PacketChannel(
      mine,
      {
        onPacket: (packet) => {
          this.onRecord(packet.data, packet.fds);
        },
        onEnd: () => {
          this.statusClosed = true;
          this.maybeEnd();
        },
      },
      4096,
    );
  }

  /**
   * The plan's `go wait`: the helper builds the jail meanwhile, and runs nothing of the user's before this (the
   * session's start row is on disk by then).
   */
  go(): void {
    if (this.status === null || this.helperExit !== null || this.abortedWith !== null) return;
    this.status.send(GO_RECORD);
  }

  /** The session may not run after all (its start row could not be synced): the helper goes, `failure` is the result. */
  abort(why: Failure): void {
    if (this.ended || this.abortedWith !== null || this.exited !== null) return;
    this.abortedWith = why;
    if (this.child !== null && this.helperExit === null) this.child.kill('SIGKILL');
  }

  /** Forwards a signal to the jailed program (through the helper and init). */
  signal(signo: number): void {
    if (this.child !== null && this.helperExit === null) this.child.kill(signo);
  }

  /** Continues a stopped job (init gives its group the PTY's foreground back first). */
  continueJob(): void {
    this.signal(18);
  }

  /** The client went away: SIGHUP now, SIGKILL after the grace period. */
  hangup(graceMs = HANGUP_GRACE_MS): void {
    if (this.child === null || this.helperExit !== null || this.killTimer !== null) return;
    this.child.kill('SIGHUP');
    this.killTimer = setTimeout(() => {
      this.child?.kill('SIGKILL');
    }, graceMs);
  }

  get isEnded(): boolean {
    return this.ended;
  }

  private onRecord(data: Buffer, fds: number[]): void {
    const record = parseStatusRecord(data);
    const fault = (why: string): void => {
      fds.forEach(closeQuietly);
      this.protocolFault ??= why;
      this.child?.kill('SIGKILL');
    };
    if (record === null) return fault(`unparseable status record (${data.length} bytes)`);
    if (record.kind !== 'pty' && fds.length > 0) return fault(`unexpected fds on ${record.kind} record`);
    switch (record.kind) {
      case 'pty': {
        const [fd] = fds;
        if (fds.length !== 1 || fd === undefined || this.started) return fault('pty record without exactly one fd');
        this.started = true;
        this.events.onStarted(fd);
        return;
      }
      case 'started':
        if (this.initStarted) return fault('started twice');
        this.initStarted = true;
        if (!this.started) {
          this.started = true;
          this.events.onStarted(null);
        }
        return;
      case 'stopped':
        this.events.onStopped(record.signo);
        return;
      case 'notice':
        this.events.onNotice('info', escapeControl(record.text));
        return;
      case 'masks-ignored':
        this.events.onNotice('masks-ignored', escapeControl(record.path));
        return;
      case 'error':
        this.errorRecord ??= record;
        return;
      case 'exit':
      case 'signal':
        if (this.finalRecord !== null) return;
        this.finalRecord = record;
        this.reportExit(record);
        return;
      case 'changes':
        // After the program's end (or init's own error record), once.
        if ((this.finalRecord === null && this.errorRecord === null) || this.changes !== null)
          return fault('changes record out of order');
        this.changes = { count: record.count, truncated: record.truncated, paths: [] };
        return;
      case 'changed':
        if (this.changes === null || this.changes.paths.length >= MAX_CHANGED_PATHS)
          return fault('changed record out of order');
        this.changes.paths.push(escapeControl(record.path));
        return;
    }
  }

  /** The program's outcome goes out as soon as init reports it, unless something failed before. */
  private reportExit(record: Extract<StatusRecord, { kind: 'exit' | 'signal' }>): void {
    if (!this.initStarted || this.errorRecord !== null || this.protocolFault !== null || this.abortedWith !== null)
      return;
    this.exited =
      record.kind === 'exit' ? { kind: 'exited', code: record.code } : { kind: 'signaled', signal: record.signo };
    this.killTimer ??= setTimeout(() => {
      this.log.warn({ session: this.id }, 'sandbox helper still running after the program ended: killed');
      this.child?.kill('SIGKILL');
    }, FINISH_GRACE_MS);
    this.events.onExited(this.exited);
  }

  private maybeEnd(): void {
    if (this.ended || this.helperExit === null || !this.statusClosed) return;
    if (this.killTimer !== null) clearTimeout(this.killTimer);
    const stderr = this.helperStderr.trim();
    if (stderr !== '') this.log.warn({ session: this.id, helperStderr: stderr.slice(0, 2000) }, 'helper diagnostics');
    this.end(this.result());
  }

  private result(): SessionResult {
    if (this.exited !== null) {
      // The client has it: what the helper did wrong afterwards (its walk of the changes) is only logged.
      if (this.protocolFault !== null)
        this.log.warn(
          { session: this.id, fault: this.protocolFault },
          'sandbox helper misbehaved after the program ended',
        );
      return this.exited;
    }
    if (this.abortedWith !== null) return { kind: 'failed', failure: this.abortedWith };
    if (this.protocolFault !== null)
      return {
        kind: 'failed',
        failure: failure('HELPER_FAILED', `sandbox helper misbehaved: ${this.protocolFault}`, 125),
      };
    if (this.errorRecord !== null) return { kind: 'failed', failure: helperFailure(this.errorRecord) };
    if (this.finalRecord?.kind === 'exit') return { kind: 'exited', code: this.finalRecord.code };
    if (this.finalRecord?.kind === 'signal') return { kind: 'signaled', signal: this.finalRecord.signo };
    const exit = this.helperExit;
    if (exit?.notStarted !== undefined)
      return {
        kind: 'failed',
        failure: failure('HELPER_FAILED', `cannot start the sandbox helper: ${exit.notStarted}`, 125),
      };
    const how = exit?.signal != null ? `signal ${exit.signal}` : `status ${String(exit?.code)}`;
    return {
      kind: 'failed',
      failure: failure('HELPER_FAILED', `sandbox helper ended with ${how} before the program did`, 125),
    };
  }

  private end(result: SessionResult): void {
    if (this.ended) return;
    this.ended = true;
    this.events.onEnded(result, this.changes);
  }
}
