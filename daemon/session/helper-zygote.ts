// The helper's zygote: `jai-helper --zygote`, started once by jaid (and again after it died or a helper it forked
// crashed), forks each session's helper. A session then pays for a fork of that small idle process instead of an
// exec of the helper and glibc's start (native/README.md, "The zygote"). jaid never waits for it: the request goes
// out with the helper's fds, the answer (the pid and a pidfd) comes back on Node's loop. When no zygote runs the
// helper is exec'd as before.
import os from 'node:os';
import * as native from '../../native/addon';
import { closeQuietly } from '../../proto/channel';
import type { HelperBinary } from '../helper-binary';
import type { Metrics } from '../admin/metrics';
import type { Logger } from '../log';
import { HelperProcess } from './helper-process';

const REQUEST = Buffer.from('spawn');
/** Longest answer: `pid N` or `error ERRNO`. */
const MAX_ANSWER_BYTES = 32;
/** After a zygote could not start or exited on its own, helpers are exec'd for this long before the next one. */
const RESTART_BACKOFF_MS = 10_000;
/**
 * A helper that died of one of these crashed: every forked helper shares the zygote's address-space layout and
 * stack canary, so the zygote is replaced rather than let crashes probe them.
 */
const CRASH_SIGNALS: ReadonlySet<NodeJS.Signals> = new Set<NodeJS.Signals>([
  'SIGSEGV',
  'SIGBUS',
  'SIGILL',
  'SIGFPE',
  'SIGABRT',
  'SIGSYS',
  'SIGTRAP',
]);

export function isCrashSignal(signal: NodeJS.Signals | null): boolean {
  return signal !== null && CRASH_SIGNALS.has(signal);
}

/** The zygote's answer to one request: the helper it forked, or why there is none. */
export type ForkAnswer = { ok: true; spawned: native.Spawned } | { ok: false; error: Error };

/** Reads one answer packet; an Error for anything the zygote cannot have meant (the zygote is then replaced). */
export function parseAnswer(data: Buffer, fds: readonly number[]): ForkAnswer | Error {
  const text = data.toString('latin1');
  const pid = /^pid ([1-9][0-9]{0,9})$/.exec(text);
  if (pid !== null && fds.length === 1 && fds[0] !== undefined)
    return { ok: true, spawned: { pid: Number(pid[1]), pidfd: fds[0] } };
  const error = /^error ([1-9][0-9]{0,4})$/.exec(text);
  if (error !== null && fds.length === 0) {
    const errno = Number(error[1]);
    const name = Object.entries(os.constants.errno).find(([, n]) => n === errno)?.[0];
    return { ok: false, error: new Error(`the helper zygote could not fork (${name ?? `errno ${errno}`})`) };
  }
  return new Error(`unexpected answer from the helper zygote (${data.length} bytes, ${fds.length} fds)`);
}

interface Running {
  process: HelperProcess;
  /** jaid's end of the control socket (non-blocking). */
  ctl: number;
  watcher: native.Watcher;
  /** One per request sent, answered in order. */
  waiting: ((answer: ForkAnswer) => void)[];
}

export class HelperZygote {
  private running: Running | null = null;
  private retryAt = 0;
  private closed = false;
  /** Requests answered with a helper. */
  forks = 0;

  constructor(
    private readonly binary: HelperBinary,
    private readonly log: Logger,
    private readonly metrics: Metrics | null = null,
  ) {}

  get pid(): number | null {
    return this.running?.process.pid ?? null;
  }

  /** Starts a zygote unless one runs; false when none could be started (the failure is logged). */
  start(): boolean {
    if (this.running !== null) return true;
    if (this.closed || Date.now() < this.retryAt) return false;
    let pair: [number, number];
    try {
      pair = native.seqpacketPair();
    } catch (e) {
      return this.startFailed(e);
    }
    const [ctl, theirs] = pair;
    let process: HelperProcess;
    try {
      process = HelperProcess.startZygote(this.binary, theirs, {
        onExit: (exit) => {
          this.ended(process, exit);
        },
        onDiagnostics: (text) => {
          this.log.warn({ zygote: text.trimEnd() }, 'helper zygote');
        },
      });
    } catch (e) {
      closeQuietly(ctl);
      return this.startFailed(e);
    } finally {
      closeQuietly(theirs);
    }
    let watcher: native.Watcher;
    try {
      watcher = native.watch(ctl, () => {
        this.onAnswers(running);
      });
    } catch (e) {
      closeQuietly(ctl);
      process.kill('SIGKILL');
      return this.startFailed(e);
    }
    const running: Running = { process, ctl, watcher, waiting: [] };
    this.running = running;
    watcher.start('r');
    this.metrics?.zygoteStarted();
    this.log.debug({ pid: process.pid }, 'helper zygote started');
    return true;
  }

