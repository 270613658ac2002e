// jaid's command line. Pure.
import path from 'node:path';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface DaemonOptions {
  socketPath: string;
  /** Permission bits of the socket (0666: any local user may ask; a group-only mode restricts jai to a group). */
  socketMode: number;
  auditDb: string;
  helperPath: string;
  logLevel: LogLevel;
  /** Ended sessions older than this many days are deleted from the audit log; 0 keeps them forever. */
  auditRetentionDays: number;
}

export type ParsedOptions =
  { ok: true; options: DaemonOptions } | { ok: true; help: true } | { ok: false; message: string };

export const USAGE = `usage: jaid [--socket PATH] [--socket-mode MODE] [--audit-db FILE] [--audit-retention-days N]
            [--helper PATH] [--log-level LEVEL]

Serves the jai spawn socket (default /run/jai/jaid.sock) in the foreground until SIGTERM.
  --socket PATH              spawn socket path (must be under /run/jai, which every jail hides)
  --socket-mode MODE         octal permission bits of the socket (default 0666)
  --audit-db FILE            audit database (default /var/lib/jai/audit.db)
  --audit-retention-days N   delete ended sessions older than N days, at start and daily (default 0: keep all)
  --helper PATH              the jai-helper binary (default: native/build/jai-helper of this installation)
  --log-level LEVEL          fatal, error, warn, info (default), debug or trace
`;

export function defaultHelperPath(distDaemonDir: string): string {
  return path.resolve(distDaemonDir, '../../native/build/jai-helper');
}

type Setter = (options: DaemonOptions, value: string) => string | null;

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
};

export function parseDaemonArgs(args: readonly string[], defaults: DaemonOptions): ParsedOptions {
  const options = { ...defaults };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? '';
    if (arg === '--help' || arg === '-h') return { ok: true, help: true };
    const eq = arg.indexOf('=');
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    const set = SETTERS[name];
    if (set === undefined) return { ok: false, message: `unknown option ${arg}` };
    const value = eq > 0 ? arg.slice(eq + 1) : args[++i];
    if (value === undefined || value === '') return { ok: false, message: `option ${name} requires an argument` };
    const problem = set(options, value);
    if (problem !== null) return { ok: false, message: problem };
  }
  if (!options.socketPath.startsWith('/run/jai/'))
    return { ok: false, message: `--socket must be under /run/jai/ (hidden in every jail): ${options.socketPath}` };
  return { ok: true, options };
}
