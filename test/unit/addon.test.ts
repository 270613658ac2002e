// The addon on real sockets, ptys and NSS: fd passing, CLOEXEC, rejection of surplus fds, readiness, errors.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';

import * as native from '../../native/addon/index';

const O_NONBLOCK = 0o4000;
const O_CLOEXEC = 0o2000000;
const LOADER = path.join(__dirname, '../../native/addon/index.js');

/** The open-file flags of fd, from /proc/self/fdinfo (octal "flags:" line). */
function fdFlags(fd: number): number {
  const match = /^flags:\s+([0-7]+)$/m.exec(fs.readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'));
  assert.ok(match?.[1] !== undefined, `no flags line for fd ${fd}`);
  return parseInt(match[1], 8);
}

function openFdCount(): number {
  return fs.readdirSync('/proc/self/fd').length;
}

function isOpen(fd: number): boolean {
  try {
    fs.fstatSync(fd);
    return true;
  } catch {
    return false;
  }
}

/** Every open fd and what it points at. */
function openFdTable(): Map<string, string> {
  const table = new Map<string, string>();
  for (const fd of fs.readdirSync('/proc/self/fd')) {
    try {
      table.set(fd, fs.readlinkSync(`/proc/self/fd/${fd}`));
    } catch {
      // the readdir's own directory fd, already gone
    }
  }
  return table;
}

const fdsAtStart = openFdTable();

function tmpDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'jai-addon-'));
}

/** Files opened read-only in a temp dir, each holding its own name. */
function openFiles(dir: string, count: number): number[] {
  const fds: number[] = [];
  for (let i = 0; i < count; i++) {
    const file = path.join(dir, `f${i}`);
    fs.writeFileSync(file, `file ${i}`);
    fds.push(fs.openSync(file, 'r'));
  }
  return fds;
}

function closeAll(fds: readonly number[]): void {
  for (const fd of fds) native.closeFd(fd);
}

function recvOrFail(fd: number, maxBytes: number, maxFds: number): native.Received {
  const received = native.recvMessage(fd, maxBytes, maxFds);
  assert.ok(received !== null, 'a message was expected');
  return received;
}

function readAll(fd: number): string {
  const buf = Buffer.alloc(64);
  const n = fs.readSync(fd, buf, 0, buf.length, 0);
  return buf.subarray(0, n).toString();
}

