// The integration fixture: a real jaid as root on a private socket, a real unprivileged test user with a
// project dir in its home, and the client installed where that user can read it. Everything it mounts or
// starts is removed by teardown(), which fails if anything is left, and by the process's stop handlers if it is
// stopped or loses its output before teardown() was called.
import { execFileSync, spawn, spawnSync, type ChildProcess, type SpawnSyncReturns } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const REPO = path.resolve(__dirname, '../../..');
/**
 * The unprivileged test user. JAI_TEST_USER names another one, so that a second suite can run beside the main one
 * (its leak checks then cover only that user's state: other suites' sessions may be running).
 */
export const TEST_USER = process.env['JAI_TEST_USER'] ?? 'jaitest';
const SHARED_HOST = TEST_USER !== 'jaitest';

export interface TestUser {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

export interface Fixture {
  user: TestUser;
  socket: string;
  /** The admin API's socket (mode 0666 in tests, so that users can be refused by the API itself). */
  adminSocket: string;
  /** The policy file jaid was started with (rewrite it and SIGHUP the daemon to reload). */
  policyFile: string;
  auditDb: string;
  clientDir: string;
  /** A fresh project dir under the user's home, owned by the user: the usual cwd. */
  project: string;
  daemon: ChildProcess;
  daemonLog: () => string;
  /** Stops jaid and removes what the fixture made; fails if anything is left. Runs once: later calls share it. */
  teardown(): Promise<void>;
}

export function ensureTestUser(name = TEST_USER): TestUser {
  if (spawnSync('getent', ['passwd', name]).status !== 0)
    execFileSync('useradd', ['--create-home', '--shell', '/bin/bash', name]);
  const [, , uid, gid, , home] = execFileSync('getent', ['passwd', name], { encoding: 'utf8' }).trim().split(':');
  if (uid === undefined || gid === undefined || home === undefined) throw new Error(`bad passwd entry for ${name}`);
  fs.mkdirSync(home, { recursive: true });
  fs.chownSync(home, Number(uid), Number(gid));
  fs.chmodSync(home, 0o755);
  return { name, uid: Number(uid), gid: Number(gid), home };
}

/**
 * The fixtures this process has not torn down yet. When the process is told to stop (^C on a bench, a hang-up, the
 * SIGTERM of `timeout` or of the test runner) or its stdout or stderr goes away (`node dist/bench/x.js | head`:
 * EPIPE), they are torn down before it exits: their user's overlay and tmp mounts under /run/jai would otherwise
 * outlive it, and every later fixture's leak check would fail on them. A second signal exits at once.
 */
const liveFixtures = new Set<Fixture>();
let stopHandlersInstalled = false;
let stopping = false;

function stopAfterTeardown(exitCode: number): void {
  if (stopping) return;
  stopping = true;
  void Promise.allSettled([...liveFixtures].map((f) => f.teardown())).then(() => process.exit(exitCode));
}

function installStopHandlers(): void {
  if (stopHandlersInstalled) return;
  stopHandlersInstalled = true;
  const signals: [NodeJS.Signals, number][] = [
    ['SIGINT', 130],
    ['SIGTERM', 143],
    ['SIGHUP', 129],
  ];
  for (const [signal, exitCode] of signals)
    process.on(signal, () => {
      if (stopping) process.exit(exitCode);
      stopAfterTeardown(exitCode);
    });
  for (const stream of [process.stdout, process.stderr])
    stream.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code !== 'EPIPE') throw e;
      stopAfterTeardown(1);
    });
}

function waitFor(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const tick = (): void => {
      if (check()) resolve();
      else if (Date.now() > deadline) reject(new Error(`timed out waiting for ${what}`));
      else setTimeout(tick, 20);
    };
    tick();
  });
}

/** Mount points under /run/jai/<user>, deepest first. */
export function mountsUnder(prefix: string): string[] {
  return fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[4] ?? '')
    .map((p) => p.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))))
    .filter((p) => p === prefix || p.startsWith(`${prefix}/`))
    .sort((a, b) => b.length - a.length);
}

/**
 * Live jai-helper and jai-init processes. Zombies are not counted: a killed helper's init is reparented to the host's
 * PID 1, which reaps it when it gets to it (at once under systemd, later under some container inits); it holds
 * nothing but its pid.
 */
