// jaictl against a fake admin API on a Unix socket: the real entry point (in process, and `node bin/jaictl` for
// real), the requests it sends, what it prints, and the exit codes: 1 for refusals (403/404/409/422), 2 for an
// ambiguous id, 3 when the socket cannot be reached.
process.env['TZ'] = 'UTC';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { AdminClient } from '../../client/ctl/api';
import { matchPrefix } from '../../client/ctl/commands';
import { connectHint } from '../../client/ctl/run';
import { Capture, errorReply, FakeApi, jaictl, session, type Ran } from './jaictl-fake-api';

const REPO = path.resolve(__dirname, '../../..');
const ID = '0123456789abcdef0123456789abcdef';
const OTHER = 'fedcba9876543210fedcba9876543210';
const SIBLING = '0123456789ffffffffffffffffffffff';

describe('jaictl against the admin API', () => {
  let api: FakeApi;
  const run = (...argv: string[]): Promise<Ran> => jaictl(['--socket', api.socket, ...argv]);
  const queries = (): string[] => api.requests.map((r) => `${r.method} ${r.path}?${r.query.toString()}`);

  before(async () => {
    api = await FakeApi.start();
  });
  after(async () => {
    await api.close();
  });
  beforeEach(() => {
    api.requests.length = 0;
  });

  it('resolves an id prefix only when exactly one session has it', () => {
    const sessions = [{ id: ID }, { id: SIBLING }, { id: OTHER }, { id: OTHER }];
    assert.deepEqual(matchPrefix('fedcba', sessions), { ok: true, id: OTHER });
    assert.deepEqual(matchPrefix('0123456789', sessions), { ok: false, matches: [ID, SIBLING] });
    assert.deepEqual(matchPrefix('0123456789a', sessions), { ok: true, id: ID });
    assert.deepEqual(matchPrefix('aaaaaa', sessions), { ok: false, matches: [] });
  });

  it('sessions: running ones by default, as a table', async () => {
    api.on('GET /v1/sessions', { status: 200, json: { sessions: [session()] } });
    const r = await run('sessions');
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(queries(), ['GET /v1/sessions?state=running']);
    assert.match(
      r.stdout,
      /^ID +USER +MODE +JAIL +NET +STATE +STARTED +DURATION +COMMAND\n0123456789ab +alice +casual/,
    );
    assert.equal(r.stderr, '');
  });

  it('sessions: filters go to the daemon; --all asks for every state; an empty list says so', async () => {
    api.on('GET /v1/sessions', { status: 200, json: { sessions: [] } });
    const r = await run('sessions', '--all', '--user', 'bob', '--since', '2h');
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(queries(), ['GET /v1/sessions?user=bob&since=2026-11-30T10%3A00%3A00.000Z']);
    assert.equal(r.stdout, 'no sessions\n');
    assert.equal((await run('sessions', '--state', 'failed')).stdout, 'no failed sessions\n');
  });

  it('sessions --json prints the API array as sent, unknown fields included, terminal-safe', async () => {
    const raw = [{ ...session({ argv: ['a\u0085b'] }), future: { x: 1 } }];
    api.on('GET /v1/sessions', { status: 200, json: { sessions: raw } });
    const r = await run('--json', 'sessions');
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), raw);
    assert.ok(r.stdout.includes('a\\u0085b'));
  });

  it('show: a prefix is resolved by listing, then the session printed in full (or raw with --json)', async () => {
    api.on('GET /v1/sessions', { status: 200, json: { sessions: [session(), session({ id: OTHER })] } });
    api.on(`GET /v1/sessions/${ID}`, { status: 200, json: session() });
    const r = await run('show', '0123456789');
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(queries(), ['GET /v1/sessions?', `GET /v1/sessions/${ID}?`]);
    assert.match(r.stdout, /^id: +0123456789abcdef0123456789abcdef\n/);
    assert.match(r.stdout, /^grants: +\/home\/alice\/proj \(rw\)$/m);
    api.requests.length = 0;
    const json = await run('show', '--json', ID);
    assert.deepEqual(queries(), [`GET /v1/sessions/${ID}?`], 'a full id needs no listing');
    assert.deepEqual(JSON.parse(json.stdout), session());
  });

  it('show: an ambiguous prefix exits 2 naming the candidates; no match exits 1; 404 exits 1', async () => {
    api.on('GET /v1/sessions', { status: 200, json: { sessions: [session(), session({ id: SIBLING })] } });
    const ambiguous = await run('show', '0123456789');
    assert.equal(ambiguous.code, 2);
    assert.equal(ambiguous.stderr, `jaictl: session id prefix 0123456789 is ambiguous: ${ID}, ${SIBLING}\n`);
    const none = await run('show', 'abcdef');
    assert.equal(none.code, 1);
    assert.equal(none.stderr, 'jaictl: no session id starts with abcdef\n');
    api.on(`GET /v1/sessions/${OTHER}`, errorReply(404, 'NOT_FOUND', `no session ${OTHER}`));
    const missing = await run('show', OTHER);
    assert.equal(missing.code, 1);
    assert.equal(missing.stderr, `jaictl: no session ${OTHER}\n`);
  });

  it('kill: resolves among running sessions first, posts, and prints the id', async () => {
    api.on('GET /v1/sessions', { status: 200, json: { sessions: [session()] } });
    api.on(`POST /v1/sessions/${ID}/kill`, { status: 200, json: { id: ID, killed: true } });
    const r = await run('kill', '012345');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `killed ${ID}\n`);
    assert.deepEqual(queries(), ['GET /v1/sessions?state=running', `POST /v1/sessions/${ID}/kill?`]);
  });

  it("kill: 409 (not running) and 403 (not an admin) exit 1 with the daemon's message", async () => {
    api.on(`POST /v1/sessions/${ID}/kill`, errorReply(409, 'NOT_RUNNING', `session ${ID} is not running`));
    const ended = await run('kill', ID);
    assert.equal(ended.code, 1);
    assert.equal(ended.stderr, `jaictl: session ${ID} is not running\n`);
    api.on(`POST /v1/sessions/${ID}/kill`, errorReply(403, 'FORBIDDEN', 'only root and the admin group may kill'));
    const forbidden = await run('kill', ID);
    assert.equal(forbidden.code, 1);
    assert.equal(forbidden.stderr, 'jaictl: only root and the admin group may kill\n');
    api.on(`POST /v1/sessions/${ID}/kill`, { status: 500, chunks: ['<html>oops</html>'], contentType: 'text/html' });
    const broken = await run('kill', ID);
    assert.equal(broken.code, 1);
    assert.equal(broken.stderr, 'jaictl: HTTP 500 Internal Server Error\n');
  });

  it('audit --json streams the NDJSON through as it arrives, not buffered whole', { timeout: 10_000 }, async () => {
    const stdout = new Capture();
    const first = `${JSON.stringify({ type: 'session', ...session() })}\n`;
    const second = `${JSON.stringify({ type: 'admin', at: '2026-11-30T11:00:00Z', actorUid: 0, actorUser: 'root', action: 'kill', target: ID, result: 'ok', detail: null })}\n`;
    api.on('GET /v1/audit', {
      status: 200,
      body: async function* () {
        yield first.slice(0, 10);
        yield first.slice(10);
        // Only once jaictl has printed the first event does the rest come: a buffering client would hang here.
        while (stdout.text !== first) await new Promise((resolve) => setTimeout(resolve, 5));
        yield second;
      },
    });
    const r = await jaictl(['--socket', api.socket, 'audit', '--json', '--since', '1h', '--user', 'alice'], { stdout });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(stdout.text, first + second);
    assert.deepEqual(queries(), ['GET /v1/audit?since=2026-11-30T11%3A00%3A00.000Z&user=alice']);
  });

  it('audit: one line per event, split across chunks; an unreadable line is reported and exits 1', async () => {
    const lines = [
      JSON.stringify({
        type: 'session',
        ...session({ state: 'exited', exitCode: 0, durationMs: 1000, argv: ['vi', '\u001b[2J'] }),
      }),
      JSON.stringify({
        type: 'admin',
        at: '2026-11-30T11:00:00Z',
        actorUid: 0,
        actorUser: 'root',
        action: 'reload',
        target: '/etc/jai/policy.toml',
        result: 'ok',
        detail: null,
      }),
    ].join('\n');
    api.on('GET /v1/audit', {
      status: 200,
      chunks: [lines.slice(0, 50), lines.slice(50, 300), `${lines.slice(300)}\n`],
    });
    const r = await run('audit');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(
      r.stdout,
      "2026-11-30 11:55:00  session  0123456789ab  alice  casual/default  exited (exit code 0)  1s  vi '\\x1b[2J'\n" +
        '2026-11-30 11:00:00  admin  root(0)  reload  /etc/jai/policy.toml  ok\n',
    );
    api.on('GET /v1/audit', { status: 200, chunks: ['{"type":"session"}\nnot json\n'] });
    const bad = await run('audit');
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /audit line 1\.id: expected a string/);
    assert.match(bad.stderr, /audit line 2 is not JSON/);
    assert.match(bad.stderr, /2 audit events could not be read/);
  });

  it('policy reload: the source on success, the 422 message and exit 1 on an invalid file', async () => {
    api.on('POST /v1/policy/reload', {
      status: 200,
      json: { ok: true, source: '/etc/jai/policy.toml', loadedAt: '2026-11-30T12:00:00Z' },
    });
    const ok = await run('policy', 'reload');
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.stdout, 'policy reloaded from /etc/jai/policy.toml\n');
    api.on('POST /v1/policy/reload', errorReply(422, 'POLICY_INVALID', '/etc/jai/policy.toml:3: unknown key "netwrk"'));
    const invalid = await run('policy', 'reload');
    assert.equal(invalid.code, 1);
    assert.equal(invalid.stdout, '');
    assert.equal(invalid.stderr, 'jaictl: /etc/jai/policy.toml:3: unknown key "netwrk"\n');
  });

  it('policy show and health, as text and as JSON', async () => {
    const policy = {
      source: '/etc/jai/policy.toml',
      loadedAt: '2026-11-30T12:00:00Z',
      adminGroup: 'jaiadmin',
      defaults: { maxSessions: 4 },
      rules: [],
      limits: { enforced: true },
    };
    api.on('GET /v1/policy', { status: 200, json: policy });
    const shown = await run('policy', 'show');
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, /^adminGroup: jaiadmin\ndefaults:\n {2}maxSessions: 4\nrules: none\n/m);
    assert.deepEqual(JSON.parse((await run('policy', 'show', '--json')).stdout), policy);
    const health = {
      status: 'ok',
      version: '0.1.0',
      startedAt: '2026-11-30T09:00:00Z',
      uptimeSeconds: 60,
      activeSessions: 0,
      limits: { backend: 'none', enforced: false, detail: 'no cgroup2' },
      policy: { source: null, loadedAt: '2026-11-30T09:00:00Z' },
    };
    api.on('GET /v1/health', { status: 200, json: health });
    const text = await run('health');
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^limits: +NOT enforced/m);
    assert.deepEqual(JSON.parse((await run('--json', 'health')).stdout), health);
  });

  it('an answer of the wrong shape exits 1 naming the field', async () => {
    api.on('GET /v1/health', { status: 200, json: { status: 'ok' } });
    const r = await run('health');
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'jaictl: unexpected answer from jaid: health.version: expected a string\n');
  });

  it('runs as `node bin/jaictl` for real, the socket from JAI_ADMIN_SOCKET', async () => {
    api.on('GET /v1/sessions', { status: 200, json: { sessions: [session()] } });
    const r = await spawnJaictl(['sessions'], { JAI_ADMIN_SOCKET: api.socket });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^ID +USER/);
    assert.match(r.stdout, /claude --model opus\n$/);
  });
});

