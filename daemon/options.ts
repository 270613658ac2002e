// jaid's command line. Pure.
import path from 'node:path';
import { parseSize } from '../common/units';
import { CLIENT_LIMIT_BOUNDS, type ClientLimitSettings } from './server/client-limits';
import { AUDIT_FAILURE_MODES, type AuditFailureMode } from './audit/audit-guard';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface DaemonOptions {
  socketPath: string;
  /** Permission bits of the socket (0666: any local user may ask; a group-only mode restricts jai to a group). */
  socketMode: number;
  auditDb: string;
  helperPath: string;
  /** Fork each helper from one started at jaid's start (`jai-helper --zygote`); off: exec each one. */
  helperZygote: boolean;
  logLevel: LogLevel;
  /** Ended sessions older than this many days are deleted from the audit log; 0 keeps them forever. */
  auditRetentionDays: number;
  /** The oldest ended sessions beyond this many rows are deleted; 0: no cap. */
  auditRetentionRows: number;
  /** When the audit log cannot be written: refuse new sessions (AUDIT_UNAVAILABLE), or run them unaudited. */
  auditFailure: AuditFailureMode;
  /** The admin policy; null: /etc/jai/policy.toml when it exists, else the built-in defaults. */
  policyPath: string | null;
  adminSocketPath: string;
  /** Permission bits of the admin socket (group: the policy's admin_group). */
  adminSocketMode: number;
  /** Strict jails run as uid and gid sandboxIdBase + the user's uid, for users whose uid is below sandboxIdCount. */
  sandboxIdBase: number;
  sandboxIdCount: number;
  /** What one client uid may ask of the spawn socket (connections, setups, spawn rate, request deadline). */
  clientLimits: ClientLimitSettings;
}

/** The reserved id range: 0x70000000, the range systemd leaves unused above its container range, up to 2^31 − 1. */
export const DEFAULT_SANDBOX_ID_BASE = 0x70000000;
export const DEFAULT_SANDBOX_ID_COUNT = 0x10000000;
/** The last sandbox id: ids stay positive as a signed 32-bit number (what many tools assume). */
export const MAX_SANDBOX_ID = 0x7fffffff;
/** The lowest base: below 65536 are the system's, regular users' and systemd's dynamic ids (and 16-bit 65535). */
export const MIN_SANDBOX_ID_BASE = 0x10000;

/** A failure is a usage error (the command line's shape: exit 2 with the usage) or a refused value (exit 1). */
export type ParsedOptions =
  { ok: true; options: DaemonOptions } | { ok: true; help: true } | { ok: false; message: string; usage: boolean };

export const USAGE = `usage: jaid [--config FILE] [--socket PATH] [--socket-mode MODE] [--admin-socket PATH]
            [--admin-socket-mode MODE] [--policy FILE] [--audit-db FILE] [--audit-retention-days N]
            [--audit-retention-rows N] [--audit-failure refuse|allow] [--helper PATH] [--helper-zygote on|off]
            [--log-level LEVEL]
            [--max-connections N] [--max-connections-per-uid N] [--max-setups-per-uid N] [--spawn-rate N]
            [--spawn-burst N] [--request-timeout TIME] [--max-packet-bytes SIZE] [--sandbox-id-base N]
            [--sandbox-id-count N]

Serves the jai spawn socket (default /run/jai/jaid.sock) and the admin API (default /run/jai/admin.sock) in the
foreground until SIGTERM; SIGHUP reloads the policy.
  --config FILE              daemon settings (default /etc/jai/jaid.toml when it exists; flags win over it)
  --socket PATH              spawn socket path (must be under /run/jai, which every jail hides)
  --socket-mode MODE         octal permission bits of the socket (default 0666)
  --admin-socket PATH        admin API socket (under /run/jai; default /run/jai/admin.sock)
  --admin-socket-mode MODE   octal permission bits of the admin socket, group admin_group (default 0660)
  --policy FILE              admin policy (default /etc/jai/policy.toml; built-in defaults when it is absent)
  --audit-db FILE            audit database (default /var/lib/jai/audit.db)
  --audit-retention-days N   delete ended sessions older than N days, at start and daily (default 0: keep all)
  --audit-retention-rows N   keep at most N ended sessions, deleting the oldest (default 0: no cap)
  --audit-failure MODE       when the audit log cannot be written: refuse new sessions (default) or allow them
                             to run unaudited (logged and counted)
  --helper PATH              the jai-helper binary (default: native/build/jai-helper of this installation)
  --helper-zygote on|off     fork each session's helper from one started once (default on, ~1 ms faster a
                             session), or exec each one (every helper with its own address-space layout)
  --log-level LEVEL          fatal, error, warn, info (default), debug or trace
  --sandbox-id-base N        strict jails run as uid/gid N + the user's uid (default 1879048192 = 0x70000000)
  --sandbox-id-count N       size of that reserved range: users with a uid ≥ N get no strict mode (default 268435456)
Limits on clients (refusals: CONNECTION_LIMIT, BUSY, RATE_LIMITED, REQUEST_TIMEOUT):
  --max-connections N        open connections in all (default 4096)
  --max-connections-per-uid N
                             open connections of one uid (default 256)
  --max-setups-per-uid N     requests of one uid being set up at once (default 32)
  --spawn-rate N             sessions (and teardowns) started per second and uid, sustained (default 20)
  --spawn-burst N            … at once after idling (default 40)
  --request-timeout TIME     from connecting to a complete request: 500ms, 10s, 1m; bare numbers are ms
                             (default 10s)
  --max-packet-bytes SIZE    largest packet read, 4K to 64K (default 64K, the protocol's maximum)
`;

