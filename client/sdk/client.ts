// JaiClient: many sessions over few connections. Each connection (protocol version 2) runs one request at a time
// and is kept for the next; concurrent sessions get more connections, up to a cap, past which spawns wait.
import { PROTOCOL_VERSION, PROTOCOL_VERSION_REUSE } from '../../proto/protocol';
import { openConnection, type ClientConnection } from './connection';
import { JaiClientError, isJaiClientError } from './errors';
import { prepareSpawn, type SpawnOptions } from './request';
import { DEFAULT_SOCKET } from './spawn';
import { ClientSession, type ExitStatus, type JaiSession } from './session';
import { TeardownExchange, teardownPacket, type TeardownOptions } from './teardown';

export { DEFAULT_SOCKET };

export interface ClientOptions {
  /** Default: $JAI_SOCKET, else /run/jai/jaid.sock. */
  socketPath?: string;
  /** Most connections open at once = most sessions running at once; more spawns wait for one to end. Default 16. */
  maxConnections?: number;
  /**
   * An idle connection is closed after this long (default 5000 ms; jaid closes one idle for 10 s). Idle connections
   * never keep the process alive.
   */
  idleTimeoutMs?: number;
}

export interface RunOptions extends Omit<SpawnOptions, 'stdio'> {
  /** Written to the program's stdin, which is then closed (default: nothing, EOF at once). */
  input?: string | Uint8Array;
  /** Bytes of stdout, and of stderr, kept at most; past it the program is sent SIGTERM and run() rejects. */
  maxBuffer?: number;
  /** Sends SIGTERM after this long (`timedOut` in the result); then SIGHUP after 2 s more. */
  timeoutMs?: number;
}

export interface RunResult {
  sessionId: string;
  status: ExitStatus;
  stdout: Buffer;
  stderr: Buffer;
  timedOut: boolean;
}

export interface ClientStats {
  /** Connections open (idle or running a session) and being opened. */
  open: number;
  idle: number;
  /** Spawns waiting for a connection (maxConnections reached). */
  waiting: number;
  /** Connections opened over the client's life. */
  opened: number;
  /** Requests that had their final message, over the client's life. */
  served: number;
}

const DEFAULT_MAX_CONNECTIONS = 16;
const DEFAULT_IDLE_TIMEOUT_MS = 5000;
const DEFAULT_MAX_BUFFER = 64 * 1024 * 1024;
const HANGUP_AFTER_TIMEOUT_MS = 2000;

interface Waiter {
  resolve: (c: ClientConnection) => void;
  reject: (e: Error) => void;
}

/** Opens a client and its first connection (so that an unreachable jaid fails here). */
export async function connect(options: ClientOptions = {}): Promise<JaiClient> {
  const client = new JaiClient(options);
  try {
    await client.warm();
  } catch (e) {
    await client.close();
    throw e;
  }
  return client;
}

export class JaiClient {
  readonly socketPath: string;
  private readonly maxConnections: number;
  private readonly idleTimeoutMs: number;
  /** 2 until jaid refuses it (an older daemon): then every connection serves one request. */
  private version = PROTOCOL_VERSION_REUSE;
  private readonly all = new Set<ClientConnection>();
  private readonly idle: ClientConnection[] = [];
  private readonly idleTimers = new Map<ClientConnection, NodeJS.Timeout>();
  private readonly waiting: Waiter[] = [];
  private closed = false;
  private opened = 0;
  /** Connections being opened (waiting for room in jaid's listen queue): they count against maxConnections. */
  private connecting = 0;
  private served = 0;
  private drained: (() => void) | null = null;

  constructor(options: ClientOptions = {}) {
    this.socketPath = options.socketPath ?? process.env['JAI_SOCKET'] ?? DEFAULT_SOCKET;
    this.maxConnections = options.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
    this.idleTimeoutMs = options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
    if (!(this.maxConnections >= 1))
      throw new JaiClientError('INVALID_ARGUMENT', `maxConnections must be at least 1, not ${this.maxConnections}`);
    if (!(this.idleTimeoutMs >= 0))
      throw new JaiClientError('INVALID_ARGUMENT', `idleTimeoutMs must be >= 0, not ${this.idleTimeoutMs}`);
  }

  /** The protocol version in use: 2 (connections reused), or 1 with a daemon that predates it. */
  get protocolVersion(): number {
    return this.version;
  }

  get stats(): ClientStats {
    return {
      open: this.all.size,
      idle: this.idle.length,
      waiting: this.waiting.length,
      opened: this.opened,
      served: this.served,
    };
  }

  /** Opens one connection now if none is open (connect() does this). */
  async warm(): Promise<void> {
    if (this.all.size > 0) return;
    this.release(await this.open());
  }

  /** Starts a session; resolves once the program is starting, rejects with JaiClientError on refusal. */
  async spawn(options: SpawnOptions): Promise<JaiSession> {
    if (this.closed) throw new JaiClientError('CLIENT_CLOSED', 'the client is closed');
    const session = new ClientSession(prepareSpawn(options, 'stream'), options);
    // A reused connection that jaid closed just as the request went out is tried once more on a fresh one.
    for (let attempt = 0; ; attempt++) {
      let connection: ClientConnection;
      try {
        connection = await this.acquire();
      } catch (e) {
        session.abandon();
        throw e;
      }
      if ((await session.start(connection, attempt === 0)) === 'started') return session;
    }
  }

