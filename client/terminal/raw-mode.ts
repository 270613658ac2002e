// Puts the user's terminal in raw mode for the session and restores it on every exit path.
import tty from 'node:tty';

export class RawMode {
  private active = false;
  private readonly restoreOnExit = (): void => {
    this.restore();
  };

  constructor(private readonly input: tty.ReadStream) {}

  get isActive(): boolean {
    return this.active;
  }

  enter(): void {
    if (this.active) return;
    this.input.setRawMode(true);
    this.active = true;
    process.once('exit', this.restoreOnExit);
  }

  restore(): void {
    if (!this.active) return;
    this.active = false;
    process.removeListener('exit', this.restoreOnExit);
    try {
      this.input.setRawMode(false);
    } catch {
      // The terminal is gone (hung up): nothing to restore.
    }
  }
}
