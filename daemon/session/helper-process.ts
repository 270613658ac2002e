// The helper as a process, with the contract of native/README.md: fd 0 the plan, 1 /dev/null, 2 a diagnostics
// pipe, 3 the status socket, 4… the client's fds; an empty environment; argv0 `jai-helper`. Forked by the helper's
// zygote (helper-zygote.ts) or, when none serves, started by the addon without forking jaid (a clone that shares
// its memory until exec); either way jaid's child, reaped through a pidfd on Node's loop.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import * as native from '../../native/addon';
import { closeQuietly } from '../../proto/channel';
import type { HelperBinary } from '../helper-binary';
import type { ForkAnswer, HelperForker, ZygoteHandle } from './helper-zygote';

export interface HelperExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Set when no helper ever ran: the zygote failed before forking it (why). */
  notStarted?: string;
}

export interface HelperEvents {
  /** Once, when the helper has exited (it is reaped by then). */
  onExit(exit: HelperExit): void;
  /** What the helper writes on fd 2, as it comes. */
  onDiagnostics(text: string): void;
}

/** The fds the helper starts with, in order: its fds 0, 1, 2, 3, then the client's from 4 on. */
export interface HelperStdFds {
  plan: number;
  devNull: number;
  diagnostics: number;
  status: number;
}

export function helperFds(std: HelperStdFds, clientFds: readonly number[]): number[] {
  return [std.plan, std.devNull, std.diagnostics, std.status, ...clientFds];
}

const SIGNAL_NAMES = new Map(
  Object.entries(os.constants.signals).map(([name, signo]) => [signo, name as NodeJS.Signals] as const),
);

/**
 * A started helper that cannot be watched (no memory, no fds) must not run unobserved: killed, and its pidfd closed.
 * It stays a zombie until jaid exits, as nothing else reaps it.
 */
function abandon(spawned: native.Spawned): void {
  try {
    native.pidfdSignal(spawned.pidfd, os.constants.signals.SIGKILL);
  } catch {
    // gone already
  }
  closeQuietly(spawned.pidfd);
}

export class HelperProcess {
  private exited = false;
  /** Known once the helper exists: at once when exec'd, at the zygote's answer when forked. */
  private child: { pid: number; pidfd: number; watcher: native.Watcher } | null = null;
  /** Signals asked for before a forked helper's pidfd came, sent when it comes. */
  private readonly pendingSignals: number[] = [];
  /** What forked it (and which zygote), told how it ended. */
  private forkedBy: HelperForker | null = null;
  private forkedFrom: ZygoteHandle | null = null;
  /** The diagnostics pipe's read end: an fd until readDiagnostics(), then a stream; null once dropped. */
  private diagnostics: net.Socket | number | null;

  private constructor(
    diagnosticsFd: number,
    private readonly events: HelperEvents,
  ) {
    this.diagnostics = diagnosticsFd;
  }

