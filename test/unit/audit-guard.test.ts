import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import pino from 'pino';
import { Metrics } from '../../daemon/admin/metrics';
import {
  AuditGuard,
  describeWriteError,
  type AuditFailureMode,
  type AuditRecordKind,
} from '../../daemon/audit/audit-guard';
import type { SessionChanges, SessionDenied, SessionEnd, SessionStart } from '../../daemon/audit/audit-log';
import { parsePrometheus, sampleValue } from '../helpers/prometheus';

/** better-sqlite3's SqliteError has this shape: a message and a SQLITE_* code. */
class FakeSqliteError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}

const FULL = new FakeSqliteError('database or disk is full', 'SQLITE_FULL');

/** An audit log whose writes fail while `failing` is set, and that keeps what it was asked to write. */
class FlakyWrites {
  failing: Error | null = null;
  readonly starts: string[] = [];
  readonly ends: { id: string; end: SessionEnd; at: Date }[] = [];
  readonly denied: string[] = [];
  recordStart(start: SessionStart): void {
    if (this.failing !== null) throw this.failing;
    this.starts.push(start.id);
  }
  recordDenied(denied: SessionDenied): void {
    if (this.failing !== null) throw this.failing;
    this.denied.push(denied.id);
  }
  recordEnd(id: string, end: SessionEnd, now = new Date()): boolean {
    if (this.failing !== null) throw this.failing;
    this.ends.push({ id, end, at: now });
    return this.starts.includes(id);
  }
  readonly changes: { id: string; changes: SessionChanges }[] = [];
  recordChanges(id: string, changes: SessionChanges): boolean {
    if (this.failing !== null) throw this.failing;
    this.changes.push({ id, changes });
    return this.ends.some((e) => e.id === id);
  }
  /** Syncs fail with this while set; each answers on the next turn, like the thread pool's fdatasync. */
  syncFailing: Error | null = null;
  syncs = 0;
  syncNows = 0;
  syncNow(): void {
    this.syncNows++;
    if (this.syncFailing !== null) throw this.syncFailing;
  }
  sync(done: (err: Error | null) => void): void {
    this.syncs++;
    const err = this.syncFailing;
    setImmediate(() => {
      done(err);
    });
  }
}

function start(id: string): SessionStart {
  return {
    id,
    uid: 1001,
    user: 'alice',
    peerUid: 1001,
    peerPid: 42,
    argv: ['true'],
    cwd: '/home/alice/p',
    mode: 'casual',
    jail: 'default',
    grants: [],
    masks: [],
    network: 'host',
    limits: { memoryBytes: null, pids: null, cpu: null },
    rule: 'default',
  };
}

function setup(
  mode: AuditFailureMode,
  laterSyncMs?: number,
): {
  writes: FlakyWrites;
  guard: AuditGuard;
  metrics: Metrics;
  lines: { level: number; msg: string }[];
} {
  const lines: { level: number; msg: string }[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean))
        lines.push(JSON.parse(line) as { level: number; msg: string });
      done();
    },
  });
  const writes = new FlakyWrites();
  const metrics = new Metrics();
  const guard = new AuditGuard(writes, mode, pino({ level: 'info' }, sink), metrics, laterSyncMs);
  return { writes, guard, metrics, lines };
}

const metric = (m: Metrics, name: string, labels?: Record<string, string>): number | undefined =>
  sampleValue(
    parsePrometheus(m.render({ casual: 0, strict: 0, bare: 0 }, { backend: 'none', enforced: false, detail: '' })),
    name,
    labels,
  );

/** jai_audit_write_failures_total for one kind of record. */
const writeFailures = (m: Metrics, record: AuditRecordKind): number | undefined =>
  metric(m, 'jai_audit_write_failures_total', { record });

/** pino writes synchronously to the sink only after a tick. */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
/** syncLater's delay in these tests: long enough that a stalled event loop does not fire it early. */
const LATER = 50;

