// Runs one SDK scenario as the unprivileged test user (started by test/integration/sdk.test.ts from the installed
// client copy) and prints its findings as one JSON line. The assertions are the test's; this only observes.
//   node dist/test/helpers/sdk-driver.js SCENARIO
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import * as native from '../../native/addon';
import {
  MAX_PACKET_BYTES,
  PROTOCOL_VERSION,
  PROTOCOL_VERSION_REUSE,
  decodeDaemonMessage,
  encodeClientMessage,
  v1,
} from '../../proto/codec';
import { connect, isJaiClientError, spawn, type JaiSession } from '../../client/sdk';

const socketPath = process.env['JAI_SOCKET'] ?? '';

function collect(stream: Readable | null): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    if (stream === null) return reject(new Error('no stream'));
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('error', reject);
    stream.on('close', () => resolve(Buffer.concat(chunks)));
  });
}

function errorOf(e: unknown): { code: string; exitCode: number; message: string } {
  if (isJaiClientError(e)) return { code: e.code, exitCode: e.exitCode, message: e.message };
  throw e;
}

async function expectRejection(p: Promise<unknown>): Promise<{ code: string; exitCode: number; message: string }> {
  try {
    await p;
  } catch (e) {
    return errorOf(e);
  }
  return { code: 'RESOLVED', exitCode: 0, message: 'did not reject' };
}

function throwsCode(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    return errorOf(e).code;
  }
  return 'NO_THROW';
}

