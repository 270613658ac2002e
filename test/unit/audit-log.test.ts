import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import {
  AuditLog,
  MAX_ARGV_BYTES,
  MAX_CHANGED_PATHS_BYTES,
  MAX_GRANTS_BYTES,
  MAX_LIST_LIMIT,
  MAX_MASKS_BYTES,
  SCHEMA_VERSION,
  type SessionDenied,
  type SessionStart,
} from '../../daemon/audit/audit-log';
import { escapeControl } from '../../daemon/escape';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'jai-audit-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));
let files = 0;
const freshFile = (): string => path.join(dir, `log-${files++}.db`);
const freshLog = (): AuditLog => new AuditLog(freshFile());

const start = (id: string, uid = 1001, user = 'alice'): SessionStart => ({
  id,
  uid,
  user,
  peerUid: uid,
  peerPid: 99,
  argv: ['echo', '\u001b]52;c;evil\u0007'],
  cwd: `/home/${user}/proj`,
  mode: 'casual',
  jail: 'default',
  grants: [{ path: `/home/${user}/proj`, readOnly: false }],
  masks: ['.ssh', '.aws\u001b[2J'],
  network: 'loopback',
  limits: { memoryBytes: 1 << 30, pids: 512, cpu: null },
  rule: 'builtin',
});

const denied = (id: string, uid = 1001, user = 'alice'): SessionDenied => ({
  id,
  uid,
  user,
  peerUid: uid,
  peerPid: 98,
  argv: ['claude'],
  cwd: `/home/${user}`,
  mode: 'bare',
  jail: 'default',
  grants: [],
  rule: 'no-bare',
  code: 'POLICY_DENIED',
  reason: 'mode bare is not allowed for alice\u0007',
});

const at = (iso: string) => new Date(iso);

/** The v1 schema and one v1 row, as a jaid of the previous release left them. */
function writeV1Database(file: string): void {
  const db = new Database(file);
  db.exec(`CREATE TABLE sessions (
     id TEXT PRIMARY KEY, uid INTEGER NOT NULL, user TEXT NOT NULL, peer_uid INTEGER NOT NULL,
     peer_pid INTEGER NOT NULL, argv TEXT NOT NULL, cwd TEXT NOT NULL, mode TEXT NOT NULL, jail TEXT NOT NULL,
     grants TEXT NOT NULL, rule TEXT NOT NULL, started_at TEXT NOT NULL, ended_at TEXT, duration_ms INTEGER,
     outcome TEXT NOT NULL DEFAULT 'running', exit_code INTEGER, signal INTEGER, error_code TEXT, error TEXT
   ) STRICT;
   CREATE INDEX sessions_uid_started ON sessions (uid, started_at);`);
  db.prepare(
    `INSERT INTO sessions (id, uid, user, peer_uid, peer_pid, argv, cwd, mode, jail, grants, rule, started_at,
       ended_at, duration_ms, outcome, exit_code)
     VALUES ('v1row', 1001, 'alice', 1001, 7, '["ls"]', '/home/alice', 'strict', 'default',
       '[{"path":"/home/alice","readOnly":true}]', 'builtin', '2026-01-01T00:00:00.000Z',
       '2026-01-01T00:00:02.000Z', 2000, 'exited', 0)`,
  ).run();
  db.pragma('user_version = 1');
  db.close();
}

