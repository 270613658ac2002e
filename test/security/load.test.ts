// Load: 1,000 sessions of `true` from three users, 50 at once, through a real jaid, by the client library (a
// worker per user, running as that user). No failure; every session recorded (started and ended); jaid's fd count
// back where it was, no helper, program, cgroup or (after `jai -u`) mount left. Prints the numbers
// docs/threat-model.md records. JAI_LOAD_USERS (comma-separated), JAI_LOAD_SESSIONS, JAI_LOAD_CONCURRENCY override.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ensureTestUser, mountsUnder, runJai, startFixture, type Fixture, type TestUser } from '../helpers/fixture';
import { privilegedSkipReason } from '../helpers/privileged';
import {
  cgroupBases,
  eventually,
  fdCount,
  helpersOf,
  integrityCheck,
  leftCgroups,
  processesOfUid,
  rssKiB,
  sessionRows,
} from './faults';

const skip = privilegedSkipReason();
const USERS = (process.env['JAI_LOAD_USERS'] ?? 'jaifault1,jaifault2,jaifault3').split(',').filter(Boolean);
const SESSIONS = Number(process.env['JAI_LOAD_SESSIONS'] ?? 1000);
const CONCURRENCY = Number(process.env['JAI_LOAD_CONCURRENCY'] ?? 50);
/**
 * max_sessions per user must allow each user's share of the concurrency. Each user's share (17 at once, ~14
 * sessions/s) also stays under jaid's default per-uid in-flight and spawn-rate limits.
 */
const LOAD_LIMITS = ['--spawn-rate', '1000', '--spawn-burst', '1000', '--max-setups-per-uid', '64'];
const POLICY = `[defaults]\nmax_sessions = ${CONCURRENCY + 16}\n`;

interface WorkerResult {
  ok: number;
  failed: number;
  errors: string[];
  spawnMs: number[];
  totalMs: number[];
}

/** Splits n into `parts` near-equal shares. */
function shares(n: number, parts: number): number[] {
  return Array.from({ length: parts }, (_, i) => Math.floor(n / parts) + (i < n % parts ? 1 : 0));
}

