// Relays bytes between the user's terminal and the session's PTY master, and follows window-size changes.
// Output (master → terminal) is copied in C (native.ptyDrain) on each readiness of the master: a master read returns
// at most 4 KiB, and a JavaScript stream round per 4 KiB made the relay a third as fast as the terminal itself
// (docs/benchmarks.md). Terminal writes are synchronous, as Node's own are for terminals on Linux.
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

  constructor(private readonly options: RelayOptions) {
    this.drained = new Promise((resolve) => {
      this.onDrained = resolve;
    });
    this.watcher = native.watch(options.master, (err, readable, writable) => {
      if (err !== null) return this.end();
      if (readable) this.drain();
      if (writable) this.flushInput();
    });
    this.watcher.start('r');
    // Makes the master non-blocking before any input is written to it, and relays what is already there.
    this.drain();
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
    process.removeListener('SIGWINCH', this.onResize);
    this.options.input?.pause();
    this.closed = true;
    this.watcher.close();
    native.closeFd(this.options.master);
  }

  private drain(): void {
    if (this.options.filter !== undefined) return this.drainFiltered(this.options.filter);
    let copied: number;
    try {
      copied = native.ptyDrain(this.options.master, this.options.outputFd);
    } catch {
      copied = -1;
    }
    if (copied < 0) this.end();
  }

  private drainFiltered(filter: EscapeFilter): void {
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

  /** As ptyDrain does: a terminal write waits; once the terminal is gone the output is dropped. */
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
    this.watcher.stop();
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
    if (!this.ended) this.watcher.start(this.pending.length > 0 ? 'rw' : 'r');
  }
}