describe('audit log schema', () => {
  it('creates a versioned WAL database readable by root only', () => {
    const file = path.join(dir, 'a.db');
    const log = new AuditLog(file);
    log.close();
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    const db = new Database(file, { readonly: true });
    assert.equal(db.pragma('user_version', { simple: true }), SCHEMA_VERSION);
    assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    db.close();
  });

  it('upgrades an existing v1 database in place, keeping its rows', () => {
    const file = path.join(dir, 'v1.db');
    writeV1Database(file);
    const log = new AuditLog(file);
    const old = log.getSession('v1row');
    assert.ok(old);
    assert.equal(old.state, 'exited');
    assert.equal(old.durationMs, 2000);
    assert.deepEqual(old.grants, [{ path: '/home/alice', readOnly: true }]);
    assert.deepEqual(old.masks, []);
    assert.equal(old.network, null, 'unknown for v1 rows, not "none"');
    assert.equal(old.limits, null);
    assert.equal(old.changes, null);
    log.recordAdminAction({ actorUid: 0, actorUser: 'root', action: 'reload', target: null, result: 'ok', detail: '' });
    log.recordStart(start('new'));
    assert.equal(log.getSession('new')?.network, 'loopback');
    log.close();
    const db = new Database(file, { readonly: true });
    assert.equal(db.pragma('user_version', { simple: true }), 2);
    db.close();
  });

  it('refuses a database from a newer jaid', () => {
    const file = path.join(dir, 'future.db');
    const db = new Database(file);
    db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    assert.throws(() => new AuditLog(file), /newer than this jaid/);
  });
});

