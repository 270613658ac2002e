// After a crash of jaid, its session helpers keep running, reparented away from any daemon. The next jaid ends
// them (each helper's death takes its jail with it: init has PR_SET_PDEATHSIG), so that nothing runs unsupervised
// and unaudited. Identified by name (`jai-helper`, root-owned) and by a parent that is not a running jaid.
import fs from 'node:fs';
import type { Logger } from '../log';

function readOrNull(file: string): string | null {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}

/** The parent pid and effective uid from /proc/<pid>/status, or null if the process is gone. */
function statusOf(pid: string): { ppid: string; uid: string } | null {
  const status = readOrNull(`/proc/${pid}/status`);
  const ppid = /^PPid:\s+(\d+)$/m.exec(status ?? '')?.[1];
  const uid = /^Uid:\s+\d+\s+(\d+)/m.exec(status ?? '')?.[1];
  return ppid === undefined || uid === undefined ? null : { ppid, uid };
}

function isRunningJaid(pid: string): boolean {
  const cmdline = readOrNull(`/proc/${pid}/cmdline`) ?? '';
  return cmdline.split('\0').some((arg) => /(^|\/)jaid$|daemon\/main\.js$/.test(arg));
}

export function killLeftoverHelpers(log: Logger): number {
  let killed = 0;
  for (const pid of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(pid) || Number(pid) === process.pid) continue;
    if (readOrNull(`/proc/${pid}/comm`)?.trim() !== 'jai-helper') continue;
    const status = statusOf(pid);
    if (status === null || status.uid !== '0' || isRunningJaid(status.ppid)) continue;
    // A helper's own children are its business (and die with it).
    if (readOrNull(`/proc/${status.ppid}/comm`)?.trim() === 'jai-helper') continue;
    try {
      process.kill(Number(pid), 'SIGKILL');
      killed++;
    } catch (e) {
      log.warn({ pid, err: e }, 'cannot kill a leftover helper');
    }
  }
  return killed;
}
