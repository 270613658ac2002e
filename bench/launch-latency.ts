// Launch latency of `jai true` next to what it is compared with, all measured in the same run, round-robin:
//   /bin/true, `node -e 0` without and with NODE_EXTRA_CA_CERTS, `unshare -m -p -f --mount-proc true`, bwrap (when
//   installed), and `jai true` warm (overlay mounted) in casual mode (with and without NODE_EXTRA_CA_CERTS) and in
//   strict mode, and the client as it started before the launcher and the bundle (`node dist/client/cli/main.js`,
//   NODE_EXTRA_CA_CERTS set); each as median and p95 wall time and as ratios. Then the daemon-side time per spawn from jaid's own
//   /metrics histograms (casual and strict, separately), and the cold start (the first `jai true` after `jai -u`).
// Also what a page fault costs on this machine, and how many a `node -e 0` takes (the floor under any Node client).
// jai is run as users run it: bin/jai exec'd (its #!/bin/sh launcher), as the bench user, from the installed client.
// Run as root after `npm run build`: node dist/bench/launch-latency.js [RUNS=50] [COLD_RUNS=10]
// JAI_BENCH_BASELINE=/path/to/an/installed/client/bin/jai adds that client's `jai true` (casual, no
// NODE_EXTRA_CA_CERTS) to the rounds: before/after a client change, against the same jaid (scripts/install-client.sh).
import './bench-user';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync, type SpawnOptions } from 'node:child_process';
import { startFixture, type Fixture } from '../test/helpers/fixture';
import {
  fmt,
  histogramDelta,
  printDaemonSide,
  quantile,
  readMetrics,
  timeOnce,
  timeRoundRobin,
  type Command,
} from './stats';

const DEFAULT_CA_FILE = '/etc/ssl/certs/ca-certificates.crt';
const BASELINE = 'baseline jai true, casual (JAI_BENCH_BASELINE)';

function userEnv(f: Fixture, extraCerts: string | null): NodeJS.ProcessEnv {
  return {
    HOME: f.user.home,
    USER: f.user.name,
    LOGNAME: f.user.name,
    PATH: `${path.dirname(process.execPath)}:/usr/bin:/bin`,
    JAI_SOCKET: f.socket,
    ...(extraCerts === null ? {} : { NODE_EXTRA_CA_CERTS: extraCerts }),
  };
}

function machine(): string {
  const cpus = os.cpus();
  return `${cpus.length} × ${cpus[0]?.model ?? '?'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Linux ${os.release()}, node ${process.version}, load average ${os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`;
}

/**
 * What a first-touch page fault costs on this machine (one write per 4 KiB page of 64 MiB that malloc mapped and
 * nothing touched yet), and how many of them a `node -e 0` takes (its own count at its exit, median of 5): on a VM
 * whose faults are slow these are much of node's start, the floor every Node client stands on.
 */
function pageFaults(): string {
  const page = 4096;
  const buf = Buffer.allocUnsafeSlow(16384 * page);
  const faultsBefore = process.resourceUsage().minorPageFault;
  const start = process.hrtime.bigint();
  for (let i = 0; i < buf.length; i += page) buf[i] = 1;
  const ns = Number(process.hrtime.bigint() - start);
  const faults = process.resourceUsage().minorPageFault - faultsBefore;
  const perFaultUs = faults > 0 ? ns / faults / 1000 : NaN;
  const counts: number[] = [];
  for (let i = 0; i < 5; i++) {
    const r = spawnSync(
      process.execPath,
      ['-e', 'process.stdout.write(String(process.resourceUsage().minorPageFault))'],
      {
        encoding: 'utf8',
        env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin' },
      },
    );
    counts.push(Number(r.stdout));
  }
  counts.sort((a, b) => a - b);
  const nodeFaults = quantile(counts, 0.5);
  return (
    `a first-touch page fault ${fmt(perFaultUs, 0)} µs (${faults} faults over 64 MiB); node -e 0 takes ` +
    `${nodeFaults} of them (~${fmt((nodeFaults * perFaultUs) / 1000, 0)} ms at that cost)`
  );
}

/** Daemon-side timings of `runs` runs of one command, from /metrics before and after. */
async function daemonSide(f: Fixture, title: string, runs: number, run: () => Promise<number>): Promise<void> {
  const before = readMetrics(f.adminSocket);
  for (let i = 0; i < runs; i++) await run();
  const after = readMetrics(f.adminSocket);
  printDaemonSide(`${title} (jaid's /metrics, ${runs} sessions; quantiles interpolated within buckets)`, before, after);
}

