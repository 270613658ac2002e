// From argv, environment and config files to what jai should do (jai-behaviour.md §3.1): first command-line pass,
// the .conf file, second pass, jail name, the jail's .jail file, third pass; then the launch checks. Every message
// and exit code is upstream jai's. Filesystem access goes through ctx.fs, as the user.
import { applyCommandLine } from './args';
import { complete } from './complete';
import { ConfigReader, type ReaderEnv } from './config-file';
import { DEFAULT_CONF, DEFAULT_JAIL, DEFAULT_JAIRC, DEFAULTS, newJailFile } from './defaults';
import { buildEnvironment } from './env';
import { checkOwner, ensureFile, ensurePrivateDir } from './ensure';
import { planGrants, programArgv, startupScript } from './launch';
import { initialState, type ActionEnv, type CliState, type NetworkRequest } from './options';
import { asFatal, fail, fatal, type Problem, type Result } from './outcome';
import { isValidName, joinPath } from './paths';
import { strerror, type ResolveFs } from './resolve-fs';

export type { ResolveFs } from './resolve-fs';

export type Mode = 'casual' | 'strict' | 'bare';
export interface ResolvedGrant {
  path: string;
  readOnly: boolean;
} // canonical absolute; parents before children; --dir! dirs already created
export interface RunInvocation {
  kind: 'run';
  mode: Mode;
  jail: string;
  configDir: string; // absolute, created, owned by the user, mode <= 0700
  storage: string; // absolute, created, owned by the user
  cwd: string; // canonical cwd
  nocwd: boolean; // true when -D, or when cwd is already covered by an explicit grant
  grants: ResolvedGrant[]; // explicit grants (not the implicit cwd one)
  masks: string[]; // relative paths as given (after --unmask)
  env: string[]; // final NAME=VALUE list, sorted by name, JAI_* and PWD included, JAI_SCRIPT NOT included
  argv: string[]; // final argv: the command (or login shell), wrapped with bash -c when `command` is non-empty
  script: string | null; // the concatenated startup script text, or null when no script file
  initjail: string | null; // canonical path of the --initjail program, or null
  maskWarning: boolean; // true when --mask was given on the command line (the daemon reports if masks were ignored)
  network: NetworkRequest | null; // --net; null: the most the admin policy allows
  limits: { memoryBytes: number | null; pids: number | null; cpu: number | null }; // --memory/--pids/--cpu
  filterEscapes: boolean; // --filter-escapes: the PTY relay filters the program's output
}
export interface TeardownInvocation {
  kind: 'teardown';
  jail: string | null;
  mode: Mode;
  configDir: string;
  storage: string;
}
export type Invocation =
  | RunInvocation
  | TeardownInvocation
  // --help, --version, --print-defaults, --init, --complete, and every error (usage errors:
  // `jai: MSG\nTry jai --help for more information.\n`, exit 2; other errors: `jai: MSG\n`, exit 1)
  | { kind: 'output'; stdout: string; stderr: string; exitCode: number };
export interface ResolveContext {
  /** The words after `jai`. */
  argv: readonly string[];
  env: Readonly<Record<string, string | undefined>>;
  cwd: string;
  home: string;
  user: string;
  uid: number;
  loginShell: string;
  umask: number;
  fs: ResolveFs;
  /** Informational lines (`jai: created PATH`), without the trailing newline. */
  stderr: (line: string) => void;
}

const TRY_HELP = 'Try jai --help for more information.\n';

function toOutput(problem: Problem): Invocation {
  switch (problem.kind) {
    case 'usage':
      return { kind: 'output', stdout: '', stderr: `jai: ${problem.message}\n${TRY_HELP}`, exitCode: 2 };
    case 'fatal':
      return { kind: 'output', stdout: '', stderr: `jai: ${problem.message}\n`, exitCode: 1 };
    case 'output':
      return { kind: 'output', stdout: problem.stdout, stderr: problem.stderr, exitCode: problem.exitCode };
  }
}

export function resolveInvocation(ctx: ResolveContext): Invocation {
  const r = resolve(ctx);
  return r.ok ? r.value : toOutput(r.problem);
}

/** Where things are, before any option is read. */
interface Setup {
  home: string;
  /** $CFG as upstream names it ($HOME joined with $JAI_CONFIG_DIR or .jai): exported and printed as is. */
  configDir: string;
  cwd: string;
  /** jai's own environment: the caller's plus JAI_USER, JAI_CONFIG_DIR and PWD (§1). */
  processEnv: Map<string, string>;
}

