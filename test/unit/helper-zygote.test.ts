// The helper's zygote (`jai-helper --zygote`, helper/zygote.c, daemon/session/helper-zygote.ts), on the real
// helper binary: a forked helper is this process's child with exactly the request's fds; a bad request gets
// `error 22` and the zygote serves the next one; it exits at its socket's EOF; a crash replaces it; a zygote that
// dies leaves its unanswered requests failed and the next helpers exec'd. The answer parser is pure.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { after, describe, it } from 'node:test';
import pino from 'pino';
import * as native from '../../native/addon/index';
import { openHelperBinary, type HelperBinary } from '../../daemon/helper-binary';
import { HelperProcess, type HelperExit } from '../../daemon/session/helper-process';
import { Session, type SessionResult } from '../../daemon/session/session';
import {
  HelperZygote,
  MAX_FORKS_PER_ZYGOTE,
  type HelperForker,
  isCrashSignal,
  parseAnswer,
  type ForkAnswer,
} from '../../daemon/session/helper-zygote';
import { exited } from '../helpers/child-exit';
import { privilegedSkipReason } from '../helpers/privileged';

const HELPER = path.join(__dirname, '../../../native/build/jai-helper');
const ENOMEM = os.constants.errno.ENOMEM;

const HANDLE = { pid: 1 };

describe('parseAnswer', () => {
  const fd = 99;
  it('reads `pid N` with one fd', () => {
    assert.deepEqual(parseAnswer(Buffer.from('pid 4242'), [fd], HANDLE), {
      ok: true,
      spawned: { pid: 4242, pidfd: fd },
      from: HANDLE,
    });
  });
  it('reads `error ERRNO` without fds, naming the errno', () => {
    const answer = parseAnswer(Buffer.from(`error ${ENOMEM}`), [], HANDLE);
    assert.ok(!(answer instanceof Error) && !answer.ok);
    assert.match(answer.error.message, /could not fork \(ENOMEM\)/);
  });
  for (const [text, fds] of [
    ['pid 4242', []],
    ['pid 4242', [fd, fd + 1]],
    ['pid 0', [fd]],
    ['pid -1', [fd]],
    ['pid 01', [fd]],
    ['pid 4242 ', [fd]],
    ['pid 12345678901', [fd]],
    [`error ${ENOMEM}`, [fd]],
    ['error 0', []],
    ['error x', []],
    ['spawn', []],
    ['', []],
  ] as const) {
    it(`refuses ${JSON.stringify(text)} with ${fds.length} fds`, () => {
      assert.ok(parseAnswer(Buffer.from(text), fds, HANDLE) instanceof Error);
    });
  }
});

describe('isCrashSignal', () => {
  it('is true for the signals of a crash only, by number (6 is SIGABRT and SIGIOT)', () => {
    for (const s of ['SIGSEGV', 'SIGBUS', 'SIGILL', 'SIGFPE', 'SIGABRT', 'SIGIOT', 'SIGSYS', 'SIGTRAP'] as const)
      assert.ok(isCrashSignal(os.constants.signals[s]), s);
    for (const s of ['SIGKILL', 'SIGTERM', 'SIGHUP'] as const) assert.ok(!isCrashSignal(os.constants.signals[s]), s);
    assert.ok(!isCrashSignal(null));
  });
});

const skip = privilegedSkipReason();

/** This process's children (zombies included). */
function children(): number[] {
  return fs
    .readdirSync('/proc/self/task')
    .flatMap((tid) => fs.readFileSync(`/proc/self/task/${tid}/children`, 'utf8').trim().split(/\s+/))
    .filter((pid) => pid !== '')
    .map(Number);
}

function spinMs(ms: number): void {
  const end = process.hrtime.bigint() + BigInt(ms * 1e6);
  while (process.hrtime.bigint() < end);
}

/** Read through a call: the assertions above narrow `z.pid` itself. */
/** The zygote's pid read through a call: an assertion on `z.pid` would narrow it for the reads after a change. */
const pidOf = (z: HelperZygote): number | null => z.pid;

