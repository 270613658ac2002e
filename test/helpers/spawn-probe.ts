// Run by test/unit/addon-spawn.test.ts as a process of its own, started with fds 3-5 open and not close-on-exec (Node
// itself ignores SIGPIPE and SIGXFSZ): starts `sleep` through the addon's spawn with the fds given on the command
// line and prints, as JSON, what the child got and what those fds were here. Kills and reaps the child before it
// exits.
import fs from 'node:fs';
import * as native from '../../native/addon/index';

const SIGKILL = 9;

const link = (pid: number | 'self', fd: number): string => fs.readlinkSync(`/proc/${pid}/fd/${fd}`);
const sigLines = (pid: number | 'self'): Record<string, string> =>
  Object.fromEntries(
    fs
      .readFileSync(`/proc/${pid}/status`, 'utf8')
      .split('\n')
      .filter((line) => /^Sig(Blk|Ign):/.test(line))
      .map((line) => line.split(/:\s+/) as [string, string]),
  );

/** Spins until the child sleeps in nanosleep: its exec, fd closing included, is then done. */
function waitUntilSleeping(pid: number): void {
  const deadline = Date.now() + 10_000;
  while (!fs.readFileSync(`/proc/${pid}/wchan`, 'utf8').includes('nanosleep')) {
    if (Date.now() > deadline) throw new Error(`child ${pid} never reached nanosleep`);
  }
}

const fds = process.argv.slice(2).map(Number);
const exe = native.openExecutable('/bin/sleep');
// A close-on-exec fd of ours (Node opens every file so): must not reach the child either.
const own = fs.openSync('/dev/null', 'r');
const child = native.spawn(exe, ['sleep', '30'], fds);
try {
  waitUntilSleeping(child.pid);
  const report = {
    passed: fds.map((fd) => link('self', fd)),
    childFds: fs
      .readdirSync(`/proc/${child.pid}/fd`)
      .map(Number)
      .sort((a, b) => a - b),
    childLinks: fds.map((_, i) => link(child.pid, i)),
    parentSignals: sigLines('self'),
    childSignals: sigLines(child.pid),
    childEnviron: fs.readFileSync(`/proc/${child.pid}/environ`, 'utf8'),
    childCmdline: fs.readFileSync(`/proc/${child.pid}/cmdline`, 'utf8'),
  };
  process.stdout.write(`${JSON.stringify(report)}\n`);
} finally {
  native.pidfdSignal(child.pidfd, SIGKILL);
  // Reaped synchronously here: a blocking wait is fine in a probe (the child is dying).
  while (native.pidfdWait(child.pidfd) === null);
  native.closeFd(child.pidfd);
  native.closeFd(exe);
  fs.closeSync(own);
}
