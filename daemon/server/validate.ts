// Validation of a SpawnRequest from a client: every field is hostile input. Pure; unit-tested without root.
import { v1 } from '../../proto/codec';
import { isCanonicalAbsolute, isPlainRelative } from '../../common/path-shape';
import { failure, type Failure } from '../errors';
import type { Limits, NetworkMode } from '../policy/types';

export const LIMITS = {
  argv: 4096,
  env: 4096,
  grants: 64,
  masks: 256,
  pathBytes: 4095,
  stringBytes: 65536,
  jailBytes: 255,
  userBytes: 64,
  scriptBytes: 60 * 1024,
  memoryBytes: 2 ** 50,
  pids: 4194304,
  cpuMillis: 1024 * 1000,
} as const;

export type Mode = 'casual' | 'strict' | 'bare';
export type StdioChoice = 'pass' | 'pty' | 'null';

export interface Grant {
  path: string;
  readOnly: boolean;
}

export interface ValidRequest {
  /** Empty: the user's login shell. */
  argv: string[];
  cwd: string;
  env: string[];
  mode: Mode;
  jail: string;
  nocwd: boolean;
  grants: Grant[];
  masks: string[];
  storage: string | null;
  configDir: string | null;
  stdio: readonly [StdioChoice, StdioChoice, StdioChoice];
  terminal: { rows: number; cols: number } | null;
  umask: number;
  actAsUser: string | null;
  /** Startup script text, or null. */
  script: string | null;
  /** Canonical path of the initjail program, or null. */
  initjail: string | null;
  /** null: the most the policy allows. */
  network: NetworkMode | null;
  /** What the user asked for; null fields: the policy's ceiling. */
  limits: Limits;
}

export interface ValidTeardown {
  /** null: every jail of the user. */
  jail: string | null;
  mode: Mode;
  storage: string | null;
  configDir: string | null;
  actAsUser: string | null;
}

type Checked<T> = { ok: true; value: T } | Failure;

const invalid = (message: string): Failure => failure('REQUEST_INVALID', message);

/** Text the daemon accepts: no NUL, and no U+FFFD (what the decoder puts where the bytes were not UTF-8). */
function checkText(value: string, field: string, maxBytes: number): Failure | null {
  if (value.includes('\0')) return invalid(`${field}: contains a NUL byte`);
  if (value.includes('\uFFFD')) return invalid(`${field}: not valid UTF-8`);
  if (Buffer.byteLength(value, 'utf8') > maxBytes) return invalid(`${field}: longer than ${maxBytes} bytes`);
  return null;
}

/** Absolute, canonical (no `.`, `..` or empty components), as the client's realpath would give it. */
export function checkCanonicalPath(value: string, field: string): Failure | null {
  const text = checkText(value, field, LIMITS.pathBytes);
  if (text !== null) return text;
  if (!value.startsWith('/')) return invalid(`${field}: not an absolute path`);
  return isCanonicalAbsolute(value) ? null : invalid(`${field}: not a canonical path`);
}

export function isValidJailName(name: string): boolean {
  return /^[A-Za-z0-9_-][A-Za-z0-9._-]*$/.test(name) && Buffer.byteLength(name) <= LIMITS.jailBytes;
}

export function isValidUserName(name: string): boolean {
  return /^[A-Za-z0-9_][A-Za-z0-9._-]*\$?$/.test(name) && name.length <= LIMITS.userBytes;
}

function checkMask(mask: string, index: number): Failure | null {
  const field = `masks[${index}]`;
  const text = checkText(mask, field, LIMITS.pathBytes);
  if (text !== null) return text;
  if (mask.startsWith('/')) return invalid(`${field}: cannot mask an absolute path`);
  if (!isPlainRelative(mask)) return invalid(`${field}: not a plain relative path`);
  return null;
}

function checkEnv(entry: string, index: number): Failure | null {
  const field = `env[${index}]`;
  const text = checkText(entry, field, LIMITS.stringBytes);
  if (text !== null) return text;
  if (entry.indexOf('=') <= 0) return invalid(`${field}: not NAME=VALUE`);
  return null;
}

