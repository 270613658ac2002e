// Relays bytes between the user's terminal and the session's PTY master, and follows window-size changes.
// Output (master → terminal) is copied by a thread of the addon (native.startOutputRelay): a master read returns at
// most 4 KiB, and a JavaScript round per batch of them kept the copy waiting for the event loop (docs/benchmarks.md).
// The thread is paused while the job is stopped and stopped before the terminal is restored: it never writes to a
// terminal jai has given back. With --filter-escapes the output is read and filtered here, in JavaScript. Terminal
// writes are synchronous, as Node's own are for terminals on Linux.
import fs from 'node:fs';
import type tty from 'node:tty';
import * as native from '../../native/addon';
import type { EscapeFilter } from './escape-filter';

/** How long the relay waits for the PTY's last output after the program ended. */
export const FINISH_GRACE_MS = 2000;

export interface RelayOptions {
  master: number;
  /** The user's terminal input, when stdin is a terminal. */
  input: tty.ReadStream | null;
  /** Where the PTY's output goes: the fd of the first of stdout/stderr that is a terminal. */
  outputFd: number;
  /** The terminal whose size the PTY follows. */
  sizeFd: number;
  /** Filter the program's output (--filter-escapes): read in JavaScript instead of copied in C. */
  filter?: EscapeFilter;
}

function errnoCode(e: unknown): string | undefined {
  return e instanceof Error && 'code' in e && typeof e.code === 'string' ? e.code : undefined;
}

export class PtyRelay {
  private readonly watcher: native.Watcher;
  /** The output copy, unless the output is filtered. */
  private readonly output: native.OutputRelay | null = null;
  private readonly drained: Promise<void>;
  private onDrained: () => void = () => undefined;
  private ended = false;
  private closed = false;
  private outputGone = false;
  /** Input the master could not take yet (a program that does not read while the user pastes). */
  private pending: Buffer[] = [];
  private readonly onResize = (): void => {
    this.syncSize();
  };
  // Runs before RawMode's own 'exit' listener (prepended): the thread stops before the terminal is restored.
  private readonly stopOnExit = (): void => {
    this.output?.stop();
  };

  constructor(private readonly options: RelayOptions) {
    this.drained = new Promise((resolve) => {
      this.onDrained = resolve;
    });
    this.watcher = native.watch(options.master, (err, readable, writable) => {
      if (err !== null) return this.end();
      if (readable) this.drainFiltered();
      if (writable) this.flushInput();
    });
    // Both make the master non-blocking before any input is written to it.
    if (options.filter === undefined) {
      this.output = native.startOutputRelay(options.master, options.outputFd, () => this.end());
      process.prependListener('exit', this.stopOnExit);
    } else {
      this.watcher.start('r');
      this.drainFiltered();
    }
    if (options.input !== null) {
      options.input.on('data', (chunk: Buffer) => {
        this.write(chunk);
      });
      options.input.resume();
    }
    process.on('SIGWINCH', this.onResize);
  }

  syncSize(): void {
    try {
      native.setWinsize(this.options.master, native.getWinsize(this.options.sizeFd));
    } catch {
      // The terminal or the session is gone.
    }
  }

  /**
   * Resolves once everything the program wrote has been relayed: the master reads EIO when the jail's processes are
   * gone. A process outside the jail that still holds the slave (a background child of an initjail program) must
   * not keep jai waiting: after FINISH_GRACE_MS what is relayed is what there is.
   */
  async finish(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.drained, new Promise<void>((resolve) => (timer = setTimeout(resolve, FINISH_GRACE_MS)))]);
    clearTimeout(timer);
    this.close();
  }

  /** Stops relaying at once (idempotent): nothing is written to the terminal after this returns. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    process.removeListener('SIGWINCH', this.onResize);
    this.options.input?.pause();
    this.output?.stop();
    process.removeListener('exit', this.stopOnExit);
    this.watcher.close();
    native.closeFd(this.options.master);
  }

  /** Job control: the job stopped and the terminal is about to be restored; no output reaches it until resumed. */
  pauseOutput(): void {
    if (!this.closed) this.output?.pause();
  }

  resumeOutput(): void {
    if (!this.closed) this.output?.resume();
  }

  private drainFiltered(): void {
    const filter = this.options.filter;
    if (filter === undefined || this.ended) return;
    let chunk: Buffer | null;
    try {
      chunk = native.ptyRead(this.options.master);
    } catch {
      chunk = null;
    }
    if (chunk === null) {
      this.writeOutput(filter.end());
      return this.end();
    }
    if (chunk.length > 0) this.writeOutput(filter.push(chunk));
  }

  /** As the output relay does: a terminal write waits; once the terminal is gone the output is dropped. */
  private writeOutput(bytes: Buffer): void {
    let at = 0;
    while (at < bytes.length && !this.outputGone) {
      try {
        at += fs.writeSync(this.options.outputFd, bytes, at);
      } catch (e) {
        if (errnoCode(e) !== 'EAGAIN') this.outputGone = true;
      }
    }
  }

  private end(): void {
    if (this.ended) return;
    this.ended = true;
    this.pending = [];
    if (!this.closed) this.watcher.stop();
    this.onDrained();
  }

  private write(chunk: Buffer): void {
    if (this.ended || this.closed) return;
    this.pending.push(chunk);
    this.flushInput();
  }

  private flushInput(): void {
    while (this.pending.length > 0 && !this.ended) {
      const chunk = this.pending[0] ?? Buffer.alloc(0);
      let n: number;
      try {
        n = fs.writeSync(this.options.master, chunk);
      } catch (e) {
        if (errnoCode(e) === 'EAGAIN') break;
        this.pending = []; // the session is gone: its end follows
        break;
      }
      if (n < chunk.length) {
        this.pending[0] = chunk.subarray(n);
        break;
      }
      this.pending.shift();
    }
    if (this.ended) return;
    // Without a filter the thread reads: the watcher is only for input the master could not take yet.
    if (this.options.filter !== undefined) this.watcher.start(this.pending.length > 0 ? 'rw' : 'r');
    else if (this.pending.length > 0) this.watcher.start('w');
    else this.watcher.stop();
  }
}
