// The client library: spawn a sandboxed program through jaid. Used by the jai CLI and by TypeScript agent
// harnesses (`import { spawn } from 'jai-sandbox/client'`).
import fs from 'node:fs';
import * as native from '../../native/addon';
import { MAX_PACKET_BYTES, PROTOCOL_VERSION, decodeDaemonMessage, encodeClientMessage, v1 } from '../../proto/codec';
import { PacketChannel, closeQuietly, type Packet } from '../../proto/channel';
import { JaiClientError } from './errors';
import { openDirectory, type OpenedDir } from './paths';

export const DEFAULT_SOCKET = '/run/jai/jaid.sock';

export type StdioSpec = { kind: 'pass'; fd: number } | { kind: 'pty' } | { kind: 'null' };

export type Mode = 'casual' | 'strict' | 'bare';
export type NoticeKind = 'info' | 'masks-ignored';
/** A message from jaid or the helper for the user (initjail results, teardown progress, masks not applied). */
export type NoticeHandler = (kind: NoticeKind, message: string) => void;

const MODE: Readonly<Record<Mode, v1.Mode>> = {
  casual: v1.Mode.MODE_CASUAL,
  strict: v1.Mode.MODE_STRICT,
  bare: v1.Mode.MODE_BARE,
};

const NETWORK: Readonly<Record<'unspecified' | 'host' | 'loopback' | 'none', v1.Network>> = {
  unspecified: v1.Network.NETWORK_UNSPECIFIED,
  host: v1.Network.NETWORK_HOST,
  loopback: v1.Network.NETWORK_LOOPBACK,
  none: v1.Network.NETWORK_NONE,
};

export interface SpawnOptions {
  /** Empty: the user's login shell. */
  argv: readonly string[];
  cwd?: string;
  /** Do not grant the cwd (the program still starts there if it exists in the jail). */
  nocwd?: boolean;
  /** Extra directories to grant. */
  grants?: readonly { path: string; readOnly?: boolean }[];
  /** The program's environment: a map, or a final NAME=VALUE list (default: this process's environment). */
  env?: NodeJS.ProcessEnv | readonly string[];
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
  stdio: readonly [StdioSpec, StdioSpec, StdioSpec];
  terminal?: { rows: number; cols: number };
  umask?: number;
  socketPath?: string;
}

export type ExitStatus = { code: number; signal?: undefined } | { signal: number; code?: undefined };

export interface JaiSession {
  readonly id: string;
  /** The PTY master when any stdio is a PTY: the caller owns it (reads output, writes input, resizes). */
  readonly ptyMaster: number | null;
  wait(): Promise<ExitStatus>;
  /** Forwards SIGHUP, SIGINT, SIGQUIT or SIGTERM to the jailed program. */
  kill(signo: number): void;
  /** Continues a stopped job; its process group gets the PTY's foreground back. */
  resume(): void;
  /** Whether the open connection keeps the process alive (default true). */
  setRef(ref: boolean): void;
}

const STDIO_KIND: Readonly<Record<StdioSpec['kind'], v1.StdioKind>> = {
  pass: v1.StdioKind.STDIO_PASS,
  pty: v1.StdioKind.STDIO_PTY,
  null: v1.StdioKind.STDIO_NULL,
};

function envList(env: NodeJS.ProcessEnv | readonly string[]): string[] {
  if (Array.isArray(env)) return [...(env as readonly string[])];
  return Object.entries(env).flatMap(([k, v]) => (v === undefined ? [] : [`${k}=${v}`]));
}

function actAsUser(): string {
  return process.getuid?.() === 0 ? (process.env['SUDO_USER'] ?? '') : '';
}

/** How long to wait for room in jaid's listen queue (full under a flood of connects), in slices of the second. */
const CONNECT_WAIT_MS = 5000;
const CONNECT_SLICE_MS = 20;

/**
 * Connects; when jaid's listen queue is full (another user flooding it), waits in the kernel for room, woken at each
 * accept, in short slices that let the caller's event loop run in between.
 */
async function connect(socketPath: string): Promise<number> {
  const deadline = Date.now() + CONNECT_WAIT_MS;
  for (let waitMs = 0; ; waitMs = CONNECT_SLICE_MS) {
    try {
      return native.seqpacketConnect(socketPath, waitMs);
    } catch (e) {
      const code = native.isNativeError(e) ? e.code : String(e);
      if (code === 'EAGAIN' && Date.now() < deadline) {
        await new Promise((resolve) => setImmediate(resolve));
        continue;
      }
      throw new JaiClientError(
        'DAEMON_UNAVAILABLE',
        code === 'EAGAIN'
          ? `jaid at ${socketPath} accepted no connection for ${CONNECT_WAIT_MS / 1000} s (EAGAIN); try again`
          : `cannot reach jaid at ${socketPath} (${code}); is the daemon running?`,
      );
    }
  }
}

