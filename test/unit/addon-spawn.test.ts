// The addon's spawn (how jaid starts every helper), on real processes: the child gets exactly the fds listed, in
// order, with default signal dispositions, an empty mask and an empty environment; it is reaped through its pidfd
// only (not by libuv); failures throw and leave no child; the plan's sealed memfd reads as the data from offset 0.
import assert from 'node:assert/strict';
import { spawn as spawnProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, test } from 'node:test';

import * as native from '../../native/addon/index';
import { helperFds } from '../../daemon/session/helper-process';
import { exited } from '../helpers/child-exit';

const PROBE = path.join(__dirname, '../helpers/spawn-probe.js');
const SIGKILL = 9;

const fdsAtStart = fs.readdirSync('/proc/self/fd').length;
after(() => {
  assert.equal(fs.readdirSync('/proc/self/fd').length, fdsAtStart, 'every fd the tests opened is closed');
  assert.deepEqual(children(), [], 'every child is reaped');
});

/** This process's children (zombies included), from every thread's children list. */
function children(): string[] {
  return fs
    .readdirSync('/proc/self/task')
    .flatMap((tid) => fs.readFileSync(`/proc/self/task/${tid}/children`, 'utf8').trim().split(/\s+/))
    .filter((pid) => pid !== '');
}

interface ProbeReport {
  passed: string[];
  childFds: number[];
  childLinks: string[];
  parentSignals: Record<string, string>;
  childSignals: Record<string, string>;
  childEnviron: string;
  childCmdline: string;
}

/** Runs the probe, a process of its own, with fds 3-5 inherited and not close-on-exec. */
function probe(fds: readonly number[]): Promise<ProbeReport> {
  return new Promise((resolve, reject) => {
    const child = spawnProcess(process.execPath, [PROBE, ...fds.map(String)], {
      stdio: ['pipe', 'pipe', 'pipe', 'pipe', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) reject(new Error(`probe exited ${String(code)}: ${err}`));
      else resolve(JSON.parse(out) as ProbeReport);
    });
  });
}

test('the child gets exactly the fds listed, in order, even when a source is a lower target (swapped stdio)', async () => {
  // Targets 0-3 from [2, 1, 0, 4]: a dup2 of 2 onto 0 first would lose the probe's fd 0 before it reaches 2.
  const report = await probe([2, 1, 0, 4]);
  assert.deepEqual(report.childLinks, report.passed);
  assert.equal(new Set(report.passed).size, 4, "the probe's fds are four different pipes");
  // Not the probe's fds 3 and 5 (inherited, not close-on-exec), nor its close-on-exec ones.
  assert.deepEqual(report.childFds, [0, 1, 2, 3]);
  assert.equal(report.childEnviron, '');
  assert.equal(report.childCmdline, 'sleep\u000030\u0000');
});

test('the child has no ignored and no blocked signal (Node ignores SIGPIPE; spawn blocks every signal)', async () => {
  const report = await probe([0, 1, 2]);
  const SIGPIPE_BIT = 1n << 12n;
  // Meaningful only if the parent ignores one; the mask spawn sets around clone is always all-blocked.
  assert.notEqual(BigInt(`0x${report.parentSignals['SigIgn'] ?? '0'}`) & SIGPIPE_BIT, 0n, 'the probe ignores SIGPIPE');
  assert.equal(report.childSignals['SigBlk'], '0000000000000000');
  assert.equal(report.childSignals['SigIgn'], '0000000000000000');
  assert.deepEqual(report.childFds, [0, 1, 2]);
});

test("only the pidfd reaps the child: libuv's SIGCHLD handling (a child_process child running) leaves it", async () => {
  const sh = native.openExecutable('/bin/sh');
  try {
    // A libuv child alive while ours exits: libuv's SIGCHLD handler runs for our child's exit too.
    const other = spawnProcess('sleep', ['0.5']);
    const otherExited = new Promise((resolve) => other.on('exit', resolve));
    const ours = native.spawn(sh, ['sh', '-c', 'exit 7'], []);
    const exit = await exited(ours);
    await otherExited;
    assert.deepEqual(exit, { code: 7, signal: null });
  } finally {
    native.closeFd(sh);
  }
});

