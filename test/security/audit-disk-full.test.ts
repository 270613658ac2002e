// Faults: the audit database on a full filesystem (a real tmpfs, filled). With the default --audit-failure=refuse a
// new session is refused with AUDIT_UNAVAILABLE before any helper runs, nothing is half-written (integrity_check),
// an end record that could not be written is written once space is back, and the next session then succeeds
// without a restart. With --audit-failure=allow the session runs, unaudited, and /metrics counts it.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { adminJson, adminRequest } from '../helpers/admin-request';
import { mountsUnder, runJai, spawnJai, startFixture, type Fixture } from '../helpers/fixture';
import { privilegedSkipReason } from '../helpers/privileged';
import { parsePrometheus, sampleValue } from '../helpers/prometheus';
import { eventually, fillFilesystem, helpersOf, integrityCheck, mountSmallTmpfs, sessionRows } from './faults';
import { ended } from './jail-modes';

const skip = privilegedSkipReason();

interface Health {
  status: string;
  audit: {
    writable: boolean;
    failureMode: string;
    failingSince: string | null;
    error: string | null;
    pendingEnds: number;
  };
}

function health(f: Fixture): Health {
  return adminJson<Health>(f.adminSocket, 'GET', '/v1/health').json;
}

function metric(f: Fixture, name: string, labels?: Record<string, string>): number | undefined {
  return sampleValue(parsePrometheus(adminRequest(f.adminSocket, 'GET', '/metrics').body), name, labels);
}

/** Waits for the daemon's log (read from a pipe by this process) to show `pattern`. */
async function logged(f: Fixture, pattern: RegExp): Promise<void> {
  assert.ok(await eventually(() => pattern.test(f.daemonLog()), 5000), `${String(pattern)} in\n${f.daemonLog()}`);
}

const REFUSAL = /^jai: the audit log cannot be written: .*(SQLITE_FULL|disk is full).*; refusing new sessions$/m;

