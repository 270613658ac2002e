// jai: the command-line client. Entry point only: resolution of the command line and config files is in
// resolve.ts, the protocol in the SDK, the terminal in terminal/.
// Startup time is part of every `jai CMD` (docs/benchmarks.md): what only a terminal session needs (node:tty, which
// pulls in net and streams, and the relay) is imported when a PTY is used, not before.
import type tty from 'node:tty';
import * as native from '../../native/addon';
import { JaiClientError } from '../sdk/errors';
import { spawn, teardown, type NoticeKind, type StdioSpec } from '../sdk/spawn';
import type { RawMode } from '../terminal/raw-mode';
import type { EscapeFilter } from '../terminal/escape-filter';
import type { PtyRelay } from '../terminal/relay';
import { restoreLauncherEnv } from './launcher-env';
import { nodeResolveFs } from './node-fs';
import { resolveInvocation, type RunInvocation, type TeardownInvocation } from './resolve';

// First: the environment as the user had it (bin/jai moved NODE_EXTRA_CA_CERTS aside).
restoreLauncherEnv(process.env);

const FORWARDED_SIGNALS = ['SIGHUP', 'SIGINT', 'SIGQUIT', 'SIGTERM'] as const;
const SIGNAL_NUMBERS: Readonly<Record<(typeof FORWARDED_SIGNALS)[number], number>> = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGQUIT: 3,
  SIGTERM: 15,
};

/** Who the sandbox is for: this user, or SUDO_USER when run by root (as upstream). */
function targetUser(): native.Passwd {
  const sudoUser = process.env['SUDO_USER'];
  const entry =
    process.getuid?.() === 0 && sudoUser !== undefined && sudoUser !== ''
      ? native.getpwnam(sudoUser)
      : native.getpwuid(process.getuid?.() ?? -1);
  if (entry === null)
    throw new JaiClientError('USER_UNKNOWN', `cannot find password entry for uid ${String(process.getuid?.())}`);
  return entry;
}

/** Prints a notice; in raw mode a bare LF would not return the cursor. */
function noticePrinter(run: RunInvocation | null, raw: () => boolean) {
  return (kind: NoticeKind, message: string): void => {
    const eol = raw() ? '\r\n' : '\n';
    if (kind === 'info') process.stderr.write(`jai: ${message}${eol}`);
    else if (run?.maskWarning === true)
      process.stderr.write(
        `jai: --mask ignored because ${message} already mounted.${eol}     Run "jai -u" to unmount overlays.${eol}`,
      );
  };
}

async function runTeardown(inv: TeardownInvocation): Promise<number> {
  return teardown({
    ...(inv.jail === null ? {} : { jail: inv.jail }),
    mode: inv.mode,
    storage: inv.storage,
    configDir: inv.configDir,
    onNotice: noticePrinter(null, () => false),
  });
}

/**
 * What only a terminal session needs, required on demand (`import()` would go through the ESM loader). node:tty
 * alone pulls in net and the stream modules: ~5 ms of a start that does not use them.
 */
function loadTerminalModules(): {
  ReadStream: typeof tty.ReadStream;
  RawMode: typeof RawMode;
  PtyRelay: typeof PtyRelay;
} {
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { ReadStream } = require('node:tty') as typeof tty;
  const rawMode = require('../terminal/raw-mode') as { RawMode: typeof RawMode };
  const relay = require('../terminal/relay') as { PtyRelay: typeof PtyRelay };
  /* eslint-enable @typescript-eslint/no-require-imports */
  return { ReadStream, RawMode: rawMode.RawMode, PtyRelay: relay.PtyRelay };
}

/** The escape filter, only for --filter-escapes. */
function newEscapeFilter(): EscapeFilter {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const filter = require('../terminal/escape-filter') as { EscapeFilter: typeof EscapeFilter };
  return new filter.EscapeFilter();
}

/** isatty(3) without node:tty: tcgetattr succeeds on terminals only. */
function isTerminalFd(fd: number): boolean {
  try {
    native.getTermios(fd);
    return true;
  } catch {
    return false;
  }
}