test('pidfdSignal reaches the child; once it is reaped, false (never a process that reused its pid)', async () => {
  const sleep = native.openExecutable('/bin/sleep');
  const child = native.spawn(sleep, ['sleep', '30'], []);
  try {
    assert.equal(native.pidfdWait(child.pidfd), null, 'still running');
    assert.equal(native.pidfdSignal(child.pidfd, SIGKILL), true);
    let exit: native.ChildExit | null;
    while ((exit = native.pidfdWait(child.pidfd)) === null) await new Promise((resolve) => setTimeout(resolve, 5));
    assert.deepEqual(exit, { code: null, signal: SIGKILL });
    assert.equal(native.pidfdSignal(child.pidfd, SIGKILL), false);
  } finally {
    native.closeFd(child.pidfd);
    native.closeFd(sleep);
  }
});

test('a child that cannot exec or get its fds throws with the syscall and is reaped', () => {
  const notExecutable = native.openExecutable('/etc/passwd');
  const sh = native.openExecutable('/bin/sh');
  const [r, w] = native.pipe();
  // Not open (a closed fd's number could be taken by the spawn's own pidfd before the child copies the table).
  const notOpen = 999_999;
  try {
    assert.throws(() => native.spawn(notExecutable, ['x'], []), { code: 'EACCES', syscall: 'execveat' });
    assert.throws(() => native.spawn(sh, ['sh'], [r, w, notOpen]), {
      code: 'EBADF',
      syscall: 'fcntl(F_DUPFD_CLOEXEC)',
    });
    assert.deepEqual(children(), []);
  } finally {
    native.closeFd(notExecutable);
    native.closeFd(sh);
    native.closeFd(r);
    native.closeFd(w);
  }
  assert.throws(() => native.openExecutable('/nonexistent/jai-helper'), { code: 'ENOENT', syscall: 'open' });
  assert.throws(() => native.spawn(0, [], []), { code: 'ERR_INVALID_ARG_TYPE' });
  assert.throws(
    () =>
      native.spawn(
        0,
        ['x'],
        Array.from({ length: 257 }, () => 0),
      ),
    { code: 'ERR_OUT_OF_RANGE' },
  );
  assert.throws(() => native.pidfdSignal(0, 65), { code: 'ERR_OUT_OF_RANGE' });
});

test('sealedMemfd: a child reads the data from offset 0 to EOF, and nobody can change it', async () => {
  const data = Buffer.from('jai-plan-1\0op\0run\0'.repeat(5000)); // > a pipe's 64 KiB
  const plan = native.sealedMemfd(data);
  const cat = native.openExecutable('/bin/cat');
  const [r, w] = native.pipe();
  try {
    const reader = new Promise<Buffer>((resolve) => {
      const chunks: Buffer[] = [];
      const stream = fs.createReadStream('', { fd: r, autoClose: false });
      stream.on('data', (d) => chunks.push(Buffer.from(d)));
      stream.on('end', () => resolve(Buffer.concat(chunks)));
    });
    const child = native.spawn(cat, ['cat'], helperFds({ plan, devNull: w, diagnostics: w, status: w }, []));
    native.closeFd(w);
    assert.deepEqual(await exited(child), { code: 0, signal: null });
    assert.ok((await reader).equals(data));
    assert.throws(() => fs.writeFileSync(`/proc/self/fd/${plan}`, 'x'), { code: 'EPERM' });
    assert.throws(() => fs.writeSync(plan, 'x', 0), /EPERM|EBADF/);
  } finally {
    native.closeFd(plan);
    native.closeFd(cat);
    native.closeFd(r);
  }
});

test('helperFds: plan, /dev/null, diagnostics, status, then the client fds in order', () => {
  assert.deepEqual(
    helperFds({ plan: 10, devNull: 11, diagnostics: 12, status: 13 }, [7, 3, 9]),
    [10, 11, 12, 13, 7, 3, 9],
  );
});
