// The helper's zygote: `jai-helper --zygote`, started by jaid at start (and a fresh one after 64 helpers, after a
// crash of one it forked, or, 10 s later, after it failed), forks each session's helper. A session then pays for a
// fork of that small idle process instead of an exec of the helper and glibc's start (native/README.md, "The
// zygote"). jaid never waits for it: the request goes
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
/** A request unanswered this long (a fork takes well under a millisecond): the zygote is failed. */
const ANSWER_TIMEOUT_MS = 10_000;
/** After a zygote could not start or exited on its own, helpers are exec'd for this long before the next one. */
const RESTART_BACKOFF_MS = 10_000;
/**
 * A helper that died of one of these crashed: every forked helper shares the zygote's address-space layout and
 * stack canary, so the zygote is retired rather than let crashes probe them. Numbers: 6 is SIGABRT and SIGIOT.
 */
const CRASH_SIGNALS: ReadonlySet<number> = new Set(
  (['SIGSEGV', 'SIGBUS', 'SIGILL', 'SIGFPE', 'SIGABRT', 'SIGSYS', 'SIGTRAP'] as const).map(
    (s) => os.constants.signals[s],
  ),
);
/**
 * Helpers asked of one zygote: then it is retired for a fresh one. Bounds what a helper's crashes that jaid does not
 * see (the jail's init, or a child of the helper before its exec, crashing) could learn of one layout.
 */
export const MAX_FORKS_PER_ZYGOTE = 64;

/** Ends and reaps a child known only by a pidfd that nothing else watches (or closes an fd that is no pidfd). */
function killAndReap(fd: number): void {
  try {
    native.pidfdSignal(fd, os.constants.signals.SIGKILL);
    const watcher = native.watch(fd, () => {
      let ended: native.ChildExit | null;
      try {
        ended = native.pidfdWait(fd);
      } catch {
        ended = { code: null, signal: null }; // not ours to reap after all
      }
      if (ended === null) return;
      watcher.close();
      closeQuietly(fd);
    });
    watcher.start('r');
  } catch {
    closeQuietly(fd);
  }
}

export function isCrashSignal(signo: number | null): boolean {
  return signo !== null && CRASH_SIGNALS.has(signo);
}

/** Which zygote forked a helper (opaque outside this module). */
export interface ZygoteHandle {
  readonly pid: number | null;
}

/** The zygote's answer to one request: the helper it forked (and by which zygote), or why there is none. */
export type ForkAnswer = { ok: true; spawned: native.Spawned; from: ZygoteHandle } | { ok: false; error: Error };

/** What HelperProcess needs of a zygote (HelperZygote; a stand-in in tests). */
export interface HelperForker {
  /**
   * Asks for a helper with `fds` as its fds 0..n−1 (the zygote has its own copies once this returns true); the
   * answer comes to `onAnswer`, later, on the loop. False when no zygote serves: the caller execs the helper.
   */
  request(fds: readonly number[], onAnswer: (answer: ForkAnswer) => void): boolean;
  /** A helper was exec'd because `request` returned false. */
  execd(): void;
  /** A forked helper ended by signal `signo` (null: it exited). */
  helperEnded(signo: number | null, from: ZygoteHandle): void;
}

/** Reads one answer packet; an Error for anything the zygote cannot have meant (the zygote is then replaced). */
export function parseAnswer(data: Buffer, fds: readonly number[], from: ZygoteHandle): ForkAnswer | Error {
  const text = data.toString('latin1');
  const pid = /^pid ([1-9][0-9]{0,9})$/.exec(text);
  if (pid !== null && fds.length === 1 && fds[0] !== undefined)
    return { ok: true, spawned: { pid: Number(pid[1]), pidfd: fds[0] }, from };
  const error = /^error ([1-9][0-9]{0,4})$/.exec(text);
  if (error !== null && fds.length === 0) {
    const errno = Number(error[1]);
    const name = Object.entries(os.constants.errno).find(([, n]) => n === errno)?.[0];
    return { ok: false, error: new Error(`the helper zygote could not fork (${name ?? `errno ${errno}`})`) };
  }
  return new Error(`unexpected answer from the helper zygote (${data.length} bytes, ${fds.length} fds)`);
}

