// PTY relay throughput: bytes/s of `jai cat FILE` with stdout a terminal (through the jail's PTY and the client's
// relay) next to `cat FILE` under script(1) (one PTY, no jai), and with stdout a pipe (passed through, no relay)
// next to plain `cat`. Each is timed RUNS times (median); the same command with `true` instead of `cat FILE` is timed
// too and subtracted, so that the rates compare copying, not process start-up (jai's is tens of ms).
// Run as root after `npm run build`: node dist/bench/pty-throughput.js [MB=200] [RUNS=3]
import './bench-user';
import fs from 'node:fs';
import path from 'node:path';
import { startFixture, type Fixture } from '../test/helpers/fixture';
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

async function main(): Promise<void> {
  const megabytes = Number(process.argv[2] ?? 200);
  const runs = Math.max(1, Number(process.argv[3] ?? 3));
  const f = await startFixture('bench-pty');
  const file = path.join(f.project, 'big');
  try {
    fs.writeFileSync(file, Buffer.alloc(megabytes * 1024 * 1024, 'x'));
    fs.chownSync(file, f.user.uid, f.user.gid);
    const jai = path.join(f.clientDir, 'bin/jai');
    const options = asUser(f);
    const sh = (line: string) => (): Promise<number> => timeOnce('sh', ['-c', line], options);
    const underScript = (line: string) => (): Promise<number> =>
      timeOnce('script', ['-qec', line, '/dev/null'], options);
    const cases: { name: string; copy: () => Promise<number>; start: () => Promise<number> }[] = [
      { name: 'cat under script(1) (one PTY)', copy: underScript(`cat ${file}`), start: underScript('true') },
      {
        name: 'jai cat under script(1) (PTY relay)',
        copy: underScript(`${jai} cat ${file}`),
        start: underScript(`${jai} true`),
      },
      { name: 'cat | cat', copy: sh(`cat ${file} | cat > /dev/null`), start: sh('true | cat > /dev/null') },
      {
        name: 'jai cat | cat (stdout passed through)',
        copy: sh(`${jai} cat ${file} | cat > /dev/null`),
        start: sh(`${jai} true | cat > /dev/null`),
      },
    ];
    await underScript(`${jai} true`)(); // warm: overlay mounted
    const bytes = megabytes * 1024 * 1024;
    const rates = new Map<string, number>();
    console.log(`${megabytes} MiB per run, median of ${runs} runs; rate = bytes / (time − time of the same with true)`);
    console.log(`${'case'.padEnd(40)}  copy s  start s      MB/s`);
    for (const c of cases) {
      const copy: number[] = [];
      const start: number[] = [];
      for (let i = 0; i < runs; i++) {
        copy.push((await c.copy()) / 1000);
        start.push((await c.start()) / 1000);
      }
      const rate = bytes / Math.max(1e-6, median(copy) - median(start)) / 1e6;
      rates.set(c.name, rate);
      console.log(
        `${c.name.padEnd(40)} ${median(copy).toFixed(3).padStart(7)} ${median(start).toFixed(3).padStart(8)} ${rate.toFixed(0).padStart(9)}`,
      );
    }
    const ratio = (a: string, b: string): string => ((rates.get(a) ?? NaN) / (rates.get(b) ?? NaN)).toFixed(2);
    console.log(
      `PTY relay / plain PTY throughput: ${ratio('jai cat under script(1) (PTY relay)', 'cat under script(1) (one PTY)')}x (target ≥ 0.9)`,
    );
    console.log(
      `pipe passed through / plain pipe throughput: ${ratio('jai cat | cat (stdout passed through)', 'cat | cat')}x`,
    );
  } catch (e) {
    console.error(`jaid's log, last lines:\n${f.daemonLog().split('\n').slice(-20).join('\n')}`);
    throw e;
  } finally {
    fs.rmSync(file, { force: true });
    await f.teardown();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
