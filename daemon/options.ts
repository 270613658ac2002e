// jaid's command line. Pure.
import path from 'node:path';

export interface DaemonOptions {
  socketPath: string;
  auditDb: string;
  helperPath: string;
}

export type ParsedOptions =
  { ok: true; options: DaemonOptions } | { ok: true; help: true } | { ok: false; message: string };

export const USAGE = `usage: jaid [--socket PATH] [--audit-db FILE] [--helper PATH]

Serves the jai spawn socket (default /run/jai/jaid.sock) in the foreground until SIGTERM.
  --socket PATH    spawn socket path (must be under /run/jai, which every jail hides)
  --audit-db FILE  audit database (default /var/lib/jai/audit.db)
  --helper PATH    the jai-helper binary (default: native/build/jai-helper of this installation)
`;

export function defaultHelperPath(distDaemonDir: string): string {
  return path.resolve(distDaemonDir, '../../native/build/jai-helper');
}

export function parseDaemonArgs(args: readonly string[], defaults: DaemonOptions): ParsedOptions {
  const options = { ...defaults };
  const keys: Record<string, keyof DaemonOptions> = {
    '--socket': 'socketPath',
    '--audit-db': 'auditDb',
    '--helper': 'helperPath',
  };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? '';
    if (arg === '--help' || arg === '-h') return { ok: true, help: true };
    const eq = arg.indexOf('=');
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    const key = keys[name];
    if (key === undefined) return { ok: false, message: `unknown option ${arg}` };
    const value = eq > 0 ? arg.slice(eq + 1) : args[++i];
    if (value === undefined || value === '') return { ok: false, message: `option ${name} requires an argument` };
    options[key] = path.resolve(value);
  }
  if (!options.socketPath.startsWith('/run/jai/'))
    return { ok: false, message: `--socket must be under /run/jai/ (hidden in every jail): ${options.socketPath}` };
  return { ok: true, options };
}
