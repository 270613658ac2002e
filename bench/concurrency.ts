// 200 sessions started at once by 3 users (jaibench1..3, created when missing): one worker process per user, running
// as that user, starts its share of `true` sessions through the client library (client/sdk) all at once, so that
// jaid sees the burst without 200 node starts in front of it. Prints: failures, spawn latency (request → Started as
// the worker saw it, and jaid's own request → started from /metrics), p50/p99; jaid's RSS (before, peak, after) and
// open fds (before, after the sessions ended); and the audit rows written. The policy allows 100 sessions per user.
// Then, for comparison in the same run, the same burst in no jail: the same workers start `true` themselves with
// child_process.spawn (what a Node harness pays without jai); and as many `/bin/true` and `unshare -m -p -f
// --mount-proc true` started at once by one shell.
// Run as root after `npm run build`: node dist/bench/concurrency.js [SESSIONS=200] [USERS=3]
import './concurrency-user';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import {
  ensureTestUser,
  runJai,
  startFixture,
  unmountUserState,
  type Fixture,
  type TestUser,
} from '../test/helpers/fixture';
import { fmt, histogramDelta, quantile, readMetrics, timeOnce } from './stats';

const POLICY = '[defaults]\nmax_sessions = 100\n';

/**
 * Runs as one user: first WARM sessions one after the other (jaid and this worker compile their hot paths, as in a
 * daemon that has been running), then `ready` on stdout; on a line on stdin, starts N sessions at once; prints one
 * JSON line per session.
 */
const WORKER = `
'use strict';
const [, sdk, count, cwd, warm, mode] = process.argv;
const { spawn } = mode === 'jai' ? require(sdk) : {};
const env = ['PATH=/usr/bin:/bin', 'HOME=' + process.env.HOME];
const jailed = async () => {
  const t0 = performance.now();
  try {
    const s = await spawn({ argv: ['true'], cwd, env, stdio: [{ kind: 'null' }, { kind: 'null' }, { kind: 'null' }] });
    const started = performance.now() - t0;
    const status = await s.wait();
    return { ok: status.code === 0, started, total: performance.now() - t0, status };
  } catch (e) {
    return { ok: false, error: String(e && e.message || e) };
  }
};
// The same command with the same environment, started by this process itself: no jail.
const unjailed = () => new Promise((resolve) => {
  const t0 = performance.now();
  let started;
  const child = require('node:child_process').spawn('true', [], {
    cwd, stdio: 'ignore', env: { PATH: '/usr/bin:/bin', HOME: process.env.HOME },
  });
  child.on('spawn', () => (started = performance.now() - t0));
  child.on('error', (e) => resolve({ ok: false, error: String(e.message) }));
  child.on('exit', (code) => resolve({ ok: code === 0, started, total: performance.now() - t0 }));
});
const one = mode === 'jai' ? jailed : unjailed;
(async () => {
  for (let i = 0; i < Number(warm); i++) await one();
  process.stdout.write('ready\\n');
})();
process.stdin.once('data', async () => {
  const results = await Promise.all(Array.from({ length: Number(count) }, one));
  process.stdout.write(JSON.stringify(results));
});
`;

interface Result {
  ok: boolean;
  started?: number;
  total?: number;
  error?: string;
}

function daemonState(pid: number): { rssMiB: number; fds: number } {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const rss = Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? NaN);
  return { rssMiB: rss / 1024, fds: fs.readdirSync(`/proc/${pid}/fd`).length };
}

function prepareUser(f: Fixture, user: TestUser): string {
  unmountUserState(user.name);
  fs.rmSync(path.join(user.home, '.jai'), { recursive: true, force: true });
  const project = path.join(user.home, 'proj-bench-concurrency');
  fs.rmSync(project, { recursive: true, force: true });
  fs.mkdirSync(project);
  fs.chownSync(project, user.uid, user.gid);
  const init = runJai(f, ['--init'], { as: user });
  if (init.status !== 0) throw new Error(`jai --init as ${user.name}: ${init.stderr}`);
  // One session first: the overlay is mounted before the burst, as on a workstation in use.
  const warm = runJai(f, ['true'], { as: user, cwd: project });
  if (warm.status !== 0) throw new Error(`jai true as ${user.name}: ${warm.stderr}`);
  return project;
}