export const DEFAULT_CONFIG_PATH = '/etc/jai/jaid.toml';

export function defaultHelperPath(distDaemonDir: string): string {
  return path.resolve(distDaemonDir, '../../native/build/jai-helper');
}

type Setter = (options: DaemonOptions, value: string) => string | null;

/** Milliseconds from `500ms`, `10s`, `1.5s`, `2m` or a bare number of milliseconds; null for anything else. */
export function parseDuration(text: string): number | null {
  const match = /^(\d{1,9}(?:\.\d{1,3})?)(ms|s|m)?$/.exec(text);
  if (match === null) return null;
  const [, number = '', unit = 'ms'] = match;
  const ms = Math.round(Number(number) * (unit === 'm' ? 60_000 : unit === 's' ? 1000 : 1));
  return Number.isSafeInteger(ms) ? ms : null;
}

/** A setter for one client limit: `parse` reads the text (null: not that kind of value), then the bounds apply. */
function limitSetter(
  flag: string,
  key: keyof ClientLimitSettings,
  what: string,
  parse: (v: string) => number | null,
): Setter {
  return (o, v) => {
    const value = parse(v);
    if (value === null) return `${flag}: not ${what}: ${v}`;
    const { min, max } = CLIENT_LIMIT_BOUNDS[key];
    if (value < min || value > max) return `${flag}: ${v} is out of range (${String(min)} to ${String(max)})`;
    o.clientLimits[key] = value;
    return null;
  };
}

const count = (v: string): number | null => (/^\d{1,9}$/.test(v) ? Number(v) : null);
const perSecond = (v: string): number | null => {
  const match = /^(\d{1,9}(?:\.\d{1,3})?)(?:\/s)?$/.exec(v);
  return match === null ? null : Number(match[1]);
};

const SETTERS: Readonly<Record<string, Setter>> = {
  '--socket': (o, v) => {
    o.socketPath = path.resolve(v);
    return null;
  },
  '--audit-db': (o, v) => {
    o.auditDb = path.resolve(v);
    return null;
  },
  '--helper': (o, v) => {
    o.helperPath = path.resolve(v);
    return null;
  },
  '--socket-mode': (o, v) => {
    if (!/^0?[0-7]{3}$/.test(v)) return `--socket-mode: not an octal mode: ${v}`;
    o.socketMode = parseInt(v, 8);
    return null;
  },
  '--admin-socket': (o, v) => {
    o.adminSocketPath = path.resolve(v);
    return null;
  },
  '--admin-socket-mode': (o, v) => {
    if (!/^0?[0-7]{3}$/.test(v)) return `--admin-socket-mode: not an octal mode: ${v}`;
    o.adminSocketMode = parseInt(v, 8);
    return null;
  },
  '--policy': (o, v) => {
    o.policyPath = path.resolve(v);
    return null;
  },
  '--audit-retention-rows': (o, v) => {
    if (!/^\d{1,9}$/.test(v)) return `--audit-retention-rows: not a number of rows: ${v}`;
    o.auditRetentionRows = Number(v);
    return null;
  },
  '--log-level': (o, v) => {
    const level = LOG_LEVELS.find((l) => l === v);
    if (level === undefined) return `--log-level: one of ${LOG_LEVELS.join(', ')}`;
    o.logLevel = level;
    return null;
  },
  '--audit-retention-days': (o, v) => {
    if (!/^\d{1,5}$/.test(v)) return `--audit-retention-days: not a number of days: ${v}`;
    o.auditRetentionDays = Number(v);
    return null;
  },
  '--sandbox-id-base': (o, v) => {
    if (!/^[1-9]\d{0,9}$/.test(v) || Number(v) < MIN_SANDBOX_ID_BASE || Number(v) > MAX_SANDBOX_ID)
      return `--sandbox-id-base: not a number from ${MIN_SANDBOX_ID_BASE} to ${MAX_SANDBOX_ID}: ${v}`;
    o.sandboxIdBase = Number(v);
    return null;
  },
  '--sandbox-id-count': (o, v) => {
    if (!/^[1-9]\d{0,9}$/.test(v) || Number(v) > MAX_SANDBOX_ID)
      return `--sandbox-id-count: not a number from 1 to ${MAX_SANDBOX_ID}: ${v}`;
    o.sandboxIdCount = Number(v);
    return null;
  },
  '--max-connections': limitSetter('--max-connections', 'maxConnections', 'a number of connections', count),
  '--max-connections-per-uid': limitSetter(
    '--max-connections-per-uid',
    'maxConnectionsPerUid',
    'a number of connections',
    count,
  ),
  '--max-setups-per-uid': limitSetter('--max-setups-per-uid', 'maxSetupsPerUid', 'a number of requests', count),
  '--spawn-rate': limitSetter('--spawn-rate', 'spawnRate', 'a number per second', perSecond),
  '--spawn-burst': limitSetter('--spawn-burst', 'spawnBurst', 'a number of sessions', count),
  '--request-timeout': limitSetter('--request-timeout', 'requestTimeoutMs', 'a time (500ms, 10s, 1m)', parseDuration),
  '--max-packet-bytes': limitSetter('--max-packet-bytes', 'maxPacketBytes', 'a size (65536, 32K)', (v) => parseSize(v)),
  '--helper-zygote': (o, v) => {
    if (v !== 'on' && v !== 'off') return `--helper-zygote: on or off, not ${v}`;
    o.helperZygote = v === 'on';
    return null;
  },
  '--audit-failure': (o, v) => {
    const mode = AUDIT_FAILURE_MODES.find((m) => m === v);
    if (mode === undefined) return `--audit-failure: one of ${AUDIT_FAILURE_MODES.join(', ')}`;
    o.auditFailure = mode;
    return null;
  },
};

