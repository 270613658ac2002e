// The client library against a fake jaid on a private socket (no root, no helper): connection reuse, the pool and
// its cap, the version 1 fallback, the retry of a request lost on a reused connection, streams, signals, errors.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as native from '../../native/addon';
import { PacketChannel, closeQuietly } from '../../proto/channel';
import { decodeClientMessage, encodeDaemonMessage, v1 } from '../../proto/codec';
import { JaiClient, connect, spawn, isJaiClientError, type JaiSession } from '../../client/sdk';
import { forwardableSignal } from '../../client/sdk/signals';
import { normalizeStdio, prepareSpawn } from '../../client/sdk/request';

interface FakeOptions {
  /** Hello versions accepted (default 1 and 2). */
  versions?: readonly number[];
  /** Close a connection, unanswered, when its second request arrives. */
  dropSecondRequest?: boolean;
}

/**
 * A jaid that speaks the protocol and runs nothing. argv decides: ['exit', N] exits N; ['write', TEXT] writes TEXT
 * to the stdout fd and exits 0; ['cat'] copies the stdin fd to stdout; ['hold'] runs until a Signal (exits with it);
 * ['refuse', CODE] is an Error before Started.
 */
class FakeJaid {
  readonly socket: string;
  private readonly dir: string;
  private readonly listenFd: number;
  private readonly watcher: native.Watcher;
  readonly channels = new Set<PacketChannel>();
  accepted = 0;
  readonly signals: number[] = [];

  constructor(private readonly options: FakeOptions = {}) {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'jai-fake-'));
    this.socket = path.join(this.dir, 'jaid.sock');
    this.listenFd = native.seqpacketListen(this.socket, 0o600, 16);
    this.watcher = native.watch(this.listenFd, () => {
      for (;;) {
        const fd = native.seqpacketAccept(this.listenFd);
        if (fd === null) return;
        this.accepted++;
        this.serve(fd);
      }
    });
    this.watcher.start('r');
  }

  close(): void {
    this.watcher.close();
    closeQuietly(this.listenFd);
    for (const c of this.channels) c.close();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  private serve(fd: number): void {
    let version = 0;
    let requests = 0;
    let holding: (() => void) | null = null;
    const channel = new PacketChannel(fd, {
      onPacket: (packet) => {
        const decoded = decodeClientMessage(packet.data);
        if (!decoded.ok) throw new Error('fake jaid: bad packet from the client');
        const m = decoded.message;
        const send = (msg: v1.DaemonMessage.$Properties): void => channel.send(encodeDaemonMessage(msg));
        const final = (msg: v1.DaemonMessage.$Properties): void => {
          send(msg);
          if (version === 1) channel.end();
        };
        if (m.body === 'hello') {
          version = m.hello?.version ?? 0;
          if ((this.options.versions ?? [1, 2]).includes(version)) send({ hello: { version } });
          else {
            send({ error: { code: v1.ErrorCode.PROTO_VERSION, message: 'no', exitCode: 1 } });
            channel.end();
          }
          return;
        }
        if (m.body === 'signal') {
          this.signals.push(m.signal?.signo ?? 0);
          holding?.();
          return;
        }
        if (m.body === 'teardown') {
          final({ tornDown: { exitCode: 0 } });
          return;
        }
        if (m.body !== 'spawn') throw new Error(`fake jaid: unexpected ${m.body ?? 'empty'}`);
        requests++;
        if (requests === 2 && this.options.dropSecondRequest === true) {
          packet.fds.forEach(closeQuietly);
          channel.close();
          return;
        }
        const spawn = m.spawn ?? {};
        const argv = spawn.argv ?? [];
        // fds: cwd unless nocwd, then one per STDIO_PASS stdio.
        const fds = spawn.nocwd === true ? packet.fds : packet.fds.slice(1);
        if (spawn.nocwd !== true) closeQuietly(packet.fds[0] ?? -1);
        const [stdinFd, stdoutFd] = [spawn.stdin, spawn.stdout].map((k) =>
          k === v1.StdioKind.STDIO_PASS ? fds.shift() : undefined,
        );
        const closeAll = (): void => [stdinFd, stdoutFd, ...fds].forEach((x) => x !== undefined && closeQuietly(x));
        if (argv[0] === 'refuse') {
          closeAll();
          final({ error: { code: v1.ErrorCode[argv[1] as keyof typeof v1.ErrorCode], message: 'refused' } });
          return;
        }
        send({ started: { sessionId: `s${this.accepted}-${requests}`, pty: false } });
        if (argv[0] === 'write' && stdoutFd !== undefined) fs.writeSync(stdoutFd, argv[1] ?? '');
        if (argv[0] === 'cat' && stdinFd !== undefined && stdoutFd !== undefined) {
          // Asynchronously: the client is on this same event loop.
          const input = new net.Socket({ fd: stdinFd, readable: true, writable: false });
          const output = new net.Socket({ fd: stdoutFd, readable: false, writable: true });
          input.pipe(output);
          output.on('close', () => {
            fds.forEach(closeQuietly);
            final({ exited: { code: 0 } });
          });
          return;
        }
        closeAll();
        if (argv[0] === 'hold') {
          holding = () => {
            holding = null;
            final({ exited: { signal: this.signals.at(-1) ?? 0 } });
          };
          return;
        }
        final({ exited: { code: argv[0] === 'exit' ? Number(argv[1]) : 0 } });
      },
      onEnd: () => {
        this.channels.delete(channel);
      },
    });
    this.channels.add(channel);
  }
}

