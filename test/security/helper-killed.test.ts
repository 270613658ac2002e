// Faults: the session helper SIGKILLed at varying points of its setup, in every mode. The client must not hang: it
// exits non-zero with the helper's failure when the kill came before the program ran; the audit row is closed as
// failed; nothing of the session keeps running (helper, jai-init, the program); what the killed helpers left
// mounted under /run/jai/<user> is reused by the next session and removed by `jai -u`; jaid goes on serving.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { mountsUnder, runJai, spawnJai, startFixture, type Fixture } from '../helpers/fixture';
import { privilegedSkipReason } from '../helpers/privileged';
import { cgroupBases, eventually, leftCgroups, processesOfUid, sessionRows } from './faults';
import { closed } from '../helpers/child-exit';
import { MODES } from './jail-modes';

const skip = privilegedSkipReason();
const KILLS_PER_MODE = Number(process.env['JAI_HELPER_KILLS'] ?? 20);
/** Spin this long (ms) after the helper was first seen before the kill; cycled through, so stages differ. */
const DELAYS_MS = [0, 0.2, 0.5, 1, 2, 3, 4, 6, 8, 10, 13, 16, 20, 25, 30, 40, 50, 70, 100, 150];

function readOrNull(file: string): string | null {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}

/** The children of a process (every thread's), from /proc/PID/task/TID/children. */
function childrenOf(pid: number): number[] {
  let tasks: string[];
  try {
    tasks = fs.readdirSync(`/proc/${pid}/task`);
  } catch {
    return [];
  }
  return tasks.flatMap((tid) =>
    (readOrNull(`/proc/${pid}/task/${tid}/children`) ?? '')
      .split(' ')
      .filter((s) => s !== '')
      .map(Number),
  );
}

const commOf = (pid: number): string => readOrNull(`/proc/${pid}/comm`)?.trim() ?? '';

/**
 * Pid and start time (field 22 of stat) of a live process: a pid reused by another process does not count as the
 * same one; a zombie (exited, not yet reaped) counts as gone.
 */
function identity(pid: number): string | null {
  const stat = readOrNull(`/proc/${pid}/stat`);
  if (stat === null) return null;
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return fields[0] === 'Z' ? null : `${pid}:${fields[19] ?? ''}`;
}

function tree(pid: number): number[] {
  return [pid, ...childrenOf(pid).flatMap(tree)];
}

/** Where the helper was when it was killed: still in its host/jail setup, init created, or the program running. */
type Stage = 'setup' | 'init' | 'program';

function stageOf(helper: number): Stage {
  const init = childrenOf(helper).find((c) => commOf(c) === 'jai-init');
  if (init === undefined) return 'setup';
  return childrenOf(init).length > 0 ? 'program' : 'init';
}

/** Spins until jaid has a jai-helper child (null after timeoutMs). Synchronous: a timer would be far too coarse. */
function waitForHelper(daemon: number, timeoutMs: number): number | null {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const helper = childrenOf(daemon).find((c) => commOf(c) === 'jai-helper');
    if (helper !== undefined) return helper;
  }
  return null;
}

function spin(ms: number): void {
  const until = process.hrtime.bigint() + BigInt(Math.round(ms * 1e6));
  while (process.hrtime.bigint() < until);
}