/** A jaid.toml setting as a flag and its value, and where it was written (`file:line: key`) for messages. */
export type ConfigPair = [flag: string, value: string, where?: string];

/** The flags as name/value pairs, `--config` taken out; or a usage problem. */
function splitArgs(
  args: readonly string[],
):
  | { ok: true; pairs: [string, string][]; config: string | null }
  | { ok: true; help: true }
  | { ok: false; message: string; usage: true } {
  const pairs: [string, string][] = [];
  let config: string | null = null;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? '';
    if (arg === '--help' || arg === '-h') return { ok: true, help: true };
    const eq = arg.indexOf('=');
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    if (name !== '--config' && SETTERS[name] === undefined)
      return { ok: false, message: `unknown option ${arg}`, usage: true };
    const value = eq > 0 ? arg.slice(eq + 1) : args[++i];
    if (value === undefined || value === '')
      return { ok: false, message: `option ${name} requires an argument`, usage: true };
    if (name === '--config') config = path.resolve(value);
    else pairs.push([name, value]);
  }
  return { ok: true, pairs, config };
}

/**
 * The daemon's settings: defaults, then the config file (`--config`, else /etc/jai/jaid.toml when it exists),
 * then the flags. `readConfig` returns the file's settings as flag/value pairs, null when the default file is
 * absent, or a problem (file:line: key).
 */
export function parseDaemonArgs(
  args: readonly string[],
  defaults: DaemonOptions,
  readConfig: (file: string, explicit: boolean) => ConfigPair[] | null | { problem: string } = () => null,
): ParsedOptions {
  const split = splitArgs(args);
  if (!split.ok || 'help' in split) return split;
  const options = { ...defaults, clientLimits: { ...defaults.clientLimits } };
  const refused = (message: string): ParsedOptions => ({ ok: false, message, usage: false });
  const fromFile = readConfig(split.config ?? DEFAULT_CONFIG_PATH, split.config !== null);
  if (fromFile !== null && !Array.isArray(fromFile)) return refused(fromFile.problem);
  const settings: ConfigPair[] = [...(fromFile ?? []), ...split.pairs];
  for (const [name, value, where] of settings) {
    const set = SETTERS[name];
    if (set === undefined) return refused(`unknown option ${name}`);
    const problem = set(options, value);
    if (problem !== null) return refused(where === undefined ? problem : `${where}: ${problem}`);
  }
  for (const [flag, value] of [
    ['--socket', options.socketPath],
    ['--admin-socket', options.adminSocketPath],
  ] as const)
    if (!value.startsWith('/run/jai/'))
      return refused(`${flag} must be under /run/jai/ (hidden in every jail): ${value}`);
  if (options.adminSocketPath === options.socketPath) return refused('--admin-socket and --socket must differ');
  const { maxConnections, maxConnectionsPerUid } = options.clientLimits;
  if (maxConnectionsPerUid > maxConnections)
    return refused(
      `--max-connections-per-uid (${String(maxConnectionsPerUid)}) is over --max-connections (${String(maxConnections)})`,
    );
  if (options.sandboxIdBase + options.sandboxIdCount - 1 > MAX_SANDBOX_ID)
    return refused(
      `--sandbox-id-base ${options.sandboxIdBase} + --sandbox-id-count ${options.sandboxIdCount} goes past ${MAX_SANDBOX_ID}`,
    );
  return { ok: true, options };
}

/** The keys of jaid.toml: the long options without `--`, with `_` for `-` (`socket_mode = "0660"`). */
export const CONFIG_KEYS: readonly string[] = Object.keys(SETTERS).map((flag) => flag.slice(2).replace(/-/g, '_'));
