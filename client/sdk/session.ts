// One jailed program, from the request to its exit: what spawn() resolves with.
import type { Duplex, Readable, Writable } from 'node:stream';
import type tty from 'node:tty';
import * as native from '../../native/addon';
import { NoticeKind as WireNoticeKind, type DaemonMessage } from '../../proto/client-codec';
import { closeQuietly } from '../../proto/channel';
import { daemonError, type ClientConnection, type Exchange, type Verdict } from './connection';
import { JaiClientError } from './errors';
import type { NoticeHandler, NoticeKind, PreparedSpawn } from './request';
import { forwardableSignal, type SignalSpec } from './signals';

/** How the program ended: its exit code, or the signal that killed it. */
export type ExitStatus = { code: number; signal?: undefined } | { signal: number; code?: undefined };

export interface JaiSession {
  /** jaid's session id (128-bit hex), as in the audit log and `jaictl sessions`. */
  readonly id: string;
  /** The program's stdin, when stdio[0] is 'pipe'. End it to give the program EOF. */
  readonly stdin: Writable | null;
  /** The program's stdout, when stdio[1] is 'pipe'. Consume it (or use 'null'): a full pipe blocks the program. */
  readonly stdout: Readable | null;
  /** The program's stderr, when stdio[2] is 'pipe'. */
  readonly stderr: Readable | null;
  /** The PTY master as a Duplex (write = typing, read = the terminal's output), with `ptyMaster: 'stream'`. */
  readonly pty: Duplex | null;
  /** The PTY master's fd when any stdio is 'pty'; with `ptyMaster: 'fd'` it is yours to read, write and close. */
  readonly ptyMaster: number | null;
  /** Resolves when the program has exited; rejects with a JaiClientError if it could not run (EXEC_FAILED…). */
  wait(): Promise<ExitStatus>;
  /**
   * Forwards SIGHUP, SIGINT, SIGQUIT or SIGTERM (default) to the jailed program: false when it has ended already.
   * Throws SIGNAL_NOT_ALLOWED for any other signal.
   */
  kill(signal?: SignalSpec): boolean;
  /** Sets the PTY's window size (the program gets SIGWINCH). Throws NOT_A_PTY for a session without a PTY. */
  resize(rows: number, cols: number): void;
  /** Continues a stopped job (after `onStopped`); its process group gets the PTY's foreground back. */
  resume(): void;
  /** Whether the session's connection keeps this process alive (default true). */
  setRef(ref: boolean): void;
}

/** What one attempt to start came to: started, or `stale` (never reached jaid's request handling: try again). */
export type StartOutcome = 'started' | 'stale';

function noticeKind(kind: number | null | undefined): NoticeKind {
  return kind === WireNoticeKind.NOTICE_MASKS_IGNORED ? 'masks-ignored' : 'info';
}

const protocolError = (what: string): JaiClientError => new JaiClientError('DAEMON_PROTOCOL', what);

export class ClientSession implements JaiSession, Exchange {
  id = '';
  ptyMaster: number | null = null;
  pty: Duplex | null = null;
  readonly stdin: Writable | null;
  readonly stdout: Readable | null;
  readonly stderr: Readable | null;
  private state: 'new' | 'starting' | 'running' | 'done' = 'new';
  private connection: ClientConnection | null = null;
  private mayRetry = false;
  private attempt: { resolve: (o: StartOutcome) => void; reject: (e: Error) => void } | null = null;
  private exit: ExitStatus | null = null;
  private failure: JaiClientError | null = null;
  private ptyClosed = false;
  private readonly waiters: { resolve: (s: ExitStatus) => void; reject: (e: Error) => void }[] = [];

  constructor(
    private readonly prepared: PreparedSpawn,
    private readonly handlers: { onNotice?: NoticeHandler; onStopped?: (signo: number) => void } = {},
  ) {
    this.stdin = prepared.local.stdin;
    this.stdout = prepared.local.stdout;
    this.stderr = prepared.local.stderr;
  }

  /**
   * Sends the request on `connection`. Resolves 'started' once jaid has started the program; 'stale' (only with
   * `mayRetry`) when the reused connection was gone before jaid looked at it; rejects with the refusal otherwise.
   */
  start(connection: ClientConnection, mayRetry: boolean): Promise<StartOutcome> {
    if (this.state !== 'new') return Promise.reject(new Error('session already started'));
    this.state = 'starting';
    this.connection = connection;
    this.mayRetry = mayRetry && connection.served > 0;
    return new Promise<StartOutcome>((resolve, reject) => {
      this.attempt = { resolve, reject };
      try {
        connection.request(this, this.prepared.packet, this.prepared.fds);
      } catch (e) {
        this.refused(e instanceof JaiClientError ? e : new JaiClientError('DAEMON_LOST', String(e)));
      }
    });
  }

  /** Gives up before it started (no connection could be had): closes what was prepared. */
  abandon(): void {
    this.state = 'done';
    this.prepared.release();
    this.prepared.local.destroy();
  }