export function helperProcesses(): string[] {
  return liveProcesses((comm) => comm.startsWith('jai-helper') || comm.startsWith('jai-init')).map(
    (p) => `${p.pid} ${p.comm}`,
  );
}

/** Live helper zygotes (`jai-zygote`), with their parent's pid: each jaid runs one, which dies with it. */
export function zygoteProcesses(): { pid: number; ppid: number }[] {
  return liveProcesses((comm) => comm === 'jai-zygote').map(({ pid, ppid }) => ({ pid, ppid }));
}

function liveProcesses(match: (comm: string) => boolean): { pid: number; ppid: number; comm: string }[] {
  const found: { pid: number; ppid: number; comm: string }[] = [];
  for (const pid of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (state === 'Z' || !match(comm)) continue;
      found.push({ pid: Number(pid), ppid: Number(ppid), comm });
    } catch {
      // exited meanwhile
    }
  }
  return found;
}

/** Unmounts what the helper left mounted for the user (it keeps the overlay between sessions, as upstream). */
export function unmountUserState(user: string): void {
  const base = `/run/jai/${user}`;
  for (const mount of mountsUnder(base)) spawnSync('umount', ['-l', mount]);
  fs.rmSync(base, { recursive: true, force: true });
}

export interface FixtureOptions {
  /** The policy file's text (default: empty, the built-in defaults). */
  policy?: string;
  /** The audit database (default: audit.db in the fixture's state dir). */
  auditDb?: string;
  /** More jaid flags, after the fixture's own (a flag given twice: the last wins; e.g. `--spawn-rate 2`). */
  daemonArgs?: readonly string[];
  /** fds of this process jaid inherits as its fds 3, 4… (not close-on-exec in jaid). */
  inheritFds?: readonly number[];
}

/** jaid's arguments for a fixture's files: its own sockets, audit DB and policy, nothing of the host's. */
export function jaidArgs(f: Pick<Fixture, 'socket' | 'adminSocket' | 'auditDb' | 'policyFile'>): string[] {
  return [
    '--socket',
    f.socket,
    '--admin-socket',
    f.adminSocket,
    '--admin-socket-mode',
    '0666',
    '--audit-db',
    f.auditDb,
    '--policy',
    f.policyFile,
    '--config',
    '/dev/null',
  ];
}

