// What the fault and load tests share: a small tmpfs to fill, the audit rows and the database's integrity as a
// reader sees them, and the processes and fds of one jaid (other suites' daemons may run beside it).
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { SessionRow } from '../../daemon/audit/audit-log';
import { mountsUnder } from '../helpers/fixture';

/** A tmpfs of `size` (e.g. `2m`) on a fresh directory under /tmp; `remove()` unmounts it and the directory. */
export function mountSmallTmpfs(label: string, size: string): { dir: string; remove(): void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `jai-${label}-`));
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0700,nosuid,nodev`, `jai-${label}`, dir]);
  return {
    dir,
    remove() {
      if (mountsUnder(dir).length > 0) spawnSync('umount', [dir]);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Fills the filesystem of `dir` with one file until ENOSPC; returns the file (delete it to free the space). */
export function fillFilesystem(dir: string): string {
  const file = path.join(dir, 'filler');
  const fd = fs.openSync(file, 'w', 0o600);
  try {
    for (const size of [1 << 16, 4096, 512, 1]) {
      const chunk = Buffer.alloc(size, 0x61);
      for (;;) {
        try {
          fs.writeSync(fd, chunk);
        } catch (e) {
          if (e instanceof Error && 'code' in e && e.code === 'ENOSPC') break;
          throw e;
        }
      }
    }
  } finally {
    fs.closeSync(fd);
  }
  return file;
}

/** Every session row, oldest first, read by a separate read-only connection (as an auditor would). */
export function sessionRows(db: string): SessionRow[] {
  const conn = new Database(db, { readonly: true, fileMustExist: true });
  try {
    return conn.prepare('SELECT * FROM sessions ORDER BY rowid').all() as SessionRow[];
  } finally {
    conn.close();
  }
}

/** `PRAGMA integrity_check` of the database (with its WAL): ['ok'] when sound. */
export function integrityCheck(db: string): string[] {
  const conn = new Database(db, { readonly: true, fileMustExist: true });
  try {
    return (conn.pragma('integrity_check') as { integrity_check: string }[]).map((r) => r.integrity_check);
  } finally {
    conn.close();
  }
}

function readOrNull(file: string): string | null {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}

/** Every live descendant of `root` as `pid comm`. */
export function descendants(root: number): string[] {
  const children = new Map<number, number[]>();
  const comms = new Map<number, string>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readOrNull(`/proc/${entry}/stat`);
    if (stat === null) continue;
    // pid (comm) state ppid …: comm may hold spaces and parentheses, so split after the last ')'.
    const close = stat.lastIndexOf(')');
    const ppid = Number(stat.slice(close + 2).split(' ')[1]);
    comms.set(Number(entry), stat.slice(stat.indexOf('(') + 1, close));
    children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
  }
  const found: string[] = [];
  const walk = (pid: number): void => {
    for (const child of children.get(pid) ?? []) {
      found.push(`${child} ${comms.get(child) ?? '?'}`);
      walk(child);
    }
  };
  walk(root);
  return found;
}

/** jai-helper / jai-init / jai-exec / jai-initjail processes below `root` (not jaid's helper zygote: it stays). */
export function helpersOf(root: number): string[] {
  return descendants(root).filter((p) => / jai-/.test(p) && !p.endsWith(' jai-zygote'));
}

/** The number of open fds of a process. */
export function fdCount(pid: number): number {
  return fs.readdirSync(`/proc/${pid}/fd`).length;
}

/** Resident set size of a process in KiB. */
export function rssKiB(pid: number): number {
  const status = readOrNull(`/proc/${pid}/status`) ?? '';
  return Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? NaN);
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` every 20 ms until it holds or `timeoutMs` passed; returns whether it held. */
export async function eventually(check: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (check()) return true;
    if (Date.now() > deadline) return false;
    await sleep(20);
  }
}

/** The session cgroup base directories a fixture's jaid logged at start (none when limits are not enforced). */
export function cgroupBases(daemonLog: string): string[] {
  for (const line of daemonLog.split('\n')) {
    if (!line.includes('session limits: cgroups ready')) continue;
    const parsed = JSON.parse(line) as { bases?: unknown };
    if (Array.isArray(parsed.bases)) return parsed.bases.filter((b): b is string => typeof b === 'string');
  }
  return [];
}

/** Session cgroup directories still present for these session ids. */
export function leftCgroups(bases: readonly string[], ids: readonly string[]): string[] {
  return bases.flatMap((base) => ids.map((id) => path.join(base, id)).filter((dir) => fs.existsSync(dir)));
}

/** Live (non-zombie) processes whose real uid is `uid`, as `pid comm`. */
export function processesOfUid(uid: number): string[] {
  const found: string[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const status = readOrNull(`/proc/${entry}/status`);
    if (status === null || /^State:\s+Z/m.test(status)) continue;
    if (/^Uid:\s+(\d+)/m.exec(status)?.[1] === String(uid))
      found.push(`${entry} ${/^Name:\s+(.*)$/m.exec(status)?.[1] ?? '?'}`);
  }
  return found;
}
