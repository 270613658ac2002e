// A stand-in for jaid's admin API: a node:http server on a Unix socket in a temp dir, answering canned responses
// per "METHOD /path" (query string excluded) and recording every request. Plus a capture of jaictl's output.
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { runJaictl, type CtlIo } from '../../client/ctl/run';
import type { SessionView } from '../../client/ctl/views';

export type Reply =
  | { status: number; json: unknown }
  /** Written piece by piece, with a pause between pieces (a streamed body). */
  | { status: number; chunks: string[]; contentType?: string; delayMs?: number }
  /** Each piece written as the generator yields it (a test can hold the body back until jaictl has printed). */
  | { status: number; body: () => AsyncIterable<string> };

export interface Recorded {
  method: string;
  path: string;
  query: URLSearchParams;
}

export class FakeApi {
  readonly dir: string;
  readonly socket: string;
  readonly requests: Recorded[] = [];
  private readonly server: http.Server;
  private routes = new Map<string, Reply>();

  private constructor() {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'jaictl-api-'));
    this.socket = path.join(this.dir, 'admin.sock');
    this.server = http.createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      this.requests.push({ method: req.method ?? '', path: url.pathname, query: url.searchParams });
      const reply = this.routes.get(`${req.method ?? ''} ${url.pathname}`) ?? {
        status: 404,
        json: { error: { code: 'NOT_FOUND', message: `no route ${url.pathname}` } },
      };
      void send(res, reply);
    });
  }

  static async start(): Promise<FakeApi> {
    const api = new FakeApi();
    await new Promise<void>((resolve) => api.server.listen(api.socket, resolve));
    return api;
  }

  on(route: string, reply: Reply): this {
    this.routes.set(route, reply);
    return this;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

async function send(res: http.ServerResponse, reply: Reply): Promise<void> {
  if ('json' in reply) {
    res.writeHead(reply.status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(reply.json));
    return;
  }
  if ('body' in reply) {
    res.writeHead(reply.status, { 'content-type': 'application/x-ndjson' });
    for await (const chunk of reply.body()) res.write(chunk);
    res.end();
    return;
  }
  res.writeHead(reply.status, { 'content-type': reply.contentType ?? 'application/x-ndjson' });
  for (const chunk of reply.chunks) {
    res.write(chunk);
    await new Promise((resolve) => setTimeout(resolve, reply.delayMs ?? 5));
  }
  res.end();
}

export function errorReply(status: number, code: string, message: string): Reply {
  return { status, json: { error: { code, message } } };
}

export const NOW = new Date('2026-11-30T12:00:00Z');

export function session(overrides: Partial<SessionView> = {}): SessionView {
  return {
    id: '0123456789abcdef0123456789abcdef',
    uid: 1000,
    user: 'alice',
    peerUid: 1000,
    peerPid: 4242,
    argv: ['claude', '--model', 'opus'],
    cwd: '/home/alice/proj',
    mode: 'casual',
    jail: 'default',
    grants: [
      { path: '/home/alice/proj', readOnly: false },
      { path: '/data', readOnly: true },
    ],
    masks: ['.ssh'],
    network: 'loopback',
    limits: { memoryBytes: 2 * 1024 ** 3, pids: 512, cpu: 2 },
    rule: 'default',
    startedAt: '2026-11-30T11:55:00.000Z',
    endedAt: null,
    durationMs: null,
    state: 'running',
    exitCode: null,
    signal: null,
    errorCode: null,
    error: null,
    changes: null,
    ...overrides,
  };
}

/** A Writable that keeps what it is given. */
export class Capture extends Writable {
  text = '';
  override _write(chunk: Buffer | string, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    this.text += chunk.toString();
    done();
  }
}

export interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

/** The real jaictl, in this process. */
export async function jaictl(argv: string[], options: Partial<CtlIo> = {}): Promise<Ran> {
  const stdout = new Capture();
  const stderr = new Capture();
  const code = await runJaictl(argv, { stdout, stderr, env: {}, columns: null, now: () => NOW, ...options });
  return { code, stdout: stdout.text, stderr: stderr.text };
}