describe('audit log records', () => {
  it('records start and end in one row, with control characters escaped', () => {
    const log = freshLog();
    log.recordStart(start('s1'), new Date(1000));
    assert.equal(log.session('s1')?.outcome, 'running');
    log.recordEnd('s1', { outcome: 'exited', exitCode: 3 }, new Date(1500));
    const row = log.session('s1');
    assert.equal(row?.exit_code, 3);
    assert.equal(row.duration_ms, 500);
    assert.equal(row.outcome, 'exited');
    assert.ok(!row.argv.includes('\u001b'));
    assert.deepEqual(JSON.parse(row.argv), ['echo', '\\x1b]52;c;evil\\x07']);
    log.recordEnd('s1', { outcome: 'signaled', signal: 9 });
    assert.equal(log.session('s1')?.signal, null, 'an ended row is never rewritten');
    log.close();
  });

  it('keeps masks, network and limits of the start, and the changes of the end', () => {
    const log = freshLog();
    log.recordStart(start('s2'), at('2026-03-01T10:00:00.250Z'));
    const paths = Array.from({ length: 25 }, (_, i) => `src/f${i}\u001b.ts`);
    log.recordEnd(
      's2',
      { outcome: 'signaled', signal: 15, changes: { count: 25, truncated: false, paths } },
      at('2026-03-01T10:01:00.000Z'),
    );
    const view = log.getSession('s2');
    assert.ok(view);
    assert.deepEqual(view.masks, ['.ssh', '.aws\\x1b[2J']);
    assert.equal(view.network, 'loopback');
    assert.deepEqual(view.limits, { memoryBytes: 1 << 30, pids: 512, cpu: null });
    assert.equal(view.state, 'signaled');
    assert.equal(view.signal, 15);
    assert.equal(view.durationMs, 59_750);
    assert.equal(view.endedAt, '2026-03-01T10:01:00.000Z');
    assert.ok(view.changes);
    assert.equal(view.changes.count, 25);
    assert.equal(view.changes.truncated, true, 'more paths than kept means truncated');
    assert.equal(view.changes.paths.length, 20);
    assert.equal(view.changes.paths[0], 'src/f0\\x1b.ts');
    log.close();
  });

  it('adds the changes reported after the end once, to an ended row only', () => {
    const log = freshLog();
    const changes = { count: 1, truncated: false, paths: ['notes\u001b.md'] };
    log.recordStart(start('c1'), at('2026-03-01T10:00:00Z'));
    assert.equal(log.recordChanges('c1', changes), false, 'not before the end');
    log.recordEnd('c1', { outcome: 'exited', exitCode: 0 }, at('2026-03-01T10:00:01Z'));
    assert.equal(log.getSession('c1')?.changes, null);
    assert.equal(log.recordChanges('c1', changes), true);
    assert.deepEqual(log.getSession('c1')?.changes, { count: 1, truncated: false, paths: ['notes\\x1b.md'] });
    assert.equal(log.recordChanges('c1', { count: 9, truncated: true, paths: [] }), false, 'never rewritten');
    assert.equal(log.getSession('c1')?.changes?.count, 1);
    assert.equal(log.getSession('c1')?.state, 'exited');
    assert.equal(log.recordChanges('none', changes), false);
    log.close();
  });

  it('records a failure with its code and a refusal as one closed denied row', () => {
    const log = freshLog();
    log.recordStart(start('f1'), at('2026-03-01T10:00:00Z'));
    log.recordEnd(
      'f1',
      { outcome: 'failed', errorCode: 'HELPER_FAILED', error: 'mount\u001b: EPERM', exitCode: 125 },
      at('2026-03-01T10:00:01Z'),
    );
    const failed = log.getSession('f1');
    assert.equal(failed?.state, 'failed');
    assert.equal(failed.errorCode, 'HELPER_FAILED');
    assert.equal(failed.error, 'mount\\x1b: EPERM');
    assert.equal(failed.exitCode, 125);
    assert.equal(failed.changes, null);

    log.recordDenied(denied('d1'), at('2026-03-01T11:00:00Z'));
    const d = log.getSession('d1');
    assert.ok(d);
    assert.equal(d.state, 'denied');
    assert.equal(d.startedAt, '2026-03-01T11:00:00.000Z');
    assert.equal(d.endedAt, d.startedAt);
    assert.equal(d.durationMs, 0);
    assert.equal(d.errorCode, 'POLICY_DENIED');
    assert.equal(d.error, 'mode bare is not allowed for alice\\x07');
    assert.equal(d.rule, 'no-bare');
    assert.equal(d.mode, 'bare');
    assert.equal(d.network, null);
    log.recordEnd('d1', { outcome: 'exited', exitCode: 0 });
    assert.equal(log.getSession('d1')?.state, 'denied', 'a refusal is never reopened or rewritten');
    assert.deepEqual(log.closeAbandoned(), [], 'a refusal is not a running session');
    log.close();
  });

  it('caps stored strings and argv, and never stores an environment', () => {
    assert.equal(escapeControl('x'.repeat(10_000)).length, 4097);
    assert.equal(escapeControl('a\u009bb'), 'a\\x9bb');
    const log = freshLog();
    const huge = { ...start('big'), argv: Array.from({ length: 100 }, () => 'y'.repeat(5000)), cwd: 'c'.repeat(9000) };
    log.recordStart(huge);
    const row = log.session('big');
    assert.ok(row);
    assert.ok(Buffer.byteLength(row.argv) <= MAX_ARGV_BYTES);
    assert.equal(row.cwd.length, 4097);
    const argv = log.getSession('big')?.argv ?? [];
    assert.match(argv[argv.length - 1] ?? '', /^… \d+ more$/);
    assert.ok(!Object.keys(row).some((column) => /env/i.test(column)), 'no environment column');
    log.close();
  });

  it('caps each JSON column by its total bytes, keeping entries in order and then a "… N more" entry', () => {
    const log = freshLog();
    const kib = (c: string) => c.repeat(4000);
    // Three-byte characters: the caps are bytes of the stored text, not characters.
    const wide = (i: number) => `${i}:${'€'.repeat(4000)}`;
    log.recordStart(
      {
        ...start('fat'),
        argv: Array.from({ length: 16 }, (_, i) => wide(i)),
        grants: Array.from({ length: 64 }, (_, i) => ({ path: `/g${i}/${kib('g')}`, readOnly: false })),
        masks: Array.from({ length: 256 }, (_, i) => `m${i}/${kib('m')}`),
      },
      at('2026-03-01T10:00:00Z'),
    );
    const paths = Array.from({ length: 20 }, (_, i) => `p${i}/${kib('p')}`);
    log.recordEnd('fat', { outcome: 'exited', exitCode: 0, changes: { count: 20, truncated: false, paths } });
    const row = log.session('fat');
    assert.ok(row);
    const columns: [string, string | null, number][] = [
      ['argv', row.argv, MAX_ARGV_BYTES],
      ['grants', row.grants, MAX_GRANTS_BYTES],
      ['masks', row.masks, MAX_MASKS_BYTES],
      ['changes_paths', row.changes_paths, MAX_CHANGED_PATHS_BYTES],
    ];
    for (const [name, text, cap] of columns) {
      assert.ok(text !== null && Buffer.byteLength(text) <= cap, `${name}: ${Buffer.byteLength(text ?? '')} > ${cap}`);
      assert.ok(Buffer.byteLength(text) > cap / 2, `${name} keeps what fits`);
    }
    const view = log.getSession('fat');
    assert.ok(view);
    const argvMore = view.argv.length - 1;
    assert.deepEqual(
      view.argv.slice(0, argvMore),
      Array.from({ length: argvMore }, (_, i) => wide(i)),
    );
    assert.equal(view.argv[argvMore], `… ${16 - argvMore} more`);
    const grantsMore = view.grants.length - 1;
    assert.equal(view.grants[0]?.path, `/g0/${kib('g')}`);
    assert.deepEqual(view.grants[grantsMore], { path: `… ${64 - grantsMore} more`, readOnly: true });
    const masksMore = view.masks.length - 1;
    assert.equal(view.masks[masksMore], `… ${256 - masksMore} more`);
    assert.ok(view.changes);
    assert.equal(view.changes.count, 20, 'the count stays exact');
    assert.equal(view.changes.truncated, true);
    assert.deepEqual(view.changes.paths, paths.slice(0, view.changes.paths.length), 'no marker among the paths');
    log.close();
  });

  it('stores small lists whole, without a marker', () => {
    const log = freshLog();
    log.recordStart({ ...start('small'), masks: Array.from({ length: 256 }, (_, i) => `.m${i}`) });
    const view = log.getSession('small');
    assert.equal(view?.masks.length, 256);
    assert.equal(view.masks[255], '.m255');
    assert.deepEqual(view.argv, ['echo', '\\x1b]52;c;evil\\x07']);
    log.recordStart({ ...start('many'), masks: Array.from({ length: 300 }, (_, i) => `.m${i}`) });
    assert.deepEqual(log.getSession('many')?.masks.slice(255), ['.m255', '… 44 more'], 'at most 256 masks kept');
    log.close();
  });

  it('records admin actions with escaped fields', () => {
    const log = freshLog();
    log.recordAdminAction(
      { actorUid: 1002, actorUser: 'bob', action: 'kill', target: 'abc', result: 'denied', detail: 'x\u001by' },
      at('2026-03-01T00:00:00Z'),
    );
    const lines = [...log.exportLines({})].map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(lines, [
      {
        type: 'admin',
        at: '2026-03-01T00:00:00.000Z',
        actorUid: 1002,
        actorUser: 'bob',
        action: 'kill',
        target: 'abc',
        result: 'denied',
        detail: 'x\\x1by',
      },
    ]);
    log.close();
  });

  it('closes rows a dead daemon left open as daemon-restart', () => {
    const file = path.join(dir, 'c.db');
    const first = new AuditLog(file);
    first.recordStart(start('s2'));
    first.close();
    const second = new AuditLog(file);
    assert.deepEqual(second.closeAbandoned(), ['s2']);
    assert.equal(second.session('s2')?.outcome, 'daemon-restart');
    second.close();
  });
});