  wait(): Promise<ExitStatus> {
    if (this.exit !== null) return Promise.resolve(this.exit);
    if (this.failure !== null) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  kill(signal: SignalSpec = 'SIGTERM'): boolean {
    const signo = forwardableSignal(signal);
    if (this.state !== 'running' || this.connection === null) return false;
    this.connection.send({ signal: { signo } });
    return true;
  }

  resize(rows: number, cols: number): void {
    if (this.ptyMaster === null) throw new JaiClientError('NOT_A_PTY', 'this session has no PTY');
    for (const [name, n] of [
      ['rows', rows],
      ['cols', cols],
    ] as const)
      if (!Number.isInteger(n) || n < 1 || n > 0xffff)
        throw new JaiClientError('INVALID_ARGUMENT', `${name} must be an integer from 1 to 65535, not ${n}`);
    if (this.ptyClosed) throw new JaiClientError('SESSION_ENDED', 'the PTY is closed');
    try {
      native.setWinsize(this.ptyMaster, { rows, cols });
    } catch (e) {
      throw new JaiClientError('SESSION_ENDED', `cannot resize the PTY: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  resume(): void {
    if (this.state === 'running') this.connection?.send({ continue: {} });
  }

  setRef(ref: boolean): void {
    if (this.state === 'running') this.connection?.setRef(ref);
  }

  // --- Exchange ---

  onMessage(m: DaemonMessage, fds: number[]): Verdict {
    const expectFds = m.body === 'started' && m.started?.pty === true ? 1 : 0;
    if (fds.length !== expectFds) {
      fds.forEach(closeQuietly);
      return this.broken(protocolError(`unexpected fds with ${m.body ?? 'an empty message'}`));
    }
    const body = m.body;
    switch (body) {
      case 'started':
        if (this.state !== 'starting') return this.broken(protocolError('unexpected Started'));
        this.onStarted(m.started?.sessionId ?? '', fds[0] ?? null);
        return 'more';
      case 'exited': {
        if (this.state !== 'running') return this.broken(protocolError('Exited before Started'));
        const signal = m.exited?.signal;
        this.settle(m.exited?.status === 'signal' && signal != null ? { signal } : { code: m.exited?.code ?? 0 });
        return 'final';
      }
      case 'error': {
        const error = daemonError(m.error ?? {});
        // jaid closed the idle connection as our request crossed its deadline: the request was not looked at.
        if (this.state === 'starting' && this.mayRetry && error.code === 'PROTO_UNEXPECTED') this.stale();
        else if (this.state === 'starting') this.refused(error);
        else this.fail(error);
        return 'final';
      }
      case 'notice':
        this.handlers.onNotice?.(noticeKind(m.notice?.kind), m.notice?.message ?? '');
        return 'more';
      case 'stopped':
        if (this.state !== 'running') return this.broken(protocolError('unexpected Stopped'));
        this.handlers.onStopped?.(m.stopped?.signal ?? 19);
        return 'more';
      default:
        // Hello, TornDown, or an empty message.
        return this.broken(protocolError(`unexpected ${body ?? 'empty'} message from jaid`));
    }
  }

  onLost(error: JaiClientError, unanswered: boolean): void {
    if (this.state === 'starting' && unanswered && this.mayRetry) this.stale();
    else if (this.state === 'starting') this.refused(error);
    else this.fail(error);
  }

  // --- internals ---

  private onStarted(id: string, master: number | null): void {
    this.state = 'running';
    this.id = id;
    // jaid has its copies of our fds now (and the program its pipe ends): ours go, so that EOF can happen.
    this.prepared.release();
    this.ptyMaster = master;
    if (master !== null && this.prepared.ptyMaster === 'stream') {
      // A tty.ReadStream on a master is a duplex socket (as node-pty and the CLI's relay use it).
      // node:tty (with net and the streams) is required here only: the CLI takes the fd (docs/benchmarks.md).
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const pty = new (require('node:tty') as typeof tty).ReadStream(master);
      // EIO once the last slave holder is gone: the end of the output, not an error.
      pty.on('error', () => undefined);
      pty.on('close', () => {
        this.ptyClosed = true;
      });
      this.pty = pty;
    }
    const attempt = this.attempt;
    this.attempt = null;
    attempt?.resolve('started');
  }

  private stale(): void {
    // Back to new: the pool sends it again on another connection (the prepared fds are still open).
    this.state = 'new';
    this.connection = null;
    const attempt = this.attempt;
    this.attempt = null;
    attempt?.resolve('stale');
  }

  private refused(error: JaiClientError): void {
    this.state = 'done';
    this.failure = error;
    this.prepared.release();
    this.prepared.local.destroy();
    const attempt = this.attempt;
    this.attempt = null;
    attempt?.reject(error);
  }

  private broken(error: JaiClientError): 'broken' {
    if (this.state === 'starting') this.refused(error);
    else this.fail(error);
    return 'broken';
  }

  private settle(status: ExitStatus): void {
    if (this.state === 'done') return;
    this.state = 'done';
    this.exit = status;
    this.ended();
    for (const w of this.waiters.splice(0)) w.resolve(status);
  }

  private fail(error: JaiClientError): void {
    if (this.state === 'done') return;
    this.state = 'done';
    this.failure = error;
    this.ended();
    for (const w of this.waiters.splice(0)) w.reject(error);
  }

  private ended(): void {
    // Nobody reads the program's stdin any more: drop what is queued rather than keep the fd open.
    this.stdin?.destroy();
  }
}
