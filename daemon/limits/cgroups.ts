// Per-session cgroups: detected once at start, one directory per session (per controller on v1), limits written
// before the helper places the session's init in it, removed once the session has ended. Plain file I/O on
// cgroupfs; the placement itself is the helper's (plan key `cgroup`).
import fs from 'node:fs';
import type { LimitsStatus } from '../admin/context';
import type { Logger } from '../log';
import type { Limits } from '../policy/types';
import { CONTROLLERS, chooseLayout, cpuMax, type CgroupLayout } from './cgroup-layout';

const SESSION_ID = /^[0-9a-f]{32}$/;
const ENABLE = CONTROLLERS.map((c) => `+${c}`).join(' ');
const CPU_PERIOD_US = 100_000;
const REMOVE_RETRY_MS = 100;
const REMOVE_TRIES = 30;
/**
 * A session cgroup younger than this is not a leftover: it may be another jaid's session still being set up (a
 * freshly made cgroup is empty until the helper places init). Test suites run several jaids on one host, and on
 * cgroup v1 they share the `jai/` directories.
 */
export const MIN_LEFTOVER_AGE_MS = 30_000;

const errorCode = (e: unknown): string | undefined =>
  e instanceof Error && 'code' in e && typeof e.code === 'string' ? e.code : undefined;

function readOrNull(file: string): string | null {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}

function writeIfPresent(file: string, value: string): void {
  if (fs.existsSync(file)) fs.writeFileSync(file, value);
}

function mkdirExisting(dir: string): void {
  try {
    fs.mkdirSync(dir, { mode: 0o755 });
  } catch (e) {
    if (errorCode(e) !== 'EEXIST') throw e;
  }
}

export class CgroupManager {
  /** This daemon's session ids whose cgroups exist: never leftovers. */
  private readonly own = new Set<string>();

  private constructor(
    /** The directories session cgroups are made in (one per hierarchy). */
    private readonly bases: readonly string[],
    private readonly kind: 'cgroup1' | 'cgroup2',
  ) {}