describe('audit log queries', () => {
  const seed = (log: AuditLog): void => {
    log.recordStart(start('a1'), at('2026-01-01T00:00:00Z'));
    log.recordEnd('a1', { outcome: 'exited', exitCode: 0 }, at('2026-01-01T00:01:00Z'));
    log.recordStart(start('b1', 1002, 'bob'), at('2026-01-02T00:00:00Z'));
    log.recordAdminAction(
      { actorUid: 0, actorUser: 'root', action: 'kill', target: 'b1', result: 'ok', detail: '' },
      at('2026-01-02T12:00:00Z'),
    );
    log.recordEnd('b1', { outcome: 'signaled', signal: 1 }, at('2026-01-02T12:00:01Z'));
    log.recordDenied(denied('a2'), at('2026-01-03T00:00:00Z'));
    log.recordStart(start('a3'), at('2026-01-04T00:00:00Z'));
    log.recordAdminAction(
      { actorUid: 0, actorUser: 'root', action: 'reload', target: null, result: 'invalid', detail: 'bad toml' },
      at('2026-01-05T00:00:00Z'),
    );
  };

  it('lists newest first and filters by uid, user, state and time', () => {
    const log = freshLog();
    seed(log);
    const ids = (f: Parameters<AuditLog['listSessions']>[0]) => log.listSessions(f).map((s) => s.id);
    assert.deepEqual(ids({}), ['a3', 'a2', 'b1', 'a1']);
    assert.deepEqual(ids({ uid: 1001 }), ['a3', 'a2', 'a1']);
    assert.deepEqual(ids({ user: 'bob' }), ['b1']);
    assert.deepEqual(ids({ uid: 1001, user: 'bob' }), []);
    assert.deepEqual(ids({ state: 'running' }), ['a3']);
    assert.deepEqual(ids({ state: 'denied' }), ['a2']);
    assert.deepEqual(ids({ since: at('2026-01-02T00:00:00Z') }), ['a3', 'a2', 'b1'], 'since is inclusive');
    assert.deepEqual(ids({ until: at('2026-01-02T00:00:00Z') }), ['a1'], 'until is exclusive');
    assert.deepEqual(ids({ limit: 2 }), ['a3', 'a2']);
    assert.deepEqual(ids({ limit: 0 }), ['a3'], 'limit is at least 1');
    assert.equal(log.getSession('nope'), undefined);
    log.close();
  });

  it('lists at most 1000 sessions whatever the limit asked for', () => {
    const file = freshFile();
    new AuditLog(file).close();
    const db = new Database(file);
    const insert = db.prepare(
      `INSERT INTO sessions (id, uid, user, peer_uid, peer_pid, argv, cwd, mode, jail, grants, rule, started_at)
       VALUES (?, 1001, 'alice', 1001, 1, '[]', '/', 'casual', 'default', '[]', 'r', ?)`,
    );
    db.transaction(() => {
      for (let i = 0; i < 1100; i++) insert.run(`s${i}`, new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString());
    })();
    db.close();
    const log = new AuditLog(file);
    assert.equal(MAX_LIST_LIMIT, 1000);
    assert.equal(log.listSessions({ limit: 5000 }).length, 1000);
    assert.equal(log.listSessions({ limit: 1000 })[0]?.id, 's1099');
    log.close();
  });

  it('exports sessions and admin actions in time order, without admin actions for a uid filter', () => {
    const log = freshLog();
    seed(log);
    const lines = [...log.exportLines({})];
    assert.ok(lines.every((l) => !l.includes('\n')));
    const parsed = lines.map((l) => JSON.parse(l) as { type: string; id?: string; action?: string; state?: string });
    assert.deepEqual(
      parsed.map((p) => (p.type === 'session' ? p.id : p.action)),
      ['a1', 'b1', 'kill', 'a2', 'a3', 'reload'],
    );
    assert.equal(parsed[1]?.state, 'signaled', 'a session line is the full SessionView');
    const own = [...log.exportLines({ uid: 1001 })].map((l) => JSON.parse(l) as { type: string; id: string });
    assert.deepEqual(
      own.map((p) => [p.type, p.id]),
      [
        ['session', 'a1'],
        ['session', 'a2'],
        ['session', 'a3'],
      ],
    );
    const bobs = [...log.exportLines({ user: 'bob' })].map((l) => JSON.parse(l) as { type: string });
    assert.deepEqual(
      bobs.map((p) => p.type),
      ['session', 'admin'],
      'an admin filtering by user sees actions on that user',
    );
    const window = [...log.exportLines({ since: at('2026-01-02T06:00:00Z'), until: at('2026-01-04T00:00:00Z') })];
    assert.equal(window.length, 2);
    log.close();
  });

  it('exports the same lines in the same order whatever the page size, ties and page boundaries included', () => {
    const file = freshFile();
    const build = new AuditLog(file);
    seed(build);
    // Equal times: sessions by insertion, admin actions by id, and a session before an admin action.
    for (const id of ['t1', 't2', 't3']) build.recordDenied(denied(id), at('2026-01-03T00:00:00Z'));
    for (const target of ['t1', 't2']) {
      build.recordAdminAction(
        { actorUid: 0, actorUser: 'root', action: 'kill', target, result: 'not-running', detail: '' },
        at('2026-01-03T00:00:00Z'),
      );
    }
    build.close();
    const exportWith = (pageRows: number, filter: Parameters<AuditLog['exportLines']>[0]) => {
      const log = new AuditLog(file, { exportPageRows: pageRows });
      try {
        return [...log.exportLines(filter)];
      } finally {
        log.close();
      }
    };
    const whole = exportWith(10_000, {});
    assert.deepEqual(
      whole.map((l) => {
        const p = JSON.parse(l) as { type: string; id?: string; action?: string; target?: string };
        return p.type === 'session' ? p.id : `${p.action ?? ''}:${p.target ?? ''}`;
      }),
      ['a1', 'b1', 'kill:b1', 'a2', 't1', 't2', 't3', 'kill:t1', 'kill:t2', 'a3', 'reload:'],
    );
    for (const pageRows of [1, 2, 3, 500]) {
      assert.deepEqual(exportWith(pageRows, {}), whole, `page of ${pageRows}`);
      assert.deepEqual(exportWith(pageRows, { uid: 1001 }), exportWith(10_000, { uid: 1001 }));
      assert.deepEqual(exportWith(pageRows, { user: 'bob' }), exportWith(10_000, { user: 'bob' }));
    }
  });

  it('keeps nothing open on the database between lines, so the WAL can be checkpointed mid-export', () => {
    const file = freshFile();
    const log = new AuditLog(file, { exportPageRows: 2 });
    seed(log);
    const it = log.exportLines({})[Symbol.iterator]();
    assert.equal(it.next().done, false);
    log.recordStart(start('during'));
    log.recordEnd('during', { outcome: 'exited', exitCode: 0 });
    // A slow HTTP reader sits here. TRUNCATE needs every reader gone; timeout 0: do not wait for one.
    const other = new Database(file, { timeout: 0 });
    const [result] = other.pragma('wal_checkpoint(TRUNCATE)') as { busy: number; log: number; checkpointed: number }[];
    other.close();
    assert.deepEqual(result, { busy: 0, log: 0, checkpointed: 0 });
    assert.equal(fs.statSync(`${file}-wal`).size, 0, 'the WAL was truncated');
    let rest = 0;
    while (it.next().done !== true) rest++;
    assert.equal(rest, 6, 'the export goes on afterwards, with the session written meanwhile at the end');
    log.close();
  });

  it('does not hold up writers while an export is being read', () => {
    const log = freshLog();
    seed(log);
    const it = log.exportLines({})[Symbol.iterator]();
    assert.equal(it.next().done, false);
    log.recordStart(start('during'));
    log.recordEnd('during', { outcome: 'exited', exitCode: 0 });
    assert.equal(it.return().done, true);
    assert.equal(log.getSession('during')?.state, 'exited');
    log.close();
  });
});