function setup(ctx: ResolveContext): Result<Setup> {
  const home = joinPath('/', ctx.home);
  const configDir = joinPath(home, ctx.env['JAI_CONFIG_DIR'] || '.jai');
  const cwd = ctx.fs.realpath(ctx.cwd);
  if (!cwd.ok) return fail(fatal(`${ctx.cwd}: ${strerror(cwd.code)}`));
  const processEnv = new Map<string, string>();
  for (const [name, value] of Object.entries(ctx.env)) {
    if (value !== undefined && name !== '' && !name.includes('=')) processEnv.set(name, value);
  }
  processEnv.set('JAI_USER', ctx.user);
  processEnv.set('JAI_CONFIG_DIR', configDir);
  processEnv.set('PWD', cwd.value);
  return { ok: true, value: { home, configDir, cwd: cwd.value, processEnv } };
}

/** Everything the phases after the first command-line pass share. */
interface Session extends Setup {
  ctx: ResolveContext;
  state: CliState;
  cliEnv: ActionEnv;
  /** The command (empty: the login shell). */
  command: readonly string[];
  created: (path: string) => void;
  /** Masks were given on the command line (first pass). */
  maskWarning: boolean;
}

function resolve(ctx: ResolveContext): Result<Invocation> {
  const s = setup(ctx);
  if (!s.ok) return s;
  const { home, configDir, cwd, processEnv } = s.value;
  const { fs, argv } = ctx;
  if (argv[0] === '--complete' && argv.length >= 2) {
    const out = complete(argv.slice(1), { fs, cwd, home, configDir, processEnv });
    return { ok: true, value: { kind: 'output', ...out } };
  }
  const state = initialState();
  const include = (): never => {
    throw new Error('include from the command line');
  };
  const cliEnv: ActionEnv = { context: 'cli', fs, cwd, home, configDir, processEnv, include };
  const first = applyCommandLine(argv, state, cliEnv);
  if (!first.ok) return first;
  const created = (path: string): void => ctx.stderr(`jai: created ${path}`);
  const command = argv.slice(first.positional);
  const session: Session = { ...s.value, ctx, state, cliEnv, command, created, maskWarning: state.masks.length > 0 };

  const dirs = prepareConfigDir(session);
  if (!dirs.ok) return dirs;
  if (state.init) return init(session, dirs.value.configDirReal);
  if (state.unmount && (!state.grantCwd || state.grants.size > 0 || session.command.length > 0)) {
    const stderr = `-u is not compatible with -d, -D, or a command\n${TRY_HELP}`;
    return fail({ kind: 'output', stdout: '', stderr, exitCode: 2 });
  }
  const configured = configure(session, dirs.value.configDirReal);
  if (!configured.ok) return configured;
  if (configured.value.kind === 'teardown') return { ok: true, value: configured.value };
  return launch(session, { ...dirs.value, ...configured.value });
}

/** $HOME must be the user's; $CFG and its default files exist after every run (§4.1). */
function prepareConfigDir(session: Session): Result<{ homeReal: string; configDirReal: string }> {
  const { fs, uid } = session.ctx;
  const homeReal = checkOwner(fs, session.home, uid);
  if (!homeReal.ok) return homeReal;
  const cfg = ensurePrivateDir(fs, session.configDir, uid);
  if (!cfg.ok) return cfg;
  const files = [
    ['.defaults', DEFAULTS],
    ['default.conf', DEFAULT_CONF],
    ['.jairc', DEFAULT_JAIRC],
  ] as const;
  for (const [name, text] of files) {
    const problem = ensureFile(fs, cfg.value, name, text, session.created);
    if (problem !== undefined) return fail(problem);
  }
  return { ok: true, value: { homeReal: homeReal.value, configDirReal: cfg.value } };
}

/** $STORE: the configuration directory, or the `storage` directory (created 0700, owned by the user). */
function storageDir(session: Session, configDirReal: string): Result<string> {
  const dir = session.state.storage;
  return dir === null ? { ok: true, value: configDirReal } : ensurePrivateDir(session.ctx.fs, dir, session.ctx.uid);
}

function init(session: Session, configDirReal: string): Result<Invocation> {
  const storage = storageDir(session, configDirReal);
  if (!storage.ok) return storage;
  const problem = ensureFile(session.ctx.fs, storage.value, 'default.jail', DEFAULT_JAIL, session.created);
  if (problem !== undefined) return fail(problem);
  const stdout =
    `You can edit the configuration defaults in ${session.configDir}/.defaults.\n` +
    'Run jai --print-defaults to see the original contents of that file.\n';
  return { ok: true, value: { kind: 'output', stdout, stderr: '', exitCode: 0 } };
}

