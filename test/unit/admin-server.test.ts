// The admin API over a real Unix socket, as root (admin scope). Needs root: the socket is chowned to 0:gid.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { Writable } from 'node:stream';
import { ConnectionCredentials } from '../../daemon/admin/caller';
import { buildAdminApp, startAdminServer } from '../../daemon/admin/server';
import type { SessionView } from '../../daemon/audit/audit-log';
import { closeFd, seqpacketListen } from '../../native/addon';
import { parsePrometheus, sampleValue } from '../helpers/prometheus';
import { IDS, json, request, startFixture, testPolicy, type Fixture } from './admin-fixture';

const isRoot = process.getuid?.() === 0;

interface ErrorBody {
  error: { code: string; message: string };
}

describe('admin API as root', { skip: !isRoot && 'needs root' }, () => {
  let f: Fixture;
  before(async () => {
    f = await startFixture(0o660);
  });
  after(async () => {
    await f.close();
  });
  const get = (p: string) => request(f.socketPath, { path: p });
  const post = (p: string, body?: string) =>
    request(f.socketPath, { method: 'POST', path: p, ...(body === undefined ? {} : { body }) });

  it('listens on a socket with the given mode, owned by root', () => {
    const st = fs.lstatSync(f.socketPath);
    assert.ok(st.isSocket());
    assert.equal(st.mode & 0o777, 0o660);
    assert.equal(st.uid, 0);
    assert.equal(st.gid, 0);
    f.server.setGroup(4242);
    assert.equal(fs.lstatSync(f.socketPath).gid, 4242);
    f.server.setGroup(null);
    assert.equal(fs.lstatSync(f.socketPath).gid, 0);
  });

  it('reports health', async () => {
    const res = await get('/v1/health');
    assert.equal(res.status, 200);
    const body = json<Record<string, unknown>>(res);
    assert.equal(body['status'], 'ok');
    assert.equal(body['version'], '0.1.0-test');
    assert.equal(body['activeSessions'], 2);
    assert.ok(typeof body['uptimeSeconds'] === 'number' && body['uptimeSeconds'] >= 4);
    assert.deepEqual(body['limits'], f.ctx.limits);
    assert.deepEqual(body['policy'], { source: '/etc/jai/policy.toml', loadedAt: '2026-04-01T00:00:00.000Z' });
  });

  it('reports a failing audit log as degraded, with the error', async () => {
    const healthy = f.ctx.auditStatus;
    const failing = {
      writable: false,
      failureMode: 'refuse' as const,
      failingSince: '2026-04-01T12:00:00.000Z',
      error: 'SQLITE_FULL: database or disk is full',
      pendingEnds: 2,
    };
    f.ctx.auditStatus = () => failing;
    try {
      const body = json<Record<string, unknown>>(await get('/v1/health'));
      assert.equal(body['status'], 'degraded');
      assert.deepEqual(body['audit'], failing);
    } finally {
      f.ctx.auditStatus = healthy;
    }
    assert.equal(json<Record<string, unknown>>(await get('/v1/health'))['status'], 'ok');
  });

  it('lists every user’s sessions, newest first, with filters', async () => {
    const all = json<{ sessions: SessionView[] }>(await get('/v1/sessions')).sessions;
    assert.deepEqual(
      all.map((s) => s.id),
      [IDS.aliceRunning, IDS.nobodyRunning, IDS.nobodyEnded, IDS.aliceEnded],
    );
    const ended = all.find((s) => s.id === IDS.nobodyEnded);
    assert.deepEqual(ended?.changes, { count: 1, truncated: false, paths: ['a.txt'] });
    assert.deepEqual(ended.limits, { memoryBytes: null, pids: 100, cpu: 1.5 });
    assert.equal(ended.network, 'host');
    assert.deepEqual(Object.keys(ended).sort(), [
      'argv',
      'changes',
      'cwd',
      'durationMs',
      'endedAt',
      'error',
      'errorCode',
      'exitCode',
      'grants',
      'id',
      'jail',
      'limits',
      'masks',
      'mode',
      'network',
      'peerPid',
      'peerUid',
      'rule',
      'signal',
      'startedAt',
      'state',
      'uid',
      'user',
    ]);
    const ids = async (q: string) =>
      json<{ sessions: SessionView[] }>(await get(`/v1/sessions?${q}`)).sessions.map((s) => s.id);
    assert.deepEqual(await ids('user=alice'), [IDS.aliceRunning, IDS.aliceEnded]);
    assert.deepEqual(await ids('state=running'), [IDS.aliceRunning, IDS.nobodyRunning]);
    assert.deepEqual(await ids('since=2026-04-01T09:30:00Z&until=2026-04-01T10:30:00%2B00:00'), [IDS.nobodyRunning]);
    assert.deepEqual(await ids('limit=1'), [IDS.aliceRunning]);
    assert.equal((await ids('limit=1000')).length, 4, 'limit goes up to 1000');
    assert.deepEqual(await ids('since=2026-04-02'), []);
  });

  it('returns one session, or 404', async () => {
    const res = await get(`/v1/sessions/${IDS.aliceEnded}`);
    assert.equal(res.status, 200);
    const view = json<SessionView>(res);
    assert.equal(view.state, 'signaled');
    assert.equal(view.signal, 9);
    assert.equal(view.durationMs, 5000);
    const missing = await get(`/v1/sessions/${IDS.unknown}`);
    assert.equal(missing.status, 404);
    assert.deepEqual(json<ErrorBody>(missing), { error: { code: 'NOT_FOUND', message: 'no such session' } });
  });

  it('kills a running session of anyone, 409 when not running, and audits each attempt', async () => {
    const killed = await post(`/v1/sessions/${IDS.aliceRunning}/kill`);
    assert.equal(killed.status, 200);
    assert.deepEqual(json(killed), { id: IDS.aliceRunning, killed: true });
    assert.deepEqual(f.sessions.killed, [IDS.aliceRunning]);
    // The fake's kill ended it, but the audit row still says running: the live table decides.
    const again = await post(`/v1/sessions/${IDS.aliceRunning}/kill`, '{}');
    assert.equal(again.status, 409);
    assert.equal(json<ErrorBody>(again).error.code, 'NOT_RUNNING');
    const ended = await post(`/v1/sessions/${IDS.aliceEnded}/kill`);
    assert.equal(ended.status, 409);
    assert.equal((await post(`/v1/sessions/${IDS.unknown}/kill`)).status, 404);
    const actions = [...f.audit.exportLines({})]
      .map((l) => JSON.parse(l) as { type: string; action: string; target: string; result: string; actorUser: string })
      .filter((l) => l.type === 'admin' && l.action === 'kill');
    assert.deepEqual(
      actions.map((a) => [a.actorUser, a.target, a.result]),
      [
        ['root', IDS.aliceRunning, 'ok'],
        ['root', IDS.aliceRunning, 'not-running'],
        ['root', IDS.aliceEnded, 'not-running'],
        ['root', IDS.unknown, 'not-found'],
      ],
    );
  });

  it('streams the whole audit log as JSON lines, admin actions included', async () => {
    const res = await get('/v1/audit');
    assert.equal(res.status, 200);
    assert.match(res.contentType, /^application\/x-ndjson/);
    assert.ok(res.body.endsWith('\n'));
    const lines = res.body
      .slice(0, -1)
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; startedAt?: string; at?: string });
    assert.equal(lines.filter((l) => l.type === 'session').length, 4);
    assert.ok(lines.some((l) => l.type === 'admin'));
    const times = lines.map((l) => l.startedAt ?? l.at ?? '');
    assert.deepEqual(times, [...times].sort(), 'in time order');
    const alice = await get('/v1/audit?user=alice&since=2026-04-01T10:00:00Z');
    const aliceLines = alice.body
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; id?: string });
    assert.equal(aliceLines[0]?.id, IDS.aliceRunning);
    assert.ok(
      aliceLines.slice(1).every((l) => l.type === 'admin'),
      'kills of alice’s sessions follow',
    );
  });

  it('shows the policy and reloads it, keeping the old one when the new is invalid (audited)', async () => {
    const shown = json<Record<string, unknown>>(await get('/v1/policy'));
    assert.equal(shown['source'], testPolicy.source);
    assert.equal(shown['adminGroup'], 'jai-admin');
    assert.deepEqual(shown['defaults'], testPolicy.defaults);
    assert.deepEqual(shown['rules'], testPolicy.rules);
    assert.deepEqual(shown['limits'], f.ctx.limits);

    f.policy.next = { ok: false, message: 'line 3: unknown key "mdoes"\u001b[31m' };
    const bad = await post('/v1/policy/reload');
    assert.equal(bad.status, 422);
    assert.deepEqual(json(bad), { error: { code: 'POLICY_INVALID', message: 'line 3: unknown key "mdoes"\\x1b[31m' } });
    f.policy.next = { ok: true };
    const ok = await post('/v1/policy/reload', '{}');
    assert.equal(ok.status, 200);
    const body = json<{ ok: boolean; source: string; loadedAt: string }>(ok);
    assert.equal(body.ok, true);
    assert.equal(body.source, testPolicy.source);
    assert.equal(body.loadedAt, f.policy.loaded.toISOString());
    const reloads = [...f.audit.exportLines({})]
      .map((l) => JSON.parse(l) as { type: string; action: string; result: string; detail: string })
      .filter((l) => l.type === 'admin' && l.action === 'reload');
    assert.deepEqual(
      reloads.map((r) => [r.result, r.detail]),
      [
        ['invalid', 'line 3: unknown key "mdoes"\\x1b[31m'],
        ['ok', testPolicy.source],
      ],
    );
  });

  it('serves metrics that parse strictly', async () => {
    f.ctx.metrics.sessionStarted('casual');
    f.ctx.metrics.spawnObserved(0.004);
    const res = await get('/metrics');
    assert.equal(res.status, 200);
    assert.match(res.contentType, /^text\/plain; version=0\.0\.4/);
    const samples = parsePrometheus(res.body);
    assert.equal(sampleValue(samples, 'jai_sessions_started_total', { mode: 'casual' }), 1);
    assert.equal(sampleValue(samples, 'jai_sessions_active', { mode: 'casual' }), f.sessions.running.size);
    assert.equal(sampleValue(samples, 'jai_spawn_duration_seconds_count'), 1);
  });

  const invalid: [string, string, string?][] = [
    ['GET', '/v1/health?verbose=1'],
    ['GET', '/v1/sessions?bogus=1'],
    ['GET', '/v1/sessions?since=yesterday'],
    ['GET', '/v1/sessions?since=2026-02-30'],
    ['GET', '/v1/sessions?until=2026-04-01T10:00:00'],
    ['GET', '/v1/sessions?state=zombie'],
    ['GET', '/v1/sessions?limit=0'],
    ['GET', '/v1/sessions?limit=1001'],
    ['GET', '/v1/sessions?limit=ten'],
    ['GET', '/v1/sessions?user=a&user=b'],
    ['GET', '/v1/sessions?limit=5&limit=6'],
    ['GET', '/v1/sessions?__proto__=x'],
    ['GET', '/v1/sessions/XYZ'],
    ['GET', `/v1/sessions/${'A'.repeat(32)}`],
    ['GET', `/v1/sessions/${IDS.aliceEnded}?x=1`],
    ['POST', '/v1/sessions/../kill'],
    ['POST', `/v1/sessions/${'0'.repeat(31)}/kill`],
    ['POST', `/v1/sessions/${IDS.aliceEnded}/kill`, '{"uid":0}'],
    ['POST', `/v1/sessions/${IDS.aliceEnded}/kill`, '{not json'],
    ['GET', '/v1/audit?since=bad'],
    ['GET', '/v1/audit?uid=0'],
    ['GET', '/v1/policy?x=1'],
    ['POST', '/v1/policy/reload', '{"force":true}'],
    ['POST', '/v1/policy/reload?as=root'],
    ['POST', '/v1/policy/reload', ''],
    ['GET', '/metrics?name[]=x'],
  ];
  for (const [method, url, body] of invalid) {
    it(`rejects ${method} ${url}${body === undefined ? '' : ` ${body}`} with 400`, async () => {
      const res = await request(f.socketPath, { method, path: url, ...(body === undefined ? {} : { body }) });
      assert.equal(res.status, 400);
      const err = json<ErrorBody>(res);
      assert.equal(err.error.code, 'REQUEST_INVALID');
      assert.equal(typeof err.error.message, 'string');
    });
  }

  it('answers unknown routes, oversized bodies and wrong content types with coded errors', async () => {
    const unknown = await get('/v2/anything');
    assert.equal(unknown.status, 404);
    assert.equal(json<ErrorBody>(unknown).error.code, 'NOT_FOUND');
    const big = await post('/v1/policy/reload', JSON.stringify({ x: 'y'.repeat(10_000) }));
    assert.equal(big.status, 413);
    assert.equal(json<ErrorBody>(big).error.code, 'REQUEST_TOO_LARGE');
    const xml = await request(f.socketPath, {
      method: 'POST',
      path: '/v1/policy/reload',
      body: '<x/>',
      contentType: 'application/xml',
    });
    assert.equal(xml.status, 400, 'unsupported media type');
    assert.equal(json<ErrorBody>(xml).error.code, 'REQUEST_INVALID');
    // Still serving afterwards.
    assert.equal((await get('/v1/health')).status, 200);
  });

  it('survives garbage on the socket', async () => {
    await new Promise<void>((resolve) => {
      const s = net.connect(f.socketPath, () => s.end('\u0000\u00ff NOT HTTP\r\n\r\n'));
      s.on('close', () => resolve());
      s.on('error', () => resolve());
      s.resume();
    });
    assert.equal((await get('/v1/health')).status, 200);
  });
});

