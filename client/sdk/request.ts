// Building one SpawnRequest: the options checked and turned into the wire message, the directories opened (as the
// user: the kernel checks access), pipes created for 'pipe' stdio. Nothing here talks to jaid.
import fs from 'node:fs';
import type net from 'node:net';
import type { Readable, Writable } from 'node:stream';
import * as native from '../../native/addon';
import * as wire from '../../proto/client-codec';
import { MAX_PACKET_BYTES } from '../../proto/protocol';
import { closeQuietly } from '../../proto/channel';
import { JaiClientError } from './errors';
import { openDirectory, type OpenedDir } from './paths';

/**
 * How one of the program's stdin/stdout/stderr is provided:
 * - `pipe`: a pipe whose other end is `session.stdin` / `stdout` / `stderr` (a Node stream);
 * - `pass`: this process's fd, handed to the program as is (e.g. `{ kind: 'pass', fd: 1 }` shares our stdout);
 * - `pty`: the slave of a fresh PTY (one PTY for every `pty` slot); the master is `session.pty` / `ptyMaster`;
 * - `null`: /dev/null.
 * Shorthands: `'pipe'`, `'pty'`, `'null'`, or an fd number for `pass`.
 */
export type StdioSpec = { kind: 'pass'; fd: number } | { kind: 'pty' } | { kind: 'null' } | { kind: 'pipe' };
export type StdioOption = StdioSpec | 'pipe' | 'pty' | 'null' | number;

export type Mode = 'casual' | 'strict' | 'bare';
export type NoticeKind = 'info' | 'masks-ignored';
/** A message from jaid or the helper for the user (initjail results, teardown progress, masks not applied). */
export type NoticeHandler = (kind: NoticeKind, message: string) => void;

/** What to run and how: the same choices as the jai command line. */
export interface SpawnOptions {
  /** Empty: the user's login shell. */
  argv: readonly string[];
  /** Default: process.cwd(). Granted read-write unless `nocwd`. */
  cwd?: string;
  /** Do not grant the cwd (the program still starts there if it exists in the jail). */
  nocwd?: boolean;
  /** Extra directories to grant (directories this user owns). */
  grants?: readonly { path: string; readOnly?: boolean }[];
  /** The program's environment: a map, or a final NAME=VALUE list (default: this process's environment). */
  env?: NodeJS.ProcessEnv | readonly string[];
  /** Default: casual. */
  mode?: Mode;
  /** Default: "default". */
  jail?: string;
  masks?: readonly string[];
  storage?: string;
  configDir?: string;
  /** Startup script text; the jail sees it as $JAI_SCRIPT. */
  script?: string;
  /** Program run outside the jail, as the user, when the jail's home is first created. */
  initjail?: string;
  /** Network: less than the admin policy allows, never more. Default: the most it allows. */
  network?: 'host' | 'loopback' | 'none';
  /** Ceilings under the policy's: bytes of memory, processes, CPUs. Absent or null: the policy's ceiling. */
  limits?: { memoryBytes?: number | null; pids?: number | null; cpu?: number | null };
  onNotice?: NoticeHandler;
  /**
   * The jailed job stopped with this signal (^Z…). A CLI stops itself likewise and calls `resume()` once continued;
   * without a handler the job stays stopped until `resume()`.
   */
  onStopped?: (signo: number) => void;
  /** stdin, stdout, stderr. Default: `['pipe', 'pipe', 'pipe']`. */
  stdio?: readonly [StdioOption, StdioOption, StdioOption];
  /** The PTY's initial size (with any `pty` stdio). Default: 24 rows, 80 columns. */
  terminal?: { rows: number; cols: number };
  /**
   * Who owns the PTY master. `stream` (JaiClient's default): `session.pty` is a Duplex over it, closed by the
   * library. `fd` (the one-shot spawn()'s default, as the CLI relays it itself): `session.ptyMaster` is yours.
   */
  ptyMaster?: 'stream' | 'fd';
  /** Default: this process's umask. */
  umask?: number;
}

/** This process's end of the 'pipe' stdio slots. */
export interface LocalStdio {
  stdin: Writable | null;
  stdout: Readable | null;
  stderr: Readable | null;
  /** Destroys the streams (a refused or abandoned spawn). */
  destroy(): void;
}