function stdioChoice(kind: v1.StdioKind, field: string): Checked<StdioChoice> {
  switch (kind) {
    case v1.StdioKind.STDIO_PASS:
      return { ok: true, value: 'pass' };
    case v1.StdioKind.STDIO_PTY:
      return { ok: true, value: 'pty' };
    case v1.StdioKind.STDIO_NULL:
      return { ok: true, value: 'null' };
    case v1.StdioKind.STDIO_UNSPECIFIED:
      return invalid(`${field}: unspecified`);
    default:
      return invalid(`${field}: unknown kind ${String(kind)}`);
  }
}

function modeOf(mode: v1.Mode): Checked<Mode> {
  switch (mode) {
    case v1.Mode.MODE_UNSPECIFIED:
    case v1.Mode.MODE_CASUAL:
      return { ok: true, value: 'casual' };
    case v1.Mode.MODE_STRICT:
      return { ok: true, value: 'strict' };
    case v1.Mode.MODE_BARE:
      return { ok: true, value: 'bare' };
    default:
      return invalid(`mode: unknown mode ${String(mode)}`);
  }
}

function checkList<T>(
  list: readonly T[],
  field: string,
  max: number,
  each: (v: T, i: number) => Failure | null,
): Failure | null {
  if (list.length > max) return invalid(`${field}: more than ${max} entries`);
  for (let i = 0; i < list.length; i++) {
    const item = list[i];
    if (item === undefined) continue;
    const bad = each(item, i);
    if (bad !== null) return bad;
  }
  return null;
}

export function validateSpawnRequest(req: v1.SpawnRequest): Checked<ValidRequest> {
  const listProblem =
    checkList(req.argv, 'argv', LIMITS.argv, (a, i) => checkText(a, `argv[${i}]`, LIMITS.stringBytes)) ??
    checkList(req.env, 'env', LIMITS.env, checkEnv) ??
    checkList(req.masks, 'masks', LIMITS.masks, checkMask) ??
    checkList(req.grants, 'grants', LIMITS.grants, (g, i) => checkCanonicalPath(g.path ?? '', `grants[${i}].path`));
  if (listProblem !== null) return listProblem;
  if (req.argv.length > 0 && req.argv[0] === '') return invalid('argv[0]: empty');

  const cwdProblem = checkCanonicalPath(req.cwd, 'cwd');
  if (cwdProblem !== null) return cwdProblem;

  const grants: Grant[] = [];
  for (const [i, g] of req.grants.entries()) {
    if (g.access !== v1.GrantAccess.GRANT_READ_WRITE && g.access !== v1.GrantAccess.GRANT_READ_ONLY)
      return invalid(`grants[${i}].access: must be read-write or read-only`);
    grants.push({ path: g.path ?? '', readOnly: g.access === v1.GrantAccess.GRANT_READ_ONLY });
  }

  const jail = req.jail === '' ? 'default' : req.jail;
  if (!isValidJailName(jail)) return invalid(`${jail.slice(0, 64)}: invalid sandbox name`);

  const dirs = checkUserDirs(req.storage, req.configDir);
  if (dirs !== null) return dirs;

  const mode = modeOf(req.mode);
  if (!mode.ok) return mode;

  const stdio: StdioChoice[] = [];
  for (const [field, kind] of [
    ['stdin', req.stdin],
    ['stdout', req.stdout],
    ['stderr', req.stderr],
  ] as const) {
    const choice = stdioChoice(kind, field);
    if (!choice.ok) return choice;
    stdio.push(choice.value);
  }
  const [stdin = 'null', stdout = 'null', stderr = 'null'] = stdio;

  let terminal: ValidRequest['terminal'] = null;
  if (stdio.includes('pty')) {
    const rows = req.terminal?.rows ?? 0;
    const cols = req.terminal?.cols ?? 0;
    if (rows > 0xffff || cols > 0xffff) return invalid('terminal: size out of range');
    // A terminal that reports 0x0 (some CI consoles) gets the classic default.
    terminal = { rows: rows === 0 ? 24 : rows, cols: cols === 0 ? 80 : cols };
  }

  if (req.umask > 0o777) return invalid('umask: out of range');

  const actAsUser = checkActAsUser(req.actAsUser);
  if (typeof actAsUser !== 'string' && actAsUser !== null) return actAsUser;

  const scriptProblem = checkText(req.script, 'script', LIMITS.scriptBytes);
  if (scriptProblem !== null) return scriptProblem;
  if (req.initjail !== '') {
    const bad = checkCanonicalPath(req.initjail, 'initjail');
    if (bad !== null) return bad;
  }

  const network = networkOf(req.network);
  if (!network.ok) return network;
  const limits = limitsOf(req.limits);
  if (!limits.ok) return limits;

  return {
    ok: true,
    value: {
      argv: [...req.argv],
      cwd: req.cwd,
      env: dedupeEnv(req.env),
      mode: mode.value,
      jail,
      nocwd: req.nocwd,
      grants,
      masks: [...req.masks],
      storage: req.storage === '' ? null : req.storage,
      configDir: req.configDir === '' ? null : req.configDir,
      stdio: [stdin, stdout, stderr],
      terminal,
      umask: req.umask,
      actAsUser,
      script: req.script === '' ? null : req.script,
      initjail: req.initjail === '' ? null : req.initjail,
      network: network.value,
      limits: limits.value,
    },
  };
}

