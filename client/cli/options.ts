// The option table of jai(1): names, short forms, arguments, where each option may appear (command line, config
// files or both) and what it does to the resolution state. The same actions run on every command-line pass and for
// every config-file line (jai-behaviour.md §2.2); only the base of relative paths and ${VAR} substitution differ.
import { parseCpu, parseSize } from '../../common/units';
import { canonical, weaklyCanonical } from './canonical';
import { DEFAULTS } from './defaults';
import { expandVars, lookupVar, setenv, unsetenv, type EnvSettings } from './env';
import { fatal, usage, type Problem } from './outcome';
import { comparePaths, isAbsolute, isValidName, joinPath } from './paths';
import { strerror, type ResolveFs } from './resolve-fs';
import type { Mode } from './resolve';
import { UNTRUSTED_USER, VERSION_TEXT } from './version';

export const NETWORK_REQUESTS = ['host', 'loopback', 'none'] as const;
export type NetworkRequest = (typeof NETWORK_REQUESTS)[number];

export interface GrantFlags {
  readOnly: boolean;
  /** --dir!: created at launch when missing. */
  create: boolean;
}

/** Everything the options accumulate. The command line is applied three times, so actions must be idempotent. */
export interface CliState extends EnvSettings {
  mode: Mode;
  /** Canonical path → flags. The first option naming a directory decides its flags (later ones do not replace). */
  grants: Map<string, GrantFlags>;
  grantCwd: boolean;
  /** Canonical script paths, in the order first seen. */
  scripts: string[];
  /** The bash command line that runs the program ('' = exec it directly). */
  command: string;
  /** Relative mask paths, kept in component order without duplicates. */
  masks: string[];
  jail: string | null;
  /** null: the configuration directory. */
  storage: string | null;
  initjail: string | null;
  /** Requests under the admin policy's ceilings; null: the most the policy allows. */
  network: NetworkRequest | null;
  memoryBytes: number | null;
  pids: number | null;
  cpu: number | null;
  /** Filter the terminal control sequences a jailed program could use against the user's terminal. */
  filterEscapes: boolean;
  // Command line only.
  unmount: boolean;
  init: boolean;
  confFile: string | null;
}

export function initialState(): CliState {
  return {
    mode: 'strict',
    grants: new Map(),
    grantCwd: true,
    filter: new Set(),
    assignments: new Map(),
    scripts: [],
    command: '',
    masks: [],
    jail: null,
    storage: null,
    initjail: null,
    network: null,
    memoryBytes: null,
    pids: null,
    cpu: null,
    filterEscapes: false,
    unmount: false,
    init: false,
    confFile: null,
  };
}

/** A `conf` include: 'found' after parsing it, 'missing' when there is no such file. */
export type IncludeResult = 'found' | 'missing' | Problem;

/** Where an option is being applied. 'jail' = a .jail file or a file it includes (where `jail` is refused). */
export interface ActionEnv {
  context: 'cli' | 'conf' | 'jail';
  fs: ResolveFs;
  /** Canonical cwd: the base of relative paths on the command line. */
  cwd: string;
  /** $HOME: the base of relative directories in files. */
  home: string;
  /** $CFG as jai names it: the base of relative scripts and programs in files. */
  configDir: string;
  /** jai's own environment (with JAI_USER, JAI_CONFIG_DIR and PWD): for ${VAR} and `setenv VAR`. */
  processEnv: ReadonlyMap<string, string>;
  include: (name: string) => IncludeResult;
}

type Action = (state: CliState, value: string, env: ActionEnv) => Problem | null;

export interface OptionSpec {
  /** Short and long names, with dashes ('-m', '--mode'). Config files use the long name without dashes. */
  readonly names: readonly string[];
  /** The argument's name in the help; null: the option takes no argument. */
  readonly arg: string | null;
  readonly help: string;
  readonly where: 'both' | 'cli' | 'file';
  readonly run: Action;
}

const MODES: readonly Mode[] = ['casual', 'bare', 'strict'];

/** ${VAR} substitution: only in config files. */
function expand(state: CliState, env: ActionEnv, value: string): string {
  if (env.context === 'cli') return value;
  return expandVars(value, (name) => lookupVar(state, env.processEnv, name));
}

/** Relative paths: to the cwd on the command line, to base ($HOME or $CFG) in files. */
function located(env: ActionEnv, base: string, p: string): string {
  return env.context === 'cli' ? p : joinPath(base, p);
}

