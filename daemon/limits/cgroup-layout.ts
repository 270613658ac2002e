// Where per-session cgroups can go on this host, decided from /proc/self/mountinfo, /proc/self/cgroup and the
// controllers the daemon's own cgroup offers. Pure: the I/O is daemon/limits/cgroups.ts.

export const CONTROLLERS = ['memory', 'pids', 'cpu'] as const;
/** Where the helper accepts cgroup directories (its PLAN_CGROUP_ROOT). */
export const CGROUP_ROOT = '/sys/fs/cgroup/';
export type Controller = (typeof CONTROLLERS)[number];

export type CgroupLayout =
  | {
      kind: 'cgroup2';
      /** The unified hierarchy's mount point. */
      mount: string;
      /** The daemon's own cgroup, relative to the mount ("/" or "/system.slice/jaid.service"). */
      own: string;
    }
  | {
      kind: 'cgroup1';
      /** Per controller: the daemon's own cgroup directory in that controller's hierarchy. */
      own: Record<Controller, string>;
    }
  | { kind: 'none'; reason: string };

interface Mount {
  point: string;
  fstype: string;
  superOptions: string[];
}

/** mountinfo escapes space, tab, newline and backslash as \ooo. */
function unescapeMountField(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
}

export function parseMountinfo(text: string): Mount[] {
  const mounts: Mount[] = [];
  for (const line of text.split('\n')) {
    const dash = line.indexOf(' - ');
    if (dash < 0) continue;
    const before = line.slice(0, dash).split(' ');
    const after = line.slice(dash + 3).split(' ');
    const point = before[4];
    const [fstype, , superOptions] = after;
    if (point === undefined || fstype === undefined) continue;
    mounts.push({ point: unescapeMountField(point), fstype, superOptions: (superOptions ?? '').split(',') });
  }
  return mounts;
}

/** /proc/self/cgroup: `0::/path` for the unified hierarchy, `N:ctrl[,ctrl]:/path` for v1 ones. */
export function parseProcCgroup(text: string): { unified: string | null; v1: Map<string, string> } {
  let unified: string | null = null;
  const v1 = new Map<string, string>();
  for (const line of text.split('\n')) {
    const first = line.indexOf(':');
    const second = line.indexOf(':', first + 1);
    if (first < 0 || second < 0) continue;
    const controllers = line.slice(first + 1, second);
    const path = line.slice(second + 1);
    if (!path.startsWith('/')) continue;
    if (line.slice(0, first) === '0' && controllers === '') unified = path;
    else for (const c of controllers.split(',')) if (c !== '') v1.set(c, path);
  }
  return { unified, v1 };
}

const join = (mount: string, path: string): string => (path === '/' ? mount : `${mount}${path}`);

/**
 * cgroup v2 when the daemon's cgroup offers every controller (`controllersAt` reads its cgroup.controllers);
 * else cgroup v1 when each controller has its own mounted hierarchy (hybrid hosts); else none, with the reason.
 */
export function chooseLayout(
  mountinfo: string,
  procCgroup: string,
  controllersAt: (dir: string) => string | null,
): CgroupLayout {
  // The helper places sessions only below /sys/fs/cgroup/ (plan.c): hierarchies mounted elsewhere are not used.
  const mounts = parseMountinfo(mountinfo).filter(
    (m) => `${m.point}/`.startsWith(CGROUP_ROOT) && !m.point.split('/').includes('..'),
  );
  const own = parseProcCgroup(procCgroup);
  const unified = mounts.find((m) => m.fstype === 'cgroup2');
  let v2Missing: string[] = [...CONTROLLERS];
  if (unified !== undefined && own.unified !== null) {
    const offered = (controllersAt(join(unified.point, own.unified)) ?? '').trim().split(/\s+/);
    v2Missing = CONTROLLERS.filter((c) => !offered.includes(c));
    if (v2Missing.length === 0) return { kind: 'cgroup2', mount: unified.point, own: own.unified };
  }
  const v1: Partial<Record<Controller, string>> = {};
  const v1Missing: Controller[] = [];
  for (const controller of CONTROLLERS) {
    const mount = mounts.find((m) => m.fstype === 'cgroup' && m.superOptions.includes(controller));
    const path = own.v1.get(controller);
    if (mount === undefined || path === undefined) v1Missing.push(controller);
    else v1[controller] = join(mount.point, path);
  }
  const { memory, pids, cpu } = v1;
  if (memory !== undefined && pids !== undefined && cpu !== undefined)
    return { kind: 'cgroup1', own: { memory, pids, cpu } };
  const v2Reason =
    unified === undefined
      ? `no cgroup2 mount below ${CGROUP_ROOT}`
      : `cgroup2 lacks ${v2Missing.join(', ')} in the daemon's cgroup`;
  return { kind: 'none', reason: `${v2Reason}; cgroup v1 lacks ${v1Missing.join(', ')}` };
}

/** The value written to cpu.max (v2): quota and period in microseconds. */
export function cpuMax(cpu: number, periodUs = 100_000): string {
  return `${Math.max(1000, Math.round(cpu * periodUs))} ${periodUs}`;
}