function procStatus(pid: number, field: string): string | null {
  try {
    return new RegExp(`^${field}:\\s+(.*)$`, 'm').exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? null;
  } catch {
    return null;
  }
}

async function until(what: string, check: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

function logSink(): { log: pino.Logger; messages: string[] } {
  const messages: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean))
        messages.push((JSON.parse(line) as { msg: string }).msg);
      done();
    },
  });
  return { log: pino({ level: 'debug' }, sink), messages };
}

/** The pieces of one helper request: fds 0–3 as jaid gives them, the plan on a pipe we write. */
interface Request {
  fds: number[];
  planWrite: number;
  diagnosticsRead: number;
  status: number;
  /** Our copies of `fds`, once the zygote has its own (as jaid closes them), so that the pipes can reach EOF. */
  sent(): void;
  /** Closes the plan's write end: the helper reads EOF. */
  endPlan(): void;
  close(): void;
}

function request(): Request {
  const [planRead, planWrite] = native.pipe();
  const [diagnosticsRead, diagnosticsWrite] = native.pipe();
  const [status, statusTheirs] = native.seqpacketPair();
  const devNull = fs.openSync('/dev/null', 'r+');
  const fds = [planRead, devNull, diagnosticsWrite, statusTheirs];
  const open = new Set([...fds, planWrite, diagnosticsRead, status]);
  const closeAll = (list: readonly number[]): void => {
    for (const fd of list) if (open.delete(fd)) native.closeFd(fd);
  };
  return {
    fds,
    planWrite,
    diagnosticsRead,
    status,
    sent: () => {
      closeAll(fds);
    },
    endPlan: () => {
      closeAll([planWrite]);
    },
    close: () => {
      closeAll([...open]);
    },
  };
}

/** Packets on a non-blocking SEQPACKET socket as they come. */
async function nextPacket(fd: number, ms = 5000): Promise<native.Received> {
  const got: { packet: native.Received | null } = { packet: null };
  await until('a packet', () => (got.packet = native.recvMessage(fd, 4096, 1)) !== null, ms);
  assert.ok(got.packet !== null);
  return got.packet;
}