describe('audit retention', () => {
  it('deletes ended sessions older than the retention cutoff, never running ones', () => {
    const log = freshLog();
    log.recordStart(start('old'), at('2026-01-01T00:00:00Z'));
    log.recordEnd('old', { outcome: 'exited', exitCode: 0 }, at('2026-01-01T00:00:01Z'));
    log.recordStart(start('running'), at('2026-01-01T00:00:00Z'));
    log.recordStart(start('recent'), at('2026-11-01T00:00:00Z'));
    log.recordEnd('recent', { outcome: 'exited', exitCode: 0 }, at('2026-11-01T00:00:01Z'));
    assert.equal(log.pruneEndedBefore(at('2026-06-01T00:00:00Z')), 1);
    assert.equal(log.session('old'), undefined);
    assert.ok(log.session('running'));
    assert.ok(log.session('recent'));
    log.close();
  });

  it('prunes by age: ended sessions and admin actions, never a running session', () => {
    const log = freshLog();
    log.recordStart(start('old'), at('2026-01-01T00:00:00Z'));
    log.recordEnd('old', { outcome: 'exited', exitCode: 0 }, at('2026-01-01T00:00:01Z'));
    log.recordDenied(denied('old-denied'), at('2026-01-02T00:00:00Z'));
    log.recordStart(start('old-running'), at('2026-01-01T00:00:00Z'));
    log.recordStart(start('new'), at('2026-03-30T00:00:00Z'));
    log.recordEnd('new', { outcome: 'exited', exitCode: 0 }, at('2026-03-30T00:00:01Z'));
    log.recordAdminAction(
      { actorUid: 0, actorUser: 'root', action: 'reload', target: null, result: 'ok', detail: '' },
      at('2026-01-01T00:00:00Z'),
    );
    log.recordAdminAction(
      { actorUid: 0, actorUser: 'root', action: 'reload', target: null, result: 'ok', detail: '' },
      at('2026-03-31T00:00:00Z'),
    );
    const now = at('2026-04-01T00:00:00Z');
    assert.equal(log.prune({ maxAgeDays: 0, maxRows: 0 }, now), 0, '0 and 0: keep everything');
    assert.equal(log.prune({ maxAgeDays: 30, maxRows: 0 }, now), 3);
    assert.deepEqual(
      log
        .listSessions({})
        .map((s) => s.id)
        .sort(),
      ['new', 'old-running'],
    );
    assert.equal([...log.exportLines({})].filter((l) => l.includes('"type":"admin"')).length, 1);
    log.close();
  });

  it('prunes by rows: the oldest ended sessions beyond the total, never a running session', () => {
    const log = freshLog();
    log.recordStart(start('r0'), at('2026-01-01T00:00:00Z'));
    for (let i = 1; i <= 5; i++) {
      const id = `e${i}`;
      log.recordStart(start(id), at(`2026-01-0${i + 1}T00:00:00Z`));
      log.recordEnd(id, { outcome: 'exited', exitCode: 0 }, at(`2026-01-0${i + 1}T00:00:01Z`));
    }
    const now = at('2026-01-10T00:00:00Z');
    assert.equal(log.prune({ maxAgeDays: 0, maxRows: 3 }, now), 3);
    assert.deepEqual(
      log.listSessions({}).map((s) => s.id),
      ['e5', 'e4', 'r0'],
    );
    assert.equal(log.prune({ maxAgeDays: 0, maxRows: 1 }, now), 2);
    assert.deepEqual(
      log.listSessions({}).map((s) => s.id),
      ['r0'],
      'the running session stays even beyond maxRows',
    );
    log.close();
  });

  it('prunes refusals before real sessions, so cheap denied requests cannot push sessions out', () => {
    const log = freshLog();
    for (let i = 0; i < 5; i++) {
      const id = `real${i}`;
      log.recordStart(start(id), new Date(Date.UTC(2026, 0, 1, 0, i)));
      log.recordEnd(id, { outcome: 'exited', exitCode: 0 }, new Date(Date.UTC(2026, 0, 1, 0, i, 30)));
    }
    for (let i = 0; i < 100; i++) log.recordDenied(denied(`deny${i}`), new Date(Date.UTC(2026, 0, 2, 0, 0, i)));
    log.recordStart(start('live'), at('2026-01-03T00:00:00Z'));
    const now = at('2026-01-10T00:00:00Z');
    assert.equal(log.prune({ maxAgeDays: 0, maxRows: 100 }, now), 6);
    const left = log.listSessions({ limit: 1000 }).map((s) => s.id);
    assert.equal(left.length, 100);
    for (let i = 0; i < 5; i++) assert.ok(left.includes(`real${i}`), `real${i} survives`);
    assert.ok(left.includes('live'));
    assert.ok(!left.includes('deny5') && left.includes('deny6'), 'the oldest refusals went first');
    // Only once no refusal is left do ended sessions go, oldest first, and never the running one.
    assert.equal(log.prune({ maxAgeDays: 0, maxRows: 3 }, now), 97);
    assert.deepEqual(
      log.listSessions({}).map((s) => s.id),
      ['live', 'real4', 'real3'],
    );
    log.close();
  });
});