export async function startFixture(
  label: string,
  daemonEnv: NodeJS.ProcessEnv = process.env,
  options: FixtureOptions = {},
): Promise<Fixture> {
  const user = ensureTestUser();
  unmountUserState(user.name);
  fs.rmSync(path.join(user.home, '.jai'), { recursive: true, force: true });
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), `jai-it-${label}-`));
  const clientDir = path.join(stateDir, 'client');
  execFileSync('bash', [path.join(REPO, 'scripts/install-client.sh'), clientDir]);
  fs.chmodSync(stateDir, 0o755);
  const project = path.join(user.home, `proj-${label}`);
  fs.rmSync(project, { recursive: true, force: true });
  fs.mkdirSync(project);
  fs.chownSync(project, user.uid, user.gid);

  const socket = `/run/jai/test-${label}-${process.pid}.sock`;
  const state = { exited: false };
  const auditDb = options.auditDb ?? path.join(stateDir, 'audit.db');
  const adminSocket = `/run/jai/test-${label}-${process.pid}.admin.sock`;
  const policyFile = path.join(stateDir, 'policy.toml');
  fs.writeFileSync(policyFile, options.policy ?? '');
  let log = '';
  const args = [...jaidArgs({ socket, adminSocket, auditDb, policyFile }), ...(options.daemonArgs ?? [])];
  // setpriv execs jaid with SIGTERM as its parent-death signal: a test file killed by the runner (its timeout) takes
  // its jaid, and so its sessions and mounts, with it instead of leaving them to disturb the files after it.
  const daemon = spawn('setpriv', ['--pdeathsig', 'TERM', process.execPath, path.join(REPO, 'bin/jaid'), ...args], {
    stdio: ['ignore', 'pipe', 'pipe', ...(options.inheritFds ?? [])],
    env: daemonEnv,
  });
  daemon.stdout?.on('data', (d: Buffer) => (log += d.toString()));
  daemon.stderr?.on('data', (d: Buffer) => (log += d.toString()));
  daemon.on('exit', () => (state.exited = true));
  try {
    // The admin socket comes last: then jaid is fully up (and its fd table settled, for leak checks).
    await waitFor(() => state.exited || (fs.existsSync(socket) && fs.existsSync(adminSocket)), 10_000, 'jaid sockets');
    if (state.exited) throw new Error(`jaid exited at start:\n${log}`);
  } catch (e) {
    // No fixture to tear down: what was made for it goes here (a jaid that did not come up, its directories).
    if (!state.exited) daemon.kill('SIGKILL');
    for (const made of [project, stateDir, socket, adminSocket]) fs.rmSync(made, { recursive: true, force: true });
    throw e;
  }

  const tearDown = async (): Promise<void> => {
    // jaid's zygote must end with it (its socket's EOF, and SIGKILL as jaid's death signal).
    const zygotes = zygoteProcesses().flatMap((z) => (z.ppid === daemon.pid ? [z.pid] : []));
    if (!state.exited) {
      daemon.kill('SIGTERM');
      // A jaid that ignores SIGTERM is a failure, but a live child would also keep this test file from ever ending.
      await waitFor(() => state.exited, 10_000, 'jaid exit').catch((e: unknown) => {
        daemon.kill('SIGKILL');
        throw e;
      });
    }
    unmountUserState(user.name);
    fs.rmSync(project, { recursive: true, force: true });
    fs.rmSync(path.join(user.home, '.jai'), { recursive: true, force: true });
    fs.rmSync(stateDir, { recursive: true, force: true });
    const leftMounts = mountsUnder(SHARED_HOST ? `/run/jai/${user.name}` : '/run/jai');
    const leftHelpers = SHARED_HOST ? [] : helperProcesses();
    const zygotesLeft = (): number[] => {
      const live = new Set(zygoteProcesses().map((z) => z.pid));
      return zygotes.filter((pid) => live.has(pid));
    };
    await waitFor(() => zygotesLeft().length === 0, 2000, 'jaid’s zygote to exit').catch(() => undefined);
    const leftZygotes = zygotesLeft();
    if (leftMounts.length > 0 || leftHelpers.length > 0 || leftZygotes.length > 0)
      throw new Error(
        `left behind: mounts ${JSON.stringify(leftMounts)} helpers ${JSON.stringify(leftHelpers)} zygotes ${JSON.stringify(leftZygotes)}`,
      );
  };
  // Once: a stop that comes while the test's own teardown runs waits for that one instead of starting another.
  let tornDown: Promise<void> | undefined;
  const fixture: Fixture = {
    user,
    socket,
    adminSocket,
    policyFile,
    auditDb,
    clientDir,
    project,
    daemon,
    daemonLog: () => log,
    teardown() {
      tornDown ??= tearDown().finally(() => liveFixtures.delete(fixture));
      return tornDown;
    },
  };
  installStopHandlers();
  liveFixtures.add(fixture);
  // A user who has used jai before: ~/.jai and its default files exist, so first runs print no `created` lines.
  const init = runJai(fixture, ['--init']);
  if (init.status !== 0) {
    await fixture.teardown().catch(() => undefined);
    throw new Error(`jai --init failed: ${init.stderr}`);
  }
  return fixture;
}

export interface RunOptions {
  /** Lines typed into the terminal one at a time, 400 ms apart (runJaiInTerminal only). */
  typed?: readonly string[];
  /** Shell text run before jai in the terminal, e.g. `stty rows 33 cols 111; ` (runJaiInTerminal only). */
  shellPrefix?: string;
  cwd?: string;
  input?: string | Buffer;
  env?: Record<string, string>;
  timeoutMs?: number;
  /** Another test user to run as (default: the fixture's). */
  as?: TestUser;
  /** Sees each chunk of the terminal's output and may type in answer (runInTerminal only). */
  onOutput?: (chunk: Buffer, type: (text: string) => void) => void;
}

function userEnv(f: Fixture, extra: Record<string, string> = {}, user: TestUser = f.user): Record<string, string> {
  return {
    HOME: user.home,
    USER: user.name,
    LOGNAME: user.name,
    PATH: '/usr/local/bin:/usr/bin:/bin',
    LANG: 'C.UTF-8',
    JAI_SOCKET: f.socket,
    ...extra,
  };
}

