// Durability of the audit log off the spawn path. The database runs with synchronous=NORMAL, so a commit writes
// its WAL frames without an fsync; this makes them durable with fdatasync(2) of the WAL file in libuv's thread
// pool, while the helper builds the jail. Group commit: every request waits for a sync started after it was made,
// and one sync answers every request made before it started, so a burst of sessions costs one or two syncs, not
// one each. A synced WAL is exactly what synchronous=FULL would have left on disk at that commit.
import fs from 'node:fs';

export type SyncDone = (err: Error | null) => void;

/** The fs calls used, so that tests can make them fail. */
export interface WalFiles {
  open(file: string): number;
  fstatIno(fd: number): number;
  statIno(file: string): number;
  fdatasync(fd: number, done: (err: Error | null) => void): void;
  fdatasyncSync(fd: number): void;
  close(fd: number): void;
}

const NODE_FILES: WalFiles = {
  open: (file) => fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW),
  fstatIno: (fd) => fs.fstatSync(fd).ino,
  statIno: (file) => fs.lstatSync(file).ino,
  fdatasync: (fd, done) => {
    fs.fdatasync(fd, (err) => {
      done(err);
    });
  },
  fdatasyncSync: (fd) => {
    fs.fdatasyncSync(fd);
  },
  close: (fd) => {
    fs.closeSync(fd);
  },
};

export class WalSync {
  private fd: number | null = null;
  private running = false;
  /** Requests made while a sync runs: answered by the next one. */
  private waiting: SyncDone[] = [];
  /** Set by close(): no round starts any more, and the running one closes the fd when it ends. */
  private closing = false;
  /** Fds of a WAL that SQLite replaced while a sync of it ran: closed when that sync ends. */
  private retired: number[] = [];

  constructor(
    /** The database file; its WAL is `${file}-wal`. */
    private readonly walFile: string,
    private readonly files: WalFiles = NODE_FILES,
  ) {}

  /** `done` is called once every write committed before this call is on disk, or with the error that prevents it. */
  request(done: SyncDone): void {
    this.waiting.push(done);
    if (this.closing) this.answerClosed();
    else if (!this.running) this.startRound();
  }

  /** The same, blocking: for the rare writes that are not on the spawn path (admin actions, start-up). */
  syncNow(): void {
    if (this.closing) throw new Error('the audit log is closed');
    this.files.fdatasyncSync(this.walFd());
  }

  /**
   * The database's close follows: it checkpoints the WAL into the database file and syncs that. A sync still
   * running in the thread pool keeps its fd until it ends (closed under it, the number could be another file's).
   */
  close(): void {
    this.closing = true;
    if (!this.running) this.closeFd();
  }

  /** Requests made once closing: the database's close has made their writes durable (or they wrote nothing). */
  private answerClosed(): void {
    const waiting = this.waiting;
    this.waiting = [];
    process.nextTick(() => {
      for (const done of waiting) done(null);
    });
  }

  private closeRetired(): void {
    const retired = this.retired;
    this.retired = [];
    for (const fd of retired) this.files.close(fd);
  }

  private closeFd(): void {
    if (this.fd === null) return;
    try {
      this.files.close(this.fd);
    } finally {
      this.fd = null;
    }
  }

  private startRound(): void {
    const batch = this.waiting;
    this.waiting = [];
    let fd: number;
    try {
      fd = this.walFd();
    } catch (e) {
      const err = e instanceof Error ? e : new Error(String(e));
      for (const done of batch) done(err);
      return;
    }
    this.running = true;
    this.files.fdatasync(fd, (err) => {
      this.running = false;
      try {
        this.closeRetired();
        if (this.closing) this.closeFd();
      } finally {
        for (const done of batch) done(err);
        if (this.closing) this.answerClosed();
        else if (this.waiting.length > 0) this.startRound();
      }
    });
  }

  /**
   * The WAL, opened once and again only if SQLite replaced it (it deletes it when the last connection closes): a
   * sync of a stale inode would prove nothing. The check is one lstat per round.
   */
  private walFd(): number {
    if (this.fd !== null && this.files.statIno(this.walFile) === this.files.fstatIno(this.fd)) return this.fd;
    // syncNow() may get here while a round syncs the old fd in the thread pool: that one keeps it until it ends.
    if (this.running && this.fd !== null) {
      this.retired.push(this.fd);
      this.fd = null;
    }
    this.closeFd();
    this.fd = this.files.open(this.walFile);
    return this.fd;
  }
}