describe('the helper zygote', { skip }, () => {
  const held: { binary: HelperBinary | null } = { binary: null };
  const opened = (): HelperBinary => {
    if (held.binary !== null) return held.binary;
    const result = openHelperBinary(HELPER);
    assert.ok(result.ok, result.ok ? '' : result.message);
    held.binary = result.binary;
    return result.binary;
  };
  const zygotes: HelperZygote[] = [];
  const zygote = (log = logSink().log): HelperZygote => {
    const z = new HelperZygote(opened(), log);
    zygotes.push(z);
    return z;
  };
  /** A zygote, started, and its pid. */
  const startedZygote = (log = logSink().log): { z: HelperZygote; pid: number } => {
    const z = zygote(log);
    assert.ok(z.start());
    const pid = z.pid;
    assert.ok(pid !== null);
    return { z, pid };
  };
  after(async () => {
    for (const z of zygotes) z.close();
    // Each zygote exits at its socket's EOF (or was killed) and is reaped through its pidfd.
    await until('every child reaped', () => children().length === 0);
    if (held.binary !== null) native.closeFd(held.binary.fd);
  });

  it('forks a helper that is our child, with exactly the request’s fds, running the helper’s main', async () => {
    const { z, pid: zygotePid } = startedZygote();
    assert.equal(procStatus(zygotePid, 'PPid'), String(process.pid));
    await until('the zygote named', () => procStatus(zygotePid, 'Name') === 'jai-zygote');
    const r = request();
    const answer = await new Promise<ForkAnswer>((resolve) => {
      assert.ok(z.request(r.fds, resolve));
      r.sent();
    });
    assert.ok(answer.ok);
    const { pid } = answer.spawned;
    const exit = exited(answer.spawned);
    // Blocked reading its plan: our child (CLONE_PARENT), named and holding fds 0–3 only.
    await until('the helper named', () => procStatus(pid, 'Name') === 'jai-helper');
    assert.equal(procStatus(pid, 'PPid'), String(process.pid));
    assert.deepEqual(
      fs
        .readdirSync(`/proc/${pid}/fd`)
        .map(Number)
        .sort((a, b) => a - b),
      [0, 1, 2, 3],
    );
    fs.writeSync(r.planWrite, 'not a plan');
    r.endPlan();
    assert.deepEqual(await exit, { code: 125, signal: null });
    const record = await nextPacket(r.status);
    assert.match(record.data.toString(), /^error 125 plan: not a jai-plan-1 plan/);
    assert.match(fs.readFileSync(r.diagnosticsRead, 'utf8'), /jai-helper: plan: not a jai-plan-1 plan/);
    r.close();
    assert.equal(z.forks, 1);
    assert.equal(z.pid, zygotePid, 'the same zygote serves on');
  });

  it('answers a bad request with `error 22` and serves the next one; exits 0 at EOF', async () => {
    const [ctl, theirs] = native.seqpacketPair();
    const devNull = fs.openSync('/dev/null', 'r+');
    const zygoteProcess = native.spawn(opened().fd, ['jai-helper', '--zygote'], [devNull, devNull, devNull, theirs]);
    native.closeFd(theirs);
    const zygoteExit = exited(zygoteProcess);
    const r = request();
    for (const [data, fds] of [
      ['spawn', r.fds.slice(0, 3)],
      ['spawn', []],
      ['spawnx', r.fds],
      ['spaw', r.fds],
      ['', r.fds],
    ] as const) {
      assert.ok(native.sendMessage(ctl, Buffer.from(data), fds));
      const answer = await nextPacket(ctl);
      assert.equal(answer.data.toString(), 'error 22', `${JSON.stringify(data)} with ${fds.length} fds`);
      assert.deepEqual(answer.fds, []);
    }
    assert.ok(native.sendMessage(ctl, Buffer.from('spawn'), r.fds));
    r.sent();
    const answer = await nextPacket(ctl);
    const parsed = parseAnswer(answer.data, answer.fds, HANDLE);
    assert.ok(!(parsed instanceof Error) && parsed.ok, answer.data.toString());
    r.endPlan();
    assert.deepEqual(await exited(parsed.spawned), { code: 125, signal: null });
    native.closeFd(ctl);
    assert.deepEqual(await zygoteExit, { code: 0, signal: null });
    native.closeFd(devNull);
    r.close();
  });

  it('forks at most 64 helpers per zygote: a burst goes on with its successor', async () => {
    const { z, pid: first } = startedZygote();
    const r = request();
    const answers: ForkAnswer[] = [];
    const sent = MAX_FORKS_PER_ZYGOTE + 36;
    process.kill(first, 'SIGSTOP');
    let second: number | null = null;
    try {
      for (let i = 0; i < sent; i++) {
        assert.ok(z.request(r.fds, (answer) => answers.push(answer)));
        if (i === MAX_FORKS_PER_ZYGOTE - 1) second = z.pid;
      }
    } finally {
      process.kill(first, 'SIGCONT');
    }
    r.sent();
    assert.ok(second !== null && second !== first, 'its successor takes the requests after the 64th');
    await until('every request answered', () => answers.length === sent, 30_000);
    const spawned = answers.map((a) => {
      assert.ok(a.ok);
      return a;
    });
    assert.equal(spawned.filter((a) => a.from.pid === first).length, MAX_FORKS_PER_ZYGOTE);
    assert.equal(spawned.filter((a) => a.from.pid === second).length, sent - MAX_FORKS_PER_ZYGOTE);
    r.endPlan();
    for (const exit of await Promise.all(spawned.map((a) => exited(a.spawned))))
      assert.deepEqual(exit, { code: 125, signal: null });
    r.close();
    // Its last answer read, the first exits at its socket's EOF.
    await until('the retired zygote gone', () => !children().includes(first));
  });

  it('reads what a killed zygote answered before the rest of its requests fail', async () => {
    const { z, pid: zygotePid } = startedZygote();
    const a = request();
    const b = request();
    const answers: { a?: ForkAnswer; b?: ForkAnswer } = {};
    // One synchronous stretch, so that jaid's side reads nothing meanwhile: A answered, B queued unread, then killed.
    assert.ok(z.request(a.fds, (answer) => (answers.a = answer)));
    a.sent();
    const until0 = Date.now() + 300;
    while (Date.now() < until0 && !/^State:\s+S/m.test(fs.readFileSync(`/proc/${zygotePid}/status`, 'utf8')));
    spinMs(50);
    process.kill(zygotePid, 'SIGSTOP');
    assert.ok(z.request(b.fds, (answer) => (answers.b = answer)));
    b.sent();
    process.kill(zygotePid, 'SIGKILL');
    await until('both answered', () => answers.a !== undefined && answers.b !== undefined);
    assert.ok(answers.a?.ok, 'the answer sent before it died is read (past ECONNRESET)');
    assert.ok(answers.b !== undefined && !answers.b.ok);
    a.endPlan();
    assert.deepEqual(await exited(answers.a.spawned), { code: 125, signal: null });
    a.close();
    b.close();
  });

  it('is replaced when a helper it forked crashes (an abort: signal 6, whatever its name)', async () => {
    const { log, messages } = logSink();
    const { z, pid: first } = startedZygote(log);
    const r = request();
    const answer = await new Promise<ForkAnswer>((resolve) => {
      assert.ok(z.request(r.fds, resolve));
      r.sent();
    });
    assert.ok(answer.ok);
    // The helper blocks reading its plan; an abort (what a detected stack smash ends in) kills it.
    await until('the helper named', () => procStatus(answer.spawned.pid, 'Name') === 'jai-helper');
    z.helperEnded(os.constants.signals.SIGTERM, answer.from);
    assert.equal(pidOf(z), first, 'an ordinary signal keeps it');
    native.pidfdSignal(answer.spawned.pidfd, os.constants.signals.SIGABRT);
    const exit = await exited(answer.spawned);
    assert.equal(exit.signal, os.constants.signals.SIGABRT);
    z.helperEnded(exit.signal, answer.from);
    assert.ok(messages.some((m) => /crashed: zygote replaced/.test(m)));
    const second = pidOf(z);
    assert.ok(second !== null && second !== first, 'its successor is started at once');
    // The old one exits at its socket's EOF (it had no request left to answer).
    await until('the old zygote gone', () => !children().includes(first));
    r.close();
  });

  it('fails the requests a dying zygote has not answered; the helpers are then exec’d', async () => {
    const { log, messages } = logSink();
    const { z, pid: zygotePid } = startedZygote(log);
    const b: HelperBinary = { ...opened(), zygote: z };
    process.kill(zygotePid, 'SIGSTOP');
    const [status, statusTheirs] = native.seqpacketPair();
    const seen = { exit: null as HelperExit | null, diagnostics: '' };
    const exitSeen = (): HelperExit | null => seen.exit;
    const helper = HelperProcess.start(b, Buffer.from('not a plan'), statusTheirs, [], {
      onExit: (exit) => (seen.exit = exit),
      onDiagnostics: (text) => (seen.diagnostics += text),
    });
    assert.equal(helper.pid, null, 'asked, not answered');
    assert.ok(helper.kill('SIGTERM'), 'a signal before the answer is kept for it');
    process.kill(zygotePid, 'SIGKILL');
    await until('the request failed', () => exitSeen() !== null);
    assert.equal(exitSeen()?.code, null);
    assert.equal(exitSeen()?.signal, null);
    // Whichever jaid sees first: the socket's EOF or the exit.
    assert.match(exitSeen()?.notStarted ?? '', /the helper zygote exited|helper zygote closed its socket/);
    assert.ok(messages.some((m) => /(helper zygote exited|closed its socket): helpers are exec’d for now/.test(m)));
    assert.equal(z.pid, null);

    // Within the back-off the helper is exec'd: it runs and refuses the plan as a forked one would.
    const forks = z.forks;
    const execdExit = new Promise<HelperExit>((resolve) => {
      const execd = HelperProcess.start(b, Buffer.from('not a plan'), statusTheirs, [], {
        onExit: resolve,
        onDiagnostics: () => undefined,
      });
      assert.ok(execd.pid !== null, 'exec’d: its pid is known at once');
    });
    assert.deepEqual(await execdExit, { code: 125, signal: null });
    assert.equal(z.forks, forks);
    assert.equal(z.pid, null, 'no new zygote within the back-off');
    native.closeFd(status);
    native.closeFd(statusTheirs);
  });

  it('ends a session whose helper a dying zygote never forked: HELPER_FAILED, its status socket closed', async () => {
    const { z, pid: zygotePid } = startedZygote();
    process.kill(zygotePid, 'SIGSTOP');
    const ended = new Promise<SessionResult>((resolve) => {
      const session = new Session('t', { ...opened(), zygote: z }, logSink().log, {
        onStarted: () => assert.fail('not started'),
        onStopped: () => assert.fail('not stopped'),
        onNotice: () => undefined,
        onExited: () => assert.fail('no program ran'),
        onEnded: (result) => {
          resolve(result);
        },
      });
      session.start(Buffer.from('not a plan'), []);
    });
    process.kill(zygotePid, 'SIGKILL');
    const result = await ended;
    assert.ok(result.kind === 'failed', JSON.stringify(result));
    assert.equal(result.failure.code, 'HELPER_FAILED');
    assert.match(
      result.failure.message,
      /^cannot start the sandbox helper: (the helper zygote exited|helper zygote closed)/,
    );
  });

  it('HelperProcess: the diagnostics of a forked and of an exec’d helper reach onDiagnostics', async () => {
    const { z } = startedZygote();
    for (const binary of [{ ...opened(), zygote: z }, opened()]) {
      const [status, statusTheirs] = native.seqpacketPair();
      const seen = { exit: null as HelperExit | null, diagnostics: '' };
      HelperProcess.start(binary, Buffer.from('not a plan'), statusTheirs, [], {
        onExit: (exit) => (seen.exit = exit),
        onDiagnostics: (text) => (seen.diagnostics += text),
      });
      native.closeFd(statusTheirs);
      await until('the helper’s diagnostics', () => /plan: not a jai-plan-1 plan/.test(seen.diagnostics));
      await until('the helper’s exit', () => seen.exit !== null);
      assert.deepEqual(seen.exit, { code: 125, signal: null }, binary.zygote === undefined ? 'exec’d' : 'forked');
      native.closeFd(status);
    }
  });

  it('HelperProcess: signals asked before the answer reach the helper; its crash is reported by number', async () => {
    const sleep = native.openExecutable('/bin/sleep');
    const handle = { pid: 77 };
    const reported: { signo: number | null; from: unknown }[] = [];
    const pending: { answer: ((a: ForkAnswer) => void) | null } = { answer: null };
    const forker: HelperForker = {
      request: (_fds, onAnswer) => {
        pending.answer = onAnswer;
        return true;
      },
      execd: () => assert.fail('not exec’d'),
      helperEnded: (signo, from) => reported.push({ signo, from }),
    };
    const [status, statusTheirs] = native.seqpacketPair();
    const exit = new Promise<HelperExit>((resolve) => {
      const helper = HelperProcess.start({ ...opened(), zygote: forker }, Buffer.from('x'), statusTheirs, [], {
        onExit: resolve,
        onDiagnostics: () => undefined,
      });
      assert.ok(helper.kill('SIGABRT'), 'kept until the answer');
      const devNull = fs.openSync('/dev/null', 'r');
      const child = native.spawn(sleep, ['sleep', '30'], [devNull, devNull, devNull]);
      fs.closeSync(devNull);
      assert.ok(pending.answer !== null);
      pending.answer({ ok: true, spawned: child, from: handle });
    });
    const ended = await exit;
    assert.equal(ended.code, null);
    assert.ok(ended.signal === 'SIGABRT' || ended.signal === 'SIGIOT', String(ended.signal));
    assert.deepEqual(reported, [{ signo: os.constants.signals.SIGABRT, from: handle }]);
    native.closeFd(status);
    native.closeFd(statusTheirs);
    native.closeFd(sleep);
  });
});