const base = { cwd: '/', nocwd: true, env: [] as string[], stdio: ['null', 'null', 'null'] as const };

function collect(stream: NodeJS.ReadableStream | null): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    stream?.on('data', (d: Buffer) => (text += d.toString()));
    stream?.on('close', () => resolve(text));
  });
}

describe('SDK: signals and stdio specs', () => {
  it('accepts the four forwardable signals by name or number, nothing else', () => {
    assert.deepEqual(
      ['SIGHUP', 'SIGINT', 'SIGQUIT', 'SIGTERM', 1, 2, 3, 15].map((s) => forwardableSignal(s)),
      [1, 2, 3, 15, 1, 2, 3, 15],
    );
    for (const bad of ['SIGKILL', 'TERM', 'sigterm', 9, 0, 19, 'toString', '__proto__'])
      assert.throws(
        () => forwardableSignal(bad),
        (e) => isJaiClientError(e, 'SIGNAL_NOT_ALLOWED'),
      );
  });

  it('spells out stdio shorthands and refuses bad ones', () => {
    assert.deepEqual(normalizeStdio('pipe'), { kind: 'pipe' });
    assert.deepEqual(normalizeStdio(2), { kind: 'pass', fd: 2 });
    assert.deepEqual(normalizeStdio({ kind: 'pty' }), { kind: 'pty' });
    for (const bad of [-1, 1.5, 'inherit', { kind: 'pass', fd: -3 }, null])
      assert.throws(
        () => normalizeStdio(bad as never),
        (e) => isJaiClientError(e, 'INVALID_ARGUMENT'),
      );
  });

  it('prepares a request: fds in protocol order, pipes as streams, a PTY with a default size', () => {
    const prepared = prepareSpawn({ argv: ['x'], cwd: '/', stdio: ['pipe', 1, 'pty'], env: ['A=1'] }, 'stream');
    try {
      assert.equal(prepared.fds.length, 3, 'cwd, the stdin pipe end, fd 1');
      assert.equal(prepared.fds[2], 1);
      assert.ok(prepared.local.stdin !== null && prepared.local.stdout === null && prepared.local.stderr === null);
      const m = decodeClientMessage(prepared.packet);
      assert.ok(m.ok);
      assert.equal(m.message.spawn?.stdin, v1.StdioKind.STDIO_PASS);
      assert.equal(m.message.spawn.stderr, v1.StdioKind.STDIO_PTY);
      assert.deepEqual({ ...m.message.spawn.terminal }, { rows: 24, cols: 80 });
      assert.ok(prepared.usesPty);
    } finally {
      prepared.release();
      prepared.local.destroy();
    }
  });

  it('refuses an environment too large for one packet before connecting', () => {
    assert.throws(
      () => prepareSpawn({ argv: ['x'], cwd: '/', env: ['A=' + 'x'.repeat(70_000)] }, 'stream'),
      (e) => isJaiClientError(e, 'REQUEST_TOO_LARGE'),
    );
  });
});