const scenarios: Record<string, () => Promise<unknown>> = {
  /**
   * `true`, then `jai -u`, 10 times on one connection, each request sent the moment the previous one is answered:
   * the exit comes before the session's helper has let its mounts go.
   */
  async backToBack() {
    const jai = await connect();
    const results = [];
    for (let i = 0; i < 10; i++) {
      const session = await jai.spawn({ argv: ['true'], stdio: ['null', 'null', 'null'] });
      const status = await session.wait().catch((e: unknown) => errorOf(e));
      const again = await jai.spawn({ argv: ['true'], stdio: ['null', 'null', 'null'] });
      const statusAgain = await again.wait().catch((e: unknown) => errorOf(e));
      const tornDown = await jai.teardown().catch((e: unknown) => errorOf(e));
      results.push({ status, statusAgain, tornDown });
    }
    // More teardowns on the same connection than jaid's setup slots per uid (32): none may be refused BUSY.
    const teardowns = [];
    for (let i = 0; i < 25; i++) teardowns.push(await jai.teardown().catch((e: unknown) => errorOf(e)));
    await jai.close();
    return { results, teardowns };
  },

  /** 20 sessions, one after the other, on one client. */
  async sequential() {
    const jai = await connect();
    const results = [];
    for (let i = 0; i < 20; i++) {
      const r = await jai.run({ argv: ['sh', '-c', 'echo "run $0"; echo "err $0" >&2; exit $0', String(i)] });
      results.push({ id: r.sessionId, status: r.status, stdout: r.stdout.toString(), stderr: r.stderr.toString() });
    }
    const stats = jai.stats;
    await jai.close();
    return { results, stats, version: jai.protocolVersion };
  },

  /** 6 sessions at once on a client capped at 3 connections. */
  async concurrent() {
    const jai = await connect({ maxConnections: 3 });
    const t0 = Date.now();
    let running = 0;
    let peak = 0;
    const one = async (i: number): Promise<string> => {
      const session = await jai.spawn({ argv: ['sh', '-c', 'sleep 0.5; echo "done $0"', String(i)] });
      running++;
      peak = Math.max(peak, running);
      const out = collect(session.stdout);
      session.stdin?.end();
      await session.wait();
      running--;
      return (await out).toString();
    };
    const outputs = await Promise.all([0, 1, 2, 3, 4, 5].map(one));
    const elapsedMs = Date.now() - t0;
    const stats = jai.stats;
    await jai.close();
    return { outputs, peak, elapsedMs, stats };
  },

  /** stdin through cat, 1 MiB out intact, stderr apart; the one-shot spawn() with pipes too. */
  async streams() {
    const jai = await connect();
    const input = Buffer.alloc(3 * 1024 * 1024 + 7);
    for (let i = 0; i < input.length; i++) input[i] = (i * 7 + (i >> 10)) & 0xff;
    const cat = await jai.spawn({ argv: ['cat'] });
    const catOut = collect(cat.stdout);
    cat.stdin?.end(input);
    const catStatus = await cat.wait();
    const echoed = await catOut;
    const big = await jai.run({ argv: ['sh', '-c', 'head -c 1048576 /dev/zero | tr "\\0" x; echo oops >&2'] });
    const once = await spawn({ argv: ['sh', '-c', 'read x; echo "got $x"; echo e >&2'] });
    const onceOut = collect(once.stdout);
    const onceErr = collect(once.stderr);
    once.stdin?.end('line\n');
    const onceStatus = await once.wait();
    const result = {
      cat: {
        status: catStatus,
        same: echoed.equals(input),
        length: echoed.length,
        sha: createHash('sha256').update(echoed).digest('hex') === createHash('sha256').update(input).digest('hex'),
      },
      big: {
        status: big.status,
        length: big.stdout.length,
        allX: big.stdout.every((b) => b === 0x78),
        stderr: big.stderr.toString(),
      },
      once: { status: onceStatus, stdout: (await onceOut).toString(), stderr: (await onceErr).toString() },
      stats: jai.stats,
    };
    await jai.close();
    return result;
  },

  /** A PTY session sees resize() in `stty size`; resize() on a pipe session is NOT_A_PTY. */
  async pty() {
    const jai = await connect();
    const session = await jai.spawn({
      argv: ['sh', '-c', 'stty size; read line; stty size'],
      stdio: ['pty', 'pty', 'pty'],
      terminal: { rows: 30, cols: 100 },
    });
    const pty = session.pty;
    if (pty === null) throw new Error('no pty stream');
    let output = '';
    const sawFirst = new Promise<void>((resolve) => {
      pty.on('data', (d: Buffer) => {
        output += d.toString();
        if (output.includes('30 100')) resolve();
      });
    });
    const closed = new Promise<void>((resolve) => pty.on('close', () => resolve()));
    await sawFirst;
    session.resize(40, 120);
    pty.write('go\n');
    const status = await session.wait();
    await closed;
    const piped = await jai.spawn({ argv: ['true'], stdio: ['null', 'null', 'null'] });
    const notPty = throwsCode(() => piped.resize(10, 10));
    await piped.wait();
    const badSize = throwsCode(() => session.resize(0, 10));
    await jai.close();
    return { status, output, notPty, badSize, ptyMaster: session.ptyMaster !== null };
  },

  /** kill(SIGTERM) ends a sleep; other signals are refused by the library. */
  async kill() {
    const jai = await connect();
    const session = await jai.spawn({ argv: ['sleep', '30'], stdio: ['null', 'null', 'null'] });
    const refused = [throwsCode(() => session.kill('SIGKILL')), throwsCode(() => session.kill(9))];
    const t0 = Date.now();
    const sent = session.kill('SIGTERM');
    const status = await session.wait();
    const elapsedMs = Date.now() - t0;
    const afterExit = session.kill(2);
    const next = await jai.run({ argv: ['true'] });
    const byNumber = await jai.spawn({ argv: ['sleep', '30'], stdio: ['null', 'null', 'null'] });
    byNumber.kill(1);
    const hupStatus = await byNumber.wait();
    const stats = jai.stats;
    await jai.close();
    return { sent, status, elapsedMs, refused, afterExit, next: next.status, hupStatus, stats };
  },

  /** Refusals reject with the daemon's code; the connection serves the next session. */
  async refused() {
    const jai = await connect();
    const before = await jai.run({ argv: ['true'] });
    const policy = await expectRejection(jai.spawn({ argv: ['true'], network: 'host' }));
    const afterPolicy = await jai.run({ argv: ['sh', '-c', 'echo still here'] });
    const grant = await expectRejection(jai.spawn({ argv: ['true'], grants: [{ path: '/tmp' }] }));
    const missing = await expectRejection(jai.run({ argv: ['/no/such/program'] }));
    const badCwd = await expectRejection(jai.spawn({ argv: ['true'], cwd: '/no/such/dir' }));
    const last = await jai.run({ argv: ['sh', '-c', 'exit 4'] });
    const stats = jai.stats;
    await jai.close();
    const closedSpawn = await expectRejection(jai.spawn({ argv: ['true'] }));
    return {
      before: before.status,
      policy,
      afterPolicy: { status: afterPolicy.status, stdout: afterPolicy.stdout.toString() },
      grant,
      missing,
      badCwd,
      last: last.status,
      stats,
      closedSpawn,
    };
  },

  /** The wire, by hand: version 2 takes a second request; a late Signal is dropped; version 1 still closes. */
  async protocol() {
    const request = encodeClientMessage({
      spawn: {
        argv: ['true'],
        cwd: '/',
        nocwd: true,
        env: ['PATH=/usr/bin:/bin'],
        stdin: v1.StdioKind.STDIO_NULL,
        stdout: v1.StdioKind.STDIO_NULL,
        stderr: v1.StdioKind.STDIO_NULL,
      },
    });
    const hello = (version: number): Uint8Array => encodeClientMessage({ hello: { version } });
    const late = encodeClientMessage({ signal: { signo: 15 } });
    const v2 = await exchange([
      [hello(PROTOCOL_VERSION_REUSE), request],
      [late, request],
      [Buffer.from('\xff\xff\xff garbage', 'latin1')],
    ]);
    const v1Replies = await exchange([[hello(PROTOCOL_VERSION), request], [request]]);
    return { v2, v1: v1Replies };
  },

  /** setRef(false) lets the process exit with a session still running (the hang-up ends it). */
  async unref() {
    const jai = await connect();
    const session: JaiSession = await jai.spawn({ argv: ['sleep', '30'], stdio: ['null', 'null', 'null'] });
    session.setRef(false);
    return { id: session.id };
  },
};

