// PTY relay throughput: bytes/s of `jai cat FILE` with stdout a terminal (through the jail's PTY and the client's
// relay) next to `cat FILE` under script(1) (one PTY, no jai) and next to the least a relay can cost
// (bench/pty-relay-reference.c: a fresh PTY and a blocking read/write loop in C, no jail, no Node); and with stdout a
// pipe (passed through, no relay) next to plain `cat`. The cases run round-robin, RUNS rounds (median), so that load
// that comes and goes weighs on all alike; the same command with `true` instead of `cat FILE` is timed too and
// subtracted, so that the rates compare copying, not process start-up (jai's is tens of ms). The file is written
// first, so it is in the page cache for every case.
// Run as root after `npm run build`: node dist/bench/pty-throughput.js [MB=200] [RUNS=5]
// JAI_BENCH_BASELINE=/path/to/an/installed/client/bin/jai adds that client's relay as a case (before/after a change,
// against the same jaid, in the same rounds; scripts/install-client.sh installs a build's client).
import './bench-user';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { REPO, startFixture, type Fixture } from '../test/helpers/fixture';
import { median, timeOnce } from './stats';

function asUser(f: Fixture) {
  return {
    cwd: f.project,
    uid: f.user.uid,
    gid: f.user.gid,
    env: {
      HOME: f.user.home,
      PATH: `${path.dirname(process.execPath)}:/usr/bin:/bin`,
      JAI_SOCKET: f.socket,
      TERM: 'xterm',
    },
  };
}

interface Case {
  name: string;
  copy: () => Promise<number>;
  start: () => Promise<number>;
}

async function main(): Promise<void> {
  const megabytes = Number(process.argv[2] ?? 200);
  const runs = Math.max(1, Number(process.argv[3] ?? 5));
  const f = await startFixture('bench-pty');
  const file = path.join(f.project, 'big');
  const reference = path.join(f.project, 'pty-relay-reference');
  try {
    fs.writeFileSync(file, Buffer.alloc(megabytes * 1024 * 1024, 'x'));
    fs.chownSync(file, f.user.uid, f.user.gid);
    execFileSync('cc', ['-O2', '-o', reference, path.join(REPO, 'bench/pty-relay-reference.c'), '-lutil']);
    const jai = path.join(f.clientDir, 'bin/jai');
    const options = asUser(f);
    const sh = (line: string) => (): Promise<number> => timeOnce('sh', ['-c', line], options);
    const underScript = (line: string) => (): Promise<number> =>
      timeOnce('script', ['-qec', line, '/dev/null'], options);
    const PLAIN = 'cat under script(1) (one PTY)';
    const REFERENCE = 'C relay under script(1) (two PTYs)';
    const RELAY = 'jai cat under script(1) (PTY relay)';
    const BASELINE = 'baseline jai cat (JAI_BENCH_BASELINE)';
    const baseline = process.env['JAI_BENCH_BASELINE'];
    const PIPE = 'cat | cat';
    const PASSED = 'jai cat | cat (stdout passed through)';
    const cases: Case[] = [
      { name: PLAIN, copy: underScript(`cat ${file}`), start: underScript('true') },
      { name: REFERENCE, copy: underScript(`${reference} cat ${file}`), start: underScript(`${reference} true`) },
      { name: RELAY, copy: underScript(`${jai} cat ${file}`), start: underScript(`${jai} true`) },
      ...(baseline === undefined
        ? []
        : [
            {
              name: BASELINE,
              copy: underScript(`${baseline} cat ${file}`),
              start: underScript(`${baseline} true`),
            },
          ]),
      { name: PIPE, copy: sh(`cat ${file} | cat > /dev/null`), start: sh('true | cat > /dev/null') },
      {
        name: PASSED,
        copy: sh(`${jai} cat ${file} | cat > /dev/null`),
        start: sh(`${jai} true | cat > /dev/null`),
      },
    ];
    await underScript(`${jai} true`)(); // warm: overlay mounted
    const times = new Map(cases.map((c) => [c.name, { copy: [] as number[], start: [] as number[] }]));
    for (let i = 0; i < runs; i++) {
      for (const c of cases) {
        const t = times.get(c.name);
        t?.copy.push((await c.copy()) / 1000);
        t?.start.push((await c.start()) / 1000);
      }
    }
    const bytes = megabytes * 1024 * 1024;
    const rates = new Map<string, number>();
    console.log(
      `${megabytes} MiB per run, ${runs} rounds (round-robin), medians; rate = bytes / (time − time of the same with true)`,
    );
    console.log(`${'case'.padEnd(40)}  copy s  start s      MB/s  copy s, each run`);
    for (const c of cases) {
      const t = times.get(c.name) ?? { copy: [], start: [] };
      const rate = bytes / Math.max(1e-6, median(t.copy) - median(t.start)) / 1e6;
      rates.set(c.name, rate);
      console.log(
        `${c.name.padEnd(40)} ${median(t.copy).toFixed(3).padStart(7)} ${median(t.start).toFixed(3).padStart(8)} ${rate.toFixed(0).padStart(9)}  ${t.copy.map((s) => s.toFixed(2)).join(' ')}`,
      );
    }
    const ratio = (a: string, b: string): string => ((rates.get(a) ?? NaN) / (rates.get(b) ?? NaN)).toFixed(2);
    console.log(`PTY relay / plain PTY throughput: ${ratio(RELAY, PLAIN)}x (target ≥ 0.9)`);
    console.log(
      `C reference relay / plain PTY: ${ratio(REFERENCE, PLAIN)}x; PTY relay / C reference: ${ratio(RELAY, REFERENCE)}x`,
    );
    if (baseline !== undefined) console.log(`baseline relay / plain PTY: ${ratio(BASELINE, PLAIN)}x`);
    console.log(`pipe passed through / plain pipe throughput: ${ratio(PASSED, PIPE)}x`);
  } catch (e) {
    console.error(`jaid's log, last lines:\n${f.daemonLog().split('\n').slice(-20).join('\n')}`);
    throw e;
  } finally {
    fs.rmSync(file, { force: true });
    fs.rmSync(reference, { force: true });
    await f.teardown();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
