// Hostile and timed clients of the spawn socket for test/security/client-limits and connection-flood, run as a
// real unprivileged user (`node dist/test/helpers/limit-clients.js MODE SOCKET …` with that uid). Each mode prints
// one JSON line: at once, when it is done, or on SIGTERM (the long-running ones).
//   idle N            open N connections and send nothing; after 500 ms report how each was answered; hold them
//   slow              one silent connection and one that sends Hello only; report when and how each was closed
//   burst N           N spawns of `true` at once through the SDK; report what each got
//   timed N           wait for a line on stdin, then N sessions of `true` one after the other; report their times
//   flood-hold N S    keep N connections open (half of them slow senders), reopening those closed
//   flood-spawn C S   C concurrent loops of SDK spawns of `true`
//   flood-connect S   connect and close as fast as possible
// S: seconds to run before reporting (flood-*; SIGTERM reports early).
import * as native from '../../native/addon';
import { JaiClientError } from '../../client/sdk/errors';
import { spawn } from '../../client/sdk/spawn';
import { MAX_PACKET_BYTES, PROTOCOL_VERSION, decodeDaemonMessage, encodeClientMessage, v1 } from '../../proto/codec';

const [mode = '', socket = '', ...args] = process.argv.slice(2);
const counts = new Map<string, number>();
const count = (key: string): void => {
  counts.set(key, (counts.get(key) ?? 0) + 1);
};
const report = (extra: Record<string, unknown> = {}): void => {
  process.stdout.write(`${JSON.stringify({ ...extra, counts: Object.fromEntries(counts) })}\n`);
};
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const hello = encodeClientMessage({ hello: { version: PROTOCOL_VERSION, agent: 'limit-clients' } });

/** What a connection got so far: 'open' (nothing), an error code name, 'hello', 'eof', or an errno. */
function poll(fd: number): string {
  let got: native.Received | null;
  try {
    got = native.recvMessage(fd, MAX_PACKET_BYTES, 4);
  } catch (e) {
    return native.isNativeError(e) ? e.code : String(e);
  }
  if (got === null) return 'open';
  got.fds.forEach((f) => native.closeFd(f));
  if (got.eof) return 'eof';
  const decoded = decodeDaemonMessage(got.data);
  if (!decoded.ok) return 'garbage';
  const m = decoded.message;
  return m.body === 'error' ? (v1.ErrorCode[m.error?.code ?? 0] ?? 'ERROR') : (m.body ?? 'empty');
}

/** Polls until something other than a Hello reply or nothing arrives. */
function answer(fd: number): string {
  for (;;) {
    const got = poll(fd);
    if (got !== 'hello' && got !== 'ECONNRESET') return got;
  }
}

function connect(): number | string {
  try {
    return native.seqpacketConnect(socket);
  } catch (e) {
    return native.isNativeError(e) ? e.code : String(e);
  }
}

async function idle(n: number): Promise<void> {
  const fds: number[] = [];
  for (let i = 0; i < n; i++) {
    const fd = connect();
    if (typeof fd === 'number') fds.push(fd);
    else count(`connect:${fd}`);
  }
  await sleep(500);
  for (const fd of fds) count(answer(fd));
  report({ opened: fds.length });
  await sleep(600_000);
}

async function slow(): Promise<void> {
  const silent = connect();
  const partial = connect();
  if (typeof silent !== 'number' || typeof partial !== 'number') throw new Error('cannot connect');
  native.sendMessage(partial, hello, []);
  const started = Date.now();
  const result: Record<string, { got: string[]; afterMs: number }> = {};
  for (const [name, fd] of [
    ['silent', silent],
    ['partial', partial],
  ] as const) {
    const got: string[] = [];
    while (got.at(-1) !== 'eof' && Date.now() - started < 60_000) {
      const next = poll(fd);
      if (next === 'open') await sleep(10);
      else got.push(next);
    }
    result[name] = { got, afterMs: Date.now() - started };
  }
  report(result);
}