/** Sends each step's packets after the previous step's final reply (Exited or Error) and lists every reply. */
async function exchange(steps: readonly (readonly Uint8Array[])[]): Promise<string[]> {
  const fd = native.seqpacketConnect(socketPath);
  const replies: string[] = [];
  let step = 0;
  const sendStep = (): void => {
    const packets = steps[step++] ?? [];
    try {
      for (const packet of packets) native.sendMessage(fd, packet, []);
    } catch {
      // jaid closed the connection already: the eof says so.
    }
  };
  sendStep();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      watcher.close();
      native.closeFd(fd);
      reject(new Error(`no close from jaid; replies ${JSON.stringify(replies)}`));
    }, 15_000);
    const watcher = native.watch(fd, () => {
      for (;;) {
        const got = native.recvMessage(fd, MAX_PACKET_BYTES, 4);
        if (got === null) return;
        got.fds.forEach((f) => native.closeFd(f));
        if (got.eof) {
          clearTimeout(timer);
          watcher.close();
          native.closeFd(fd);
          replies.push('eof');
          resolve(replies);
          return;
        }
        const decoded = decodeDaemonMessage(got.data);
        const m = decoded.ok ? decoded.message : null;
        const error = m?.body === 'error' ? `:${v1.ErrorCode[m.error?.code ?? 0] ?? '?'}` : '';
        replies.push(`${m?.body ?? 'undecodable'}${error}`);
        if (m?.body === 'exited' || m?.body === 'error') sendStep();
      }
    });
    watcher.start('r');
  });
}

const name = process.argv[2] ?? '';
const scenario = scenarios[name];
if (scenario === undefined) {
  console.error(`unknown scenario ${name}; one of ${Object.keys(scenarios).join(', ')}`);
  process.exitCode = 2;
} else {
  scenario().then(
    (result) => {
      console.log(JSON.stringify(result));
    },
    (e: unknown) => {
      console.error(e);
      process.exitCode = 1;
    },
  );
}