const settle = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Warm-up starts of each worker before the burst in no jail: node's own spawn path has nothing else to warm. */
const UNJAILED_WARMUP = 5;

const startTimes = (results: readonly Result[]): number[] =>
  results.flatMap((r) => (r.started === undefined ? [] : [r.started])).sort((a, b) => a - b);

/**
 * One worker process per user, each running as its user and warming up (`warmShare` starts one after the other);
 * resolves once all are ready and the warm-up's cgroups are gone. go() releases every worker at once and resolves
 * with every start's result and the burst's wall time.
 */
async function startBurst(
  f: Fixture,
  users: readonly TestUser[],
  projects: readonly string[],
  shares: readonly number[],
  warmShare: number,
  mode: 'jai' | 'unjailed',
): Promise<{ go: () => Promise<{ results: Result[]; wall: number }> }> {
  const sdk = path.join(f.clientDir, 'dist/client/sdk/spawn.js');
  const workers = users.map((u, i) => {
    const args = ['-e', WORKER, sdk, String(shares[i]), projects[i] ?? '', String(warmShare), mode];
    const child = spawn(process.execPath, args, {
      uid: u.uid,
      gid: u.gid,
      cwd: u.home,
      env: { HOME: u.home, PATH: '/usr/bin:/bin', JAI_SOCKET: f.socket },
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    let out = '';
    let onReady: () => void = () => undefined;
    const ready = new Promise<void>((resolve) => (onReady = resolve));
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.startsWith('ready\n')) onReady();
    });
    const results = (): Result[] => JSON.parse(out.replace(/^ready\n/, '') || '[]') as Result[];
    return { child, ready, done: new Promise<Result[]>((resolve) => child.on('exit', () => resolve(results()))) };
  });
  await Promise.all(workers.map((w) => w.ready)); // warmed up, the client library loaded
  await settle(1000); // the warm-up's cgroups removed
  return {
    go: async () => {
      const t0 = performance.now();
      for (const w of workers) w.child.stdin.end('go\n');
      const results = (await Promise.all(workers.map((w) => w.done))).flat();
      return { results, wall: performance.now() - t0 };
    },
  };
}