describe('faults: the audit database on a full filesystem, --audit-failure=refuse (default)', { skip }, () => {
  let f: Fixture;
  let fs_: ReturnType<typeof mountSmallTmpfs>;
  before(async () => {
    fs_ = mountSmallTmpfs('auditfs', '2m');
    f = await startFixture('sec-auditfull', process.env, { auditDb: path.join(fs_.dir, 'audit.db') });
  });
  after(async () => {
    try {
      await f.teardown();
    } finally {
      fs_.remove();
    }
  });

  it('refuses new sessions with AUDIT_UNAVAILABLE, leaves nothing half-written, and recovers without a restart', async () => {
    assert.equal(runJai(f, ['true']).status, 0, 'a session before the fault');
    // A session that runs across the fault: its start is recorded, its end cannot be, until space is back.
    const across = spawnJai(f, ['sh', '-c', 'read x; exit 7']);
    assert.ok(
      await eventually(() => sessionRows(f.auditDb).some((r) => r.outcome === 'running'), 10_000),
      'the session crossing the fault has its start row',
    );
    const before = sessionRows(f.auditDb);
    const mountsBefore = mountsUnder(`/run/jai/${f.user.name}`);

    const filler = fillFilesystem(fs_.dir);
    across.stdin?.end('\n');
    await ended(across);
    assert.equal(across.exitCode, 7, 'a running session is not harmed by the fault');
    assert.ok(await eventually(() => health(f).audit.pendingEnds === 1, 5000), 'its end record waits');

    for (let i = 0; i < 3; i++) {
      const r = runJai(f, ['sh', '-c', 'echo SHOULD-NOT-RUN']);
      assert.equal(r.status, 1, r.stderr);
      assert.match(r.stderr, REFUSAL);
      assert.doesNotMatch(r.stdout, /SHOULD-NOT-RUN/);
    }
    assert.deepEqual(helpersOf(f.daemon.pid ?? 0), [], 'no helper ran');
    assert.deepEqual(mountsUnder(`/run/jai/${f.user.name}`), mountsBefore, 'nothing was mounted');
    const h = health(f);
    assert.equal(h.status, 'degraded');
    assert.equal(h.audit.writable, false);
    assert.equal(h.audit.failureMode, 'refuse');
    assert.match(h.audit.error ?? '', /SQLITE_FULL/);
    assert.equal(metric(f, 'jai_audit_writable'), 0);
    assert.equal(metric(f, 'jai_sessions_denied_total', { mode: 'casual', code: 'AUDIT_UNAVAILABLE' }), 3);
    assert.equal(metric(f, 'jai_sessions_started_total', { mode: 'casual' }), 2);
    // Logged once for the failure, not once per refusal (the log arrives through a pipe: let it drain).
    await logged(f, /"exitCode":7,"msg":"session end"/);
    assert.equal(f.daemonLog().match(/the audit log cannot be written/g)?.length, 1, f.daemonLog());

    // Nothing half-written: the same rows as before the fault, the database sound.
    assert.deepEqual(integrityCheck(f.auditDb), ['ok']);
    assert.deepEqual(
      sessionRows(f.auditDb).map((r) => [r.id, r.outcome]),
      before.map((r) => [r.id, r.outcome]),
    );

    fs.rmSync(filler);
    const r = runJai(f, ['sh', '-c', 'echo after']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'after\n');
    const rows = sessionRows(f.auditDb);
    assert.equal(rows.length, before.length + 1, 'the session after the fault is recorded');
    assert.equal(rows.at(-1)?.outcome, 'exited');
    const crossed = rows.find((row) => row.id === before.find((b) => b.outcome === 'running')?.id);
    assert.equal(crossed?.outcome, 'exited', 'the waiting end record was written');
    assert.equal(crossed.exit_code, 7);
    assert.ok(crossed.ended_at !== null && crossed.ended_at < (rows.at(-1)?.started_at ?? ''), 'with its own time');
    assert.equal(rows.filter((row) => row.outcome === 'running').length, 0);
    const healed = health(f);
    assert.equal(healed.status, 'ok');
    assert.deepEqual(healed.audit, {
      writable: true,
      failureMode: 'refuse',
      failingSince: null,
      error: null,
      pendingEnds: 0,
    });
    assert.equal(metric(f, 'jai_audit_writable'), 1);
    await logged(f, /the audit log can be written again/);
    assert.deepEqual(integrityCheck(f.auditDb), ['ok']);
    assert.equal(runJai(f, ['-u']).status, 0);
    assert.deepEqual(mountsUnder(`/run/jai/${f.user.name}`), []);
  });
});

describe('faults: the audit database on a full filesystem, --audit-failure=allow', { skip }, () => {
  let f: Fixture;
  let fs_: ReturnType<typeof mountSmallTmpfs>;
  before(async () => {
    fs_ = mountSmallTmpfs('auditfs', '2m');
    f = await startFixture('sec-auditallow', process.env, {
      auditDb: path.join(fs_.dir, 'audit.db'),
      daemonArgs: ['--audit-failure', 'allow'],
    });
  });
  after(async () => {
    try {
      await f.teardown();
    } finally {
      fs_.remove();
    }
  });

  it('runs the session unaudited, logs it loudly and counts it', async () => {
    const before = sessionRows(f.auditDb).length;
    const filler = fillFilesystem(fs_.dir);
    const r = runJai(f, ['sh', '-c', 'echo ran']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'ran\n');
    assert.equal(metric(f, 'jai_sessions_unaudited_total'), 1);
    assert.equal(metric(f, 'jai_audit_write_failures_total', { record: 'start' }), 1);
    const h = health(f);
    assert.equal(h.status, 'degraded');
    assert.equal(h.audit.failureMode, 'allow');
    await logged(f, /sessions run UNAUDITED until it can/);
    await logged(f, /UNAUDITED session starts/);
    assert.deepEqual(integrityCheck(f.auditDb), ['ok']);
    fs.rmSync(filler);
    assert.equal(runJai(f, ['true']).status, 0);
    assert.equal(sessionRows(f.auditDb).length, before + 1, 'recorded again once space is back');
    assert.equal(health(f).status, 'ok');
  });
});