/**
 * §3.1 steps 2 to 6: the .conf file, the command line again, the jail name (none with -u: every jail), the jail's
 * .jail file (created with the mode in effect now, read with `jail` forbidden), the command line a third time.
 */
function configure(
  session: Session,
  configDirReal: string,
): Result<TeardownInvocation | { kind: 'configured'; jail: string; storage: string }> {
  const { ctx, state, cliEnv } = session;
  const reader = new ConfigReader({ ...cliEnv, configDirReal } satisfies ReaderEnv, state);
  const conf = selectConf(reader, state, session.command);
  if (conf !== null) return fail(asFatal(conf));
  const second = applyCommandLine(ctx.argv, state, cliEnv);
  if (!second.ok) return fail(asFatal(second.problem));

  const storage = storageDir(session, configDirReal);
  if (!storage.ok) return storage;
  if (state.jail === null && state.unmount) {
    return { ok: true, value: teardown(state, null, configDirReal, storage.value) };
  }
  const jail = (state.jail ??= 'default');
  const jailFile = `${jail}.jail`;
  const content = jail === 'default' ? DEFAULT_JAIL : newJailFile(state.mode);
  const made = ensureFile(ctx.fs, storage.value, jailFile, content, session.created);
  if (made !== undefined) return fail(made);
  const jailPath = joinPath(storage.value, jailFile);
  const real = ctx.fs.realpath(jailPath);
  const parsed = reader.loadFile(real.ok ? real.value : jailPath, jailPath, 'jail');
  if (parsed !== null) return fail(asFatal(parsed));
  const third = applyCommandLine(ctx.argv, state, cliEnv);
  if (!third.ok) return fail(asFatal(third.problem));
  if (state.unmount) return { ok: true, value: teardown(state, jail, configDirReal, storage.value) };
  return { ok: true, value: { kind: 'configured', jail, storage: storage.value } };
}

/** What upstream does at launch: grant checks (and --dir! creation), the startup script, the environment. */
function launch(
  session: Session,
  where: { homeReal: string; configDirReal: string; jail: string; storage: string },
): Result<Invocation> {
  const { ctx, state } = session;
  const plan = planGrants(
    {
      fs: ctx.fs,
      uid: ctx.uid,
      umask: ctx.umask,
      cwd: session.cwd,
      home: session.home,
      homeReal: where.homeReal,
      configDir: session.configDir,
      configDirReal: where.configDirReal,
      storage: where.storage,
      created: session.created,
    },
    state,
  );
  if (!plan.ok) return plan;
  const inherited = new Map(session.processEnv);
  inherited.delete('JAI_SCRIPT');
  inherited.set('JAI_JAIL', where.jail);
  inherited.set('JAI_MODE', state.mode);
  const env = buildEnvironment(state, inherited);
  const script = startupScript(ctx.fs, state.scripts, { command: state.command, env });
  if (!script.ok) return script;
  return {
    ok: true,
    value: {
      kind: 'run',
      mode: state.mode,
      jail: where.jail,
      configDir: where.configDirReal,
      storage: where.storage,
      cwd: session.cwd,
      nocwd: plan.value.nocwd,
      grants: plan.value.grants,
      masks: [...state.masks],
      env,
      argv: programArgv(session.command, state, ctx.loginShell),
      script: script.value,
      initjail: state.initjail,
      maskWarning: session.maskWarning,
      network: state.network,
      limits: { memoryBytes: state.memoryBytes, pids: state.pids, cpu: state.cpu },
      filterEscapes: state.filterEscapes,
    },
  };
}

/** -C FILE (relative to the cwd when it has a '/'); else CMD.conf when CMD is a plain name and it exists; else
 *  default.conf when it exists. */
function selectConf(reader: ConfigReader, state: CliState, command: readonly string[]): Problem | null {
  if (state.confFile !== null) {
    const r = reader.loadNamed(state.confFile, true, 'conf');
    if (r === 'missing') return fatal(`${state.confFile}: no such configuration file`);
    return r === 'found' ? null : r;
  }
  const program = command[0];
  if (program !== undefined && isValidName(program)) {
    const r = reader.loadNamed(`${program}.conf`, false, 'conf');
    if (r !== 'missing') return r === 'found' ? null : r;
  }
  const r = reader.loadNamed('default.conf', false, 'conf');
  return r === 'found' || r === 'missing' ? null : r;
}

function teardown(state: CliState, jail: string | null, configDir: string, storage: string): TeardownInvocation {
  return { kind: 'teardown', jail, mode: state.mode, configDir, storage };
}