/** An action that cannot fail. */
function set(apply: (state: CliState, value: string) => void): Action {
  return (state, value) => {
    apply(state, value);
    return null;
  };
}

function grant(readOnly: boolean, optional: boolean): Action {
  return (state, value, env) => {
    const c = canonical(env.fs, env.cwd, located(env, env.home, expand(state, env, value)));
    if (!c.ok) return optional ? null : fatal(c.message);
    if (!state.grants.has(c.path)) state.grants.set(c.path, { readOnly, create: false });
    return null;
  };
}

function script(optional: boolean): Action {
  return (state, value, env) => {
    const c = canonical(env.fs, env.cwd, located(env, env.configDir, value));
    if (!c.ok) return optional ? null : fatal(c.message);
    if (!state.scripts.includes(c.path)) state.scripts.push(c.path);
    return null;
  };
}

function notExecutable(path: string, code: string): Problem {
  return usage(`${path}: ${code === 'EACCES' ? 'no execute permission' : strerror(code)}`);
}

function initjail(optional: boolean): Action {
  return (state, value, env) => {
    const p = located(env, env.configDir, value);
    const c = optional ? weaklyCanonical(env.fs, env.cwd, p) : canonical(env.fs, env.cwd, p);
    if (!c.ok) return fatal(c.message);
    const x = env.fs.accessExecute(c.path);
    if (!x.ok) return optional && x.code === 'ENOENT' ? null : notExecutable(c.path, x.code);
    state.initjail = c.path;
    return null;
  };
}

function include(optional: boolean): Action {
  return (state, value, env) => {
    const name = expand(state, env, value);
    const r = env.include(name);
    if (r === 'missing') return optional ? null : usage(`${name}: configuration file not found`);
    return r === 'found' ? null : r;
  };
}