async function runSession(inv: RunInvocation, umask: number): Promise<number> {
  // Each stdio that is a terminal is replaced by the slave of a fresh PTY; the others are passed unchanged.
  // The user's terminal itself never reaches the daemon or the jail.
  const isTerminal = [0, 1, 2].map(isTerminalFd);
  const stdio = [0, 1, 2].map((fd): StdioSpec =>
    isTerminal[fd] === true ? { kind: 'pty' } : { kind: 'pass', fd },
  ) as [StdioSpec, StdioSpec, StdioSpec];
  const sizeFd = [1, 2, 0].find((fd) => isTerminal[fd] === true);
  let terminal: { rows: number; cols: number } | undefined;
  if (sizeFd !== undefined) {
    try {
      terminal = native.getWinsize(sizeFd);
    } catch {
      terminal = { rows: 24, cols: 80 };
    }
  }

  let raw: RawMode | null = null;
  let relay: PtyRelay | null = null;
  let input: tty.ReadStream | null = null;
  // Job control, relayed: the jailed job stopped, so this process stops the same way (the user's shell sees the
  // job stop); once continued (`fg`), the terminal goes back to raw mode, the PTY takes the current size, and the
  // job is continued with the foreground.
  // (Deferred a turn: a job that stops at once may report it before `session` below is assigned.)
  const onStopped = (signo: number): void => {
    setImmediate(() => {
      input?.pause();
      relay?.pauseOutput();
      raw?.restore();
      native.stopSelf(signo);
      try {
        raw?.enter();
        relay?.syncSize();
      } catch {
        // The terminal went away while stopped: the hang-up that follows ends the session.
      }
      relay?.resumeOutput();
      input?.resume();
      session.resume();
    });
  };
  const starting = spawn({
    argv: inv.argv,
    cwd: inv.cwd,
    nocwd: inv.nocwd,
    grants: inv.grants,
    env: inv.env,
    mode: inv.mode,
    jail: inv.jail,
    masks: inv.masks,
    storage: inv.storage,
    configDir: inv.configDir,
    ...(inv.script === null ? {} : { script: inv.script }),
    ...(inv.initjail === null ? {} : { initjail: inv.initjail }),
    ...(inv.network === null ? {} : { network: inv.network }),
    limits: inv.limits,
    umask, // read once (from /proc/self/status)
    onNotice: noticePrinter(inv, () => raw?.isActive === true),
    onStopped,
    stdio,
    ...(terminal === undefined ? {} : { terminal }),
  });
  // The request is sent: the terminal's modules load while jaid sets the session up.
  const terminalModules = sizeFd === undefined ? null : loadTerminalModules();
  const session = await starting;

  for (const name of FORWARDED_SIGNALS) process.on(name, () => session.kill(SIGNAL_NUMBERS[name]));

  if (session.ptyMaster !== null && sizeFd !== undefined && terminalModules !== null) {
    const { ReadStream, RawMode: Raw, PtyRelay: Relay } = terminalModules;
    input = isTerminal[0] === true ? new ReadStream(0) : null;
    if (input !== null) {
      const mode = new Raw(0);
      raw = mode;
      mode.enter();
    }
    relay = new Relay({
      master: session.ptyMaster,
      input,
      outputFd: isTerminal[1] === true ? 1 : 2,
      sizeFd,
      ...(inv.filterEscapes ? { filter: newEscapeFilter() } : {}),
    });
  }
  try {
    const status = await session.wait();
    await relay?.finish();
    return status.signal !== undefined ? 128 + status.signal : status.code;
  } finally {
    relay?.close();
    raw?.restore();
  }
}

async function main(): Promise<number> {
  const user = targetUser();
  // `sudo jai`: HOME is the target user's, for ${HOME} in config files and in the jail (upstream rewrites it first).
  const env = process.getuid?.() === 0 && user.uid !== 0 ? { ...process.env, HOME: user.dir } : process.env;
  const umask = native.umask();
  const invocation = resolveInvocation({
    argv: process.argv.slice(2),
    env,
    cwd: process.cwd(),
    home: user.dir,
    user: user.name,
    uid: user.uid,
    loginShell: user.shell,
    umask,
    fs: nodeResolveFs,
    stderr: (line) => process.stderr.write(line.endsWith('\n') ? line : `${line}\n`),
  });
  switch (invocation.kind) {
    case 'output':
      process.stdout.write(invocation.stdout);
      process.stderr.write(invocation.stderr);
      return invocation.exitCode;
    case 'teardown':
    case 'run':
      if (user.uid === 0)
        throw new JaiClientError(
          'POLICY_DENIED',
          'refusing to run a sandbox as root; run jai as your own user or through sudo',
        );
      return invocation.kind === 'run' ? runSession(invocation, umask) : runTeardown(invocation);
  }
}

/** A second line for refusals by jaid's per-user limits: unlike a policy refusal, they pass. */
const LIMIT_HINTS: Readonly<Record<string, string>> = {
  RATE_LIMITED: 'jaid limits how much each user may ask at once; wait a moment and run the command again',
  BUSY: 'jaid limits how much each user may ask at once; wait a moment and run the command again',
  CONNECTION_LIMIT: 'jaid limits how much each user may ask at once; wait a moment and run the command again',
  REQUEST_TIMEOUT: 'jaid did not receive the whole request in time; is the machine overloaded?',
};

/**
 * Ends the process with `code` (nothing else may keep it: stdin reading, signal handlers). After the 'exit'
 * listeners (raw mode's restore), _exit(2): what node does after them (joining its worker threads, destructors) is
 * ~1 ms of every run, and writes nothing (output still queued for a full pipe is lost either way). Not when node
 * runs with options or NODE_OPTIONS (--cpu-prof, NODE_V8_COVERAGE…), whose output is written at that stage.
 */
function exit(code: number): void {
  process.exitCode = code;
  const env = process.env;
  if (process.execArgv.length === 0 && !env['NODE_OPTIONS'] && env['NODE_V8_COVERAGE'] === undefined)
    process.on('exit', (status: number) => native.exitNow(status & 0xff));
  process.exit();
}

main().then(
  (code) => {
    exit(code);
  },
  (e: unknown) => {
    if (e instanceof JaiClientError) {
      const hint = LIMIT_HINTS[e.code];
      process.stderr.write(`jai: ${e.message}\n${hint === undefined ? '' : `jai: ${hint}\n`}`);
    } else process.stderr.write(`jai: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    exit(e instanceof JaiClientError ? e.exitCode : 1);
  },
);
