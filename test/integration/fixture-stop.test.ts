// The fixture under a process that is stopped: ^C on a bench, `timeout`'s SIGTERM, or `bench | head` (its stdout
// gone). Its jaid, its directories and the user's mounts under /run/jai must go with it: a leftover mount fails the
// leak check of every later test.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { REPO, TEST_USER, mountsUnder, unmountUserState } from '../helpers/fixture';
import { privilegedSkipReason } from '../helpers/privileged';

const skip = privilegedSkipReason();

interface Started {
  child: ChildProcess;
  jaid: number;
  stateDir: string;
  project: string;
  ended: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** A node process that starts a fixture, runs `jai true` in it (so the user's overlay and tmp are mounted), says so
 * on its stdout, and then waits, or (`chatty`) keeps writing to its stdout. */
async function startStoppable(chatty: boolean): Promise<Started> {
  const script = `
    const path = require('node:path');
    const { startFixture, runJai } = require(${JSON.stringify(path.join(REPO, 'dist/test/helpers/fixture.js'))});
    (async () => {
      const f = await startFixture('stop');
      const r = runJai(f, ['true']);
      if (r.status !== 0) throw new Error('jai true: ' + r.stderr);
      const info = { jaid: f.daemon.pid, stateDir: path.dirname(f.clientDir), project: f.project };
      process.stdout.write(JSON.stringify(info) + '\\n');
      setInterval(() => ${chatty ? "process.stdout.write('still here\\\\n')" : 'undefined'}, 20);
    })().catch((e) => { console.error(e); process.exit(3); });
  `;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const ended = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const line = await new Promise<string>((resolve, reject) => {
    let out = '';
    const onData = (d: Buffer): void => {
      out += d.toString();
      const newline = out.indexOf('\n');
      if (newline < 0) return;
      child.stdout.off('data', onData);
      resolve(out.slice(0, newline));
    };
    child.stdout.on('data', onData);
    void ended.then((how) => reject(new Error(`the fixture's process ended first: ${JSON.stringify(how)}`)));
  });
  const info = JSON.parse(line) as { jaid: number; stateDir: string; project: string };
  return { child, ...info, ended };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function assertNothingLeft(s: Started): void {
  assert.deepEqual(mountsUnder(`/run/jai/${TEST_USER}`), [], 'the user’s mounts');
  assert.equal(alive(s.jaid), false, 'jaid');
  assert.equal(fs.existsSync(s.stateDir), false, 'the fixture’s state dir');
  assert.equal(fs.existsSync(s.project), false, 'the project dir');
}

describe('the fixture when its process is stopped', { skip }, () => {
  const started: Started[] = [];

  after(() => {
    // What a failing case left: its process, its jaid, the user's mounts, its directories.
    for (const s of started) {
      s.child.kill('SIGKILL');
      if (alive(s.jaid)) process.kill(s.jaid, 'SIGKILL');
      fs.rmSync(s.stateDir, { recursive: true, force: true });
      fs.rmSync(s.project, { recursive: true, force: true });
    }
    unmountUserState(TEST_USER);
  });

  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)
    it(`tears down on ${signal} and exits ${code}`, async () => {
      const s = await startStoppable(false);
      started.push(s);
      assert.notDeepEqual(mountsUnder(`/run/jai/${TEST_USER}`), [], 'the session mounted the user’s state');
      s.child.kill(signal);
      assert.deepEqual(await s.ended, { code, signal: null });
      assertNothingLeft(s);
    });

  it('tears down when its stdout is gone (EPIPE) and exits 1', async () => {
    const s = await startStoppable(true);
    started.push(s);
    s.child.stdout?.destroy();
    assert.deepEqual(await s.ended, { code: 1, signal: null });
    assertNothingLeft(s);
  });
});