  /**
   * Reads the diagnostics as they come, so that the helper never blocks on a full pipe; the stream ends at EOF (the
   * helper and its init have exited), as a child's stderr stream does. Made once the helper has been asked for: a
   * net.Socket takes ~0.15 ms to set up, and the pipe holds what comes meanwhile. Never throws: the helper is on
   * its way by then.
   */
  private readDiagnostics(): void {
    const fd = this.diagnostics;
    if (typeof fd !== 'number') return;
    let stream: net.Socket;
    try {
      stream = new net.Socket({ fd, readable: true, writable: false });
    } catch (e) {
      // Not seen with a pipe: the helper goes on without its diagnostics (its writes fail with EPIPE).
      this.dropDiagnostics();
      this.events.onDiagnostics(`jaid: cannot read the helper's diagnostics: ${String(e)}\n`);
      return;
    }
    this.diagnostics = stream;
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      this.events.onDiagnostics(chunk);
    });
    stream.on('error', () => {
      // Losing the diagnostics ends nothing: the session's outcome comes from the status socket and the exit.
    });
  }

  private dropDiagnostics(): void {
    const diagnostics = this.diagnostics;
    this.diagnostics = null;
    if (typeof diagnostics === 'number') closeQuietly(diagnostics);
    else diagnostics?.destroy();
  }

  /** The helper's pid, once it exists. */
  get pid(): number | null {
    return this.child?.pid ?? null;
  }

  /**
   * Starts the helper. `status` and `clientFds` stay the caller's (the helper, or the zygote forking it, has its
   * own copies once this returns). Throws a NativeError (e.g. syscall 'execveat') when it cannot start; then
   * nothing is left open. A forked helper that the zygote then fails to make ends as one that exited without a
   * status (`onExit` with code and signal null).
   */
  static start(
    binary: HelperBinary,
    plan: Uint8Array,
    status: number,
    clientFds: readonly number[],
    events: HelperEvents,
  ): HelperProcess {
    // A sealed memfd rather than a pipe: jaid writes the whole plan at once and never waits for the helper to read.
    const planFd = native.sealedMemfd(plan);
    try {
      return HelperProcess.launch(binary, planFd, status, clientFds, events, binary.zygote ?? null);
    } finally {
      closeQuietly(planFd);
    }
  }

  /** Execs `jai-helper --zygote`: fd 0 /dev/null, 3 its end of the control socket (the caller's to close). */
  static startZygote(binary: HelperBinary, control: number, events: HelperEvents): HelperProcess {
    return HelperProcess.launch(binary, null, control, [], events, null);
  }

  private static launch(
    binary: HelperBinary,
    planFd: number | null,
    fd3: number,
    clientFds: readonly number[],
    events: HelperEvents,
    zygote: HelperForker | null,
  ): HelperProcess {
    let devNull: number | null = null;
    let diagnostics: [number, number] | null = null;
    let helper: HelperProcess | null = null;
    try {
      devNull = fs.openSync('/dev/null', 'w');
      diagnostics = native.pipe();
      const fds = helperFds({ plan: planFd ?? devNull, devNull, diagnostics: diagnostics[1], status: fd3 }, clientFds);
      helper = new HelperProcess(diagnostics[0], events);
      const forked = helper;
      if (
        zygote?.request(fds, (answer) => {
          forked.answered(answer);
        }) === true
      ) {
        helper.forkedBy = zygote;
        helper.readDiagnostics();
        return helper;
      }
      const spawned = native.spawn(binary.fd, planFd === null ? ['jai-helper', '--zygote'] : ['jai-helper'], fds);
      try {
        helper.attach(spawned);
      } catch (e) {
        abandon(spawned);
        throw e;
      }
      helper.readDiagnostics();
      zygote?.execd();
      return helper;
    } catch (e) {
      if (helper !== null) helper.dropDiagnostics();
      else if (diagnostics !== null) closeQuietly(diagnostics[0]);
      throw e;
    } finally {
      if (devNull !== null) closeQuietly(devNull);
      if (diagnostics !== null) closeQuietly(diagnostics[1]);
    }
  }

  /** Signals the helper; false once it has exited (the pidfd never reaches a process that reused its pid). */
  kill(signal: number | NodeJS.Signals): boolean {
    if (this.exited) return false;
    const signo = typeof signal === 'number' ? signal : os.constants.signals[signal];
    if (this.child === null) {
      this.pendingSignals.push(signo);
      return true;
    }
    try {
      return native.pidfdSignal(this.child.pidfd, signo);
    } catch {
      return false;
    }
  }

  /** The zygote's answer for a forked helper. */
  private answered(answer: ForkAnswer): void {
    if (!answer.ok) {
      this.finish({ code: null, signal: null, notStarted: answer.error.message });
      return;
    }
    this.forkedFrom = answer.from;
    try {
      this.attach(answer.spawned);
    } catch {
      abandon(answer.spawned);
      this.finish({ code: null, signal: null });
      return;
    }
    for (const signo of this.pendingSignals.splice(0)) this.kill(signo);
  }

  /** Watches a started helper's pidfd; on failure the caller still owns `spawned` (abandon). */
  private attach(spawned: native.Spawned): void {
    const watcher = native.watch(spawned.pidfd, () => {
      this.onReadable();
    });
    this.child = { pid: spawned.pid, pidfd: spawned.pidfd, watcher };
    watcher.start('r');
  }

  private onReadable(): void {
    const child = this.child;
    if (this.exited || child === null) return;
    let exit: HelperExit | null;
    let signo: number | null = null;
    try {
      const ended = native.pidfdWait(child.pidfd);
      signo = ended?.signal ?? null;
      exit = ended === null ? null : { code: ended.code, signal: signalName(ended.signal) };
    } catch {
      // ECHILD: reaped by someone else (jaid reaps nothing else; SIGCHLD is not ignored). It is gone; how is unknown.
      exit = { code: null, signal: null };
    }
    if (exit === null) {
      // Not exited after all; libuv may have stopped polling on an error: poll again.
      child.watcher.start('r');
      return;
    }
    child.watcher.close();
    closeQuietly(child.pidfd);
    // By number: 6 is named SIGIOT as well as SIGABRT.
    if (this.forkedFrom !== null) this.forkedBy?.helperEnded(signo, this.forkedFrom);
    this.finish(exit);
  }

  private finish(exit: HelperExit): void {
    if (this.exited) return;
    this.exited = true;
    this.events.onExit(exit);
  }
}

function signalName(signo: number | null): NodeJS.Signals | null {
  if (signo === null) return null;
  return SIGNAL_NAMES.get(signo) ?? null;
}