describe('faults: the session helper killed during setup', { skip }, () => {
  let f: Fixture;
  const tally: Record<string, Record<Stage | 'missed' | 'beforeExec', number>> = {};
  before(async () => {
    f = await startFixture('sec-helperkill');
  });
  after(async () => {
    console.log(`helper kills by stage: ${JSON.stringify(tally)}`);
    await f.teardown();
  });

  for (const mode of MODES) {
    it(`${mode}: the client fails (not hangs), the session is recorded failed, nothing is left running or mounted`, async () => {
      const counts: Record<Stage | 'missed' | 'beforeExec', number> = {
        setup: 0,
        init: 0,
        program: 0,
        missed: 0,
        beforeExec: 0,
      };
      tally[mode] = counts;
      const daemon = f.daemon.pid ?? 0;
      for (let i = 0; i < KILLS_PER_MODE; i++) {
        const rowsBefore = sessionRows(f.auditDb).length;
        const client = spawnJai(f, ['-m', mode, 'sh', '-c', 'echo RAN; sleep 0.1']);
        let out = '';
        let err = '';
        client.stdout?.on('data', (d: Buffer) => (out += d.toString()));
        client.stderr?.on('data', (d: Buffer) => (err += d.toString()));
        client.stdin?.end();
        const helper = waitForHelper(daemon, 15_000);
        assert.ok(helper !== null, `no helper seen (${mode}, run ${i})`);
        spin(DELAYS_MS[i % DELAYS_MS.length] ?? 0);
        // Everything of this session as it is at the kill: all of it must be gone afterwards.
        const seen = tree(helper)
          .map(identity)
          .filter((id) => id !== null);
        const stage = stageOf(helper);
        let killed = true;
        try {
          process.kill(helper, 'SIGKILL');
        } catch {
          killed = false; // the session ended first
        }
        const timeout = setTimeout(() => client.kill('SIGKILL'), 20_000);
        await closed(client);
        clearTimeout(timeout);
        assert.notEqual(client.signalCode, 'SIGKILL', `the client hung (${mode}, run ${i}, ${stage}): ${err}`);
        const ran = out.includes('RAN');
        counts[!killed ? 'missed' : stage]++;
        const row = sessionRows(f.auditDb).slice(rowsBefore).at(-1);
        assert.ok(row, `an audit row (${mode}, run ${i})`);
        assert.notEqual(row.outcome, 'running', `the row is closed (${mode}, run ${i})`);
        if (killed && !ran) {
          counts.beforeExec++;
          // The kill came before the program ran (or before its output was passed on): a setup failure.
          assert.equal(client.exitCode, 125, `${mode}, run ${i}, ${stage}: ${err}`);
          assert.match(err, /^jai: (sandbox helper ended with signal SIGKILL|cannot set up the sandbox)/m);
          assert.equal(row.outcome, 'failed', JSON.stringify(row));
          assert.equal(row.error_code, 'HELPER_FAILED');
        } else if (client.exitCode !== 0) {
          // Killed while the program ran: the session fails, it does not hang.
          assert.equal(row.outcome, 'failed', JSON.stringify(row));
        }
        // A killed init may stay a zombie for a moment until PID 1 reaps it: it has exited, it holds nothing.
        const isLive = (id: string): boolean => identity(Number(id.split(':')[0])) === id;
        await eventually(() => !seen.some(isLive), 5000);
        const alive = seen.filter(isLive);
        assert.deepEqual(alive, [], `processes of the killed session left (${mode}, run ${i}, ${stage})`);
        // Nothing runs as the user any more (the program of casual and bare sessions; strict runs as `jai`).
        await eventually(() => processesOfUid(f.user.uid).length === 0, 5000);
        assert.deepEqual(processesOfUid(f.user.uid), [], `the user's processes (${mode}, run ${i}, ${stage})`);
        assert.deepEqual(
          childrenOf(daemon).filter((c) => commOf(c).startsWith('jai-') && commOf(c) !== 'jai-zygote'),
          [],
          'no helper left under jaid (its zygote stays: a SIGKILL is not a crash)',
        );
      }
      // The killed sessions' cgroups are removed too (asynchronously, with retries, once the session ended).
      const ids = sessionRows(f.auditDb).map((r) => r.id);
      const bases = cgroupBases(f.daemonLog());
      assert.ok(await eventually(() => leftCgroups(bases, ids).length === 0, 5000), leftCgroups(bases, ids).join(' '));
      // What killed helpers left behind does not stop the next session, and `jai -u` removes all of it.
      const next = runJai(f, ['-m', mode, 'sh', '-c', 'echo fine']);
      assert.equal(next.status, 0, next.stderr);
      assert.equal(next.stdout, 'fine\n');
      const teardown = runJai(f, ['-u']);
      assert.equal(teardown.status, 0, `jai -u: ${teardown.stderr}`);
      assert.deepEqual(mountsUnder(`/run/jai/${f.user.name}`), [], 'no mount left after jai -u');
      assert.equal(counts.setup + counts.init + counts.program + counts.missed, KILLS_PER_MODE);
    });
  }
});