interface Running extends ZygoteHandle {
  process: HelperProcess;
  /** jaid's end of the control socket (non-blocking). */
  ctl: number;
  watcher: native.Watcher;
  /** One per request sent, answered in order. */
  waiting: { sentAt: number; onAnswer: (answer: ForkAnswer) => void }[];
  /** Requests sent to it: at most MAX_FORKS_PER_ZYGOTE. */
  asked: number;
  /** Fails the zygote when its oldest request has waited ANSWER_TIMEOUT_MS. */
  timer: NodeJS.Timeout | null;
  /** Takes no more requests; closed once its last answer is in. */
  retired: boolean;
  closed: boolean;
}

export class HelperZygote implements HelperForker {
  /** The zygote taking requests. */
  private running: Running | null = null;
  /** Retired or failed zygotes whose answers are still to come. */
  private readonly draining = new Set<Running>();
  private retryAt = 0;
  private closed = false;
  /** Requests answered with a helper. */
  forks = 0;

  constructor(
    private readonly binary: HelperBinary,
    private readonly log: Logger,
    private readonly metrics: Metrics | null = null,
  ) {}

  /** The pid of the zygote taking requests. */
  get pid(): number | null {
    return this.running?.process.pid ?? null;
  }

  /** Starts a zygote unless one takes requests; false when none could be started (the failure is logged). */
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
    // Its callbacks come later, on the loop; until it is set up they have nothing to act on.
    let running: Running | null = null;
    let process: HelperProcess;
    try {
      process = HelperProcess.startZygote(this.binary, theirs, {
        onExit: (exit) => {
          if (running !== null) this.exited(running, exit);
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
        if (running !== null) this.onAnswers(running);
      });
    } catch (e) {
      closeQuietly(ctl);
      process.kill('SIGKILL');
      return this.startFailed(e);
    }
    running = {
      pid: process.pid,
      process,
      ctl,
      watcher,
      waiting: [],
      asked: 0,
      timer: null,
      retired: false,
      closed: false,
    };
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
    const running = this.running;
    let sent: boolean;
    try {
      sent = native.sendMessage(running.ctl, REQUEST, fds);
    } catch (e) {
      this.fail(running, 'helper zygote unreachable', e);
      return false;
    }
    if (!sent) {
      // Its buffer holds far more than the 64 requests it can have outstanding: full means it no longer reads.
      this.fail(running, 'helper zygote not reading its requests', null);
      return false;
    }
    running.waiting.push({ sentAt: Date.now(), onAnswer });
    running.asked++;
    this.armTimer(running);
    // No zygote forks more than its share: the requests after it go to its successor.
    if (running.asked >= MAX_FORKS_PER_ZYGOTE) this.retire(running);
    return true;
  }

  /** A helper was exec'd because `request` returned false. */
  execd(): void {
    this.metrics?.helperStarted('execd');
  }

  /** A forked helper ended by signal `signo`: after a crash no helper is forked again from that layout. */
  helperEnded(signo: number | null, from: ZygoteHandle): void {
    if (!isCrashSignal(signo)) return;
    const running = this.running === from ? this.running : [...this.draining].find((r) => r === from);
    if (running === undefined || running.retired) return;
    this.log.warn({ signo, zygote: running.pid }, 'a helper forked by the zygote crashed: zygote replaced');
    this.retire(running);
  }

  /** At jaid's stop: each zygote exits at its control socket's EOF once its answers are in. */
  close(): void {
    this.closed = true;
    if (this.running !== null) this.retire(this.running);
  }