export interface PreparedSpawn {
  /** The encoded ClientMessage{spawn}. */
  packet: Uint8Array;
  /** Attached to the packet, in the protocol's order: cwd (unless nocwd), grants, STDIO_PASS stdio. */
  fds: readonly number[];
  /** Closes our copies of what was sent (once jaid answered: its copies arrived) and of the program's pipe ends. */
  release(): void;
  local: LocalStdio;
  usesPty: boolean;
  ptyMaster: 'stream' | 'fd';
}

const MODE: Readonly<Record<Mode, wire.Mode>> = {
  casual: wire.Mode.MODE_CASUAL,
  strict: wire.Mode.MODE_STRICT,
  bare: wire.Mode.MODE_BARE,
};

export function modeValue(mode: Mode | undefined): wire.Mode {
  if (mode === undefined) return wire.Mode.MODE_CASUAL;
  const value = MODE[mode] as wire.Mode | undefined;
  if (value === undefined) throw new JaiClientError('INVALID_ARGUMENT', `unknown mode ${JSON.stringify(mode)}`);
  return value;
}

const NETWORK: Readonly<Record<'unspecified' | 'host' | 'loopback' | 'none', wire.Network>> = {
  unspecified: wire.Network.NETWORK_UNSPECIFIED,
  host: wire.Network.NETWORK_HOST,
  loopback: wire.Network.NETWORK_LOOPBACK,
  none: wire.Network.NETWORK_NONE,
};

const STDIO_KIND: Readonly<Record<StdioSpec['kind'], wire.StdioKind>> = {
  pass: wire.StdioKind.STDIO_PASS,
  pipe: wire.StdioKind.STDIO_PASS,
  pty: wire.StdioKind.STDIO_PTY,
  null: wire.StdioKind.STDIO_NULL,
};

const DEFAULT_STDIO: readonly [StdioOption, StdioOption, StdioOption] = ['pipe', 'pipe', 'pipe'];
const DEFAULT_TERMINAL = { rows: 24, cols: 80 } as const;

/** A shorthand spelled out; throws INVALID_ARGUMENT for anything else. */
export function normalizeStdio(option: StdioOption): StdioSpec {
  if (typeof option === 'number') return { kind: 'pass', fd: checkFd(option) };
  if (option === 'pipe' || option === 'pty' || option === 'null') return { kind: option };
  if (typeof option === 'object' && (option as unknown) !== null) {
    switch (option.kind) {
      case 'pass':
        return { kind: 'pass', fd: checkFd(option.fd) };
      case 'pipe':
      case 'pty':
      case 'null':
        return { kind: option.kind };
    }
  }
  throw new JaiClientError('INVALID_ARGUMENT', `bad stdio spec ${JSON.stringify(option)}`);
}

function checkFd(fd: unknown): number {
  if (typeof fd !== 'number' || !Number.isInteger(fd) || fd < 0 || fd > 0x7fffffff)
    throw new JaiClientError('INVALID_ARGUMENT', `bad stdio fd ${String(fd)}`);
  return fd;
}

function envList(env: NodeJS.ProcessEnv | readonly string[]): string[] {
  if (Array.isArray(env)) return [...(env as readonly string[])];
  return Object.entries(env).flatMap(([k, v]) => (v === undefined ? [] : [`${k}=${v}`]));
}

/** `sudo jai`: a root client acts for SUDO_USER (honoured by jaid for a root peer only). */
export function actAsUser(): string {
  return process.getuid?.() === 0 ? (process.env['SUDO_USER'] ?? '') : '';
}

/**
 * node:net, required for 'pipe' stdio only: it pulls in the stream modules, ~5 ms of every `jai CMD` start, which
 * passes its fds or uses a PTY (docs/benchmarks.md).
 */
function socketClass(): typeof net.Socket {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require('node:net') as typeof net).Socket;
}