test('listen, connect and accept on a path: chmod applied, accepted fd is CLOEXEC and non-blocking', () => {
  const dir = tmpDir();
  const sock = path.join(dir, 'jaid.sock');
  const fds: number[] = [];
  try {
    const listenFd = native.seqpacketListen(sock, 0o600, 8);
    fds.push(listenFd);
    const st = fs.statSync(sock);
    assert.ok(st.isSocket());
    assert.equal(st.mode & 0o7777, 0o600);
    assert.equal(native.seqpacketAccept(listenFd), null, 'nothing pending yet');

    const client = native.seqpacketConnect(sock);
    fds.push(client);
    const server = native.seqpacketAccept(listenFd);
    assert.ok(server !== null);
    fds.push(server);
    for (const fd of [listenFd, client, server]) {
      assert.ok(fdFlags(fd) & O_CLOEXEC, `fd ${fd} is CLOEXEC`);
      assert.ok(fdFlags(fd) & O_NONBLOCK, `fd ${fd} is non-blocking`);
    }
    assert.equal(native.seqpacketAccept(listenFd), null, 'the only connection was taken');

    native.seqpacketAdopt(listenFd); // a listening SEQPACKET socket is accepted for adoption
  } finally {
    closeAll(fds);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('seqpacketConnect on a full backlog: EAGAIN at once, or after waiting up to waitMs; non-blocking once in', () => {
  const dir = tmpDir();
  const sock = path.join(dir, 's');
  const fds: number[] = [];
  try {
    const listenFd = native.seqpacketListen(sock, 0o600, 0);
    fds.push(listenFd);
    // Backlog 0 holds one pending connection; the next finds the queue full.
    for (let i = 0; i < 4; i++) {
      try {
        fds.push(native.seqpacketConnect(sock));
      } catch (e) {
        assert.equal(native.isNativeError(e) ? e.code : '', 'EAGAIN');
        break;
      }
    }
    assert.throws(() => native.seqpacketConnect(sock), { code: 'EAGAIN', syscall: 'connect' });
    const started = Date.now();
    assert.throws(() => native.seqpacketConnect(sock, 150), { code: 'EAGAIN', syscall: 'connect' });
    assert.ok(Date.now() - started >= 140, `waited ${String(Date.now() - started)} ms`);
    // Room again: a waiting connect gets in at once, and its fd is like any other.
    for (;;) {
      const server = native.seqpacketAccept(listenFd);
      if (server === null) break;
      fds.push(server);
    }
    const client = native.seqpacketConnect(sock, 1000);
    fds.push(client);
    assert.ok(fdFlags(client) & O_NONBLOCK);
    assert.ok(fdFlags(client) & O_CLOEXEC);
    assert.throws(() => native.seqpacketConnect(sock, -1), RangeError);
  } finally {
    closeAll(fds);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('seqpacketListen fails on an existing path (stale sockets are the caller’s to unlink)', () => {
  const dir = tmpDir();
  const sock = path.join(dir, 'jaid.sock');
  try {
    fs.writeFileSync(sock, '');
    assert.throws(() => native.seqpacketListen(sock, 0o600, 8), { code: 'EADDRINUSE', syscall: 'bind', path: sock });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('seqpacketAdopt rejects a connected socket and a regular file', () => {
  const dir = tmpDir();
  const pair = native.seqpacketPair();
  const [file] = openFiles(dir, 1);
  try {
    assert.throws(() => native.seqpacketAdopt(pair[0]), { code: 'EJAI_BAD_SOCKET' });
    assert.throws(() => native.seqpacketAdopt(file ?? -1), { code: 'ENOTSOCK', syscall: 'getsockopt' });
  } finally {
    closeAll([...pair, file ?? -1]);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('seqpacketPair: our end non-blocking, the child’s end blocking, both CLOEXEC', () => {
  const [ours, theirs] = native.seqpacketPair();
  try {
    assert.ok(fdFlags(ours) & O_NONBLOCK);
    assert.equal(fdFlags(theirs) & O_NONBLOCK, 0);
    assert.ok(fdFlags(ours) & O_CLOEXEC);
    assert.ok(fdFlags(theirs) & O_CLOEXEC);
  } finally {
    closeAll([ours, theirs]);
  }
});

test('pipe: a blocking CLOEXEC pair, read end first', () => {
  const [r, w] = native.pipe();
  try {
    for (const fd of [r, w]) {
      assert.equal(fdFlags(fd) & O_NONBLOCK, 0);
      assert.ok(fdFlags(fd) & O_CLOEXEC);
    }
    assert.equal(fs.writeSync(w, 'through'), 7);
    const buf = Buffer.alloc(16);
    assert.equal(buf.toString('utf8', 0, fs.readSync(r, buf)), 'through');
  } finally {
    closeAll([r, w]);
  }
});

test('sendMessage/recvMessage carry bytes as one message each; an empty queue gives null', () => {
  const [a, b] = native.seqpacketPair();
  try {
    assert.equal(native.recvMessage(a, 100, 0), null);
    assert.equal(native.sendMessage(a, Buffer.from('hello'), []), true);
    assert.equal(native.sendMessage(a, new Uint8Array([1, 2, 3]), []), true);
    const first = recvOrFail(b, 100, 0);
    assert.equal(first.data.toString(), 'hello');
    assert.deepEqual(first.fds, []);
    assert.equal(first.eof, false);
    assert.equal(first.truncated, false);
    assert.deepEqual([...recvOrFail(b, 100, 0).data], [1, 2, 3]);
    assert.equal(native.recvMessage(b, 100, 0), null);
  } finally {
    closeAll([a, b]);
  }
});

for (const count of [1, 3]) {
  test(`passing ${count} fd(s): received fds are new, distinct, CLOEXEC and open the same files`, () => {
    const dir = tmpDir();
    const files = openFiles(dir, count);
    const [a, b] = native.seqpacketPair();
    let received: number[] = [];
    try {
      assert.equal(native.sendMessage(a, Buffer.from('fds'), files), true);
      const msg = recvOrFail(b, 100, count);
      received = msg.fds;
      assert.equal(msg.data.toString(), 'fds');
      assert.equal(received.length, count);
      assert.equal(new Set([...received, ...files]).size, 2 * count, 'new and distinct fds');
      received.forEach((fd, i) => {
        assert.ok(fdFlags(fd) & O_CLOEXEC, `received fd ${fd} is CLOEXEC`);
        assert.equal(fs.fstatSync(fd).ino, fs.fstatSync(files[i] ?? -1).ino);
        assert.equal(readAll(fd), `file ${i}`);
      });
    } finally {
      closeAll([...received, ...files, a, b]);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
}

test('more fds than maxFds: throws EJAI_FDS and every received fd is closed', () => {
  const dir = tmpDir();
  const files = openFiles(dir, 3);
  const [a, b] = native.seqpacketPair();
  try {
    assert.equal(native.sendMessage(a, Buffer.from('x'), files), true);
    assert.equal(native.sendMessage(a, Buffer.from('y'), files.slice(0, 1)), true);
    const before = openFdCount();
    assert.throws(
      () => native.recvMessage(b, 100, 2),
      (e: unknown) => {
        assert.ok(native.isNativeError(e));
        assert.equal(e.code, 'EJAI_FDS');
        assert.equal(e.syscall, 'recvmsg');
        return true;
      },
    );
    assert.equal(openFdCount(), before, 'no received fd survived');
    // Same with no fds wanted at all.
    assert.throws(() => native.recvMessage(b, 100, 0), { code: 'EJAI_FDS' });
    assert.equal(openFdCount(), before);
    assert.equal(native.recvMessage(b, 100, 0), null, 'the rejected messages were consumed');
  } finally {
    closeAll([...files, a, b]);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a message larger than maxBytes is reported truncated, with the first maxBytes bytes', () => {
  const [a, b] = native.seqpacketPair();
  try {
    native.sendMessage(a, Buffer.from('0123456789'), []);
    native.sendMessage(a, Buffer.from('0123'), []);
    const big = recvOrFail(b, 4, 0);
    assert.equal(big.truncated, true);
    assert.equal(big.data.toString(), '0123');
    const exact = recvOrFail(b, 4, 0);
    assert.equal(exact.truncated, false, 'exactly maxBytes is not truncated');
  } finally {
    closeAll([a, b]);
  }
});

test('peer close is eof: empty data, no fds, eof true', () => {
  const [a, b] = native.seqpacketPair();
  try {
    native.closeFd(a);
    const msg = recvOrFail(b, 100, 4);
    assert.equal(msg.eof, true);
    assert.equal(msg.data.length, 0);
    assert.deepEqual(msg.fds, []);
  } finally {
    native.closeFd(b);
  }
});

test('sendMessage returns false when the socket is full', () => {
  const [a, b] = native.seqpacketPair();
  try {
    const chunk = Buffer.alloc(32 * 1024);
    let sent = 0;
    while (native.sendMessage(a, chunk, [])) {
      sent++;
      assert.ok(sent < 10_000, 'the socket buffer should fill');
    }
    assert.ok(sent > 0);
  } finally {
    closeAll([a, b]);
  }
});

test('sendMessage to a closed peer throws EPIPE without SIGPIPE', () => {
  const [a, b] = native.seqpacketPair();
  try {
    native.closeFd(b);
    assert.throws(() => native.sendMessage(a, Buffer.from('x'), []), { code: 'EPIPE', syscall: 'sendmsg' });
  } finally {
    native.closeFd(a);
  }
});

test('peerCred names this process; peerPidfd is a CLOEXEC pidfd for it', () => {
  const dir = tmpDir();
  const sock = path.join(dir, 's');
  const fds: number[] = [];
  try {
    const listenFd = native.seqpacketListen(sock, 0o600, 1);
    fds.push(listenFd);
    fds.push(native.seqpacketConnect(sock));
    const server = native.seqpacketAccept(listenFd);
    assert.ok(server !== null);
    fds.push(server);
    assert.deepEqual(native.peerCred(server), { pid: process.pid, uid: process.getuid?.(), gid: process.getgid?.() });

    const pidfd = native.peerPidfd(server);
    if (pidfd !== null) {
      fds.push(pidfd);
      assert.ok(fdFlags(pidfd) & O_CLOEXEC);
      const pid = /^Pid:\s+(\d+)$/m.exec(fs.readFileSync(`/proc/self/fdinfo/${pidfd}`, 'utf8'));
      assert.equal(Number(pid?.[1]), process.pid);
    }
  } finally {
    closeAll(fds);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('watch fires readable after a send, writable when asked, and never after close()', async () => {
  const [a, b] = native.seqpacketPair();
  try {
    let calls = 0;
    const readable = new Promise<string>((resolve, reject) => {
      const watcher = native.watch(b, (err, isReadable, isWritable) => {
        calls++;
        if (err !== null) return reject(err);
        assert.equal(isReadable, true);
        assert.equal(isWritable, false);
        const msg = native.recvMessage(b, 100, 0);
        watcher.close();
        watcher.close(); // idempotent
        resolve(msg?.data.toString() ?? '');
      });
      watcher.start('r');
    });
    native.sendMessage(a, Buffer.from('ping'), []);
    assert.equal(await readable, 'ping');

    native.sendMessage(a, Buffer.from('unheard'), []);
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(calls, 1, 'no callback after close()');

    const writable = await new Promise<boolean>((resolve) => {
      const watcher = native.watch(a, (_err, _r, isWritable) => {
        watcher.close();
        resolve(isWritable);
      });
      watcher.start('w');
    });
    assert.equal(writable, true);
  } finally {
    closeAll([a, b]);
  }
});

test('watch reports the peer closing as readable, then recvMessage says eof', async () => {
  const [a, b] = native.seqpacketPair();
  try {
    const eof = new Promise<boolean>((resolve) => {
      const watcher = native.watch(b, () => {
        watcher.stop();
        watcher.close();
        resolve(native.recvMessage(b, 10, 0)?.eof ?? false);
      });
      watcher.start('r');
    });
    native.closeFd(a);
    assert.equal(await eof, true);
  } finally {
    native.closeFd(b);
  }
});

test('watch rejects bad events', () => {
  const [a, b] = native.seqpacketPair();
  const watcher = native.watch(a, () => undefined);
  try {
    assert.throws(() => watcher.start('x' as native.PollEvents), { code: 'ERR_INVALID_ARG_VALUE' });
  } finally {
    watcher.close();
    closeAll([a, b]);
  }
});

/** Run a script in a fresh node with the loader at hand as `native`. */
function runNode(
  script: string,
  args: readonly string[] = [],
): { status: number | null; stdout: string; stderr: string } {
  const prelude = `const native = require(${JSON.stringify(LOADER)});\n`;
  const r = spawnSync(process.execPath, [...args, '-e', prelude + script], { encoding: 'utf8', timeout: 10_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('an exception thrown in a watch callback is an uncaught exception', () => {
  const r = runNode(`
    const [a, b] = native.seqpacketPair();
    process.on('uncaughtException', (e) => { console.log('caught ' + e.message); process.exit(0); });
    native.watch(b, () => { throw new Error('boom'); }).start('r');
    native.sendMessage(a, Buffer.from('x'), []);
  `);
  assert.equal(r.stdout.trim(), 'caught boom', r.stderr);
  assert.equal(r.status, 0);
});

test('an unref()ed watcher does not keep the process alive; a ref()ed one does', () => {
  const unrefd = runNode(`
    const [a] = native.seqpacketPair();
    const w = native.watch(a, () => {}); w.start('r'); w.unref();
  `);
  assert.equal(unrefd.status, 0, unrefd.stderr);
  const refd = runNode(`
    const [a] = native.seqpacketPair();
    const w = native.watch(a, () => {}); w.start('r'); w.unref(); w.ref();
    setTimeout(() => { console.log('still alive'); process.exit(0); }, 200).unref();
  `);
  assert.equal(refd.stdout.trim(), 'still alive', refd.stderr);
});

test('a stopped watcher that is never closed is garbage-collected, even if its callback captures it', () => {
  const r = runNode(
    `
    const [a, b] = native.seqpacketPair();
    const registry = new FinalizationRegistry((what) => console.log('collected ' + what));
    (() => {
      const w = native.watch(a, () => w.stop());
      w.start('w');
      w.stop();
      registry.register(w, 'watcher');
    })();
    setTimeout(() => { gc(); setTimeout(() => { gc(); setTimeout(() => {}, 50); }, 50); }, 10);
  `,
    ['--expose-gc'],
  );
  assert.equal(r.stdout.trim(), 'collected watcher', r.stderr);
  assert.equal(r.status, 0);
});

test('exitNow ends the process at once with its status: no further JavaScript, no exit listeners', () => {
  const r = runNode(`
    process.on('exit', () => console.log('exit listener'));
    process.stdout.write('before\\n');
    setImmediate(() => console.log('later'));
    native.exitNow(42);
    console.log('after');
  `);
  assert.equal(r.status, 42, r.stderr);
  assert.equal(r.stdout, 'before\n');
  assert.throws(() => native.exitNow(256), RangeError);
  assert.throws(() => native.exitNow(-1), RangeError);
});

test('getWinsize/setWinsize round trip on a pty master', () => {
  const master = fs.openSync('/dev/ptmx', 'r+');
  try {
    native.setWinsize(master, { rows: 37, cols: 101 });
    assert.deepEqual(native.getWinsize(master), { rows: 37, cols: 101 });
    native.setWinsize(master, { rows: 24, cols: 80 });
    assert.deepEqual(native.getWinsize(master), { rows: 24, cols: 80 });
    assert.throws(() => native.setWinsize(master, { rows: 70000, cols: 80 }), RangeError);
  } finally {
    fs.closeSync(master);
  }
});

test('getWinsize on a non-terminal throws ENOTTY', () => {
  const [a, b] = native.seqpacketPair();
  try {
    assert.throws(() => native.getWinsize(a), { code: 'ENOTTY', syscall: 'ioctl' });
  } finally {
    closeAll([a, b]);
  }
});

test('NSS lookups: root by uid and name, a missing uid is null, root’s groups include 0', () => {
  assert.equal(native.getpwuid(0)?.name, 'root');
  const root = native.getpwnam('root');
  assert.ok(root !== null);
  assert.equal(root.uid, 0);
  assert.equal(root.gid, 0);
  assert.equal(typeof root.dir, 'string');
  assert.equal(typeof root.shell, 'string');
  assert.equal(native.getpwuid(4000000000), null);
  assert.equal(native.getpwnam('no-such-user-jai-test'), null);
  assert.ok(native.getgrouplist('root', 0).includes(0));
  assert.deepEqual(native.getgrnam('root'), { name: 'root', gid: 0 });
  assert.deepEqual(native.getgrgid(0), { name: 'root', gid: 0 });
  assert.equal(native.getgrnam('no-such-group-jai'), null);
  assert.equal(native.getgrgid(4294967294 - 7), null);
});

test('umask() reads the umask without changing it', () => {
  const old = process.umask(0o027);
  try {
    assert.equal(native.umask(), 0o027);
    assert.equal(native.umask(), 0o027);
  } finally {
    process.umask(old);
  }
});

test('errors carry code, errno, syscall and path: connect to a missing path', () => {
  const missing = path.join(os.tmpdir(), `jai-addon-missing-${process.pid}.sock`);
  assert.throws(
    () => native.seqpacketConnect(missing),
    (e: unknown) => {
      assert.ok(native.isNativeError(e));
      assert.equal(e.code, 'ENOENT');
      assert.equal(e.errno, -os.constants.errno.ENOENT);
      assert.equal(e.syscall, 'connect');
      assert.equal(e.path, missing);
      assert.equal(e.message, `connect ENOENT (${missing})`);
      return true;
    },
  );
  assert.equal(native.isNativeError(new Error('plain')), false);
});

test('closeFd closes, and throws EBADF for an fd that is not open', () => {
  const [a, b] = native.seqpacketPair();
  native.closeFd(a);
  native.closeFd(b);
  assert.equal(isOpen(a), false);
  assert.throws(() => native.closeFd(a), { code: 'EBADF', syscall: 'close' });
});

test('sendDatagram names sendto and the path on failure, and refuses relative paths', () => {
  const dir = tmpDir();
  const sock = path.join(dir, 'seqpacket');
  let listenFd = -1;
  try {
    const missing = path.join(dir, 'notify');
    assert.throws(() => native.sendDatagram(missing, Buffer.from('READY=1')), {
      code: 'ENOENT',
      syscall: 'sendto',
      path: missing,
    });
    listenFd = native.seqpacketListen(sock, 0o600, 1);
    assert.throws(() => native.sendDatagram(sock, Buffer.from('READY=1')), { code: 'EPROTOTYPE' });
    assert.throws(() => native.sendDatagram('relative', Buffer.from('x')), { code: 'ERR_INVALID_ARG_VALUE' });
  } finally {
    if (listenFd >= 0) native.closeFd(listenFd);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('misuse throws TypeError/RangeError before any syscall', () => {
  assert.throws(() => native.recvMessage(-1, 10, 0), RangeError);
  assert.throws(() => native.recvMessage(1.5, 10, 0), RangeError);
  assert.throws(() => native.recvMessage(0, native.MAX_MESSAGE_BYTES + 1, 0), RangeError);
  assert.throws(() => native.recvMessage(0, 10, 254), RangeError);
  assert.throws(() => native.sendMessage(0, 'text' as unknown as Uint8Array, []), TypeError);
  assert.throws(() => native.sendMessage(0, Buffer.alloc(1), new Array<number>(254).fill(0)), RangeError);
  assert.throws(() => native.seqpacketConnect('x'.repeat(108)), RangeError);
  assert.throws(() => native.seqpacketConnect('/tmp/a\0b'), TypeError);
  assert.throws(() => native.watch(0, null as unknown as native.WatchCallback), TypeError);
  assert.throws(() => native.getpwuid(-1), RangeError);
});

test('these tests leave no fd open', () => {
  const leaked = [...openFdTable()].filter(([fd, target]) => fdsAtStart.get(fd) !== target);
  assert.deepEqual(leaked, []);
});