async function main(): Promise<void> {
  const runs = Math.max(10, Number(process.argv[2] ?? 50));
  const coldRuns = Math.max(1, Number(process.argv[3] ?? 10));
  const extraCerts = process.env['NODE_EXTRA_CA_CERTS'] ?? (fs.existsSync(DEFAULT_CA_FILE) ? DEFAULT_CA_FILE : null);
  const f = await startFixture('bench');
  try {
    const jai = path.join(f.clientDir, 'bin/jai');
    const asUser = (certs: string | null): SpawnOptions => ({
      cwd: f.project,
      uid: f.user.uid,
      gid: f.user.gid,
      env: userEnv(f, certs),
    });
    const asRoot: SpawnOptions = { cwd: f.project, env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' } };
    const strictArgs = ['-m', 'strict', '-j', 'benchstrict', 'true'];
    // Warm: the overlay is mounted, the page cache hot, the strict jail's home exists.
    for (let i = 0; i < 3; i++) {
      await timeOnce(jai, ['true'], asUser(extraCerts));
      await timeOnce(jai, strictArgs, asUser(extraCerts));
    }
    const baseline = process.env['JAI_BENCH_BASELINE'];
    const hasBwrap = spawnSync('bwrap', ['--version'], { stdio: 'ignore' }).status === 0;
    const commands: Command[] = [
      { name: '/bin/true', command: '/bin/true', args: [], options: asUser(null) },
      {
        name: 'node -e 0 (no NODE_EXTRA_CA_CERTS)',
        command: process.execPath,
        args: ['-e', '0'],
        options: asUser(null),
      },
      ...(extraCerts === null
        ? []
        : [
            {
              name: 'node -e 0 (NODE_EXTRA_CA_CERTS)',
              command: process.execPath,
              args: ['-e', '0'],
              options: asUser(extraCerts),
            },
          ]),
      {
        name: 'unshare -m -p -f --mount-proc true',
        command: 'unshare',
        args: ['-m', '-p', '-f', '--mount-proc', 'true'],
        options: asRoot,
      },
      ...(hasBwrap
        ? [
            {
              name: 'bwrap … --unshare-pid true',
              command: 'bwrap',
              args: [
                '--ro-bind',
                '/',
                '/',
                '--dev',
                '/dev',
                '--proc',
                '/proc',
                '--tmpfs',
                '/tmp',
                '--bind',
                f.project,
                f.project,
                '--unshare-pid',
                '--new-session',
                'true',
              ],
              options: asRoot,
            },
          ]
        : []),
      { name: 'jai true, casual (no NODE_EXTRA_CA_CERTS)', command: jai, args: ['true'], options: asUser(null) },
      ...(baseline === undefined ? [] : [{ name: BASELINE, command: baseline, args: ['true'], options: asUser(null) }]),
      ...(extraCerts === null
        ? []
        : [
            {
              name: 'jai true, casual (NODE_EXTRA_CA_CERTS)',
              command: jai,
              args: ['true'],
              options: asUser(extraCerts),
            },
          ]),
      { name: 'jai true, strict', command: jai, args: strictArgs, options: asUser(extraCerts) },
      {
        // The client as it started before bin/jai's launcher and the bundle: node loads ~50 files, and the certs.
        name: 'jai true, casual, unbundled (before)',
        command: process.execPath,
        args: [path.join(f.clientDir, 'dist/client/cli/main.js'), 'true'],
        options: asUser(extraCerts),
      },
    ];
    const times = await timeRoundRobin(commands, runs);
    const med = (name: string): number => quantile(times.get(name) ?? [], 0.5);
    const unshare = med('unshare -m -p -f --mount-proc true');
    const node = med('node -e 0 (no NODE_EXTRA_CA_CERTS)');
    console.log(`machine: ${machine()}`);
    console.log(`page faults: ${pageFaults()}`);
    console.log(
      `runs per command: ${runs}, round-robin; wall time from spawn to exit, seen by this process; NODE_EXTRA_CA_CERTS=${extraCerts ?? '(unset)'}`,
    );
    console.log(`unshare and bwrap run as root; the rest as ${f.user.name}; jai is bin/jai exec'd (its launcher)\n`);
    console.log(`${'command'.padEnd(44)} median ms   p95 ms  ×unshare  ×node -e 0`);
    for (const c of commands) {
      const t = times.get(c.name) ?? [];
      const m = quantile(t, 0.5);
      console.log(
        `${c.name.padEnd(44)} ${fmt(m, 9)} ${fmt(quantile(t, 0.95))} ${fmt(m / unshare, 8)}x ${fmt(m / node, 9)}x`,
      );
    }
    for (const variant of ['no NODE_EXTRA_CA_CERTS', 'NODE_EXTRA_CA_CERTS']) {
      const j = med(`jai true, casual (${variant})`);
      if (Number.isFinite(j))
        console.log(
          `jai true casual (${variant}) − node -e 0 (no NODE_EXTRA_CA_CERTS): ${fmt(j - node, 0)} ms (target ≤ 6 ms)`,
        );
    }
    if (baseline !== undefined)
      console.log(
        `${BASELINE} − this build's: ${fmt(med(BASELINE) - med('jai true, casual (no NODE_EXTRA_CA_CERTS)'), 0)} ms`,
      );

    await daemonSide(f, 'warm casual', runs, () => timeOnce(jai, ['true'], asUser(extraCerts)));
    await daemonSide(f, 'warm strict', runs, () => timeOnce(jai, strictArgs, asUser(extraCerts)));

    // Cold: `jai -u` unmounts the overlay and the private /tmp; the next `jai true` mounts them again.
    const cold: number[] = [];
    const before = readMetrics(f.adminSocket);
    for (let i = 0; i < coldRuns; i++) {
      await timeOnce(jai, ['-u'], asUser(extraCerts));
      cold.push(await timeOnce(jai, ['true'], asUser(extraCerts)));
    }
    cold.sort((a, b) => a - b);
    const after = readMetrics(f.adminSocket);
    const coldStart = histogramDelta(before, after, 'jai_spawn_duration_seconds');
    console.log(
      `\ncold start (first jai true after jai -u, casual, ${coldRuns} runs): median ${fmt(quantile(cold, 0.5), 0)} ms, ` +
        `p95 ${fmt(quantile(cold, 0.95), 0)} ms; daemon-side request → started: mean ${fmt(coldStart.mean, 0)} ms ` +
        `(warm casual median ${fmt(med('jai true, casual (NODE_EXTRA_CA_CERTS)') || med('jai true, casual (no NODE_EXTRA_CA_CERTS)'), 0)} ms)`,
    );
  } catch (e) {
    console.error(`jaid's log, last lines:\n${f.daemonLog().split('\n').slice(-20).join('\n')}`);
    throw e;
  } finally {
    await f.teardown();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