const quantile = (sorted: readonly number[], q: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;

interface LoadUser extends TestUser {
  project: string;
}

function runWorker(f: Fixture, user: LoadUser, count: number, concurrency: number): Promise<WorkerResult> {
  const child = spawn(
    process.execPath,
    [path.join(f.clientDir, 'dist/test/security/load-worker.js'), String(count), String(concurrency)],
    {
      cwd: user.project,
      uid: user.uid,
      gid: user.gid,
      env: { HOME: user.home, USER: user.name, LOGNAME: user.name, PATH: '/usr/bin:/bin', JAI_SOCKET: f.socket },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((resolve, reject) => {
    child.on('close', (code) => {
      if (code !== 0) reject(new Error(`load worker of ${user.name} exited ${String(code)}: ${err}`));
      else resolve(JSON.parse(out) as WorkerResult);
    });
  });
}

describe('load: 1,000 sessions from three users, 50 at once', { skip }, () => {
  let f: Fixture;
  let users: LoadUser[] = [];
  before(async () => {
    // A load test, not a flood: per-uid spawn limits well above what it starts (the defaults are 20/s, bursts of 40).
    f = await startFixture('sec-load', process.env, { policy: POLICY, daemonArgs: LOAD_LIMITS });
    users = USERS.map((name) => {
      const user = name === f.user.name ? f.user : ensureTestUser(name);
      const project = name === f.user.name ? f.project : path.join(user.home, 'proj-sec-load');
      if (project !== f.project) {
        fs.rmSync(project, { recursive: true, force: true });
        fs.mkdirSync(project);
        fs.chownSync(project, user.uid, user.gid);
      }
      return { ...user, project };
    });
  });
  after(async () => {
    // The other users' state: their sessions' mounts and project dirs (the fixture cleans up its own user's).
    for (const user of users.filter((u) => u.name !== f.user.name)) {
      runJai(f, ['-u'], { as: user });
      fs.rmSync(user.project, { recursive: true, force: true });
      fs.rmSync(path.join(user.home, '.jai'), { recursive: true, force: true });
    }
    await f.teardown();
    for (const user of users)
      assert.deepEqual(mountsUnder(`/run/jai/${user.name}`), [], `mounts of ${user.name} left after teardown`);
  });

  it('runs them all without a failure, records each, and leaks no fd, process, cgroup or mount', async () => {
    const jaid = f.daemon.pid ?? 0;
    // Warm: each user's overlay and tmp are mounted, every lazily opened fd of jaid is open.
    await Promise.all(users.map((u) => runWorker(f, u, 2, 2)));
    await eventually(() => helpersOf(jaid).length === 0, 5000);
    const rowsBefore = sessionRows(f.auditDb).length;
    const fdsBefore = fdCount(jaid);
    const rssBefore = rssKiB(jaid);

    const counts = shares(SESSIONS, users.length);
    const lanes = shares(CONCURRENCY, users.length);
    const t0 = process.hrtime.bigint();
    const results = await Promise.all(users.map((u, i) => runWorker(f, u, counts[i] ?? 0, lanes[i] ?? 1)));
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const rssAfter = rssKiB(jaid);

    const failed = results.reduce((n, r) => n + r.failed, 0);
    const ok = results.reduce((n, r) => n + r.ok, 0);
    assert.equal(failed, 0, results.flatMap((r) => r.errors).join('\n'));
    assert.equal(ok, SESSIONS);

    // Settled: every session's helper reaped and its connection closed.
    await eventually(() => helpersOf(jaid).length === 0, 10_000);
    assert.deepEqual(helpersOf(jaid), [], 'helpers left under jaid');
    await eventually(() => fdCount(jaid) <= fdsBefore, 10_000);
    const fdsAfter = fdCount(jaid);

    const rows = sessionRows(f.auditDb).slice(rowsBefore);
    assert.equal(rows.length, SESSIONS, 'one audit row per session');
    assert.deepEqual(
      rows.filter((r) => r.outcome !== 'exited' || r.exit_code !== 0 || r.ended_at === null).map((r) => r.id),
      [],
      'every row started and ended (exited 0)',
    );
    assert.deepEqual(integrityCheck(f.auditDb), ['ok']);
    const bases = cgroupBases(f.daemonLog());
    const ids = rows.map((r) => r.id);
    assert.ok(await eventually(() => leftCgroups(bases, ids).length === 0, 10_000), 'session cgroups left');
    for (const user of users) {
      assert.deepEqual(processesOfUid(user.uid), [], `processes of ${user.name} left`);
      const teardown = runJai(f, ['-u'], { as: user });
      assert.equal(teardown.status, 0, `jai -u as ${user.name}: ${teardown.stderr}`);
      assert.deepEqual(mountsUnder(`/run/jai/${user.name}`), [], `mounts of ${user.name} left`);
    }

    const spawnMs = results.flatMap((r) => r.spawnMs).sort((a, b) => a - b);
    const totalMs = results.flatMap((r) => r.totalMs).sort((a, b) => a - b);
    const numbers = [
      `load: ${SESSIONS} sessions of true, ${users.length} users (${users.map((u) => u.name).join(', ')}), ${CONCURRENCY} concurrent, ${ok} ok, ${failed} failed`,
      `load: total ${seconds.toFixed(1)} s, ${(SESSIONS / seconds).toFixed(1)} sessions/s`,
      `load: spawn latency (request to Started) p50 ${quantile(spawnMs, 0.5).toFixed(1)} ms, p99 ${quantile(spawnMs, 0.99).toFixed(1)} ms, max ${quantile(spawnMs, 1).toFixed(1)} ms`,
      `load: session time (request to exit) p50 ${quantile(totalMs, 0.5).toFixed(1)} ms, p99 ${quantile(totalMs, 0.99).toFixed(1)} ms`,
      `load: jaid RSS ${(rssBefore / 1024).toFixed(1)} MiB before, ${(rssAfter / 1024).toFixed(1)} MiB after; fds ${fdsBefore} before, ${fdsAfter} after`,
    ];
    console.log(numbers.join('\n'));
    assert.equal(fdsAfter, fdsBefore, 'jaid has as many fds as before the load');
  });
});
