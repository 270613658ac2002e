// Where an SDK session's time goes, phase by phase (bench/spawn-phases.ts), from an ftrace of a loop of
// `JaiClient.spawn` of `true` on one connection: the client's request, jaid's admission and the zygote's fork, the
// helper's setup, init, the program's process before and after its exec, the exit record, jaid's report and the
// client's turnaround. Medians and quartiles per phase.
// Run as root after `npm run build`, on x86_64 with tracefs at /sys/kernel/tracing:
//   node dist/bench/spawn-trace.js [RUNS=100]
// It starts its own jaid on a private socket (the integration fixture) and runs the SDK as the test user in a child
// Node process (this same file with --child), which after its warm-up waits for the trace to be on. Tracing costs
// time of its own (each traced system call is an event): compare phases with each other and with a trace of another
// build, not with sdk-spawn's figures.
import { spawn as spawnProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { connect, type SpawnOptions } from '../client/sdk';
import { startFixture, zygoteProcesses } from '../test/helpers/fixture';
import { fmt, quantile } from './stats';
import { PHASES, SYS_RECVMSG, SYS_SENDMSG, SYS_SENDTO, parseTrace, sessionPhases, type Phase } from './spawn-phases';

const TRACING = '/sys/kernel/tracing';
const WARMUP = 20;

/** The child: connects, waits for a line on stdin (the trace is on), then runs the loop. */
async function child(runs: number): Promise<void> {
  const request: SpawnOptions = { argv: ['true'], env: ['PATH=/usr/bin:/bin'], stdio: ['null', 'null', 'null'] };
  const jai = await connect();
  for (let i = 0; i < WARMUP; i++) await (await jai.spawn(request)).wait();
  const go = new Promise<void>((resolve) => process.stdin.once('data', () => resolve()));
  process.stdout.write('ready\n');
  await go;
  for (let i = 0; i < runs; i++) {
    const status = await (await jai.spawn(request)).wait();
    if (status.code !== 0) throw new Error(`true exited ${JSON.stringify(status)}`);
  }
  await jai.close();
  process.stdin.destroy();
}

const write = (file: string, value: string): void => fs.writeFileSync(path.join(TRACING, file), value);

/** Every setting this bench changes, back to what a fresh tracefs has. */
function resetTracing(): void {
  write('tracing_on', '0');
  write('set_event', '');
  write('set_event_pid', '');
  write('options/event-fork', '0');
  for (const dir of ['sys_enter', 'sys_exit']) write(`events/raw_syscalls/${dir}/filter`, '0');
  write('trace', '');
}

async function parent(runs: number): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('run as root (ftrace)');
  if (process.arch !== 'x64') throw new Error(`the system call numbers are x86_64's; this is ${process.arch}`);
  if (!fs.existsSync(path.join(TRACING, 'set_event_pid'))) throw new Error(`no tracefs at ${TRACING}`);
  const f = await startFixture('spawntrace', process.env, {
    daemonArgs: ['--spawn-rate', '1000', '--spawn-burst', '1000'],
  });
  try {
    const jaid = f.daemon.pid;
    const zygote = zygoteProcesses().find((z) => z.ppid === jaid)?.pid;
    if (zygote === undefined || jaid === undefined) throw new Error('jaid runs no zygote (--helper-zygote off?)');
    const client = spawnProcess(
      process.execPath,
      [path.join(f.clientDir, 'dist/bench/spawn-trace.js'), '--child', String(runs)],
      {
        cwd: f.project,
        uid: f.user.uid,
        gid: f.user.gid,
        env: { HOME: f.user.home, PATH: '/usr/bin:/bin', JAI_SOCKET: f.socket },
        stdio: ['pipe', 'pipe', 'pipe'],
      },
    );
    const ready = new Promise<void>((resolve) => client.stdout.once('data', () => resolve()));
    let stderr = '';
    client.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const ended = new Promise<number | null>((resolve) => client.on('close', resolve));
    if (client.pid === undefined) throw new Error('the SDK child did not start');
    resetTracing();
    write('buffer_size_kb', String(64 * 1024));
    write('trace_clock', 'mono');
    write('options/event-fork', '1');
    write('set_event_pid', `${jaid} ${zygote} ${client.pid}`);
    const calls = `id == ${SYS_SENDTO} || id == ${SYS_SENDMSG} || id == ${SYS_RECVMSG}`;
    for (const dir of ['sys_enter', 'sys_exit']) write(`events/raw_syscalls/${dir}/filter`, calls);
    write(
      'set_event',
      ['sched:sched_process_fork', 'sched:sched_process_exec', 'sched:sched_process_exit']
        .concat(['raw_syscalls:sys_enter', 'raw_syscalls:sys_exit'])
        .join('\n'),
    );
    await Promise.race([ready, ended]);
    write('tracing_on', '1');
    client.stdin.write('go\n');
    const status = await ended;
    write('tracing_on', '0');
    if (status !== 0) throw new Error(`SDK child exited ${String(status)}:\n${stderr}`);
    const phases = sessionPhases(parseTrace(fs.readFileSync(path.join(TRACING, 'trace'), 'utf8')), {
      jaid,
      client: client.pid,
    });
    printPhases(phases, runs);
  } finally {
    resetTracing();
    await f.teardown();
  }
}

function printPhases(phases: readonly Record<Phase, number>[], runs: number): void {
  const [load1] = os.loadavg();
  console.log(
    `${phases.length} of ${runs} sessions with every phase seen (JaiClient.spawn of true, one connection, after ` +
      `${WARMUP} warm-up); load average ${load1?.toFixed(2) ?? '?'}`,
  );
  console.log(`${'phase'.padEnd(82)}   median      p25      p75`);
  const total: number[] = [];
  for (const [phase, what] of PHASES) {
    const times = phases.map((p) => p[phase]).sort((a, b) => a - b);
    console.log(
      `${what.padEnd(82)} ${fmt(quantile(times, 0.5))} ${fmt(quantile(times, 0.25))} ${fmt(quantile(times, 0.75))}`,
    );
  }
  for (const p of phases) total.push(PHASES.reduce((sum, [phase]) => sum + p[phase], 0));
  total.sort((a, b) => a - b);
  console.log(
    `${'one session, request to next request (the phases added up)'.padEnd(82)} ${fmt(quantile(total, 0.5))}`,
  );
}

const args = process.argv.slice(2);
const main =
  args[0] === '--child' ? child(Math.max(1, Number(args[1] ?? 100))) : parent(Math.max(10, Number(args[0] ?? 100)));
main.catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