describe('audit guard', () => {
  it('refuses a session it cannot record with AUDIT_UNAVAILABLE, logging the failure once and the recovery once', async () => {
    const { writes, guard, metrics, lines } = setup('refuse');
    assert.deepEqual(guard.recordStart(start('a')), { ok: true, audited: true });
    writes.failing = FULL;
    for (const id of ['b', 'c', 'd']) {
      const r = guard.recordStart(start(id));
      assert.equal(r.ok, false);
      assert.ok(!r.ok);
      assert.equal(r.code, 'AUDIT_UNAVAILABLE');
      assert.equal(r.exitCode, 1);
      assert.equal(
        r.message,
        'the audit log cannot be written: SQLITE_FULL: database or disk is full; refusing new sessions',
      );
    }
    const status = guard.status();
    assert.equal(status.writable, false);
    assert.equal(status.error, 'SQLITE_FULL: database or disk is full');
    assert.equal(metric(metrics, 'jai_audit_writable'), 0);
    assert.equal(writeFailures(metrics, 'start'), 3);
    writes.failing = null;
    assert.deepEqual(guard.recordStart(start('e')), { ok: true, audited: true });
    assert.deepEqual(writes.starts, ['a', 'e']);
    assert.equal(guard.status().writable, true);
    assert.equal(guard.status().failingSince, null);
    assert.equal(metric(metrics, 'jai_audit_writable'), 1);
    await settle();
    const errors = lines.filter((l) => l.level >= 50);
    assert.equal(errors.length, 1, JSON.stringify(lines));
    assert.match(errors[0]?.msg ?? '', /cannot be written: SQLITE_FULL.*refusing new sessions/);
    assert.equal(lines.filter((l) => /written again/.test(l.msg)).length, 1);
  });

  it('with allow, runs the session unaudited: counted and logged per session', async () => {
    const { writes, guard, metrics, lines } = setup('allow');
    writes.failing = new FakeSqliteError('attempt to write a readonly database', 'SQLITE_READONLY');
    assert.deepEqual(guard.recordStart(start('a')), { ok: true, audited: false });
    assert.deepEqual(guard.recordStart(start('b')), { ok: true, audited: false });
    assert.equal(metric(metrics, 'jai_sessions_unaudited_total'), 2);
    assert.equal(guard.status().failureMode, 'allow');
    await settle();
    assert.equal(lines.filter((l) => l.level >= 50).length, 1);
    assert.equal(lines.filter((l) => /UNAUDITED session starts/.test(l.msg)).length, 2);
  });

  it('keeps end records that cannot be written and writes them, with their time, once it can', () => {
    const { writes, guard, metrics } = setup('refuse');
    writes.failing = FULL;
    const endedAt = new Date('2026-04-01T10:00:00Z');
    assert.equal(guard.recordEnd('x', { outcome: 'exited', exitCode: 0 }, endedAt), false);
    assert.equal(guard.recordDenied({ ...start('y'), code: 'POLICY_DENIED', reason: 'no' }), false);
    assert.equal(guard.status().pendingEnds, 1);
    assert.equal(writeFailures(metrics, 'end'), 1);
    assert.equal(writeFailures(metrics, 'denied'), 1);
    writes.failing = null;
    assert.deepEqual(guard.recordStart(start('z')), { ok: true, audited: true });
    assert.deepEqual(writes.ends, [{ id: 'x', end: { outcome: 'exited', exitCode: 0 }, at: endedAt }]);
    assert.equal(guard.status().pendingEnds, 0);
    guard.close();
  });

  it('writes changes after the end; changes for an end still waiting go with it', () => {
    const { writes, guard } = setup('refuse');
    const changes = { count: 2, truncated: false, paths: ['a', 'b'] };
    assert.deepEqual(guard.recordStart(start('x')), { ok: true, audited: true });
    assert.equal(guard.recordEnd('x', { outcome: 'exited', exitCode: 0 }), true);
    guard.recordChanges('x', changes);
    assert.deepEqual(writes.changes, [{ id: 'x', changes }]);
    writes.failing = FULL;
    const endedAt = new Date('2026-04-01T10:00:00Z');
    assert.equal(guard.recordEnd('y', { outcome: 'exited', exitCode: 3 }, endedAt), false);
    guard.recordChanges('y', changes);
    writes.failing = null;
    assert.deepEqual(guard.recordStart(start('z')), { ok: true, audited: true });
    assert.deepEqual(writes.ends.at(-1), { id: 'y', end: { outcome: 'exited', exitCode: 3, changes }, at: endedAt });
    assert.equal(writes.changes.length, 1);
    guard.close();
  });

  it('does not take an end that wrote nothing (an unaudited session) for a recovery', () => {
    const { writes, guard } = setup('allow');
    writes.failing = FULL;
    assert.deepEqual(guard.recordStart(start('a')), { ok: true, audited: false });
    writes.failing = null;
    assert.equal(guard.recordEnd('a', { outcome: 'exited', exitCode: 0 }), true);
    assert.equal(guard.status().writable, false);
    assert.deepEqual(guard.recordStart(start('b')), { ok: true, audited: true });
    assert.equal(guard.status().writable, true);
  });

  it('lets the program run only once the start row is synced; a failed sync refuses it (refuse)', async () => {
    const { writes, guard, metrics } = setup('refuse');
    const row = start('a');
    assert.deepEqual(guard.recordStart(row), { ok: true, audited: true });
    const answers: (string | null)[] = [];
    guard.whenDurable(row, true, (refusal) => answers.push(refusal === null ? null : refusal.code));
    assert.equal(answers.length, 0, 'not before the sync has answered');
    await settle();
    assert.deepEqual(answers.slice(), [null]);
    writes.syncFailing = new Error('EIO: i/o error, fdatasync');
    guard.whenDurable(row, true, (refusal) => answers.push(refusal === null ? null : refusal.message));
    await settle();
    assert.deepEqual(answers, [null, 'the audit log cannot be synced: EIO: i/o error, fdatasync']);
    assert.equal(guard.status().writable, false);
    assert.equal(writeFailures(metrics, 'start'), 1);
  });

  it('with allow, a failed sync runs the session unaudited; an unaudited session does not wait for a sync', async () => {
    const { writes, guard, metrics } = setup('allow');
    const row = start('a');
    writes.syncFailing = new Error('EIO');
    const answers: (string | null)[] = [];
    guard.whenDurable(row, true, (refusal) => answers.push(refusal === null ? null : refusal.code));
    await settle();
    assert.deepEqual(answers.slice(), [null]);
    assert.equal(metric(metrics, 'jai_sessions_unaudited_total'), 1);
    const syncs = writes.syncs;
    guard.whenDurable(row, false, (refusal) => answers.push(refusal === null ? null : refusal.code));
    assert.deepEqual(answers, [null, null], 'at once');
    assert.equal(writes.syncs, syncs);
  });

  it('syncs end and refusal rows later, with one sync for all of them, and counts a failed one for each', async () => {
    const { writes, guard, metrics } = setup('refuse', LATER);
    guard.recordStart(start('a'));
    guard.recordStart(start('b'));
    assert.equal(writes.syncs, 0, 'the start row is synced by whenDurable');
    assert.equal(guard.recordEnd('a', { outcome: 'exited', exitCode: 0 }), true);
    assert.equal(guard.recordEnd('b', { outcome: 'exited', exitCode: 1 }), true);
    // Not at once: the Exited that follows an end row goes out, and the client takes it, before a worker is woken.
    await settle();
    assert.equal(writes.syncs, 0);
    await sleep(3 * LATER);
    assert.equal(writes.syncs, 1, 'one sync for both rows');
    writes.syncFailing = new Error('EIO');
    assert.equal(guard.recordDenied({ ...start('y'), code: 'POLICY_DENIED', reason: 'no' }), true);
    assert.equal(guard.recordEnd('b', { outcome: 'exited', exitCode: 1 }), true);
    assert.equal(guard.status().writable, true);
    await sleep(3 * LATER);
    assert.equal(writes.syncs, 2);
    assert.equal(guard.status().writable, false);
    assert.equal(writeFailures(metrics, 'denied'), 1);
    assert.equal(writeFailures(metrics, 'end'), 1);
  });

  it("lets the next start row's sync take the end rows along, failing them with it", async () => {
    const { writes, guard, metrics } = setup('refuse', LATER);
    guard.recordStart(start('a'));
    guard.recordEnd('a', { outcome: 'exited', exitCode: 0 });
    const answers: (string | null)[] = [];
    const row = start('b');
    guard.recordStart(row);
    writes.syncFailing = new Error('EIO');
    guard.whenDurable(row, true, (refusal) => answers.push(refusal === null ? null : refusal.code));
    assert.equal(writes.syncs, 1);
    await sleep(3 * LATER);
    assert.equal(writes.syncs, 1, "the end row's own sync is not asked for any more");
    assert.deepEqual(answers, ['AUDIT_UNAVAILABLE']);
    assert.equal(writeFailures(metrics, 'start'), 1);
    assert.equal(writeFailures(metrics, 'end'), 1);
  });

  it('at close, syncs the rows left for later at once, and counts a failure for each', async () => {
    const { writes, guard, metrics } = setup('refuse', LATER);
    guard.recordStart(start('a'));
    guard.recordEnd('a', { outcome: 'exited', exitCode: 0 });
    guard.recordDenied({ ...start('y'), code: 'POLICY_DENIED', reason: 'no' });
    writes.syncFailing = new Error('EIO');
    guard.close();
    assert.equal(writes.syncNows, 1, 'one blocking sync');
    await sleep(3 * LATER);
    assert.equal(writes.syncs, 0, 'and no later one');
    assert.equal(writeFailures(metrics, 'end'), 1);
    assert.equal(writeFailures(metrics, 'denied'), 1);
    const idle = setup('refuse', LATER);
    idle.guard.close();
    assert.equal(idle.writes.syncNows, 0, 'nothing to sync');
  });

  it('names the error by its SQLite code, escaping control characters', () => {
    assert.equal(describeWriteError(FULL), 'SQLITE_FULL: database or disk is full');
    assert.equal(describeWriteError(new Error('disk I/O error\n')), 'disk I/O error\\x0a');
    assert.equal(describeWriteError('x'), 'x');
  });
});
