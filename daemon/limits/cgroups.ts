// Per-session cgroups: detected once at start, one directory per session (per controller on v1), limits written
// before the helper places the session's init in it, removed once the session has ended. Plain file I/O on
// cgroupfs; the placement itself is the helper's (plan key `cgroup`).
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import type { LimitsStatus } from '../admin/context';
import type { Logger } from '../log';
import type { Limits } from '../policy/types';
import { CONTROLLERS, chooseLayout, cpuMax, type CgroupLayout } from './cgroup-layout';

const SESSION_ID = /^[0-9a-f]{32}$/;
/** A spare's name carries its jaid's pid: the next jaid removes a dead one's at once (a crash leaves one behind). */
const SPARE = /^spare-([1-9][0-9]{0,9})-[0-9a-f]{16}$/;
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

/** A set of session cgroups made ahead of the session that will get them, and the limits written in them. */
interface Spare {
  name: string;
  limits: Limits;
}

const sameLimits = (a: Limits, b: Limits): boolean =>
  a.memoryBytes === b.memoryBytes && a.pids === b.pids && a.cpu === b.cpu;

export class CgroupManager {
  /** This daemon's session ids (and its spare's name) whose cgroups exist: never leftovers. */
  private readonly own = new Set<string>();
  /**
   * cgroup v1 only: the next session's cgroups, made while the event loop is idle and renamed to the session's id at
   * admission (three renames ~0.06 ms, against ~0.4 ms for the mkdirs and limit writes; a v2 cgroup cannot be
   * renamed). Made with the last session's limits; a session with other limits gets fresh ones.
   */
  private spare: Spare | null = null;
  private refillPending = false;
  private closed = false;

  private constructor(
    /** The directories session cgroups are made in (one per hierarchy). */
    private readonly bases: readonly string[],
    private readonly kind: 'cgroup1' | 'cgroup2',
  ) {}

  /** A manager over directories already prepared (tests: plain directories stand in for a v1 hierarchy). */
  static over(bases: readonly string[], kind: 'cgroup1' | 'cgroup2'): CgroupManager {
    return new CgroupManager(bases, kind);
  }

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
    if (!this.takeSpare(dirs, limits)) this.make(id, dirs, limits);
    this.own.add(id);
    this.refillSoon(limits);
    return dirs;
  }

  /** Removes the spare (jaid stopping); no more are made. */
  close(): void {
    this.closed = true;
    const spare = this.spare;
    this.spare = null;
    if (spare === null) return;
    for (const base of this.bases) tryRmdir(`${base}/${spare.name}`);
    this.own.delete(spare.name);
  }

  /** Whether a spare made with these limits is now dirs (renamed). A failed rename drops the spare. */
  private takeSpare(dirs: readonly string[], limits: Limits): boolean {
    const spare = this.spare;
    if (spare === null) return false;
    this.spare = null;
    const from = this.bases.map((base) => `${base}/${spare.name}`);
    if (sameLimits(spare.limits, limits)) {
      try {
        const now = new Date();
        from.forEach((dir, i) => {
          fs.renameSync(dir, dirs[i] ?? '');
          // A rename keeps the spare's mtime; another jaid's sweep (test suites share jai/) takes an old one for a
          // leftover. The session's cgroups are as young as the session.
          fs.utimesSync(dirs[i] ?? '', now, now);
        });
        this.own.delete(spare.name);
        return true;
      } catch {
        // Removed behind jaid's back, or a name taken: fresh ones below.
      }
    }
    for (const dir of [...from, ...dirs]) tryRmdir(dir);
    this.own.delete(spare.name);
    return false;
  }

  private make(name: string, dirs: readonly string[], limits: Limits): void {
    this.own.add(name);
    try {
      for (const dir of dirs) fs.mkdirSync(dir, { mode: 0o755 });
      if (this.kind === 'cgroup2') writeV2Limits(dirs[0] ?? '', limits);
      else for (const dir of dirs) writeV1Limits(dir, limits);
    } catch (e) {
      for (const dir of dirs) tryRmdir(dir);
      this.own.delete(name);
      throw e;
    }
  }

  /** Once the current admission is done (the helper is then at work), the next session's cgroups, on v1. */
  private refillSoon(limits: Limits): void {
    if (this.kind !== 'cgroup1' || this.closed || this.refillPending || this.spare !== null) return;
    this.refillPending = true;
    setImmediate(() => {
      this.refillPending = false;
      if (this.closed || this.spare !== null) return;
      const name = `spare-${process.pid}-${randomBytes(8).toString('hex')}`;
      try {
        this.make(
          name,
          this.bases.map((base) => `${base}/${name}`),
          limits,
        );
        this.spare = { name, limits };
      } catch {
        // The next session makes its own and says why if it cannot.
      }
    });
  }

  /** Removes the session's cgroup(s), waiting for their last processes to be gone. */
  async remove(id: string, log: Logger): Promise<void> {
    // Ids also come from the audit log (a dead jaid's sessions): only a session's name is ever removed.
    if (!SESSION_ID.test(id)) return;
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
   * MIN_LEFTOVER_AGE_MS (jaid sweeps at start and once more when that much time has passed), and the spares of
   * jaids no longer running, whatever their age. Returns how many went.
   */
  sweep(log: Logger, now = Date.now()): number {
    let removed = 0;
    for (const base of this.bases)
      for (const name of fs.readdirSync(base)) {
        if (this.own.has(name)) continue;
        const spareOf = SPARE.exec(name)?.[1];
        if (spareOf !== undefined) {
          // Not ours yet named after our pid: a previous jaid's that had our pid (a PID namespace of its own).
          if (Number(spareOf) !== process.pid && processExists(Number(spareOf))) continue;
        } else {
          if (!SESSION_ID.test(name)) continue;
          const mtime = mtimeMs(`${base}/${name}`);
          if (mtime === null || now - mtime < MIN_LEFTOVER_AGE_MS) continue;
        }
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

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return errorCode(e) !== 'ESRCH';
  }
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