async function main(): Promise<void> {
  const sessions = Math.max(1, Number(process.argv[2] ?? 200));
  const userCount = Math.max(1, Number(process.argv[3] ?? 3));
  const warmups = Math.max(0, Number(process.argv[4] ?? 100));
  // Every session at once: per-uid spawn limits above the burst (the defaults are 20/s, bursts of 40).
  const f = await startFixture('bench-conc', process.env, {
    policy: POLICY,
    daemonArgs: ['--spawn-rate', '1000', '--spawn-burst', '1000', '--max-setups-per-uid', '1000'],
  });
  const users = [f.user, ...Array.from({ length: userCount - 1 }, (_, i) => ensureTestUser(`jaibench${i + 2}`))];
  const pid = f.daemon.pid ?? -1;
  try {
    const projects = users.map((u) => prepareUser(f, u));
    const shares = users.map((_, i) => Math.floor(sessions / users.length) + (i < sessions % users.length ? 1 : 0));
    const warmShare = Math.ceil(warmups / users.length);
    const jailed = await startBurst(f, users, projects, shares, warmShare, 'jai');
    const before = daemonState(pid);
    const metricsBefore = readMetrics(f.adminSocket);
    let peakRss = before.rssMiB;
    const sampler = setInterval(() => {
      peakRss = Math.max(peakRss, daemonState(pid).rssMiB);
    }, 10);
    const { results, wall } = await jailed.go();
    clearInterval(sampler);
    await settle(1000); // connections closed, cgroups removed
    const after = daemonState(pid);
    const metricsAfter = readMetrics(f.adminSocket);

    const failed = results.filter((r) => !r.ok);
    const started = startTimes(results);
    const total = results.flatMap((r) => (r.total === undefined ? [] : [r.total])).sort((a, b) => a - b);
    const daemonStart = histogramDelta(metricsBefore, metricsAfter, 'jai_spawn_duration_seconds');
    const daemonAdmit = histogramDelta(metricsBefore, metricsAfter, 'jai_spawn_admit_seconds');
    const db = new Database(f.auditDb, { readonly: true });
    const names = users.map((u) => u.name);
    const rows = db
      .prepare(
        `SELECT outcome, count(*) AS n FROM sessions WHERE user IN (${names.map(() => '?').join(',')}) AND cwd LIKE '%/proj-bench-concurrency' GROUP BY outcome`,
      )
      .all(...names) as { outcome: string; n: number }[];
    db.close();
    const warmedUp = users.length * (1 + warmShare); // each user's first `jai true`, then the workers' warm-up
    const audited = rows.reduce((n, r) => n + r.n, 0) - warmedUp;
    const plain = await (await startBurst(f, users, projects, shares, UNJAILED_WARMUP, 'unjailed')).go();
    const plainFailed = plain.results.filter((r) => !r.ok);
    const plainStarted = startTimes(plain.results);
    const shellBurst = (command: string): Promise<number> =>
      timeOnce('bash', ['-c', `for i in $(seq ${sessions}); do ${command} & done; wait`], {});
    const bareBurst = await shellBurst('/bin/true');
    const unshareBurst = await shellBurst('unshare -m -p -f --mount-proc true');

    console.log(
      `${sessions} sessions at once by ${users.length} users (${names.join(', ')}), ${shares.join('/')} each, ` +
        `after ${warmShare * users.length} warm-up sessions one after the other (jaid's JIT warm, as in a running daemon)`,
    );
    console.log(`all done in ${fmt(wall, 0)} ms; failures: ${failed.length} (target 0)`);
    for (const r of failed.slice(0, 5)) console.log(`  failure: ${r.error ?? 'non-zero exit'}`);
    console.log(
      `spawn latency, client side (spawn() → Started): p50 ${fmt(quantile(started, 0.5), 0)} ms, p99 ${fmt(quantile(started, 0.99), 0)} ms, max ${fmt(started[started.length - 1] ?? NaN, 0)} ms`,
    );
    console.log(
      `spawn latency, jaid (request → started, /metrics): p50 ${fmt(daemonStart.quantile(0.5), 0)} ms, p99 ${fmt(daemonStart.quantile(0.99), 0)} ms (target p99 ≤ 100 ms); request → helper started p50 ${fmt(daemonAdmit.quantile(0.5), 0)} ms, p99 ${fmt(daemonAdmit.quantile(0.99), 0)} ms`,
    );
    console.log(
      `session (spawn() → exit status): p50 ${fmt(quantile(total, 0.5), 0)} ms, p99 ${fmt(quantile(total, 0.99), 0)} ms`,
    );
    console.log(
      `jaid RSS: before ${fmt(before.rssMiB, 0)} MiB, peak ${fmt(peakRss, 0)} MiB, after ${fmt(after.rssMiB, 0)} MiB (target ≤ 150 MiB)`,
    );
    console.log(`jaid open fds: before ${before.fds}, after ${after.fds} (target: no growth)`);
    console.log(
      `audit rows for the burst: ${audited} (target ${sessions}); by outcome: ${rows.map((r) => `${r.outcome} ${r.n}`).join(', ')} (incl. ${warmedUp} warm-up)`,
    );
    console.log(
      `the same burst in no jail (each worker starts \`true\` itself with child_process.spawn): done in ${fmt(plain.wall, 0)} ms; ` +
        `failures ${plainFailed.length}; spawn() → started p50 ${fmt(quantile(plainStarted, 0.5), 0)} ms, p99 ${fmt(quantile(plainStarted, 0.99), 0)} ms`,
    );
    console.log(
      `${sessions} started at once by one shell (as root): /bin/true done in ${fmt(bareBurst, 0)} ms, ` +
        `\`unshare -m -p -f --mount-proc true\` done in ${fmt(unshareBurst, 0)} ms`,
    );
  } catch (e) {
    console.error(`jaid's log, last lines:\n${f.daemonLog().split('\n').slice(-20).join('\n')}`);
    throw e;
  } finally {
    await f.teardown();
    for (const u of users.slice(1)) {
      unmountUserState(u.name);
      fs.rmSync(path.join(u.home, 'proj-bench-concurrency'), { recursive: true, force: true });
      fs.rmSync(path.join(u.home, '.jai'), { recursive: true, force: true });
    }
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
