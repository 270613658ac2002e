// The helper as a process, with the contract of native/README.md: fd 0 the plan, 1 /dev/null, 2 a diagnostics
// pipe, 3 the status socket, 4… the client's fds; an empty environment; argv0 `jai-helper`. Started by the addon
// without forking jaid (a clone that shares its memory until exec) and reaped through a pidfd on Node's loop.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import * as native from '../../native/addon';
import { closeQuietly } from '../../proto/channel';
import type { HelperBinary } from '../helper-binary';

export interface HelperExit {
  code: number | null;
  signal: NodeJS.Signals | null;
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

export class HelperProcess {
  private exited = false;
  private readonly watcher: native.Watcher;

  private constructor(
    readonly pid: number,
    private readonly pidfd: number,
    diagnosticsFd: number,
    private readonly events: HelperEvents,
  ) {
    this.watcher = native.watch(pidfd, () => {
      this.onReadable();
    });
    // Read as it comes, so that the helper never blocks on a full pipe; it ends at EOF (the helper and its init
    // have exited), as a child's stderr stream does.
    let diagnostics: net.Socket;
    try {
      diagnostics = new net.Socket({ fd: diagnosticsFd, readable: true, writable: false });
    } catch (e) {
      this.watcher.close();
      throw e;
    }
    diagnostics.setEncoding('utf8');
    diagnostics.on('data', (chunk: string) => {
      events.onDiagnostics(chunk);
    });
    diagnostics.on('error', () => {
      // Losing the diagnostics ends nothing: the session's outcome comes from the status socket and the exit.
    });
    this.watcher.start('r');
  }

  /**
   * Starts the helper. `status` and `clientFds` stay the caller's (the helper has its own copies once this
   * returns). Throws a NativeError (e.g. syscall 'execveat') when it cannot start; then nothing is left open.
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
    let devNull: number | null = null;
    let diagnostics: [number, number] | null = null;
    let spawned: native.Spawned;
    try {
      devNull = fs.openSync('/dev/null', 'w');
      diagnostics = native.pipe();
      spawned = native.spawn(
        binary.fd,
        ['jai-helper'],
        helperFds({ plan: planFd, devNull, diagnostics: diagnostics[1], status }, clientFds),
      );
    } catch (e) {
      if (diagnostics !== null) closeQuietly(diagnostics[0]);
      throw e;
    } finally {
      closeQuietly(planFd);
      if (devNull !== null) closeQuietly(devNull);
      if (diagnostics !== null) closeQuietly(diagnostics[1]);
    }
    const diagnosticsRead = diagnostics[0];
    try {
      return new HelperProcess(spawned.pid, spawned.pidfd, diagnosticsRead, events);
    } catch (e) {
      // It cannot be watched (no memory, no fds; nothing was kept): it must not run unobserved. Killed, it stays a
      // zombie until jaid exits, as nothing else reaps it.
      native.pidfdSignal(spawned.pidfd, os.constants.signals.SIGKILL);
      closeQuietly(spawned.pidfd);
      closeQuietly(diagnosticsRead);
      throw e;
    }
  }

  /** Signals the helper; false once it has exited (the pidfd never reaches a process that reused its pid). */
  kill(signal: number | NodeJS.Signals): boolean {
    if (this.exited) return false;
    const signo = typeof signal === 'number' ? signal : os.constants.signals[signal];
    try {
      return native.pidfdSignal(this.pidfd, signo);
    } catch {
      return false;
    }
  }

  private onReadable(): void {
    if (this.exited) return;
    let exit: HelperExit | null;
    try {
      const ended = native.pidfdWait(this.pidfd);
      exit = ended === null ? null : { code: ended.code, signal: signalName(ended.signal) };
    } catch {
      // ECHILD: reaped by someone else (jaid reaps nothing else; SIGCHLD is not ignored). It is gone; how is unknown.
      exit = { code: null, signal: null };
    }
    if (exit === null) {
      // Not exited after all; libuv may have stopped polling on an error: poll again.
      this.watcher.start('r');
      return;
    }
    this.exited = true;
    this.watcher.close();
    closeQuietly(this.pidfd);
    this.events.onExit(exit);
  }
}

function signalName(signo: number | null): NodeJS.Signals | null {
  if (signo === null) return null;
  return SIGNAL_NAMES.get(signo) ?? null;
}