function networkOf(network: v1.Network): Checked<NetworkMode | null> {
  switch (network) {
    case v1.Network.NETWORK_UNSPECIFIED:
      return { ok: true, value: null };
    case v1.Network.NETWORK_HOST:
      return { ok: true, value: 'host' };
    case v1.Network.NETWORK_LOOPBACK:
      return { ok: true, value: 'loopback' };
    case v1.Network.NETWORK_NONE:
      return { ok: true, value: 'none' };
    default:
      return invalid(`network: unknown network mode ${String(network)}`);
  }
}

/** protobufjs gives uint64 as a number or a Long; either way an exact integer is needed. */
function exactInteger(value: number | { toString(): string }): number {
  return typeof value === 'number' ? value : Number(value.toString());
}

function limitsOf(limits: v1.ILimits | null | undefined): Checked<Limits> {
  const memory = exactInteger(limits?.memoryBytes ?? 0);
  const pids = limits?.pids ?? 0;
  const cpuMillis = limits?.cpuMillis ?? 0;
  if (!Number.isSafeInteger(memory) || memory > LIMITS.memoryBytes) return invalid('limits.memory_bytes: out of range');
  if (pids > LIMITS.pids) return invalid('limits.pids: out of range');
  if (cpuMillis > LIMITS.cpuMillis) return invalid('limits.cpu_millis: out of range');
  return {
    ok: true,
    value: {
      memoryBytes: memory === 0 ? null : memory,
      pids: pids === 0 ? null : pids,
      cpu: cpuMillis === 0 ? null : cpuMillis / 1000,
    },
  };
}

function checkActAsUser(name: string): string | null | Failure {
  if (name === '') return null;
  return isValidUserName(name) ? name : invalid('act_as_user: invalid user name');
}

function checkUserDirs(storage: string, configDir: string): Failure | null {
  for (const [field, value] of [
    ['storage', storage],
    ['config_dir', configDir],
  ] as const) {
    if (value === '') continue;
    const bad = checkCanonicalPath(value, field);
    if (bad !== null) return bad;
  }
  return null;
}

export function validateTeardown(req: v1.Teardown): Checked<ValidTeardown> {
  if (req.jail !== '' && !isValidJailName(req.jail)) return invalid(`${req.jail.slice(0, 64)}: invalid sandbox name`);
  const dirs = checkUserDirs(req.storage, req.configDir);
  if (dirs !== null) return dirs;
  const mode = modeOf(req.mode);
  if (!mode.ok) return mode;
  const actAsUser = checkActAsUser(req.actAsUser);
  if (typeof actAsUser !== 'string' && actAsUser !== null) return actAsUser;
  return {
    ok: true,
    value: {
      jail: req.jail === '' ? null : req.jail,
      mode: mode.value,
      storage: req.storage === '' ? null : req.storage,
      configDir: req.configDir === '' ? null : req.configDir,
      actAsUser,
    },
  };
}

/** Set by the helper for the startup script it writes; never taken from a client. */
const HELPER_OWNED_ENV = 'JAI_SCRIPT';

/** Last assignment of a name wins, as in a shell. */
function dedupeEnv(env: readonly string[]): string[] {
  const byName = new Map<string, string>();
  for (const entry of env) byName.set(entry.slice(0, entry.indexOf('=')), entry);
  byName.delete(HELPER_OWNED_ENV);
  return [...byName.values()];
}

/** The fds that must be attached to the Spawn packet, in order: cwd, grants, then each passed stdio. */
export function expectedFdCount(req: ValidRequest): number {
  return (req.nocwd ? 0 : 1) + req.grants.length + req.stdio.filter((s) => s === 'pass').length;
}
