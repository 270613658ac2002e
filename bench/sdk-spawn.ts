// Benchmark 3: spawn → exit of `true` through the client library inside one long-lived Node process, against the
// one-shot spawn() and the CLI `jai true`, and against the same process starting `true` itself with
// child_process.spawn, in no jail at all: what a Node agent harness pays without jai. All measured in the same run.
// Prints median, p95 and p99.
// Run as root after `npm run build`: node dist/bench/sdk-spawn.js [RUNS=300] [CLI_RUNS=50]
// It starts its own jaid on a private socket (the integration fixture) and runs the SDK as the test user
// ($JAI_TEST_USER, default jaitest) in a child Node process: this same file with --child.
import { spawn as spawnProcess, spawnSync, type SpawnSyncOptions } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { connect, spawn, type SpawnOptions } from '../client/sdk';
import { startFixture } from '../test/helpers/fixture';
import { printDaemonSide, readMetrics } from './stats';

const quantile = (sorted: readonly number[], q: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;

type Row = [name: string, times: number[]];

async function timeAsync(runs: number, warmup: number, once: () => Promise<void>): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await once();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    await once();
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return times.sort((a, b) => a - b);
}

const UNJAILED_ROW = 'child_process.spawn, no jail (same process)';

/** `true` started by this process itself, as the SDK rows' request runs it (PATH lookup, stdio null), in no jail. */
function spawnUnjailed(): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawnProcess('true', [], { stdio: 'ignore', env: { PATH: '/usr/bin:/bin' } });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`true exited ${String(code)}`))));
  });
}

/** The child: runs as the test user, in the project dir, with JAI_SOCKET set. Prints its rows as JSON. */
async function child(runs: number): Promise<void> {
  const request: SpawnOptions = { argv: ['true'], env: ['PATH=/usr/bin:/bin'], stdio: ['null', 'null', 'null'] };
  const jai = await connect();
  const rows: Row[] = [];
  const expectZero = (status: { code?: number | undefined }): void => {
    if (status.code !== 0) throw new Error(`true exited ${JSON.stringify(status)}`);
  };
  rows.push([
    'JaiClient.spawn, reused connection, stdio null',
    await timeAsync(runs, 20, async () => {
      expectZero(await (await jai.spawn(request)).wait());
    }),
  ]);
  rows.push([
    'JaiClient.run, reused connection, pipes',
    await timeAsync(runs, 20, async () => {
      expectZero((await jai.run({ argv: ['true'], env: ['PATH=/usr/bin:/bin'] })).status);
    }),
  ]);
  const opened = jai.stats.opened;
  await jai.close();
  rows.push([
    'one-shot spawn(), a connection each',
    await timeAsync(runs, 20, async () => {
      expectZero(await (await spawn(request)).wait());
    }),
  ]);
  rows.push([UNJAILED_ROW, await timeAsync(runs, 20, spawnUnjailed)]);
  console.log(JSON.stringify({ rows, opened }));
}

function runAsync(
  command: string,
  args: readonly string[],
  options: SpawnSyncOptions,
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const child = spawnProcess(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.on('close', (status) => resolve({ status, stdout, stderr })));
}

async function parent(runs: number, cliRuns: number): Promise<void> {
  // Spawns back to back, faster than the default per-uid spawn rate (20/s, bursts of 40).
  const f = await startFixture('sdkbench', process.env, {
    daemonArgs: ['--spawn-rate', '1000', '--spawn-burst', '1000'],
  });
  try {
    const asUser: SpawnSyncOptions = {
      cwd: f.project,
      uid: f.user.uid,
      gid: f.user.gid,
      env: { HOME: f.user.home, PATH: '/usr/bin:/bin', JAI_SOCKET: f.socket },
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    };
    const metricsBefore = readMetrics(f.adminSocket);
    // Asynchronously: jaid logs to a pipe this process drains, and a blocked event loop here would stall jaid.
    const sdk = await runAsync(
      process.execPath,
      [path.join(f.clientDir, 'dist/bench/sdk-spawn.js'), '--child', String(runs)],
      asUser,
    );
    if (sdk.status !== 0) throw new Error(`SDK child failed:\n${sdk.stderr}\njaid:\n${f.daemonLog().slice(-4000)}`);
    const metricsAfter = readMetrics(f.adminSocket);
    const { rows, opened } = JSON.parse(sdk.stdout) as { rows: Row[]; opened: number };
    const jai = [path.join(f.clientDir, 'bin/jai'), 'true'];
    const cli: number[] = [];
    for (let i = 0; i < 3 + cliRuns; i++) {
      const t0 = process.hrtime.bigint();
      const r = spawnSync(process.execPath, jai, { ...asUser, stdio: 'ignore' });
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      if (r.status !== 0) throw new Error(`jai true exited ${String(r.status)}`);
      if (i >= 3) cli.push(ms);
      await new Promise((resolve) => setImmediate(resolve)); // let jaid's log pipe drain
    }
    rows.push(['CLI `jai true` (a Node process each)', cli.sort((a, b) => a - b)]);
    const [load1] = os.loadavg();
    console.log(
      `runs: ${runs} per SDK row (after 20 warm-up), ${cliRuns} CLI; connections the reused client opened: ${opened}; ` +
        `load average ${load1?.toFixed(2) ?? '?'}`,
    );
    console.log('spawn → exit of `true`                           runs   median ms   p95 ms   p99 ms');
    for (const [name, times] of rows) {
      console.log(
        `${name.padEnd(48)} ${String(times.length).padStart(5)} ${quantile(times, 0.5).toFixed(2).padStart(10)} ` +
          `${quantile(times, 0.95).toFixed(2).padStart(8)} ${quantile(times, 0.99).toFixed(2).padStart(8)}`,
      );
    }
    const median = quantile(rows[0]?.[1] ?? [], 0.5);
    const unjailed = quantile(rows.find(([name]) => name === UNJAILED_ROW)?.[1] ?? [], 0.5);
    console.log(
      `target: median ≤ 5 ms for the reused connection: ${median <= 5 ? 'met' : 'NOT met'} (${median.toFixed(2)} ms); ` +
        `the same process starting \`true\` in no jail: ${unjailed.toFixed(2)} ms (the jail's cost: ` +
        `${(median - unjailed).toFixed(2)} ms)`,
    );
    printDaemonSide(
      `the SDK rows' ${String(3 * (runs + 20))} sessions (jaid's /metrics; quantiles interpolated within buckets)`,
      metricsBefore,
      metricsAfter,
    );
  } finally {
    await f.teardown();
  }
}

const args = process.argv.slice(2);
const main =
  args[0] === '--child'
    ? child(Math.max(1, Number(args[1] ?? 300)))
    : parent(Math.max(200, Number(args[0] ?? 300)), Math.max(10, Number(args[1] ?? 50)));
main.catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