  private onAnswers(running: Running): void {
    let resetSeen = false;
    while (!running.closed) {
      let packet: native.Received | null;
      try {
        packet = native.recvMessage(running.ctl, MAX_ANSWER_BYTES, 1);
      } catch (e) {
        // ECONNRESET: it went away with requests of ours unread. Reported once, before the answers it did send:
        // those are read next, then EOF.
        if (native.isNativeError(e) && e.code === 'ECONNRESET' && !resetSeen) {
          resetSeen = true;
          continue;
        }
        this.lost(running, 'helper zygote: unreadable answer', e);
        return;
      }
      if (packet === null) break;
      if (packet.eof) {
        this.lost(running, 'helper zygote closed its socket', null);
        return;
      }
      const answer = packet.truncated
        ? new Error('oversized answer from the helper zygote')
        : parseAnswer(packet.data, packet.fds, running);
      const request = running.waiting.shift();
      if (answer instanceof Error || request === undefined) {
        // A pidfd in it would be a helper nobody watches: ended and reaped.
        packet.fds.forEach(killAndReap);
        if (request !== undefined) running.waiting.unshift(request);
        this.lost(running, 'helper zygote: unexpected answer', answer instanceof Error ? answer : null);
        return;
      }
      if (answer.ok) {
        this.forks++;
        this.metrics?.helperStarted('forked');
      }
      this.armTimer(running);
      // May start a session that asks for another helper, or end one: `running` is checked again above.
      request.onAnswer(answer);
    }
    if (running.retired && running.waiting.length === 0) this.closeControl(running);
  }

  /** Takes no more requests; the zygote exits at its socket's EOF once its last answer is in. */
  private retire(running: Running): void {
    if (running.retired) return;
    running.retired = true;
    const current = this.running === running;
    if (running.waiting.length === 0) this.closeControl(running);
    else this.draining.add(running);
    if (current) {
      this.running = null;
      // Its successor now (unless jaid stops or the back-off holds), so that no session waits for its start.
      this.start();
    }
  }

  /**
   * It failed (not a crash of a helper it forked): retired, killed, and helpers are exec'd for a while before
   * another zygote is started, so that one that cannot work costs each session no more than an exec. Answers it sent
   * before dying are still read; the requests left fail when its socket reaches EOF.
   */
  private fail(running: Running, why: string, detail: unknown): void {
    if (running.closed) return;
    if (!this.closed) {
      this.retryAt = Date.now() + RESTART_BACKOFF_MS;
      this.log.warn({ err: detail }, `${why}: helpers are exec’d for now`);
    }
    this.retire(running);
    running.process.kill('SIGKILL');
  }

  /** Its socket is unusable: the requests it has not answered fail. */
  private lost(running: Running, why: string, detail: unknown): void {
    if (running.closed) return;
    if (!running.retired) this.fail(running, why, detail);
    else this.log.warn({ err: detail, zygote: running.pid }, `${why} (a retired zygote)`);
    running.process.kill('SIGKILL');
    this.closeControl(running);
    const waiting = running.waiting.splice(0);
    const error = new Error(why);
    // Not from inside a caller's own request: each session hears of it on the loop, as of any answer.
    if (waiting.length > 0)
      setImmediate(() => {
        for (const request of waiting) request.onAnswer({ ok: false, error });
      });
  }

  /** While requests wait, a timer fails the zygote once the oldest has waited ANSWER_TIMEOUT_MS. */
  private armTimer(running: Running): void {
    if (running.timer !== null) clearTimeout(running.timer);
    running.timer = null;
    const oldest = running.waiting[0];
    if (oldest === undefined || running.closed) return;
    running.timer = setTimeout(
      () => {
        running.timer = null;
        this.fail(running, 'helper zygote not answering', { waiting: running.waiting.length });
        // Killed: its socket's EOF fails what it did not answer (lost).
      },
      Math.max(0, oldest.sentAt + ANSWER_TIMEOUT_MS - Date.now()),
    );
    running.timer.unref();
  }

  private closeControl(running: Running): void {
    if (running.closed) return;
    running.closed = true;
    if (running.timer !== null) clearTimeout(running.timer);
    running.timer = null;
    running.watcher.close();
    closeQuietly(running.ctl);
    this.draining.delete(running);
    if (this.running === running) this.running = null;
  }

  /** The zygote process exited: what it answered is read, the rest fails. */
  private exited(running: Running, exit: { code: number | null; signal: NodeJS.Signals | null }): void {
    if (running.closed) return;
    this.onAnswers(running);
    this.lost(running, 'the helper zygote exited', { exit });
  }

  private startFailed(e: unknown): false {
    this.retryAt = Date.now() + RESTART_BACKOFF_MS;
    this.log.error({ err: e }, 'helper zygote could not start: helpers are exec’d for now');
    return false;
  }
}