  /** Detects the layout and prepares the base directories; never throws (limits are then unenforced). */
  static prepare(
    log: Logger,
    read: { mountinfo: string; procCgroup: string } = {
      mountinfo: readOrNull('/proc/self/mountinfo') ?? '',
      procCgroup: readOrNull('/proc/self/cgroup') ?? '',
    },
  ): { manager: CgroupManager | null; status: LimitsStatus } {
    const layout = chooseLayout(read.mountinfo, read.procCgroup, (dir) => readOrNull(`${dir}/cgroup.controllers`));
    if (layout.kind === 'none') return unenforced(log, layout.reason);
    try {
      const bases = prepareBases(layout);
      const manager = new CgroupManager(bases, layout.kind);
      log.info({ backend: layout.kind, bases }, 'session limits: cgroups ready');
      return { manager, status: { backend: layout.kind, enforced: true, detail: bases.join(' ') } };
    } catch (e) {
      return unenforced(log, `${layout.kind}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  /** Makes the session's cgroup(s) with its limits; returns the directories for the helper's plan. */
  create(id: string, limits: Limits): string[] {
    if (!SESSION_ID.test(id)) throw new Error(`bad session id ${id}`);
    const dirs = this.bases.map((base) => `${base}/${id}`);
    this.own.add(id);
    try {
      for (const dir of dirs) fs.mkdirSync(dir, { mode: 0o755 });
      if (this.kind === 'cgroup2') writeV2Limits(dirs[0] ?? '', limits);
      else for (const dir of dirs) writeV1Limits(dir, limits);
    } catch (e) {
      for (const dir of dirs) tryRmdir(dir);
      this.own.delete(id);
      throw e;
    }
    return dirs;
  }

  /** Removes the session's cgroup(s), waiting for their last processes to be gone. */
  async remove(id: string, log: Logger): Promise<void> {
    for (const base of this.bases) {
      const dir = `${base}/${id}`;
      for (let attempt = 1; ; attempt++) {
        const result = tryRmdir(dir);
        if (result === 'gone') break;
        if (attempt >= REMOVE_TRIES) {
          log.warn({ session: id, dir, error: result }, 'session cgroup not removed (removed at the next start)');
          break;
        }
        await new Promise((resolve) => setTimeout(resolve, REMOVE_RETRY_MS));
      }
    }
    this.own.delete(id);
  }

  /**
   * Removes leftover (empty) session cgroups of a previous daemon: not this daemon's, and older than
   * MIN_LEFTOVER_AGE_MS (jaid sweeps at start and once more when that much time has passed). Returns how many went.
   */
  sweep(log: Logger, now = Date.now()): number {
    let removed = 0;
    for (const base of this.bases)
      for (const name of fs.readdirSync(base)) {
        if (!SESSION_ID.test(name) || this.own.has(name)) continue;
        const mtime = mtimeMs(`${base}/${name}`);
        if (mtime === null || now - mtime < MIN_LEFTOVER_AGE_MS) continue;
        const result = tryRmdir(`${base}/${name}`);
        if (result === 'gone') removed++;
        else log.warn({ dir: `${base}/${name}`, error: result }, 'leftover session cgroup still in use');
      }
    return removed;
  }
}

function unenforced(log: Logger, reason: string): { manager: null; status: LimitsStatus } {
  log.warn({ reason }, 'session limits are NOT enforced: no usable cgroup controllers');
  return { manager: null, status: { backend: 'none', enforced: false, detail: reason } };
}

function mtimeMs(dir: string): number | null {
  try {
    return fs.statSync(dir).mtimeMs;
  } catch {
    return null;
  }
}

/** 'gone', or the error code that kept the directory. */
function tryRmdir(dir: string): string {
  try {
    fs.rmdirSync(dir);
    return 'gone';
  } catch (e) {
    const code = errorCode(e);
    return code === 'ENOENT' ? 'gone' : (code ?? String(e));
  }
}

function prepareBases(layout: Exclude<CgroupLayout, { kind: 'none' }>): string[] {
  if (layout.kind === 'cgroup1') {
    const bases = [...new Set(CONTROLLERS.map((c) => `${layout.own[c]}/jai`))];
    bases.forEach(mkdirExisting);
    return bases;
  }
  const own = layout.own === '/' ? layout.mount : `${layout.mount}${layout.own}`;
  if (layout.own !== '/') {
    // No processes in a cgroup that hands controllers down: the daemon moves to a leaf of its own first
    // (jaid.service has Delegate=yes, so the subtree is the daemon's to arrange).
    mkdirExisting(`${own}/daemon`);
    fs.writeFileSync(`${own}/daemon/cgroup.procs`, String(process.pid));
  }
  fs.writeFileSync(`${own}/cgroup.subtree_control`, ENABLE);
  const base = `${own}/${layout.own === '/' ? 'jai' : 'sessions'}`;
  mkdirExisting(base);
  fs.writeFileSync(`${base}/cgroup.subtree_control`, ENABLE);
  return [base];
}

function writeV2Limits(dir: string, limits: Limits): void {
  if (limits.memoryBytes !== null) {
    fs.writeFileSync(`${dir}/memory.max`, String(limits.memoryBytes));
    // A ceiling that swap would quietly extend is no ceiling.
    writeIfPresent(`${dir}/memory.swap.max`, '0');
  }
  if (limits.pids !== null) fs.writeFileSync(`${dir}/pids.max`, String(limits.pids));
  if (limits.cpu !== null) fs.writeFileSync(`${dir}/cpu.max`, cpuMax(limits.cpu, CPU_PERIOD_US));
}

function writeV1Limits(dir: string, limits: Limits): void {
  if (limits.memoryBytes !== null && fs.existsSync(`${dir}/memory.limit_in_bytes`)) {
    fs.writeFileSync(`${dir}/memory.limit_in_bytes`, String(limits.memoryBytes));
    writeIfPresent(`${dir}/memory.memsw.limit_in_bytes`, String(limits.memoryBytes));
  }
  if (limits.pids !== null) writeIfPresent(`${dir}/pids.max`, String(limits.pids));
  if (limits.cpu !== null && fs.existsSync(`${dir}/cpu.cfs_quota_us`)) {
    fs.writeFileSync(`${dir}/cpu.cfs_period_us`, String(CPU_PERIOD_US));
    fs.writeFileSync(`${dir}/cpu.cfs_quota_us`, cpuMax(limits.cpu, CPU_PERIOD_US).split(' ')[0] ?? '');
  }
}