/** Starts a session; resolves once the program is starting, rejects with JaiClientError on refusal. */
export function spawn(options: SpawnOptions): Promise<JaiSession> {
  const socketPath = options.socketPath ?? process.env['JAI_SOCKET'] ?? DEFAULT_SOCKET;
  const opened: OpenedDir[] = [];
  const release = (): void => {
    opened.forEach((d) => closeQuietly(d.fd));
  };
  let request: v1.SpawnRequest.$Properties;
  let fds: number[];
  let cwdPath: string;
  try {
    const cwd = options.cwd ?? process.cwd();
    if (!options.nocwd) opened.push(openDirectory(cwd));
    cwdPath = opened[0]?.path ?? fs.realpathSync(cwd);
    const grants: v1.Grant.$Properties[] = [];
    for (const g of options.grants ?? []) {
      const dir = openDirectory(g.path);
      opened.push(dir);
      grants.push({
        path: dir.path,
        access: g.readOnly === true ? v1.GrantAccess.GRANT_READ_ONLY : v1.GrantAccess.GRANT_READ_WRITE,
      });
    }
    const passFds = options.stdio.flatMap((s) => (s.kind === 'pass' ? [s.fd] : []));
    fds = [...opened.map((d) => d.fd), ...passFds];
    request = {
      argv: [...options.argv],
      cwd: cwdPath,
      env: envList(options.env ?? process.env),
      mode: MODE[options.mode ?? 'casual'],
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
      stdin: STDIO_KIND[options.stdio[0].kind],
      stdout: STDIO_KIND[options.stdio[1].kind],
      stderr: STDIO_KIND[options.stdio[2].kind],
      terminal: options.terminal ?? null,
      umask: options.umask ?? native.umask(),
      actAsUser: actAsUser(),
    };
  } catch (e) {
    release();
    return Promise.reject(e instanceof Error ? e : new Error(String(e)));
  }
  const spawnPacket = encodeClientMessage({ spawn: request });
  if (spawnPacket.length > MAX_PACKET_BYTES) {
    release();
    return Promise.reject(
      new JaiClientError(
        'REQUEST_TOO_LARGE',
        `request of ${spawnPacket.length} bytes is over the ${MAX_PACKET_BYTES}-byte cap (environment too large?)`,
      ),
    );
  }
  return connect(socketPath).then(
    (fd) =>
      new Promise<JaiSession>((resolve, reject) => {
        new ClientSession(fd, resolve, reject, options.onNotice, options.onStopped).begin(spawnPacket, fds, release);
      }),
    (e: unknown) => {
      release();
      throw e instanceof Error ? e : new Error(String(e));
    },
  );
}

export interface TeardownOptions {
  /** Default: every jail of the user. */
  jail?: string;
  mode?: Mode;
  storage?: string;
  configDir?: string;
  socketPath?: string;
  onNotice?: NoticeHandler;
}

/** `jai -u`: releases the user's overlays and private tmp; resolves with 0, or 1 when something is still in use. */
export async function teardown(options: TeardownOptions = {}): Promise<number> {
  const socketPath = options.socketPath ?? process.env['JAI_SOCKET'] ?? DEFAULT_SOCKET;
  const fd = await connect(socketPath);
  const request = encodeClientMessage({
    teardown: {
      jail: options.jail ?? '',
      mode: MODE[options.mode ?? 'casual'],
      storage: options.storage ?? '',
      configDir: options.configDir ?? '',
      actAsUser: actAsUser(),
    },
  });
  return new Promise<number>((resolve, reject) => {
    let hello = false;
    const channel = new PacketChannel(fd, {
      onPacket: (packet) => {
        packet.fds.forEach(closeQuietly);
        const decoded = decodeDaemonMessage(packet.data);
        const m = decoded.ok ? decoded.message : null;
        const done = (result: () => void): void => {
          result(); // first: closing ends the channel, whose onEnd would otherwise report a lost connection
          channel.close();
        };
        if (m?.body === 'hello' && !hello) hello = true;
        else if (m?.body === 'notice') options.onNotice?.(noticeKind(m.notice?.kind), m.notice?.message ?? '');
        else if (m?.body === 'tornDown') done(() => resolve(m.tornDown?.exitCode ?? 1));
        else if (m?.body === 'error') done(() => reject(daemonError(m.error ?? {})));
        else done(() => reject(new JaiClientError('DAEMON_PROTOCOL', 'unexpected reply from jaid')));
      },
      onEnd: () => {
        reject(new JaiClientError('DAEMON_LOST', 'lost the connection to jaid'));
      },
    });
    channel.send(encodeClientMessage({ hello: { version: PROTOCOL_VERSION, agent: 'jai-client' } }));
    channel.send(request);
  });
}

function noticeKind(kind: v1.NoticeKind | null | undefined): NoticeKind {
  return kind === v1.NoticeKind.NOTICE_MASKS_IGNORED ? 'masks-ignored' : 'info';
}

