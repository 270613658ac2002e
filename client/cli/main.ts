// jai: the command-line client. Entry point only; the work is in the SDK and terminal modules.
import tty from 'node:tty';
import * as native from '../../native/addon';
import { JaiClientError } from '../sdk/errors';
import { spawn, type StdioSpec } from '../sdk/spawn';
import { RawMode } from '../terminal/raw-mode';
import { PtyRelay } from '../terminal/relay';
import { HELP, parseCli } from './args';
import { VERSION_TEXT } from './version';

const FORWARDED_SIGNALS = ['SIGHUP', 'SIGINT', 'SIGQUIT', 'SIGTERM'] as const;
const SIGNAL_NUMBERS: Readonly<Record<(typeof FORWARDED_SIGNALS)[number], number>> = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGQUIT: 3,
  SIGTERM: 15,
};

function fail(message: string, code: number): void {
  process.stderr.write(`jai: ${message}\n`);
  process.exitCode = code;
}

async function main(): Promise<void> {
  const parsed = parseCli(process.argv.slice(2));
  switch (parsed.kind) {
    case 'help':
      process.stdout.write(HELP);
      return;
    case 'version':
      process.stdout.write(VERSION_TEXT);
      return;
    case 'usage-error':
      process.stderr.write(`jai: ${parsed.message}\nTry jai --help for more information.\n`);
      process.exitCode = 2;
      return;
    case 'run':
      break;
  }
  const { options } = parsed;

  // Each stdio that is a terminal is replaced by the slave of a fresh PTY; the others are passed unchanged.
  // The user's terminal itself never reaches the daemon or the jail.
  const isTerminal = [0, 1, 2].map((fd) => tty.isatty(fd));
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

  if (!options.nocwd && process.env['HOME'] !== undefined) {
    // Upstream's rule, checked early for a clear message (the helper enforces it by inode).
    const cwd = process.cwd();
    if (cwd === process.env['HOME'].replace(/\/+$/, '')) {
      fail(
        'Refusing to grant your entire home directory to jailed code.\n     Run "jai -D" to avoid granting the current working directory.',
        1,
      );
      return;
    }
  }

  const session = await spawn({
    argv: options.command,
    nocwd: options.nocwd,
    grants: options.dirs.map((path) => ({ path })),
    stdio,
    ...(terminal === undefined ? {} : { terminal }),
  });

  for (const name of FORWARDED_SIGNALS) process.on(name, () => session.kill(SIGNAL_NUMBERS[name]));

  let relay: PtyRelay | null = null;
  let raw: RawMode | null = null;
  if (session.ptyMaster !== null && sizeFd !== undefined) {
    const input = isTerminal[0] === true ? new tty.ReadStream(0) : null;
    if (input !== null) {
      raw = new RawMode(input);
      raw.enter();
    }
    const output = isTerminal[1] === true ? process.stdout : process.stderr;
    relay = new PtyRelay({ master: session.ptyMaster, input, output, sizeFd });
  }
  try {
    const status = await session.wait();
    await relay?.finish();
    raw?.restore();
    process.exitCode = status.signal !== undefined ? 128 + status.signal : status.code;
  } finally {
    raw?.restore();
  }
  // Nothing else may keep the process: stdin reading, signal handlers.
  process.exit();
}

main().catch((e: unknown) => {
  if (e instanceof JaiClientError) fail(e.message, e.exitCode);
  else fail(e instanceof Error ? (e.stack ?? e.message) : String(e), 1);
  process.exit();
});
