// The admin API as an unprivileged caller: a real client process running as `nobody`, so the server sees uid 65534
// through SO_PEERCRED. Needs root (to start the client under another uid).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { SessionView } from '../../daemon/audit/audit-log';
import { parsePrometheus } from '../helpers/prometheus';
import { ADMIN_GID, IDS, json, NOBODY, requestsAs, startFixture, type Fixture, type Response } from './admin-fixture';

const isRoot = process.getuid?.() === 0;

interface AdminLine {
  type: string;
  action: string;
  actorUid: number;
  actorUser: string;
  target: string | null;
  result: string;
}

function adminLines(f: Fixture): AdminLine[] {
  return [...f.audit.exportLines({})].map((l) => JSON.parse(l) as AdminLine).filter((l) => l.type === 'admin');
}

function errorCode(res: Response | undefined): string | undefined {
  return res === undefined ? undefined : json<{ error: { code: string } }>(res).error.code;
}

describe('admin API as an unprivileged user', { skip: !isRoot && 'needs root' }, () => {
  let f: Fixture;
  before(async () => {
    f = await startFixture(0o666);
  });
  after(async () => {
    await f.close();
  });

  it('sees only its own sessions, whatever it asks for', async () => {
    const [all, asAlice, byState, other, own] = await requestsAs(NOBODY, f.socketPath, [
      { path: '/v1/sessions' },
      { path: '/v1/sessions?user=alice' },
      { path: '/v1/sessions?state=running' },
      { path: `/v1/sessions/${IDS.aliceRunning}` },
      { path: `/v1/sessions/${IDS.nobodyEnded}` },
    ]);
    const ids = (r: Response | undefined) =>
      r === undefined ? [] : json<{ sessions: SessionView[] }>(r).sessions.map((s) => s.id);
    assert.equal(all?.status, 200);
    assert.deepEqual(ids(all), [IDS.nobodyRunning, IDS.nobodyEnded]);
    assert.deepEqual(ids(asAlice), [], 'a user filter narrows, it never widens');
    assert.deepEqual(ids(byState), [IDS.nobodyRunning]);
    assert.equal(other?.status, 404, 'another user’s session does not exist for this caller');
    assert.equal(errorCode(other), 'NOT_FOUND');
    assert.equal(own?.status, 200);
    assert.equal(json<SessionView>(own).uid, NOBODY);
  });

  it('may not kill another user’s session: 404 like an unknown id, and the refusal is audited', async () => {
    const [theirs, unknown] = await requestsAs(NOBODY, f.socketPath, [
      { method: 'POST', path: `/v1/sessions/${IDS.aliceRunning}/kill` },
      { method: 'POST', path: `/v1/sessions/${IDS.unknown}/kill` },
    ]);
    assert.equal(theirs?.status, 404);
    assert.equal(theirs.body, unknown?.body, 'indistinguishable from an unknown id');
    assert.ok(f.sessions.running.has(IDS.aliceRunning));
    assert.ok(!f.sessions.killed.includes(IDS.aliceRunning));
    const refusal = adminLines(f).find((l) => l.target === IDS.aliceRunning);
    assert.deepEqual(refusal && [refusal.action, refusal.actorUid, refusal.actorUser, refusal.result], [
      'kill',
      NOBODY,
      'nobody',
      'denied',
    ]);
  });

  it('may kill its own running session', async () => {
    const [killed, again] = await requestsAs(NOBODY, f.socketPath, [
      { method: 'POST', path: `/v1/sessions/${IDS.nobodyRunning}/kill` },
      { method: 'POST', path: `/v1/sessions/${IDS.nobodyEnded}/kill` },
    ]);
    assert.equal(killed?.status, 200);
    assert.deepEqual(json(killed), {
      id: IDS.nobodyRunning,
      killed: true,
    });
    assert.equal(again?.status, 409);
    assert.equal(errorCode(again), 'NOT_RUNNING');
  });

  it('may not reload the policy (403, audited) but may read it, the health and the metrics', async () => {
    const [reload, policy, health, metrics] = await requestsAs(NOBODY, f.socketPath, [
      { method: 'POST', path: '/v1/policy/reload' },
      { path: '/v1/policy' },
      { path: '/v1/health' },
      { path: '/metrics' },
    ]);
    assert.equal(reload?.status, 403);
    assert.equal(errorCode(reload), 'FORBIDDEN');
    assert.equal(f.policy.reloads, 0);
    assert.ok(adminLines(f).some((l) => l.action === 'reload' && l.actorUid === NOBODY && l.result === 'denied'));
    assert.equal(policy?.status, 200);
    assert.equal(health?.status, 200);
    assert.equal(metrics?.status, 200);
    parsePrometheus(metrics.body);
  });

  it('exports only its own sessions, without admin actions', async () => {
    const [res] = await requestsAs(NOBODY, f.socketPath, [{ path: '/v1/audit' }]);
    assert.equal(res?.status, 200);
    const lines = res.body
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; uid?: number });
    assert.ok(lines.length >= 2);
    assert.ok(lines.every((l) => l.type === 'session' && l.uid === NOBODY));
  });

  it('rejects bad input with 400 like for anyone', async () => {
    const res = await requestsAs(NOBODY, f.socketPath, [
      { path: '/v1/sessions?uid=0' },
      { path: '/v1/sessions/not-an-id' },
      { path: '/v1/audit?since=yesterday' },
    ]);
    assert.deepEqual(
      res.map((r) => r.status),
      [400, 400, 400],
    );
  });

  it('becomes admin through membership of the policy’s admin group (from NSS, not the process)', async () => {
    f.extraGroups.set('nobody', [ADMIN_GID]);
    try {
      const [all, reload, other] = await requestsAs(NOBODY, f.socketPath, [
        { path: '/v1/sessions' },
        { method: 'POST', path: '/v1/policy/reload' },
        { path: `/v1/sessions/${IDS.aliceEnded}` },
      ]);
      assert.equal(
        json<{ sessions: SessionView[] }>(all ?? { status: 0, contentType: '', body: '{}' }).sessions.length,
        4,
      );
      assert.equal(reload?.status, 200);
      assert.equal(other?.status, 200);
    } finally {
      f.extraGroups.delete('nobody');
    }
    const [after403] = await requestsAs(NOBODY, f.socketPath, [{ method: 'POST', path: '/v1/policy/reload' }]);
    assert.equal(after403?.status, 403, 'membership is checked on every request');
  });
});
