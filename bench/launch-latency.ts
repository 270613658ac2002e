// Prints the median (and p95) wall time of a warm `jai true` next to /bin/true and
// `unshare -m -p -f --mount-proc true`, measured in the same run, and the ratios.
// Run as root after `npm run build`: node dist/bench/launch-latency.js [RUNS]
// It starts its own jaid on a private socket and runs jai as the integration-test user.
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import path from 'node:path';
import { startFixture } from '../test/helpers/fixture';

function timeRuns(runs: number, command: string, args: readonly string[], options: SpawnSyncOptions): number[] {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(command, args, { ...options, stdio: 'ignore' });
    const t1 = process.hrtime.bigint();
    if (r.status !== 0) throw new Error(`${command} ${args.join(' ')} exited ${String(r.status)}`);
    times.push(Number(t1 - t0) / 1e6);
  }
  return times.sort((a, b) => a - b);
}

const quantile = (sorted: readonly number[], q: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;

async function main(): Promise<void> {
  const runs = Math.max(30, Number(process.argv[2] ?? 50));
  const f = await startFixture('bench');
  try {
    const asUser: SpawnSyncOptions = {
      cwd: f.project,
      uid: f.user.uid,
      gid: f.user.gid,
      env: {
        HOME: f.user.home,
        PATH: '/usr/bin:/bin',
        JAI_SOCKET: f.socket,
        ...(process.env['NODE_EXTRA_CA_CERTS'] ? { NODE_EXTRA_CA_CERTS: process.env['NODE_EXTRA_CA_CERTS'] } : {}),
      },
    };
    const jai = [path.join(f.clientDir, 'bin/jai'), 'true'];
    timeRuns(3, process.execPath, jai, asUser); // warm: overlay mounted, page cache hot
    const rows: [string, number[]][] = [
      ['/bin/true', timeRuns(runs, '/bin/true', [], asUser)],
      ['node -e 0', timeRuns(runs, process.execPath, ['-e', '0'], asUser)],
      ['unshare -m -p -f --mount-proc true', timeRuns(runs, 'unshare', ['-m', '-p', '-f', '--mount-proc', 'true'], {})],
      ['jai true (warm, casual)', timeRuns(runs, process.execPath, jai, asUser)],
    ];
    const base = quantile(rows[2]?.[1] ?? [], 0.5);
    console.log(
      `runs per command: ${runs}; NODE_EXTRA_CA_CERTS ${process.env['NODE_EXTRA_CA_CERTS'] ? 'set' : 'unset'}`,
    );
    console.log('command                                   median ms   p95 ms   ratio to unshare');
    for (const [name, times] of rows) {
      const median = quantile(times, 0.5);
      console.log(
        `${name.padEnd(40)} ${median.toFixed(2).padStart(9)} ${quantile(times, 0.95).toFixed(2).padStart(8)} ${(median / base).toFixed(2).padStart(10)}x`,
      );
    }
  } finally {
    await f.teardown();
  }
}

void main();