const OPTIONS: readonly OptionSpec[] = [
  {
    names: ['-m', '--mode'],
    arg: 'casual|bare|strict',
    help: `Set the mode:\n  casual - your uid, copy-on-write overlay of your home\n  bare   - your uid, empty private home\n  strict - the ${UNTRUSTED_USER} uid, empty private home`,
    where: 'both',
    run: (state, value) => {
      const mode = MODES.find((m) => m === value);
      if (mode === undefined) return usage(`invalid mode ${value}`);
      state.mode = mode;
      return null;
    },
  },
  {
    names: ['-d', '--dir'],
    arg: 'DIR',
    help: 'Grant read-write access to DIR',
    where: 'both',
    run: grant(false, false),
  },
  {
    names: ['--dir!'],
    arg: 'DIR',
    help: 'Like --dir, and create DIR if it does not exist',
    where: 'both',
    run: (state, value, env) => {
      const w = weaklyCanonical(env.fs, env.cwd, located(env, env.home, expand(state, env, value)));
      if (!w.ok) return fatal(w.message);
      if (!state.grants.has(w.path)) state.grants.set(w.path, { readOnly: false, create: true });
      return null;
    },
  },
  {
    names: ['-r', '--rdir'],
    arg: 'DIR',
    help: 'Grant read-only access to DIR',
    where: 'both',
    run: grant(true, false),
  },
  {
    names: ['--rdir?'],
    arg: 'DIR',
    help: 'Like --rdir, but ignored if DIR does not exist',
    where: 'both',
    run: grant(true, true),
  },
  {
    names: ['-x', '--xdir'],
    arg: 'DIR',
    help: 'Withdraw an earlier grant of DIR',
    where: 'both',
    run: (state, value, env) => {
      const c = canonical(env.fs, env.cwd, located(env, env.home, expand(state, env, value)));
      if (!c.ok) return fatal(c.message);
      state.grants.delete(c.path);
      return null;
    },
  },
  {
    names: ['-D', '--nocwd'],
    arg: null,
    help: 'Do not grant the current directory',
    where: 'both',
    run: set((state) => void (state.grantCwd = false)),
  },
  {
    names: ['-j', '--jail'],
    arg: 'NAME',
    help: 'Use the jail (private home or overlay) named NAME',
    where: 'both',
    run: (state, value, env) => {
      if (env.context === 'jail') return usage('cannot set name from a .jail file or include');
      if (!isValidName(value)) return usage(`${value}: invalid sandbox name`);
      state.jail = value;
      return null;
    },
  },
  { names: ['--conf'], arg: 'FILE', help: '', where: 'file', run: include(false) },
  { names: ['--conf?'], arg: 'FILE', help: '', where: 'file', run: include(true) },
  {
    names: ['--script'],
    arg: 'FILE',
    help: 'Source the bash FILE before starting the program',
    where: 'both',
    run: script(false),
  },
  {
    names: ['--script?'],
    arg: 'FILE',
    help: 'Like --script, but ignored if FILE does not exist',
    where: 'both',
    run: script(true),
  },
  {
    names: ['--initjail'],
    arg: 'PROGRAM',
    help: "Run PROGRAM (outside the jail, as you) when a jail's home\nis first created",
    where: 'both',
    run: initjail(false),
  },
  {
    names: ['--initjail?'],
    arg: 'PROGRAM',
    help: 'Like --initjail, but ignored if PROGRAM does not exist',
    where: 'both',
    run: initjail(true),
  },
  {
    names: ['--mask'],
    arg: 'FILE',
    help: 'Hide $HOME/FILE in a newly created casual overlay',
    where: 'both',
    run: (state, value, env) => {
      const p = expand(state, env, value);
      if (isAbsolute(p)) return usage(`${p}: cannot mask an absolute path`);
      // Kept sorted: inserted before the first that sorts after it (not pushed and re-sorted, ~20 times a start).
      let at = 0;
      let order = -1;
      for (; at < state.masks.length; at++) if ((order = comparePaths(state.masks[at] ?? '', p)) >= 0) break;
      if (order !== 0) state.masks.splice(at, 0, p);
      return null;
    },
  },
  {
    names: ['--unmask'],
    arg: 'FILE',
    help: 'Withdraw an earlier --mask FILE',
    where: 'both',
    run: (state, value, env) => {
      const p = expand(state, env, value);
      state.masks = state.masks.filter((m) => comparePaths(m, p) !== 0);
      return null;
    },
  },
  {
    names: ['--unsetenv'],
    arg: 'VAR',
    help: "Remove VAR from the jail's environment (* is a wildcard)",
    where: 'both',
    run: set((state, value) => unsetenv(state, value)),
  },
  {
    names: ['--setenv'],
    arg: 'VAR[=VALUE]',
    help: 'Set VAR=VALUE in the jail, or let VAR through an --unsetenv',
    where: 'both',
    run: (state, value, env) => {
      const eq = value.indexOf('=');
      const spec = eq < 0 ? value : value.slice(0, eq + 1) + expand(state, env, value.slice(eq + 1));
      return setenv(state, spec, env.processEnv);
    },
  },
  {
    names: ['--filter-escapes'],
    arg: null,
    help: "Remove clipboard writes (OSC 52), report queries and DCS strings from\nthe jail's terminal output",
    where: 'both',
    run: set((state) => void (state.filterEscapes = true)),
  },
  {
    names: ['--no-filter-escapes'],
    arg: null,
    help: 'Relay terminal output unchanged (the default)',
    where: 'both',
    run: set((state) => void (state.filterEscapes = false)),
  },
  {
    names: ['--net'],
    arg: 'MODE',
    help: 'Network: host, loopback (own namespace, only lo) or none\n(at most what the admin policy allows)',
    where: 'both',
    run: (state, value) => {
      const mode = NETWORK_REQUESTS.find((m) => m === value);
      if (mode === undefined) return usage(`invalid network mode ${value} (host, loopback or none)`);
      state.network = mode;
      return null;
    },
  },
  {
    names: ['--memory'],
    arg: 'SIZE',
    help: 'Memory ceiling for the session, e.g. 2G (under the policy)',
    where: 'both',
    run: (state, value) => {
      const bytes = parseSize(value);
      if (bytes === null) return usage(`invalid memory size ${value}`);
      state.memoryBytes = bytes;
      return null;
    },
  },
  {
    names: ['--pids'],
    arg: 'N',
    help: 'Most processes and threads the session may have',
    where: 'both',
    run: (state, value) => {
      const pids = /^\d{1,7}$/.test(value) ? Number(value) : 0;
      if (pids < 1 || pids > 4194304) return usage(`invalid process count ${value}`);
      state.pids = pids;
      return null;
    },
  },
  {
    names: ['--cpu'],
    arg: 'CPUS',
    help: 'CPU time ceiling in CPUs, e.g. 1.5',
    where: 'both',
    run: (state, value) => {
      const cpu = parseCpu(value);
      if (cpu === null) return usage(`invalid CPU count ${value}`);
      state.cpu = cpu;
      return null;
    },
  },
  {
    names: ['--command'],
    arg: 'CMD',
    help: 'Start the program with bash -c CMD (the program is "$0" "$@"),\ne.g. source "${JAI_SCRIPT:-/dev/null}"; "$0" "$@"',
    where: 'both',
    run: set((state, value) => void (state.command = value)),
  },
  {
    names: ['--storage'],
    arg: 'DIR',
    help: 'Keep jail homes and overlay changes in DIR\n(default: $JAI_CONFIG_DIR or $HOME/.jai)',
    where: 'both',
    run: (state, value, env) => {
      const dir = expand(state, env, value);
      state.storage = dir === '' ? null : joinPath(env.context === 'cli' ? env.cwd : env.home, dir);
      return null;
    },
  },
  {
    names: ['-u'],
    arg: null,
    help: 'Unmount the overlays and private /tmp of all jails (or of -j NAME)',
    where: 'cli',
    run: set((state) => void (state.unmount = true)),
  },
  {
    names: ['--init'],
    arg: null,
    help: 'Create the default configuration files and exit',
    where: 'cli',
    run: set((state) => void (state.init = true)),
  },
  {
    names: ['-C', '--conf'],
    arg: 'FILE',
    help: "Read FILE instead of CMD.conf or default.conf. A FILE without '/'\nis in $JAI_CONFIG_DIR (default ~/.jai)",
    where: 'cli',
    run: set((state, value) => void (state.confFile = value)),
  },
  {
    names: ['--conf?'],
    arg: 'FILE',
    help: 'Like --conf',
    where: 'cli',
    run: set((state, value) => void (state.confFile = value)),
  },
  { names: ['--help'], arg: null, help: 'Show this help', where: 'cli', run: () => exit(helpText()) },
  { names: ['--version'], arg: null, help: 'Show the version', where: 'cli', run: () => exit(VERSION_TEXT) },
  {
    names: ['--print-defaults'],
    arg: null,
    help: 'Show the original contents of $JAI_CONFIG_DIR/.defaults',
    where: 'cli',
    run: () => exit(DEFAULTS),
  },
];