describe('admin audit export deadline', { skip: !isRoot && 'needs root' }, () => {
  it(
    'cuts an export still running at its deadline, so that it is seen as incomplete',
    { timeout: 20_000 },
    async () => {
      const lines: string[] = [];
      const sink = new Writable({
        write(chunk: Buffer, _enc, done) {
          lines.push(chunk.toString('utf8'));
          done();
        },
      });
      const f = await startFixture(0o600, pino({ level: 'warn' }, sink), { auditDeadlineMs: 300 });
      // An export that never ends (a huge log read by a client that keeps reading).
      f.audit.exportLines = function* endless() {
        for (;;) yield '{"type":"session"}';
      };
      try {
        const started = Date.now();
        await assert.rejects(request(f.socketPath, { path: '/v1/audit' }), /aborted|ECONNRESET|socket hang up/);
        assert.ok(Date.now() - started < 10_000);
        const warn = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((e) => e['level'] === 40);
        assert.equal(warn?.['msg'], 'admin: audit export past its deadline; connection cut');
        assert.equal((await request(f.socketPath, { path: '/v1/health' })).status, 200, 'still serving');
      } finally {
        await f.close();
      }
    },
  );
});

describe('admin socket file', { skip: !isRoot && 'needs root' }, () => {
  it('replaces a stale socket, refuses to replace anything else, and removes its socket on close', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'jai-admin-sock-'));
    try {
      const f = await startFixture();
      const stale = path.join(dir, 'stale.sock');
      // A socket file left behind, as by a daemon that died (the addon's listener does not unlink on close).
      closeFd(seqpacketListen(stale, 0o600, 1));
      assert.ok(fs.lstatSync(stale).isSocket());
      const server = await startAdminServer(f.ctx, { socketPath: stale, socketMode: 0o600, groupGid: 4242 });
      const st = fs.lstatSync(stale);
      assert.equal(st.mode & 0o777, 0o600);
      assert.equal(st.gid, 4242);
      assert.equal((await request(stale, { path: '/v1/health' })).status, 200);
      await server.close();
      assert.equal(fs.existsSync(stale), false);

      const regular = path.join(dir, 'file');
      fs.writeFileSync(regular, 'keep me');
      await assert.rejects(
        startAdminServer(f.ctx, { socketPath: regular, socketMode: 0o600, groupGid: null }),
        /not a socket/,
      );
      assert.equal(fs.readFileSync(regular, 'utf8'), 'keep me');
      await f.close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('admin authorisation', { skip: !isRoot && 'needs root' }, () => {
  it('refuses every request on a connection whose credentials could not be read (fail closed)', async () => {
    const f = await startFixture();
    const socketPath = path.join(f.dir, 'blind.sock');
    class Blind extends ConnectionCredentials {
      override track(): string {
        return 'test: no credentials';
      }
    }
    const app = buildAdminApp(f.ctx, new Blind());
    try {
      await app.listen({ path: socketPath });
      for (const url of ['/v1/health', '/v1/sessions', '/metrics']) {
        const res = await request(socketPath, { path: url });
        assert.equal(res.status, 500, url);
        assert.equal(json<ErrorBody>(res).error.code, 'INTERNAL');
      }
      const kill = await request(socketPath, { method: 'POST', path: `/v1/sessions/${IDS.aliceRunning}/kill` });
      assert.equal(kill.status, 500);
      assert.deepEqual(f.sessions.killed, []);
    } finally {
      await app.close();
      await f.close();
    }
  });

  it('logs each request at debug with the peer uid, from SO_PEERCRED', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk.toString('utf8'));
        done();
      },
    });
    const f = await startFixture(0o600, pino({ level: 'debug' }, sink));
    try {
      await request(f.socketPath, { path: '/v1/sessions?user=x-user' });
      const entries = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
      const entry = entries.find((e) => e['msg'] === 'admin request');
      assert.ok(entry, 'a request line');
      assert.equal(entry['uid'], 0);
      assert.equal(entry['admin'], true);
      assert.equal(entry['status'], 200);
      assert.equal(entry['url'], '/v1/sessions?user=x-user');
      assert.equal(entry['level'], 20);
    } finally {
      await f.close();
    }
  });
});