describe('SDK: JaiClient against a fake jaid', () => {
  let fake: FakeJaid;
  before(() => {
    fake = new FakeJaid();
  });
  after(() => {
    fake.close();
  });

  it('runs sequential sessions on one connection', async () => {
    const jai = await connect({ socketPath: fake.socket });
    const accepted = fake.accepted;
    for (let i = 0; i < 5; i++) {
      const session = await jai.spawn({ ...base, argv: ['exit', String(i)] });
      assert.deepEqual(await session.wait(), { code: i });
    }
    assert.equal(jai.protocolVersion, 2);
    assert.equal(fake.accepted, accepted, 'no new connection');
    assert.deepEqual({ opened: jai.stats.opened, served: jai.stats.served }, { opened: 1, served: 5 });
    await jai.close();
  });

  it('gives pipe streams: output, and stdin through to stdout', async () => {
    const jai = await connect({ socketPath: fake.socket });
    const r = await jai.run({ ...base, argv: ['write', 'hello'] });
    assert.deepEqual(
      { status: r.status, stdout: r.stdout.toString(), stderr: r.stderr.toString() },
      {
        status: { code: 0 },
        stdout: 'hello',
        stderr: '',
      },
    );
    const echoed = await jai.run({ ...base, argv: ['cat'], input: 'some input' });
    assert.equal(echoed.stdout.toString(), 'some input');
    await jai.close();
  });

  it('opens up to maxConnections for concurrent sessions; more wait for one to end', async () => {
    const jai = await connect({ socketPath: fake.socket, maxConnections: 2 });
    const a = await jai.spawn({ ...base, argv: ['hold'] });
    const b = await jai.spawn({ ...base, argv: ['hold'] });
    let cStarted = false;
    const c = jai.spawn({ ...base, argv: ['exit', '7'] }).then((s) => {
      cStarted = true;
      return s;
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(cStarted, false);
    assert.equal(jai.stats.waiting, 1);
    assert.equal(a.kill('SIGINT'), true);
    assert.deepEqual(await a.wait(), { signal: 2 });
    assert.deepEqual(await (await c).wait(), { code: 7 });
    b.kill(15);
    assert.deepEqual(await b.wait(), { signal: 15 });
    assert.equal(jai.stats.opened, 2);
    assert.equal(a.kill(), false, 'ended');
    assert.throws(
      () => a.resize(10, 10),
      (e) => isJaiClientError(e, 'NOT_A_PTY'),
    );
    await jai.close();
  });

  it('keeps the connection after a refusal, drops it after an Error that closes it', async () => {
    const jai = await connect({ socketPath: fake.socket });
    await assert.rejects(jai.spawn({ ...base, argv: ['refuse', 'POLICY_DENIED'] }), (e) =>
      isJaiClientError(e, 'POLICY_DENIED'),
    );
    assert.equal(jai.stats.idle, 1);
    await assert.rejects(jai.spawn({ ...base, argv: ['refuse', 'REQUEST_FDS'] }), (e) =>
      isJaiClientError(e, 'REQUEST_FDS'),
    );
    assert.equal(jai.stats.open, 0);
    assert.deepEqual(await (await jai.spawn({ ...base, argv: ['exit', '1'] })).wait(), { code: 1 });
    assert.equal(jai.stats.opened, 2);
    assert.equal(await jai.teardown(), 0);
    await jai.close();
    await assert.rejects(jai.spawn({ ...base, argv: ['exit', '0'] }), (e) => isJaiClientError(e, 'CLIENT_CLOSED'));
  });

  it('close() fails the spawns still waiting for a connection', async () => {
    const jai = new JaiClient({ socketPath: fake.socket, maxConnections: 1 });
    const held = await jai.spawn({ ...base, argv: ['hold'] });
    const waiting = jai.spawn({ ...base, argv: ['exit', '0'] });
    const closed = jai.close();
    await assert.rejects(waiting, (e) => isJaiClientError(e, 'CLIENT_CLOSED'));
    held.kill();
    await held.wait();
    await closed;
    assert.equal(jai.stats.open, 0);
  });

  it('close({force}) hangs up running sessions (they fail DAEMON_LOST)', async () => {
    const jai = await connect({ socketPath: fake.socket });
    const held: JaiSession = await jai.spawn({ ...base, argv: ['hold'] });
    await jai.close({ force: true });
    await assert.rejects(held.wait(), (e) => isJaiClientError(e, 'DAEMON_LOST'));
  });

  it('the one-shot spawn() uses protocol version 1 and its own connection', async () => {
    const accepted = fake.accepted;
    const session = await spawn({
      ...base,
      argv: ['write', 'once'],
      stdio: ['null', 'pipe', 'null'],
      socketPath: fake.socket,
    });
    const out = collect(session.stdout);
    assert.deepEqual(await session.wait(), { code: 0 });
    assert.equal(await out, 'once');
    assert.equal(fake.accepted, accepted + 1);
  });

  it('reports an unreachable jaid as DAEMON_UNAVAILABLE', async () => {
    await assert.rejects(connect({ socketPath: '/nonexistent/jaid.sock' }), (e) =>
      isJaiClientError(e, 'DAEMON_UNAVAILABLE'),
    );
  });
});

describe('SDK: older and flakier daemons', () => {
  it('falls back to protocol version 1 (a connection per session) when jaid refuses version 2', async () => {
    const fake = new FakeJaid({ versions: [1] });
    try {
      const jai = await connect({ socketPath: fake.socket });
      assert.equal(jai.protocolVersion, 1);
      for (let i = 0; i < 3; i++)
        assert.deepEqual(await (await jai.spawn({ ...base, argv: ['exit', String(i)] })).wait(), { code: i });
      assert.equal(fake.accepted, 4, 'the refused v2 Hello, then one connection per session');
      await jai.close();
    } finally {
      fake.close();
    }
  });

  it('sends a request again on a fresh connection when the reused one was closed before any answer', async () => {
    const fake = new FakeJaid({ dropSecondRequest: true });
    try {
      const jai = await connect({ socketPath: fake.socket });
      assert.deepEqual(await (await jai.spawn({ ...base, argv: ['exit', '3'] })).wait(), { code: 3 });
      assert.deepEqual(await (await jai.spawn({ ...base, argv: ['exit', '4'] })).wait(), { code: 4 });
      assert.equal(jai.stats.opened, 2);
      await jai.close();
    } finally {
      fake.close();
    }
  });
});
