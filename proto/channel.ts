// A packet channel over a non-blocking AF_UNIX SOCK_SEQPACKET fd: one message per packet, fds attached by
// SCM_RIGHTS. Used by both the daemon and the client (Node's net would silently drop the fds).
import * as native from '../native/addon';
import { MAX_PACKET_BYTES, MAX_PACKET_FDS } from './protocol';

export interface Packet {
  data: Buffer;
  fds: number[];
}

export type ChannelEnd = { kind: 'eof' } | { kind: 'error'; error: Error } | { kind: 'oversize' } | { kind: 'closed' };

export interface ChannelHandlers {
  /** A packet arrived. The receiver owns `fds` and must close the ones it does not keep. */
  onPacket(packet: Packet): void;
  /** The channel ended; called once. The fd is already closed. */
  onEnd(end: ChannelEnd): void;
  /** A packet over the cap arrived (its fds already closed). Without this handler the channel ends. */
  onOversize?(): void;
}

/** Packets queued behind a peer that does not read; past this the channel is closed. */
export const MAX_QUEUED_PACKETS = 64;
/** How long end() waits for a peer to take the last packets before closing anyway. */
export const END_LINGER_MS = 5000;
/** At most this many unread packets are dropped at a close (the rest, if a peer keeps sending, reset it). */
const MAX_DISCARDED = 64;

/**
 * Owns `fd`. Packets are read as they arrive (one per readiness callback round, all that are queued) and
 * writes that would block are queued and flushed on writability, in order.
 */
export class PacketChannel {
  private readonly watcher: native.Watcher;
  private readonly queue: { data: Uint8Array; fds: readonly number[]; done: (() => void) | undefined }[] = [];
  private closed = false;
  private paused = false;
  private ending = false;
  /** The peer reset the connection; the packets it sent before are still read, then the channel ends with this. */
  private reset: Error | null = null;
  /** Sending failed for good (the peer has gone); what is sent from then on is dropped. */
  private sendFailed = false;

  constructor(
    readonly fd: number,
    private readonly handlers: ChannelHandlers,
    private readonly maxBytes = MAX_PACKET_BYTES,
  ) {
    this.watcher = native.watch(fd, (err, readable, writable) => {
      this.onReady(err, readable, writable);
    });
    this.watcher.start('r');
  }

  /**
   * Sends one packet, in order after any queued ones. The kernel duplicates `fds` into the packet; `done` runs
   * once the packet has left (or was dropped because the channel closed), when the caller may close them.
   */
  send(data: Uint8Array, fds: readonly number[] = [], done?: () => void): void {
    if (this.closed || this.sendFailed) {
      done?.();
      return;
    }
    if (data.length > this.maxBytes) throw new RangeError(`packet of ${data.length} bytes over the cap`);
    if (this.queue.length >= MAX_QUEUED_PACKETS) {
      done?.();
      this.finish({ kind: 'error', error: new Error('peer is not reading; send queue full') });
      return;
    }
    this.queue.push({ data, fds, done });
    this.flush();
  }

  /** Keeps the process alive while the channel is open (default) or not. */
  setRef(ref: boolean): void {
    if (ref) this.watcher.ref();
    else this.watcher.unref();
  }

  /** Stops reading (writes still flush) until resume(). */
  pause(): void {
    this.paused = true;
    this.rearm();
  }

  resume(): void {
    this.paused = false;
    this.rearm();
  }

  close(): void {
    this.finish({ kind: 'closed' });
  }

  /**
   * Stops reading and closes once every queued packet has been sent, the peer has gone, or END_LINGER_MS passed.
   * Nothing the peer sends after this is looked at.
   */
  end(): void {
    if (this.closed || this.ending) return;
    this.ending = true;
    if (this.queue.length === 0) {
      this.close();
      return;
    }
    this.pause();
    setTimeout(() => {
      this.close();
    }, END_LINGER_MS).unref();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  private flush(): void {
    while (this.queue.length > 0 && !this.closed) {
      const next = this.queue[0];
      if (next === undefined) break;
      let sent: boolean;
      try {
        sent = native.sendMessage(this.fd, next.data, next.fds);
      } catch (e) {
        // The peer closed: what it sent before (jaid's refusal of a connection, say) is still ours to read.
        if (hasCode(e, 'EPIPE') || hasCode(e, 'ECONNRESET')) this.readLeftovers();
        this.finish({ kind: 'error', error: toError(e) });
        return;
      }
      if (!sent) break;
      this.queue.shift();
      next.done?.();
    }
    if (this.ending && this.queue.length === 0) {
      this.close();
      return;
    }
    this.rearm();
  }

  private rearm(): void {
    if (this.closed) return;
    const wantWrite = this.queue.length > 0;
    if (this.paused && !wantWrite) this.watcher.stop();
    else this.watcher.start(this.paused ? 'w' : wantWrite ? 'rw' : 'r');
  }

  private onReady(err: Error | null, readable: boolean, writable: boolean): void {
    if (this.closed) return;
    if (writable) this.flush();
    if (readable || err !== null) this.drain();
  }

  private drain(): void {
    while (!this.closed && !this.paused) {
      let received: native.Received | null;
      try {
        received = native.recvMessage(this.fd, this.maxBytes, MAX_PACKET_FDS);
      } catch (e) {
        // A peer that closed with our packets unread is reported once, before the packets it sent: read on.
        if (hasCode(e, 'ECONNRESET') && this.reset === null) {
          this.reset = toError(e);
          continue;
        }
        this.finish({ kind: 'error', error: toError(e) });
        return;
      }
      if (received === null) return;
      if (received.truncated) {
        received.fds.forEach(closeQuietly);
        if (this.handlers.onOversize === undefined) this.finish({ kind: 'oversize' });
        else this.handlers.onOversize();
        continue;
      }
      if (received.eof) {
        this.finish(this.reset === null ? { kind: 'eof' } : { kind: 'error', error: this.reset });
        return;
      }
      this.handlers.onPacket({ data: received.data, fds: received.fds });
    }
  }

  /** Sending failed because the peer has gone: deliver the packets it sent first; nothing more is sent. */
  private readLeftovers(): void {
    this.sendFailed = true;
    for (const pending of this.queue.splice(0)) pending.done?.();
    if (!this.paused) this.drain();
  }

  private finish(end: ChannelEnd): void {
    if (this.closed) return;
    this.closed = true;
    this.watcher.close();
    for (const pending of this.queue.splice(0)) pending.done?.();
    if (end.kind === 'closed') this.discardUnread();
    closeQuietly(this.fd);
    this.handlers.onEnd(end);
  }

  /**
   * Our close: what the peer sent that was not read (a request after a final message, say) is dropped first, so
   * that the peer reads an end of file rather than ECONNRESET (a socket closed with packets unread resets its peer).
   */
  private discardUnread(): void {
    for (let i = 0; i < MAX_DISCARDED; i++) {
      let received: native.Received | null;
      try {
        received = native.recvMessage(this.fd, this.maxBytes, MAX_PACKET_FDS);
      } catch {
        return;
      }
      if (received === null || received.eof) return;
      received.fds.forEach(closeQuietly);
    }
  }
}

export function closeQuietly(fd: number): void {
  try {
    native.closeFd(fd);
  } catch {
    // Already closed or never valid: nothing left to release.
  }
}

function hasCode(e: unknown, code: string): boolean {
  return native.isNativeError(e) && e.code === code;
}

function toError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}
