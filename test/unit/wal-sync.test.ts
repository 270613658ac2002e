import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WalSync, type WalFiles } from '../../daemon/audit/wal-sync';

/** Fake files: fdatasync answers when the test says so; the WAL's inode can be replaced. */
class FakeFiles implements WalFiles {
  inode = 1;
  opens = 0;
  closed: number[] = [];
  openError: Error | null = null;
  readonly pending: { fd: number; done: (err: Error | null) => void }[] = [];
  open(): number {
    if (this.openError !== null) throw this.openError;
    this.opens++;
    return 100 + this.inode;
  }
  fstatIno(fd: number): number {
    return fd - 100;
  }
  statIno(): number {
    return this.inode;
  }
  fdatasync(fd: number, done: (err: Error | null) => void): void {
    this.pending.push({ fd, done });
  }
  fdatasyncSync(): void {}
  close(fd: number): void {
    this.closed.push(fd);
  }
  /** Answers the oldest running sync. */
  finish(err: Error | null = null): void {
    const next = this.pending.shift();
    assert.ok(next !== undefined, 'no sync is running');
    next.done(err);
  }
}

describe('WAL sync (group commit)', () => {
  it('answers a request only with a sync started after it; one sync answers everything asked before it started', () => {
    const files = new FakeFiles();
    const wal = new WalSync('/x/audit.db-wal', files);
    const answered: string[] = [];
    wal.request(() => answered.push('a'));
    assert.equal(files.pending.length, 1);
    wal.request(() => answered.push('b'));
    wal.request(() => answered.push('c'));
    assert.equal(files.pending.length, 1, 'b and c wait for the next round, not a sync each');
    files.finish();
    assert.deepEqual(answered.slice(), ['a'], 'b and c were asked after the running sync had started');
    assert.equal(files.pending.length, 1, 'the next round started at once');
    files.finish();
    assert.deepEqual(answered, ['a', 'b', 'c']);
    assert.equal(files.pending.length, 0);
    assert.equal(files.opens, 1, 'the WAL is opened once');
  });

  it('passes a failed sync to everyone in its round and goes on with the next', () => {
    const files = new FakeFiles();
    const wal = new WalSync('/x/audit.db-wal', files);
    const answered: (string | null)[] = [];
    wal.request((err) => answered.push(err?.message ?? null));
    wal.request((err) => answered.push(err?.message ?? null));
    files.finish(new Error('EIO'));
    files.finish();
    assert.deepEqual(answered, ['EIO', null]);
  });

  it('re-opens the WAL when SQLite replaced it, so that a stale inode is never the one synced', () => {
    const files = new FakeFiles();
    const wal = new WalSync('/x/audit.db-wal', files);
    wal.request(() => undefined);
    files.finish();
    files.inode = 2;
    wal.request(() => undefined);
    assert.equal(files.pending[0]?.fd, 102);
    assert.deepEqual(files.closed, [101]);
    files.finish();
  });

  it('closes the fd of a running sync only once it ended, and starts no round after close', async () => {
    const files = new FakeFiles();
    const wal = new WalSync('/x/audit.db-wal', files);
    const answered: (string | null)[] = [];
    wal.request((err) => answered.push(err?.message ?? 'a'));
    wal.request((err) => answered.push(err?.message ?? 'b'));
    wal.close();
    assert.deepEqual(files.closed, [], 'still in use by the thread pool');
    files.finish();
    assert.deepEqual(files.closed, [101]);
    assert.equal(files.pending.length, 0, 'no round after close');
    wal.request((err) => answered.push(err?.message ?? 'c'));
    assert.equal(files.pending.length, 0);
    await new Promise((resolve) => process.nextTick(resolve));
    // b and c: the database's close that follows checkpoints the WAL into the synced database file.
    assert.deepEqual(answered, ['a', 'b', 'c']);
  });

  it('keeps the fd a running sync uses when a blocking sync finds the WAL replaced; refuses a blocking sync once closed', () => {
    const files = new FakeFiles();
    const wal = new WalSync('/x/audit.db-wal', files);
    wal.request(() => undefined);
    files.inode = 2;
    wal.syncNow();
    assert.deepEqual(files.closed, [], 'fd 101 is being synced in the thread pool');
    files.finish();
    assert.deepEqual(files.closed, [101]);
    wal.close();
    assert.deepEqual(files.closed, [101, 102]);
    assert.throws(() => {
      wal.syncNow();
    }, /the audit log is closed/);
  });

  it('closes an idle fd at once', () => {
    const files = new FakeFiles();
    const wal = new WalSync('/x/audit.db-wal', files);
    wal.request(() => undefined);
    files.finish();
    wal.close();
    assert.deepEqual(files.closed, [101]);
  });

  it('fails every request of the round when the WAL cannot be opened', () => {
    const files = new FakeFiles();
    files.openError = new Error('ENOENT');
    const wal = new WalSync('/x/audit.db-wal', files);
    const answered: (string | null)[] = [];
    wal.request((err) => answered.push(err?.message ?? null));
    assert.deepEqual(answered.slice(), ['ENOENT']);
    files.openError = null;
    wal.request((err) => answered.push(err?.message ?? null));
    files.finish();
    assert.deepEqual(answered, ['ENOENT', null]);
  });
});