/** Runs `jai ARGS…` as the test user with pipes for stdio (no terminal). */
export function runJai(f: Fixture, args: readonly string[], options: RunOptions = {}): SpawnSyncReturns<string> {
  const user = options.as ?? f.user;
  return spawnSync(process.execPath, [path.join(f.clientDir, 'bin/jai'), ...args], {
    cwd: options.cwd ?? (options.as === undefined ? f.project : user.home),
    uid: user.uid,
    gid: user.gid,
    env: userEnv(f, options.env, user),
    input: options.input ?? '',
    encoding: 'utf8',
    timeout: options.timeoutMs ?? 20_000,
  });
}

/** The command line that runs the installed client. */
export function jaiCommand(f: Fixture, args: readonly string[]): string {
  const quote = (a: string): string => `'${a.replace(/'/g, `'\\''`)}'`;
  return [process.execPath, path.join(f.clientDir, 'bin/jai'), ...args].map(quote).join(' ');
}

/**
 * Runs a shell command line as the test user inside a terminal (script(1) allocates the PTY), typing `keys` into it
 * at the given times. script's stdin stays open until the end: at EOF script would type an end-of-file.
 */
export async function runInTerminal(
  f: Fixture,
  command: string,
  keys: readonly { atMs: number; text: string }[] = [],
  options: RunOptions = {},
): Promise<{ output: string; status: number | null }> {
  const { output, status } = await runInTerminalBytes(f, command, keys, options);
  return { output: output.toString(), status };
}

/** runInTerminal, with the terminal's output as bytes (binary output, hashes). */
export function runInTerminalBytes(
  f: Fixture,
  command: string,
  keys: readonly { atMs: number; text: string }[] = [],
  options: RunOptions = {},
): Promise<{ output: Buffer; status: number | null }> {
  const child = spawn('script', ['-qec', command, '/dev/null'], {
    cwd: options.cwd ?? f.project,
    uid: f.user.uid,
    gid: f.user.gid,
    env: userEnv(f, { TERM: 'xterm', PS1: '$ ', ...options.env }),
  });
  const chunks: Buffer[] = [];
  const type = (text: string): void => {
    child.stdin.write(text);
  };
  child.stdout.on('data', (d: Buffer) => {
    chunks.push(d);
    options.onOutput?.(d, type);
  });
  child.stderr.on('data', (d: Buffer) => chunks.push(d));
  const typing = keys.map(({ atMs, text }) => setTimeout(() => type(text), atMs));
  const deadline = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 20_000);
  return new Promise((resolve) => {
    child.on('close', (status) => {
      typing.forEach(clearTimeout);
      clearTimeout(deadline);
      resolve({ output: Buffer.concat(chunks), status });
    });
  });
}

/** Runs `jai ARGS…` in a terminal; `typed` lines are typed 400 ms apart, after `shellPrefix` (shell text) ran. */
export function runJaiInTerminal(
  f: Fixture,
  args: readonly string[],
  options: RunOptions = {},
): Promise<{ output: string; status: number | null }> {
  const keys = (options.typed ?? []).map((line, i) => ({ atMs: 400 * (i + 1), text: `${line}\n` }));
  return runInTerminal(f, `${options.shellPrefix ?? ''}${jaiCommand(f, args)}`, keys, options);
}

/** Starts `jai ARGS…` as the test user without waiting (pipes for stdio). */
export function spawnJai(f: Fixture, args: readonly string[], options: RunOptions = {}): ChildProcess {
  const user = options.as ?? f.user;
  return spawn(process.execPath, [path.join(f.clientDir, 'bin/jai'), ...args], {
    cwd: options.cwd ?? (options.as === undefined ? f.project : user.home),
    uid: user.uid,
    gid: user.gid,
    env: userEnv(f, options.env, user),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}

/** Runs fn with the effective uid/gid of the test user, so that what it creates is the user's (and root's
 * permission bypass cannot hide a mistake). */
export function asUser<T>(f: Fixture, fn: () => T): T {
  process.setegid?.(f.user.gid);
  process.seteuid?.(f.user.uid);
  try {
    return fn();
  } finally {
    process.seteuid?.(0);
    process.setegid?.(0);
  }
}
