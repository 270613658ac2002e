// The addon's output relay thread (startOutputRelay) on pipes standing in for the PTY master and the terminal: every
// byte in order, the end reported, pause and stop keep their promise (no write until resume, none after stop), and
// neither a thread nor an fd is left behind.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';

import * as native from '../../native/addon/index';

const O_NONBLOCK = 0o4000;
const LOADER = path.join(__dirname, '../../native/addon/index.js');

function fdFlags(fd: number): number {
  const match = /^flags:\s+([0-7]+)$/m.exec(fs.readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'));
  assert.ok(match?.[1] !== undefined, `no flags line for fd ${fd}`);
  return parseInt(match[1], 8);
}

function openFds(): Set<string> {
  return new Set(fs.readdirSync('/proc/self/fd'));
}

/** Threads of this process named as the relay names its own. */
function relayThreads(): number {
  return fs.readdirSync('/proc/self/task').filter((tid) => {
    try {
      return fs.readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim() === 'jai-relay';
    } catch {
      return false; // exited meanwhile
    }
  }).length;
}

/** Deterministic pseudorandom bytes (xorshift32), every byte value included, so a failure can be reproduced. */
function pseudorandom(size: number, seed: number): Buffer {
  const out = Buffer.alloc(size);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Collects what arrives on a pipe's read end (read in Node's thread pool; the fd is closed at EOF). */
function collect(fd: number): { chunks: Buffer[]; size: () => number; done: Promise<Buffer> } {
  const chunks: Buffer[] = [];
  const stream = fs.createReadStream('', { fd, highWaterMark: 64 * 1024 });
  stream.on('data', (c) => chunks.push(typeof c === 'string' ? Buffer.from(c) : c));
  const done = new Promise<Buffer>((resolve, reject) => {
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('error', reject);
  });
  return { chunks, size: () => chunks.reduce((n, c) => n + c.length, 0), done };
}

async function waitFor(check: () => boolean, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

const fdsAtStart = openFds();

test('copies a 24 MiB pseudorandom stream byte for byte, in order, and reports the end once the writer is gone', async () => {
  const [source, sourceIn] = native.pipe();
  const [sinkOut, sink] = native.pipe();
  const data = pseudorandom(24 * 1024 * 1024, 0x9e3779b9);
  const received = collect(sinkOut);
  let ends = 0;
  let endError: unknown = 'not called';
  const ended = new Promise<void>((resolve) => {
    const relay = native.startOutputRelay(source, sink, (err) => {
      ends++;
      endError = err;
      relay.stop();
      native.closeFd(sink); // the reader sees EOF only once the relay is stopped
      resolve();
    });
  });
  assert.ok(fdFlags(source) & O_NONBLOCK, 'the source is made non-blocking');
  assert.equal(fdFlags(sink) & O_NONBLOCK, 0, "the terminal's flags are left alone");
  // Writes of assorted sizes, as a program's would be; closing the write end is the end (as EIO is for a PTY).
  const writer = fs.createWriteStream('', { fd: sourceIn });
  for (let at = 0, step = 1; at < data.length; at += step, step = (step * 7 + 13) % 70_000 || 1) {
    if (!writer.write(data.subarray(at, Math.min(data.length, at + step)))) {
      await new Promise<void>((resolve) => writer.once('drain', () => resolve()));
    }
  }
  await new Promise<void>((resolve) => writer.end(resolve));
  await ended;
  const output = await received.done;
  assert.equal(endError, null, 'the end, not an error');
  assert.equal(output.length, data.length, 'nothing lost or duplicated');
  assert.equal(sha256(output), sha256(data), 'every byte, in order');
  native.closeFd(source);
  await sleep(20);
  assert.equal(ends, 1, 'the end is reported once');
});

test('pause: nothing is written until resume; stop: nothing after it returns, idempotent, and no end reported', async () => {
  const [source, sourceIn] = native.pipe();
  const [sinkOut, sink] = native.pipe();
  const received = collect(sinkOut);
  let ends = 0;
  const relay = native.startOutputRelay(source, sink, () => ends++);
  try {
    fs.writeSync(sourceIn, 'a'.repeat(1000));
    await waitFor(() => received.size() === 1000, 'the first output');
    relay.pause();
    fs.writeSync(sourceIn, 'b'.repeat(1000));
    await sleep(200);
    assert.equal(received.size(), 1000, 'nothing written while paused');
    relay.resume();
    await waitFor(() => received.size() === 2000, 'the output held by the pause');
    relay.pause();
    relay.stop(); // a paused relay stops too
    fs.writeSync(sourceIn, 'c'.repeat(1000));
    await sleep(200);
    assert.equal(received.size(), 2000, 'nothing written after stop');
    relay.stop();
    relay.pause();
    relay.resume();
    assert.equal(relayThreads(), 0, 'the thread is gone once stop() returns');
  } finally {
    relay.stop();
    for (const fd of [sink, source, sourceIn]) native.closeFd(fd);
  }
  assert.equal(Buffer.concat(received.chunks).toString(), 'a'.repeat(1000) + 'b'.repeat(1000));
  await received.done;
  assert.equal(ends, 0, 'a stopped relay reports no end');
});

test('once the terminal is gone the output is read and dropped: the program never blocks, and the end still comes', async () => {
  const [source, sourceIn] = native.pipe();
  const [sinkOut, sink] = native.pipe();
  native.closeFd(sinkOut); // EPIPE on write (Node ignores SIGPIPE, and the thread blocks every signal)
  let relay: native.OutputRelay | null = null;
  const ended = new Promise<unknown>((resolve) => {
    relay = native.startOutputRelay(source, sink, resolve);
  });
  // More than a pipe holds: only a relay that keeps reading lets these writes finish.
  const writer = fs.createWriteStream('', { fd: sourceIn });
  await new Promise<void>((resolve) => writer.end(Buffer.alloc(1024 * 1024, 'x'), resolve));
  assert.equal(await ended, null);
  (relay as native.OutputRelay | null)?.stop();
  native.closeFd(source);
  native.closeFd(sink);
});

test('a read error ends the relay with a Node-style error naming the syscall', async () => {
  // A pipe's write end as the source, its reader gone (poll reports POLLERR): read() fails with EBADF.
  const [readEnd, writeEnd] = native.pipe();
  native.closeFd(readEnd);
  const [sinkOut, sink] = native.pipe();
  let relay: native.OutputRelay | null = null;
  const ended = new Promise<unknown>((resolve) => {
    relay = native.startOutputRelay(writeEnd, sink, resolve);
  });
  const err = await ended;
  (relay as native.OutputRelay | null)?.stop();
  assert.ok(native.isNativeError(err), String(err));
  assert.equal(err.code, 'EBADF');
  assert.equal(err.syscall, 'read');
  for (const fd of [writeEnd, sinkOut, sink]) native.closeFd(fd);
});

function runNode(script: string): { status: number | null; stdout: string; stderr: string } {
  const prelude = `const native = require(${JSON.stringify(LOADER)});\n`;
  const r = spawnSync(process.execPath, ['-e', prelude + script], { encoding: 'utf8', timeout: 10_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('a running relay keeps the process alive until its end; process.exit with one running does not hang', () => {
  const untilEnd = runNode(`
    const [source, sourceIn] = native.pipe();
    native.startOutputRelay(source, 1, (err) => console.log('ended', err));
    require('fs').writeSync(sourceIn, 'copied\\n');
    setTimeout(() => native.closeFd(sourceIn), 100);
  `);
  assert.equal(untilEnd.stdout, 'copied\nended null\n', untilEnd.stderr);
  assert.equal(untilEnd.status, 0);
  const exiting = runNode(`
    const [source] = native.pipe();
    native.startOutputRelay(source, 1, () => console.log('not reached'));
    setTimeout(() => process.exit(3), 50);
  `);
  assert.equal(exiting.status, 3, exiting.stderr);
  assert.equal(exiting.stdout, '');
});

test('startOutputRelay rejects bad arguments before starting anything', () => {
  assert.throws(() => native.startOutputRelay(-1, 1, () => undefined), RangeError);
  assert.throws(() => native.startOutputRelay(0, 1.5, () => undefined), RangeError);
  assert.throws(
    () => native.startOutputRelay(0, 1, null as unknown as (err: native.NativeError | null) => void),
    TypeError,
  );
  assert.equal(relayThreads(), 0);
});

test('these tests leave no fd and no relay thread behind', async () => {
  await sleep(20);
  assert.equal(relayThreads(), 0);
  assert.deepEqual([...openFds()].filter((fd) => !fdsAtStart.has(fd)).sort(), []);
});