  /** Runs a program with pipes, collects its output and exit status. */
  async run(options: RunOptions): Promise<RunResult> {
    const { input, maxBuffer = DEFAULT_MAX_BUFFER, timeoutMs, ...spawnOptions } = options;
    const session = await this.spawn({ ...spawnOptions, stdio: ['pipe', 'pipe', 'pipe'] });
    const overflow = { hit: false };
    const collect = (stream: NodeJS.ReadableStream | null): Promise<Buffer> =>
      new Promise((resolve) => {
        const chunks: Buffer[] = [];
        let size = 0;
        if (stream === null) return resolve(Buffer.alloc(0));
        stream.on('data', (chunk: Buffer) => {
          if (size + chunk.length > maxBuffer) {
            if (!overflow.hit) session.kill('SIGTERM');
            overflow.hit = true;
            return;
          }
          size += chunk.length;
          chunks.push(chunk);
        });
        stream.on('error', () => resolve(Buffer.concat(chunks)));
        stream.on('close', () => resolve(Buffer.concat(chunks)));
      });
    const outputs = Promise.all([collect(session.stdout), collect(session.stderr)]);
    session.stdin?.end(input ?? Buffer.alloc(0));
    let timedOut = false;
    const timers: NodeJS.Timeout[] = [];
    if (timeoutMs !== undefined)
      timers.push(
        setTimeout(() => {
          timedOut = session.kill('SIGTERM');
          timers.push(setTimeout(() => session.kill('SIGHUP'), HANGUP_AFTER_TIMEOUT_MS));
        }, timeoutMs),
      );
    try {
      const status = await session.wait();
      const [stdout, stderr] = await outputs;
      if (overflow.hit)
        throw new JaiClientError('OUTPUT_TOO_LARGE', `the output went over maxBuffer (${maxBuffer} bytes)`);
      return { sessionId: session.id, status, stdout, stderr, timedOut };
    } finally {
      timers.forEach(clearTimeout);
    }
  }

  /** `jai -u` over this client: resolves with 0 (all released) or 1 (something still in use). */
  async teardown(options: Omit<TeardownOptions, 'socketPath'> = {}): Promise<number> {
    if (this.closed) throw new JaiClientError('CLIENT_CLOSED', 'the client is closed');
    const packet = teardownPacket(options);
    for (let attempt = 0; ; attempt++) {
      const connection = await this.acquire();
      const exchange = new TeardownExchange(options.onNotice, attempt === 0 && connection.served > 0);
      connection.request(exchange, packet);
      const result = await exchange.result;
      if (result !== 'stale') return result;
    }
  }

  /**
   * Refuses new spawns, fails the waiting ones (CLIENT_CLOSED) and closes idle connections. Resolves once every
   * connection is closed: after the running sessions ended, or at once with `force` (jaid hangs them up).
   */
  close(options: { force?: boolean } = {}): Promise<void> {
    this.closed = true;
    for (const w of this.waiting.splice(0)) w.reject(new JaiClientError('CLIENT_CLOSED', 'the client is closed'));
    for (const c of this.idle.splice(0)) c.close();
    if (options.force === true) for (const c of [...this.all]) c.close();
    if (this.all.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.drained = resolve;
    });
  }

  // --- the pool ---

  private acquire(): Promise<ClientConnection> {
    if (this.closed) return Promise.reject(new JaiClientError('CLIENT_CLOSED', 'the client is closed'));
    // Most recently used first: the others age out.
    const idle = this.idle.pop();
    if (idle !== undefined) {
      this.takeIdle(idle);
      return Promise.resolve(idle);
    }
    if (this.all.size + this.connecting < this.maxConnections) return this.open();
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  private takeIdle(connection: ClientConnection): void {
    const timer = this.idleTimers.get(connection);
    if (timer !== undefined) clearTimeout(timer);
    this.idleTimers.delete(connection);
    connection.setRef(true);
  }

  /** A new connection with its Hello answered (falling back to version 1 once if jaid refuses version 2). */
  private async open(): Promise<ClientConnection> {
    for (;;) {
      const version = this.version;
      // Counted while it connects, then in `all`: against maxConnections while its Hello is on the way too.
      this.connecting++;
      let connection: ClientConnection;
      try {
        connection = await openConnection(this.socketPath, version, {
          onServed: () => {
            this.served++;
          },
          onIdle: (c) => {
            this.release(c);
          },
          onClosed: (c) => {
            this.forget(c);
          },
        });
      } finally {
        this.connecting--;
      }
      this.all.add(connection);
      this.opened++;
      try {
        await connection.ready;
        return connection;
      } catch (e) {
        if (isJaiClientError(e, 'PROTO_VERSION') && version === PROTOCOL_VERSION_REUSE) {
          this.version = PROTOCOL_VERSION;
          continue;
        }
        throw e;
      }
    }
  }

  /** A connection whose request ended: to a waiting spawn, or idle (unref'd, closed after the idle timeout). */
  private release(connection: ClientConnection): void {
    if (connection.isClosed) return;
    const waiter = this.waiting.shift();
    if (waiter !== undefined) {
      connection.setRef(true);
      waiter.resolve(connection);
      return;
    }
    if (this.closed) {
      connection.close();
      return;
    }
    connection.setRef(false);
    this.idle.push(connection);
    const timer = setTimeout(() => {
      connection.close();
    }, this.idleTimeoutMs);
    timer.unref();
    this.idleTimers.set(connection, timer);
  }

  private forget(connection: ClientConnection): void {
    if (!this.all.delete(connection)) return;
    const timer = this.idleTimers.get(connection);
    if (timer !== undefined) clearTimeout(timer);
    this.idleTimers.delete(connection);
    const i = this.idle.indexOf(connection);
    if (i >= 0) this.idle.splice(i, 1);
    // Room for a waiting spawn now.
    if (this.waiting.length > 0 && !this.closed && this.all.size + this.connecting < this.maxConnections) {
      const waiter = this.waiting.shift();
      if (waiter !== undefined) this.open().then(waiter.resolve, waiter.reject);
    }
    if (this.closed && this.all.size === 0) this.drained?.();
  }
}