function session(cwd: string | null): Promise<void> {
  return spawn({
    argv: ['true'],
    ...(cwd === null ? { nocwd: true } : { cwd }),
    env: { PATH: '/usr/bin:/bin' },
    stdio: [{ kind: 'null' }, { kind: 'null' }, { kind: 'null' }],
    socketPath: socket,
  }).then(async (s) => {
    const status = await s.wait();
    if (status.code !== 0) throw new Error(`session ended with ${JSON.stringify(status)}`);
  });
}

function codeOf(e: unknown): string {
  return e instanceof JaiClientError ? e.code : String(e);
}

async function burst(n: number): Promise<void> {
  const results = await Promise.allSettled(Array.from({ length: n }, () => session(null)));
  for (const r of results) count(r.status === 'fulfilled' ? 'ok' : codeOf(r.reason));
  const messages = results.flatMap((r) => (r.status === 'rejected' ? [String(r.reason)] : []));
  report({ firstRefusal: messages[0] ?? null });
}

async function timed(n: number): Promise<void> {
  // The SDK is loaded and warm before the clock starts: what is measured is jaid's answer, not node's startup.
  await new Promise<void>((resolve) => process.stdin.once('data', () => resolve()));
  const times: number[] = [];
  const failures: string[] = [];
  for (let i = 0; i < n; i++) {
    const started = performance.now();
    try {
      await session(process.cwd());
      times.push(Math.round(performance.now() - started));
    } catch (e) {
      failures.push(`${codeOf(e)}: ${String(e)}`);
    }
  }
  report({ times, failures });
  process.exit(0);
}

function reportOnSigterm(): void {
  process.on('SIGTERM', () => {
    report();
    process.exit(0);
  });
}

async function floodHold(n: number, seconds: number): Promise<void> {
  reportOnSigterm();
  const end = Date.now() + seconds * 1000;
  const open = (i: number): number | null => {
    const fd = connect();
    if (typeof fd !== 'number') {
      count(`connect:${fd}`);
      return null;
    }
    // Every other connection is a slow sender: Hello, then nothing.
    try {
      if (i % 2 === 1) native.sendMessage(fd, hello, []);
    } catch {
      // Refused and closed already: seen at the next poll.
    }
    return fd;
  };
  const fds = Array.from({ length: n }, (_, i) => open(i));
  while (Date.now() < end) {
    await sleep(50);
    fds.forEach((fd, i) => {
      // A refused slow sender reads the reset (its Hello went unread) before the refusal.
      const first = fd === null ? 'reopen' : poll(fd);
      const got = first === 'ECONNRESET' && fd !== null ? poll(fd) : first;
      if (got === 'open' || got === 'hello') return;
      if (got !== 'reopen') count(got);
      if (fd !== null) native.closeFd(fd);
      fds[i] = open(i);
    });
  }
  report();
}

async function floodSpawn(concurrency: number, seconds: number): Promise<void> {
  reportOnSigterm();
  const end = Date.now() + seconds * 1000;
  const loop = async (): Promise<void> => {
    while (Date.now() < end) {
      try {
        await session(null);
        count('ok');
      } catch (e) {
        count(codeOf(e));
        await sleep(1);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, loop));
  report();
}

async function floodConnect(seconds: number): Promise<void> {
  reportOnSigterm();
  const end = Date.now() + seconds * 1000;
  while (Date.now() < end) {
    for (let i = 0; i < 200; i++) {
      const fd = connect();
      if (typeof fd === 'number') {
        native.closeFd(fd);
        count('connected');
      } else count(`connect:${fd}`);
    }
    await new Promise((r) => setImmediate(r));
  }
  report();
}

const num = (i: number): number => Number(args[i] ?? 'NaN');
const modes: Record<string, () => Promise<void>> = {
  idle: () => idle(num(0)),
  slow: () => slow(),
  burst: () => burst(num(0)),
  timed: () => timed(num(0)),
  'flood-hold': () => floodHold(num(0), num(1)),
  'flood-spawn': () => floodSpawn(num(0), num(1)),
  'flood-connect': () => floodConnect(num(0)),
};
const run = modes[mode];
if (run === undefined) {
  process.stderr.write(`limit-clients: unknown mode ${mode}\n`);
  process.exit(2);
}
run().then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`limit-clients: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  },
);
