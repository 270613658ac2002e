// Removes the terminal control sequences a jailed program could use against the user's terminal emulator (threat
// model #21), from the PTY output on its way to the user's terminal: OSC 52 (set or read the clipboard: what a user
// pastes next into a host shell), OSC 50 (font query), any OSC whose argument is a `?` query, DCS (DECRQSS and other
// report requests, sixel), APC, PM and SOS strings, and CSI 20 t / 21 t (report the icon or window title: typed back
// as input, possibly after jai has exited). Everything else — text, colours, cursor movement, OSC 0/1/2 titles, OSC
// 8 links — passes unchanged. Sequences split across chunks are handled; an unterminated string is capped.
//
// 7-bit introducers (ESC ] …) and their UTF-8-encoded C1 forms (U+009D…, as some emulators honour them) both count.

const ESC = 0x1b;
const BEL = 0x07;
const CAN = 0x18;
const SUB = 0x1a;

/** Longest OSC or CSI kept for inspection; a longer one is dropped whole. */
export const MAX_SEQUENCE_BYTES = 4096;

type State =
  | 'ground'
  | 'esc'
  | 'c2' // a 0xC2 byte: maybe a UTF-8-encoded C1 control
  | 'csi'
  | 'osc'
  | 'osc-esc' // ESC inside an OSC: ST (ESC \) ends it
  | 'string' // DCS, APC, PM, SOS: dropped to ST
  | 'string-esc';

export class EscapeFilter {
  private state: State = 'ground';
  /** The sequence held back while it is being decided (introducer included). */
  private held: number[] = [];
  private overflow = false;

  /** Filters one chunk; returns what may reach the terminal now. */
  push(chunk: Uint8Array): Buffer {
    const out: number[] = [];
    for (const byte of chunk) this.step(byte, out);
    return Buffer.from(out);
  }

  /** The program ended: whatever is held back is an unfinished sequence, dropped. */
  end(): Buffer {
    const pending = this.state === 'c2' ? Buffer.from([0xc2]) : Buffer.alloc(0);
    this.reset();
    return pending;
  }

  private reset(): void {
    this.state = 'ground';
    this.held = [];
    this.overflow = false;
  }

  private hold(byte: number): void {
    if (this.held.length < MAX_SEQUENCE_BYTES) this.held.push(byte);
    else this.overflow = true;
  }

  private step(byte: number, out: number[]): void {
    switch (this.state) {
      case 'ground':
        if (byte === ESC) {
          this.state = 'esc';
          this.held = [byte];
        } else if (byte === 0xc2) {
          this.state = 'c2';
        } else {
          out.push(byte);
        }
        return;
      case 'c2':
        this.state = 'ground';
        if (byte === 0x9b) this.enter('csi', [ESC, 0x5b]);
        else if (byte === 0x9d) this.enter('osc', [ESC, 0x5d]);
        else if (byte === 0x90 || byte === 0x98 || byte === 0x9e || byte === 0x9f) this.enter('string', []);
        else if (byte === ESC) {
          out.push(0xc2);
          this.state = 'esc';
          this.held = [byte];
        } else if (byte === 0xc2) {
          out.push(0xc2);
          this.state = 'c2';
        } else out.push(0xc2, byte);
        return;
      case 'esc':
        if (byte === 0x5b) this.enter('csi', [ESC, byte]);
        else if (byte === 0x5d) this.enter('osc', [ESC, byte]);
        else if (byte === 0x50 || byte === 0x58 || byte === 0x5e || byte === 0x5f) this.enter('string', []);
        else if (byte === ESC)
          out.push(ESC); // ESC ESC: the first stands alone
        else {
          out.push(ESC, byte);
          this.reset();
        }
        return;
      case 'csi':
        if (byte === CAN || byte === SUB)
          this.reset(); // cancelled: the terminal drops it too
        else if (byte === ESC) {
          // A new sequence aborts this one, as in the terminal: what follows is judged on its own.
          this.reset();
          this.step(ESC, out);
        } else if (byte < 0x20)
          out.push(byte); // C0 controls inside a CSI are executed at once
        else {
          this.hold(byte);
          if (byte >= 0x40 && byte <= 0x7e) this.finishCsi(out);
        }
        return;
      case 'osc':
        if (byte === BEL) this.finishOsc(out, [BEL]);
        else if (byte === ESC) this.state = 'osc-esc';
        else if (byte === CAN || byte === SUB) this.reset();
        else this.hold(byte);
        return;
      case 'osc-esc':
        if (byte === 0x5c) this.finishOsc(out, [ESC, 0x5c]);
        else {
          // ESC ends the OSC (as terminals do) and starts a new sequence.
          this.finishOsc(out, []);
          this.step(ESC, out);
          this.step(byte, out);
        }
        return;
      case 'string':
        if (byte === ESC) this.state = 'string-esc';
        else if (byte === BEL || byte === CAN || byte === SUB) this.reset();
        return;
      case 'string-esc':
        if (byte === 0x5c) this.reset();
        else {
          this.reset();
          this.step(ESC, out);
          this.step(byte, out);
        }
        return;
    }
  }

  private enter(state: State, held: number[]): void {
    this.state = state;
    this.held = held;
    this.overflow = false;
  }

  private finishCsi(out: number[]): void {
    const keep = !this.overflow && !isTitleReport(this.held);
    if (keep) out.push(...this.held);
    this.reset();
  }

  private finishOsc(out: number[], terminator: number[]): void {
    const body = Buffer.from(this.held.slice(2)).toString('latin1');
    if (!this.overflow && isHarmlessOsc(body)) out.push(...this.held, ...terminator);
    this.reset();
  }
}

/** CSI 20 t / CSI 21 t: report the icon label or the window title. */
function isTitleReport(sequence: readonly number[]): boolean {
  const text = Buffer.from(sequence.slice(2)).toString('latin1');
  return /^(?:20|21)(?:;[0-9;]*)?t$/.test(text);
}

/** OSC bodies that pass: not the clipboard, not the font, not a query. */
function isHarmlessOsc(body: string): boolean {
  const semi = body.indexOf(';');
  // Numerically, as terminals read it: `052` is 52.
  const ps = Number(/^\d{1,8}/.exec(body)?.[0] ?? NaN);
  if (ps === 52 || ps === 50) return false;
  const args = semi === -1 ? [] : body.slice(semi + 1).split(';');
  return !args.includes('?');
}