describe('jaictl without a daemon', () => {
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'jaictl-nosock-'));
  });
  after(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('exits 3 when the socket does not exist, saying to check jaid', async () => {
    const socket = path.join(dir, 'admin.sock');
    const r = await jaictl(['--socket', socket, 'health']);
    assert.equal(r.code, 3);
    assert.equal(r.stderr, `jaictl: cannot connect to ${socket}: ENOENT — is jaid running?\n`);
    const real = await spawnJaictl(['sessions'], { JAI_ADMIN_SOCKET: socket });
    assert.equal(real.code, 3);
    assert.equal(real.stderr, `jaictl: cannot connect to ${socket}: ENOENT — is jaid running?\n`);
  });

  it('exits 3 when nothing listens on the path', async () => {
    const file = path.join(dir, 'not-a-socket');
    fs.writeFileSync(file, '');
    const r = await jaictl(['--socket', file, 'sessions']);
    assert.equal(r.code, 3);
    assert.match(r.stderr, /^jaictl: cannot connect to .*not-a-socket: ECONNREFUSED — is jaid running\?\n$/);
  });

  it('gives up on a daemon that accepts but never answers (exit 3)', async () => {
    const socket = path.join(dir, 'mute.sock');
    const held: net.Socket[] = [];
    const server = net.createServer((connection) => held.push(connection));
    await new Promise<void>((resolve) => server.listen(socket, resolve));
    try {
      const result = await new AdminClient(socket, 0.2).getJson('/v1/health');
      assert.deepEqual(result, { ok: false, failure: { kind: 'timeout', socket, seconds: 0.2 } });
    } finally {
      for (const connection of held) connection.destroy();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('explains EACCES: the socket is for root and the admin group', () => {
    assert.equal(connectHint('EACCES'), ' — the admin socket is for root and the admin group');
  });

  it('exits 3 with EACCES on a socket this user may not use', async () => {
    const api = await FakeApi.start();
    // Root bypasses permissions: as root the connect is made with the effective uid of nobody.
    const asRoot = process.geteuid?.() === 0;
    try {
      fs.chmodSync(api.socket, 0o600);
      fs.chmodSync(api.dir, 0o100);
      fs.chmodSync(api.socket, 0);
      if (asRoot) process.seteuid?.(65534);
      let r: Ran;
      try {
        r = await jaictl(['--socket', api.socket, 'health']);
      } finally {
        if (asRoot) process.seteuid?.(0);
      }
      assert.equal(r.code, 3);
      assert.equal(
        r.stderr,
        `jaictl: cannot connect to ${api.socket}: EACCES — the admin socket is for root and the admin group\n`,
      );
    } finally {
      fs.chmodSync(api.dir, 0o700);
      await api.close();
    }
  });
});

function spawnJaictl(argv: string[], env: Record<string, string>): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(REPO, 'bin/jaictl'), ...argv], {
      env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', TZ: 'UTC', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}