/** Checks the options, opens the directories, creates the pipes; throws JaiClientError (nothing left open then). */
export function prepareSpawn(options: SpawnOptions, defaultPtyMaster: 'stream' | 'fd'): PreparedSpawn {
  const toClose: number[] = [];
  const streams: (Readable | Writable)[] = [];
  const abandon = (): void => {
    toClose.forEach(closeQuietly);
    streams.forEach((s) => s.destroy());
  };
  try {
    const stdio = (options.stdio ?? DEFAULT_STDIO).map(normalizeStdio);
    if (stdio.length !== 3) throw new JaiClientError('INVALID_ARGUMENT', 'stdio must have 3 entries');
    const opened: OpenedDir[] = [];
    const cwd = options.cwd ?? process.cwd();
    if (options.nocwd !== true) {
      const dir = openDirectory(cwd);
      opened.push(dir);
      toClose.push(dir.fd);
    }
    const cwdPath = opened[0]?.path ?? fs.realpathSync(cwd);
    const grants: wire.Grant[] = [];
    for (const g of options.grants ?? []) {
      const dir = openDirectory(g.path);
      opened.push(dir);
      toClose.push(dir.fd);
      grants.push({
        path: dir.path,
        access: g.readOnly === true ? wire.GrantAccess.GRANT_READ_ONLY : wire.GrantAccess.GRANT_READ_WRITE,
      });
    }
    // The program's ends go with the request; ours become streams.
    const passFds: number[] = [];
    const local: Omit<LocalStdio, 'destroy'> = { stdin: null, stdout: null, stderr: null };
    stdio.forEach((spec, slot) => {
      if (spec.kind === 'pass') passFds.push(spec.fd);
      if (spec.kind !== 'pipe') return;
      const [readEnd, writeEnd] = native.pipe();
      const [theirs, ours] = slot === 0 ? [readEnd, writeEnd] : [writeEnd, readEnd];
      toClose.push(theirs);
      let stream: net.Socket;
      try {
        stream = new (socketClass())({ fd: ours, readable: slot !== 0, writable: slot === 0 });
      } catch (e) {
        closeQuietly(ours);
        throw e;
      }
      streams.push(stream);
      passFds.push(theirs);
      if (slot === 0) {
        // Writing after the program exited (or closed its stdin) is EPIPE: not worth crashing the harness for.
        stream.on('error', () => undefined);
        local.stdin = stream;
      } else if (slot === 1) local.stdout = stream;
      else local.stderr = stream;
    });
    const [stdin, stdout, stderr] = stdio as [StdioSpec, StdioSpec, StdioSpec];
    const usesPty = stdio.some((s) => s.kind === 'pty');
    const request: wire.SpawnRequest = {
      argv: [...options.argv],
      cwd: cwdPath,
      env: envList(options.env ?? process.env),
      mode: modeValue(options.mode),
      jail: options.jail ?? '',
      masks: [...(options.masks ?? [])],
      storage: options.storage ?? '',
      configDir: options.configDir ?? '',
      script: options.script ?? '',
      initjail: options.initjail ?? '',
      network: NETWORK[options.network ?? 'unspecified'],
      limits: {
        memoryBytes: options.limits?.memoryBytes ?? 0,
        pids: options.limits?.pids ?? 0,
        cpuMillis: Math.round((options.limits?.cpu ?? 0) * 1000),
      },
      nocwd: options.nocwd === true,
      grants,
      stdin: STDIO_KIND[stdin.kind],
      stdout: STDIO_KIND[stdout.kind],
      stderr: STDIO_KIND[stderr.kind],
      terminal: usesPty ? (options.terminal ?? DEFAULT_TERMINAL) : (options.terminal ?? null),
      umask: options.umask ?? native.umask(),
      actAsUser: actAsUser(),
    };
    const packet = wire.encodeClientMessage({ spawn: request });
    if (packet.length > MAX_PACKET_BYTES)
      throw new JaiClientError(
        'REQUEST_TOO_LARGE',
        `request of ${packet.length} bytes is over the ${MAX_PACKET_BYTES}-byte cap (environment too large?)`,
      );
    let released = false;
    return {
      packet,
      fds: [...opened.map((d) => d.fd), ...passFds],
      release: () => {
        if (released) return;
        released = true;
        toClose.forEach(closeQuietly);
      },
      local: {
        ...local,
        destroy: () => {
          streams.forEach((s) => s.destroy());
        },
      },
      usesPty,
      ptyMaster: options.ptyMaster ?? defaultPtyMaster,
    };
  } catch (e) {
    abandon();
    throw e instanceof Error ? e : new Error(String(e));
  }
}