function exit(stdout: string): Problem {
  return { kind: 'output', stdout, stderr: '', exitCode: 0 };
}

function table(where: 'cli' | 'file'): ReadonlyMap<string, OptionSpec> {
  const map = new Map<string, OptionSpec>();
  for (const spec of OPTIONS) {
    if (spec.where !== 'both' && spec.where !== where) continue;
    for (const name of spec.names) if (where === 'cli' || name.startsWith('--')) map.set(name, spec);
  }
  return map;
}

/** Options by name on the command line. */
export const CLI_OPTIONS = table('cli');
/** Options by name in config files (long names, with the dashes the reader adds). */
export const FILE_OPTIONS = table('file');

const HELP_INDENT = 16;

/** The option list in upstream's layout: names in a 14-column field, or alone on a line when longer. */
export function helpText(): string {
  let out = 'usage: jai [OPTIONS] [CMD [ARG...]]\n       jai --init\n       jai -u [-j NAME]\n\n';
  for (const spec of OPTIONS) {
    if (spec.where === 'file') continue;
    const arg = spec.arg;
    const names = spec.names
      .map((n) => (arg === null ? n : n.startsWith('--') ? `${n}=${arg}` : `${n} ${arg}`))
      .join(', ');
    const help = spec.help.replaceAll('\n', `\n${' '.repeat(HELP_INDENT)}`);
    out +=
      names.length <= HELP_INDENT - 3
        ? `  ${names.padEnd(HELP_INDENT - 2)}${help}\n`
        : `  ${names}\n${' '.repeat(HELP_INDENT)}${help}\n`;
  }
  return (
    out +
    `
CMD defaults to your login shell; CMD.conf in the configuration directory, if it exists, is read instead of
default.conf. The daemon socket is /run/jai/jaid.sock, or $JAI_SOCKET.
Exit status: the program's, 128+N if it died of signal N, 1 if jai could not run it, 2 for usage errors.
`
  );
}
