// PTY relay throughput: bytes/s of `jai cat FILE` with stdout a terminal (through the jail's PTY and the client's
// relay) next to `cat FILE` under script(1) (one PTY, no jai), and with stdout a pipe (passed through, no relay)
// next to plain `cat`. Run as root after `npm run build`: node dist/bench/pty-throughput.js [MB]
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { jaiCommand, startFixture } from '../test/helpers/fixture';

function timeIt(command: string, args: readonly string[], options: Parameters<typeof spawnSync>[2]): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(command, args, { ...options, stdio: ['ignore', 'ignore', 'inherit'] });
  const t1 = process.hrtime.bigint();
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')} exited ${String(r.status)}`);
  return Number(t1 - t0) / 1e9;
}

async function main(): Promise<void> {
  const megabytes = Number(process.argv[2] ?? 200);
  const f = await startFixture('bench-pty');
  const file = path.join(f.project, 'big');
  try {
    fs.writeFileSync(file, Buffer.alloc(megabytes * 1024 * 1024, 'x'));
    const asUser = {
      cwd: f.project,
      uid: f.user.uid,
      gid: f.user.gid,
      env: { HOME: f.user.home, PATH: '/usr/bin:/bin', JAI_SOCKET: f.socket, TERM: 'xterm' },
    };
    const bytes = megabytes * 1024 * 1024;
    const rate = (seconds: number): string => `${(bytes / seconds / 1e6).toFixed(0).padStart(6)} MB/s`;
    const rows: [string, number][] = [
      ['cat under script(1) (one PTY)', timeIt('script', ['-qec', `cat ${file}`, '/dev/null'], asUser)],
      [
        'jai cat under script(1) (PTY relay)',
        timeIt('script', ['-qec', jaiCommand(f, ['cat', file]), '/dev/null'], asUser),
      ],
      ['cat > pipe', timeIt('sh', ['-c', `cat ${file} | cat > /dev/null`], asUser)],
      [
        'jai cat > pipe (passed through)',
        timeIt('sh', ['-c', `${jaiCommand(f, ['cat', file])} | cat > /dev/null`], asUser),
      ],
    ];
    console.log(`${megabytes} MiB per run`);
    for (const [name, seconds] of rows)
      console.log(`${name.padEnd(40)} ${seconds.toFixed(2).padStart(7)} s ${rate(seconds)}`);
    const [pty, relay] = [rows[0]?.[1] ?? NaN, rows[1]?.[1] ?? NaN];
    console.log(`relay/plain PTY time ratio: ${(relay / pty).toFixed(2)}x`);
  } finally {
    fs.rmSync(file, { force: true });
    await f.teardown();
  }
}

void main();
