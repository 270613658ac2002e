// The parts of a run that upstream computes at launch time, after all options are in: the grant set with its checks
// (jai-behaviour.md §7.3), the program's argv (§8.3) and the startup script (§9).
import { MAX_CONFIG_BYTES } from './config-file';
import { ensureDir } from './ensure';
import { fatal, type Problem, type Result } from './outcome';
import type { CliState } from './options';
import { comparePaths, isWithin } from './paths';
import { strerror, type ResolveFs } from './resolve-fs';
import type { ResolvedGrant } from './resolve';

export interface GrantContext {
  fs: ResolveFs;
  uid: number;
  umask: number;
  cwd: string;
  /** $HOME as jai names it, and its real path. */
  home: string;
  homeReal: string;
  /** $CFG as jai names it (what the refusal message prints), and its real path. */
  configDir: string;
  configDirReal: string;
  /** The resolved storage directory. */
  storage: string;
  created: (path: string) => void;
}

export interface GrantPlan {
  grants: ResolvedGrant[];
  nocwd: boolean;
}

const HOME_REFUSAL =
  'Refusing to grant your entire home directory to jailed code.\n' +
  '     Run "jai -D" to avoid granting the current working directory.';

/** Checks one directory about to be granted (and creates it for --dir!), in upstream's order. */
function checkGrant(ctx: GrantContext, dir: string, create: boolean): Problem | null {
  if (isWithin(ctx.configDir, dir) || isWithin(ctx.configDirReal, dir)) {
    return fatal(`${dir}: cannot export a directory within ${ctx.configDir}`);
  }
  if (isWithin(ctx.storage, dir)) return fatal(`${dir}: cannot export a directory within ${ctx.storage}`);
  if (create) {
    const made = ensureDir(ctx.fs, dir, { mode: 0o777 & ~ctx.umask, onCreate: ctx.created });
    if (made !== undefined) return made;
  }
  const st = ctx.fs.stat(dir);
  const code = !st.ok ? st.code : st.value.isDirectory ? null : 'ENOTDIR';
  if (code !== null) return fatal(`openat("${dir}", O_DIRECTORY|O_CLOEXEC|O_PATH): ${strerror(code)}`);
  if (st.ok && st.value.uid !== ctx.uid) {
    return fatal(`${dir}: owned by ${st.value.uid} should be owned by ${ctx.uid}`);
  }
  return null;
}

/**
 * The explicit grants in component order (parents first), after checking them and the implicit cwd grant.
 * The cwd is granted unless -D or it is already in the set; granting it when it is $HOME is refused.
 */
export function planGrants(ctx: GrantContext, state: CliState): Result<GrantPlan> {
  const all = new Map(state.grants);
  const nocwd = !state.grantCwd || state.grants.has(ctx.cwd);
  if (!nocwd) {
    if (ctx.cwd === ctx.home || ctx.cwd === ctx.homeReal) return { ok: false, problem: fatal(HOME_REFUSAL) };
    all.set(ctx.cwd, { readOnly: false, create: false });
  }
  const order = [...all.keys()].sort(comparePaths);
  for (const dir of order) {
    const problem = checkGrant(ctx, dir, all.get(dir)?.create === true);
    if (problem !== null) return { ok: false, problem };
  }
  const grants = order
    .filter((dir) => state.grants.has(dir))
    .map((path) => ({ path, readOnly: state.grants.get(path)?.readOnly === true }));
  return { ok: true, value: { grants, nocwd } };
}

/** The program (the login shell, /bin/sh if none, when no command is given), wrapped by `command` when set. */
export function programArgv(command: readonly string[], state: CliState, loginShell: string): string[] {
  const program = command.length > 0 ? [...command] : [loginShell === '' ? '/bin/sh' : loginShell];
  return state.command === '' ? program : ['/bin/bash', '-c', state.command, ...program];
}

export const SCRIPT_TRAILER = `
# Added by jai: delete this script once it has been sourced, unless JAI_KEEP_SCRIPT is set.
if [[ -n $JAI_SCRIPT && -z \${JAI_KEEP_SCRIPT+set} ]]; then
    rm -f "$JAI_SCRIPT"
    unset JAI_SCRIPT
fi
`;

/** How the default `command` starts (jai-behaviour.md §5): by sourcing the startup script. */
const SOURCES_SCRIPT_FIRST = 'source "${JAI_SCRIPT:-/dev/null}";';

/**
 * True when bash sourcing TEXT runs nothing: every line is blank (spaces and tabs) or a comment. A comment ends at
 * its newline (a backslash does not continue it), so no such line can open a quote or a here-document. Any CR or
 * NUL makes it count: bash runs a line of a lone CR as a command. (The files are decoded as UTF-8 first, which keeps
 * every ASCII byte in place: invalid bytes in a comment stay in it, a byte-order mark counts.)
 */
export function isInertScript(text: string): boolean {
  return /^(?:[ \t]*(?:#[^\n\r\0]*)?\n)*[ \t]*(?:#[^\n\r\0]*)?$/.test(text);
}

/**
 * Variables with which bash itself could act on the script or see it run: KEEP keeps it; BASH_ENV runs a file first
 * (which could set KEEP); exported functions (BASH_FUNC_*) could stand in for `source`, `rm` or `unset`;
 * SHELLOPTS/BASHOPTS could trace its commands.
 */
function shellActsOnScript(entry: string): boolean {
  return /^(?:JAI_KEEP_SCRIPT|BASH_ENV|SHELLOPTS|BASHOPTS)=|^BASH_FUNC_/.test(entry);
}

/**
 * The startup script's text: the --script files concatenated, each followed by a newline, then the trailer; null
 * without script files. Also null when the files only hold comments (the default .jairc), `command` sources the
 * script first thing and nothing in the jail's environment could make bash treat it otherwise
 * (shellActsOnScript): the script would only delete itself and unset $JAI_SCRIPT, and that `rm` is a fork and an
 * exec in every session. The program starts in the same state.
 */
export function startupScript(
  fs: ResolveFs,
  scripts: readonly string[],
  launch: { command: string; env: readonly string[] },
): Result<string | null> {
  if (scripts.length === 0) return { ok: true, value: null };
  let text = '';
  for (const path of scripts) {
    const data = fs.readFile(path, MAX_CONFIG_BYTES);
    if (!data.ok) return { ok: false, problem: fatal(`${path}: ${strerror(data.code)}`) };
    text += `${data.value.toString('utf8')}\n`;
  }
  const elidable = launch.command.startsWith(SOURCES_SCRIPT_FIRST) && !launch.env.some(shellActsOnScript);
  if (elidable && isInertScript(text)) return { ok: true, value: null };
  return { ok: true, value: text + SCRIPT_TRAILER };
}
