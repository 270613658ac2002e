// Puts the user's terminal in raw mode for the session (cfmakeraw: output processing off too, so the PTY's bytes
// reach the terminal unchanged) and restores the saved settings on every exit path.
import * as native from '../../native/addon';

export class RawMode {
  private saved: Buffer | null = null;
  private readonly restoreOnExit = (): void => {
    this.restore();
  };

  constructor(private readonly fd: number) {}

  get isActive(): boolean {
    return this.saved !== null;
  }

  enter(): void {
    if (this.saved !== null) return;
    this.saved = native.getTermios(this.fd);
    native.makeRaw(this.fd);
    process.once('exit', this.restoreOnExit);
  }

  restore(): void {
    const saved = this.saved;
    if (saved === null) return;
    this.saved = null;
    process.removeListener('exit', this.restoreOnExit);
    try {
      native.setTermios(this.fd, saved);
    } catch {
      // The terminal is gone (hung up): nothing to restore.
    }
  }
}
