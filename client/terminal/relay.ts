// Relays bytes between the user's terminal and the session's PTY master, and follows window-size changes.
import tty from 'node:tty';
import * as native from '../../native/addon';

/** How long the relay waits for the PTY's last output after the program ended. */
export const FINISH_GRACE_MS = 2000;

export interface RelayOptions {
  master: number;
  /** The user's terminal input, when stdin is a terminal. */
  input: tty.ReadStream | null;
  /** Where the PTY's output goes: the first of stdout/stderr that is a terminal. */
  output: NodeJS.WriteStream;
  /** The terminal whose size the PTY follows. */
  sizeFd: number;
}

export class PtyRelay {
  private readonly socket: tty.ReadStream;
  private readonly drained: Promise<void>;
  private readonly onResize = (): void => {
    this.syncSize();
  };

  constructor(private readonly options: RelayOptions) {
    // A tty.ReadStream on the master is a duplex socket (as node-pty uses it); libuv does not reopen masters.
    this.socket = new tty.ReadStream(options.master);
    this.drained = new Promise((resolve) => {
      // When the last slave holder exits the master reads EIO after the buffered output: that is the end.
      this.socket.on('error', () => {
        resolve();
      });
      this.socket.on('close', () => {
        resolve();
      });
      this.socket.on('end', () => {
        resolve();
      });
    });
    this.socket.pipe(options.output, { end: false });
    if (options.input !== null) {
      options.input.on('data', (chunk: Buffer) => {
        this.socket.write(chunk);
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
    this.socket.destroy();
    await new Promise<void>((resolve) => {
      if (this.options.output.writableLength === 0) resolve();
      else this.options.output.once('drain', resolve);
    });
  }
}