function daemonError(e: v1.Error.$Properties): JaiClientError {
  const name = v1.ErrorCode[e.code ?? 0] ?? 'ERROR_UNSPECIFIED';
  return new JaiClientError(name, e.message ?? 'refused', e.exitCode ?? 1);
}

class ClientSession implements JaiSession {
  id = '';
  ptyMaster: number | null = null;
  private readonly channel: PacketChannel;
  private state: 'hello' | 'started' | 'running' | 'done' = 'hello';
  private exit: ExitStatus | null = null;
  private failure: JaiClientError | null = null;
  private readonly waiters: { resolve: (s: ExitStatus) => void; reject: (e: Error) => void }[] = [];

  constructor(
    fd: number,
    private readonly onStarted: (s: JaiSession) => void,
    private readonly onRefused: (e: Error) => void,
    private readonly onNotice: NoticeHandler | undefined,
    private readonly onStopped: ((signo: number) => void) | undefined,
  ) {
    this.channel = new PacketChannel(fd, {
      onPacket: (p) => {
        this.onPacket(p);
      },
      onEnd: () => {
        if (this.state !== 'done') this.fail(new JaiClientError('DAEMON_LOST', 'lost the connection to jaid'));
      },
    });
  }

  begin(spawnPacket: Uint8Array, fds: number[], release: () => void): void {
    // Hello and Spawn are pipelined: the daemon answers Hello, then Started or Error.
    this.channel.send(encodeClientMessage({ hello: { version: PROTOCOL_VERSION, agent: 'jai-client' } }));
    this.channel.send(spawnPacket, fds, release);
  }

  wait(): Promise<ExitStatus> {
    if (this.exit !== null) return Promise.resolve(this.exit);
    if (this.failure !== null) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  kill(signo: number): void {
    if (this.state === 'running') this.channel.send(encodeClientMessage({ signal: { signo } }));
  }

  resume(): void {
    if (this.state === 'running') this.channel.send(encodeClientMessage({ continue: {} }));
  }

  setRef(ref: boolean): void {
    this.channel.setRef(ref);
  }

  private onPacket(packet: Packet): void {
    const decoded = decodeDaemonMessage(packet.data);
    const expectFds = decoded.ok && decoded.message.body === 'started' && decoded.message.started?.pty === true ? 1 : 0;
    if (!decoded.ok || packet.fds.length !== expectFds) {
      packet.fds.forEach(closeQuietly);
      this.fail(
        new JaiClientError('DAEMON_PROTOCOL', `unexpected reply from jaid${decoded.ok ? '' : `: ${decoded.reason}`}`),
      );
      return;
    }
    const m = decoded.message;
    switch (m.body) {
      case 'hello':
        if (this.state !== 'hello' || m.hello?.version !== PROTOCOL_VERSION)
          return this.fail(new JaiClientError('DAEMON_PROTOCOL', 'jaid speaks another protocol version'));
        this.state = 'started';
        return;
      case 'started':
        if (this.state !== 'started') return this.fail(new JaiClientError('DAEMON_PROTOCOL', 'unexpected Started'));
        this.state = 'running';
        this.id = m.started?.sessionId ?? '';
        this.ptyMaster = packet.fds[0] ?? null;
        this.onStarted(this);
        return;
      case 'exited': {
        const signal = m.exited?.signal;
        this.settle(m.exited?.status === 'signal' && signal != null ? { signal } : { code: m.exited?.code ?? 0 });
        return;
      }
      case 'error':
        this.fail(daemonError(m.error ?? {}));
        return;
      case 'notice':
        this.onNotice?.(noticeKind(m.notice?.kind), m.notice?.message ?? '');
        return;
      case 'tornDown':
        this.fail(new JaiClientError('DAEMON_PROTOCOL', 'unexpected TornDown'));
        return;
      case 'stopped':
        if (this.state !== 'running') return this.fail(new JaiClientError('DAEMON_PROTOCOL', 'unexpected Stopped'));
        this.onStopped?.(m.stopped?.signal ?? 19);
        return;
      case undefined:
        this.fail(new JaiClientError('DAEMON_PROTOCOL', 'empty message from jaid'));
        return;
    }
  }

  private settle(status: ExitStatus): void {
    if (this.state === 'done') return;
    const wasRunning = this.state === 'running';
    this.state = 'done';
    this.exit = status;
    this.channel.close();
    if (!wasRunning) this.onRefused(new JaiClientError('DAEMON_PROTOCOL', 'Exited before Started'));
    for (const w of this.waiters.splice(0)) w.resolve(status);
  }

  private fail(error: JaiClientError): void {
    if (this.state === 'done') return;
    const wasRunning = this.state === 'running';
    this.state = 'done';
    this.failure = error;
    this.channel.close();
    if (!wasRunning) this.onRefused(error);
    for (const w of this.waiters.splice(0)) w.reject(error);
  }
}
