// Builds the helper's plan (native/README.md, format jai-plan-1) from an approved request. Pure; the helper
// re-validates everything it is given.
import type { NetworkMode } from '../policy/types';
import type { SandboxIdentity } from '../sandbox-account';
import type { Identity } from '../server/peer';
import type { StdioChoice, ValidRequest, ValidTeardown } from '../server/validate';

export const PLAN_MAGIC = 'jai-plan-1';
/** The status socket's fd number in the helper. Attached client fds follow it. */
export const STATUS_FD = 3;

export type PlanEntry = readonly [key: string, value: string];

export interface HelperPlan {
  entries: PlanEntry[];
  /** The program's argv after defaults (the login shell when the request had none). */
  argv: string[];
  configDir: string;
  storage: string;
}

function stdioValue(choice: StdioChoice, nextFd: () => number): string {
  switch (choice) {
    case 'pty':
      return 'pty';
    case 'null':
      return 'null';
    case 'pass':
      return `fd:${nextFd()}`;
  }
}

/** The config dir and storage dir of a user: ~/.jai unless the request names them. */
function userDirs(identity: Identity, req: { configDir: string | null; storage: string | null }) {
  const configDir = req.configDir ?? `${identity.home === '/' ? '' : identity.home}/.jai`;
  return { configDir, storage: req.storage ?? configDir };
}

function identityEntries(identity: Identity): PlanEntry[] {
  return [
    ['user', identity.user],
    ['uid', String(identity.uid)],
    ['gid', String(identity.gid)],
  ];
}

/** What the policy decided beyond the request: the session's network and the cgroup directories it runs in. */
export interface Placement {
  network: NetworkMode;
  cgroups: readonly string[];
  /** Whether the program may create user namespaces (else the helper's seccomp filter refuses them). */
  allowUserns: boolean;
  /** Whether the program may use the kernel's key syscalls (else the seccomp filter refuses them). */
  allowKeyring: boolean;
}

const HOST_PLACEMENT: Placement = { network: 'host', cgroups: [], allowUserns: false, allowKeyring: true };

/**
 * The attached fds arrive in request order (cwd, grants, passed stdio) and are handed to the helper as fds
 * STATUS_FD+1, STATUS_FD+2, … in the same order.
 */
export function buildHelperPlan(
  identity: Identity,
  request: ValidRequest,
  sandbox: SandboxIdentity | null = null,
  placement: Placement = HOST_PLACEMENT,
): HelperPlan {
  let fd = STATUS_FD;
  const nextFd = (): number => ++fd;
  const { configDir, storage } = userDirs(identity, request);
  const argv = request.argv.length > 0 ? request.argv : [identity.shell];

  const entries: PlanEntry[] = [
    ['op', 'run'],
    ['mode', request.mode],
    ...identityEntries(identity),
    ...identity.groups.map((g): PlanEntry => ['group', String(g)]),
    ['home', identity.home],
    ['jail', request.jail],
    ['storage', storage],
    ['config_dir', configDir],
    ['cwd', request.cwd],
    ['network', placement.network],
    ['userns', placement.allowUserns ? 'allow' : 'deny'],
    ['keyring', placement.allowKeyring ? 'allow' : 'deny'],
    ...placement.cgroups.map((dir): PlanEntry => ['cgroup', dir]),
  ];
  if (!request.nocwd) entries.push(['grant', `cwd:${nextFd()}:${request.cwd}`]);
  for (const grant of request.grants)
    entries.push(['grant', `${grant.readOnly ? 'ro' : 'rw'}:${nextFd()}:${grant.path}`]);
  // Masks shape a casual overlay; strict and bare homes start empty.
  if (request.mode === 'casual') for (const mask of request.masks) entries.push(['mask', mask]);
  if (request.mode === 'strict') {
    if (sandbox === null) throw new Error('strict plan without a sandbox account');
    entries.push(
      ['sandbox_user', sandbox.name],
      ['sandbox_uid', String(sandbox.uid)],
      ['sandbox_gid', String(sandbox.gid)],
      // For the helper to re-check that the ids are this user's own: base + uid, within the range.
      ['sandbox_id_base', String(sandbox.range.base)],
      ['sandbox_id_count', String(sandbox.range.count)],
      ['shell', identity.shell],
    );
  }
  for (const arg of argv) entries.push(['argv', arg]);
  for (const assignment of request.env) entries.push(['env', assignment]);
  entries.push(['umask', request.umask.toString(8)]);
  const [stdin, stdout, stderr] = request.stdio;
  entries.push(['stdin', stdioValue(stdin, nextFd)]);
  entries.push(['stdout', stdioValue(stdout, nextFd)]);
  entries.push(['stderr', stdioValue(stderr, nextFd)]);
  if (request.terminal !== null) {
    entries.push(['pty_rows', String(request.terminal.rows)]);
    entries.push(['pty_cols', String(request.terminal.cols)]);
  }
  if (request.script !== null) entries.push(['script', request.script]);
  if (request.initjail !== null) entries.push(['initjail', request.initjail]);
  entries.push(['status_fd', String(STATUS_FD)]);
  // Nothing of the user's runs before jaid's go: the session's start row is on disk first (Session.go).
  entries.push(['go', 'wait']);
  return { entries, argv, configDir, storage };
}

/** `jai -u`: the helper's teardown op (one jail, or every jail when `jail` is null). */
export function buildTeardownPlan(identity: Identity, request: ValidTeardown): PlanEntry[] {
  const { storage } = userDirs(identity, request);
  const entries: PlanEntry[] = [
    ['op', 'teardown'],
    ['mode', request.mode],
    ...identityEntries(identity),
    ['home', identity.home],
    ['storage', storage],
  ];
  if (request.jail !== null) entries.push(['jail', request.jail]);
  entries.push(['status_fd', String(STATUS_FD)]);
  return entries;
}

/** NUL-separated: magic, key/value pairs, `end`. Values never contain NUL (validated earlier; asserted here). */
export function encodePlan(entries: readonly PlanEntry[]): Buffer {
  const parts: string[] = [PLAN_MAGIC];
  for (const [key, value] of entries) {
    if (key.includes('\0') || value.includes('\0')) throw new Error(`plan entry ${key} contains NUL`);
    parts.push(key, value);
  }
  parts.push('end');
  return Buffer.from(parts.join('\0') + '\0', 'utf8');
}