  /**
   * Asks for a helper with `fds` as its fds 0..n−1 (the zygote has its own copies once this returns true); the
   * answer comes to `onAnswer`, later, on the loop. False when no zygote serves: the caller execs the helper.
   */
  request(fds: readonly number[], onAnswer: (answer: ForkAnswer) => void): boolean {
    if (!this.start() || this.running === null) return false;
    let sent: boolean;
    try {
      sent = native.sendMessage(this.running.ctl, REQUEST, fds);
    } catch (e) {
      this.replace('helper zygote unreachable', e);
      return false;
    }
    // Its queue holds far more than jaid ever has outstanding: full means it no longer reads.
    if (!sent) {
      this.replace('helper zygote not reading its requests', null);
      return false;
    }
    this.running.waiting.push(onAnswer);
    return true;
  }

  /** A helper was exec'd because `request` returned false. */
  execd(): void {
    this.metrics?.helperStarted('execd');
  }

  /** A forked helper ended by `signal`: a crash replaces the zygote at once, before it forks again. */
  helperEnded(signal: NodeJS.Signals | null): void {
    if (isCrashSignal(signal)) this.replace('a helper forked by the zygote crashed', { signal }, false);
  }

  /** At jaid's stop: the zygote exits at its control socket's EOF. */
  close(): void {
    this.closed = true;
    this.discard(new Error('jaid is stopping'));
  }

  private onAnswers(running: Running): void {
    if (this.running !== running) return;
    for (;;) {
      let packet: native.Received | null;
      try {
        packet = native.recvMessage(running.ctl, MAX_ANSWER_BYTES, 1);
      } catch (e) {
        // ECONNRESET: it went away with our request unread, as good as EOF.
        const reset = native.isNativeError(e) && e.code === 'ECONNRESET';
        this.replace(reset ? 'helper zygote closed its socket' : 'helper zygote: unreadable answer', e);
        return;
      }
      if (packet === null) return;
      if (packet.eof) {
        this.replace('helper zygote closed its socket', null);
        return;
      }
      const answer = packet.truncated
        ? new Error('oversized answer from the helper zygote')
        : parseAnswer(packet.data, packet.fds);
      const onAnswer = running.waiting.shift();
      if (answer instanceof Error || onAnswer === undefined) {
        packet.fds.forEach(closeQuietly);
        if (onAnswer !== undefined) running.waiting.unshift(onAnswer);
        this.replace('helper zygote: unexpected answer', answer instanceof Error ? answer : null);
        return;
      }
      if (answer.ok) {
        this.forks++;
        this.metrics?.helperStarted('forked');
      }
      onAnswer(answer);
    }
  }

  /**
   * Ends the running zygote. `failed`: it failed (not a crash of a helper it forked), and helpers are exec'd for a
   * while before another is started, so that a zygote that cannot work costs each session no more than an exec.
   */
  private replace(why: string, detail: unknown, failed = true): void {
    if (this.running === null) return;
    if (failed) this.retryAt = Date.now() + RESTART_BACKOFF_MS;
    this.log.warn({ err: detail }, failed ? `${why}: helpers are exec’d for now` : `${why}: zygote replaced`);
    this.discard(new Error(why));
  }

  /** Ends the running zygote; requests it has not answered fail with `error` (their helpers, if forked, are
   * jaid's children with no pidfd here: each ends at its status socket's EOF before running anything). */
  private discard(error: Error): void {
    const running = this.running;
    if (running === null) return;
    this.running = null;
    running.watcher.close();
    closeQuietly(running.ctl);
    running.process.kill('SIGKILL');
    const waiting = running.waiting.splice(0);
    // Not from inside the caller's own request: each session hears of it on the loop, as of any answer.
    if (waiting.length > 0)
      setImmediate(() => {
        for (const onAnswer of waiting) onAnswer({ ok: false, error });
      });
  }

  private ended(process: HelperProcess, exit: { code: number | null; signal: NodeJS.Signals | null }): void {
    // Not told to go (a failed check, no memory, killed): something is wrong with it.
    if (this.running?.process === process) this.replace('the helper zygote exited', { exit });
  }

  private startFailed(e: unknown): false {
    this.retryAt = Date.now() + RESTART_BACKOFF_MS;
    this.log.error({ err: e }, 'helper zygote could not start: helpers are exec’d for now');
    return false;
  }
}
