// jaictl's human output: the session table fits its width and never carries a raw control character from the
// data (argv, paths and names are chosen by users); show, audit lines, health and policy say what they must.
process.env['TZ'] = 'UTC';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { escapeJson, escapeText, toJson } from '../../client/ctl/escape';
import {
  adminEventLine,
  commandText,
  formatDuration,
  formatStarted,
  healthText,
  renderTable,
  renderTree,
  sessionDetail,
  sessionEventLine,
  sessionTable,
  truncate,
} from '../../client/ctl/format';
import { NOW, session } from './jaictl-fake-api';

// eslint-disable-next-line no-control-regex -- the point of the test
const RAW_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202e]/;
const HOSTILE = 'x\u001b[2J\u001b]0;owned\u0007\r\u0085\u202ey';

describe('jaictl output', () => {
  it('escapes C0, DEL, C1 and bidi overrides, and keeps JSON equivalent', () => {
    assert.equal(escapeText(HOSTILE), 'x\\x1b[2J\\x1b]0;owned\\x07\\x0d\\x85\\u202ey');
    assert.equal(escapeText('plain ünïcode ✓'), 'plain ünïcode ✓');
    const json = toJson({ argv: [HOSTILE], tab: 'a\tb' });
    assert.doesNotMatch(json, RAW_CONTROL);
    assert.deepEqual(JSON.parse(json), { argv: [HOSTILE], tab: 'a\tb' });
    // Raw characters in a stream from the daemon become \u escapes: the same string once parsed.
    const line = `{"p":"a\u0085b\u202ec"}\n`;
    assert.equal(escapeJson(line), '{"p":"a\\u0085b\\u202ec"}\n');
    assert.deepEqual(JSON.parse(escapeJson(line)), JSON.parse(line));
  });

  it('quotes arguments a shell would need quoted', () => {
    assert.equal(commandText(['claude', '--model=opus', '/a/b.c']), 'claude --model=opus /a/b.c');
    assert.equal(commandText(['sh', '-c', "echo 'hi' there", '']), `sh -c 'echo '\\''hi'\\'' there' ''`);
    assert.equal(commandText(['rm\u001b[8m']), `'rm\\x1b[8m'`);
  });

  it('truncates by characters, marking the cut', () => {
    assert.equal(truncate('abcdef', 6), 'abcdef');
    assert.equal(truncate('abcdefg', 6), 'abcde…');
    assert.equal(truncate('ééééééé', 3), 'éé…');
    assert.equal(truncate('abc', 0), '');
  });

  it('formats durations and start times compactly', () => {
    assert.equal(formatDuration(12_400), '12s');
    assert.equal(formatDuration(184_000), '3m04s');
    assert.equal(formatDuration(3_720_000), '1h02m');
    assert.equal(formatDuration(2 * 86_400_000 + 3 * 3_600_000), '2d03h');
    assert.equal(formatDuration(-5), '0s');
    assert.equal(formatStarted('2026-11-30T08:09:10Z', NOW), '08:09:10');
    assert.equal(formatStarted('2026-03-01T08:09:10Z', NOW), 'Mar  1 08:09');
    assert.equal(formatStarted('2025-12-31T23:00:00Z', NOW), '2025-12-31');
    assert.equal(formatStarted('not a date\u001b', NOW), 'not a date\\x1b');
  });

  it('lays out the session table, COMMAND cut to 60 columns off a terminal and to the width on one', () => {
    const long = session({ argv: ['agent', 'x'.repeat(200)] });
    const plain = sessionTable([session(), long], NOW, null).split('\n');
    assert.match(plain[0] ?? '', /^ID {12}USER {3}MODE {4}JAIL {5}NET {7}STATE {4}STARTED {3}DURATION {2}COMMAND$/);
    assert.match(
      plain[1] ?? '',
      /^0123456789ab {2}alice {2}casual {2}default {2}loopback {2}running {2}11:55:00 {2}5m00s {5}claude --model opus$/,
    );
    const command = (plain[2] ?? '').slice((plain[0] ?? '').indexOf('COMMAND'));
    assert.equal(Array.from(command).length, 60);
    assert.ok(command.endsWith('…'));
    for (const width of [100, 132]) {
      const lines = sessionTable([long], NOW, width).trimEnd().split('\n');
      for (const line of lines) assert.ok(Array.from(line).length <= width, `${line.length} > ${width}`);
      assert.equal(Array.from(lines[1] ?? '').length, width);
    }
    // A terminal too narrow for the fixed columns still shows 20 characters of the command.
    const narrow = sessionTable([long], NOW, 40).split('\n')[1] ?? '';
    assert.equal(narrow.slice(narrow.indexOf('agent')).length, 20);
  });

  it('never prints a raw control character from session data in the table, show or audit', () => {
    const evil = session({
      user: HOSTILE,
      jail: HOSTILE,
      mode: HOSTILE,
      network: HOSTILE,
      state: 'failed',
      argv: [HOSTILE, HOSTILE],
      cwd: HOSTILE,
      rule: HOSTILE,
      grants: [{ path: HOSTILE, readOnly: true }],
      masks: [HOSTILE],
      errorCode: HOSTILE,
      error: HOSTILE,
      changes: { count: 1, truncated: false, paths: [HOSTILE] },
    });
    for (const text of [
      sessionTable([evil], NOW, null),
      sessionTable([evil], NOW, 80),
      sessionDetail(evil, NOW),
      sessionEventLine(evil),
      adminEventLine({
        at: HOSTILE,
        actorUid: 0,
        actorUser: HOSTILE,
        action: HOSTILE,
        target: HOSTILE,
        result: { x: HOSTILE },
        detail: HOSTILE,
      }),
      renderTree({ [HOSTILE]: [HOSTILE, { [HOSTILE]: HOSTILE }] }),
    ])
      assert.doesNotMatch(text.replace(/\n/g, ''), RAW_CONTROL, text);
  });

  it('keeps columns aligned whatever the cell widths', () => {
    const out = renderTable(
      ['A', 'BB', 'C'],
      [
        ['long cell', 'x', 'tail'],
        ['y', 'wider cell', ''],
      ],
      null,
    );
    assert.equal(out, 'A          BB          C\nlong cell  x           tail\ny          wider cell\n');
  });

  it('shows every field of a session, grants with ro/rw, and the first changed paths', () => {
    const paths = Array.from({ length: 25 }, (_, i) => `/home/alice/f${i}`);
    const text = sessionDetail(
      session({
        state: 'signaled',
        signal: 9,
        endedAt: '2026-11-30T11:58:00Z',
        durationMs: 180_000,
        changes: { count: 40, truncated: true, paths },
      }),
      NOW,
    );
    for (const expected of [
      /^id: +0123456789abcdef0123456789abcdef$/m,
      /^user: +alice \(uid 1000\)$/m,
      /^peer: +uid 1000, pid 4242$/m,
      /^command: +claude --model opus$/m,
      /^cwd: +\/home\/alice\/proj$/m,
      /^mode: +casual$/m,
      /^jail: +default$/m,
      /^network: +loopback$/m,
      /^grants: +\/home\/alice\/proj \(rw\)\n +\/data \(ro\)$/m,
      /^masks: +\.ssh$/m,
      /^limits: +memory 2 GiB, pids 512, cpu 2$/m,
      /^rule: +default$/m,
      /^started: +2026-11-30 11:55:00 \+00:00$/m,
      /^ended: +2026-11-30 11:58:00 \+00:00$/m,
      /^duration: +3m00s$/m,
      /^state: +signaled$/m,
      /^signal: +9$/m,
      /^changes: +40 paths \(list truncated\)\n +\/home\/alice\/f0\n/m,
      /^ +\/home\/alice\/f19\n +… and 20 more\n$/m,
    ])
      assert.match(text, expected);
    assert.doesNotMatch(text, /f20/);
  });

  it('shows a refused session, whose network and limits were never decided', () => {
    const text = sessionDetail(
      session({
        state: 'denied',
        network: null,
        limits: null,
        errorCode: 'POLICY_DENIED',
        error: 'no (policy rule x)',
      }),
      NOW,
    );
    assert.match(text, /^network: +\(not recorded\)$/m);
    assert.match(text, /^limits: +\(not recorded\)$/m);
    assert.match(text, /^state: +denied$/m);
  });

  it('writes one audit line per event', () => {
    assert.equal(
      sessionEventLine(session({ state: 'exited', exitCode: 3, durationMs: 65_000 })),
      '2026-11-30 11:55:00  session  0123456789ab  alice  casual/default  exited (exit code 3)  1m05s  claude --model opus',
    );
    assert.equal(
      adminEventLine({
        at: '2026-11-30T11:00:00Z',
        actorUid: 0,
        actorUser: 'root',
        action: 'reload',
        target: '/etc/jai/policy.toml',
        result: 'error',
        detail: 'line 3: bad key',
      }),
      '2026-11-30 11:00:00  admin  root(0)  reload  /etc/jai/policy.toml  error  line 3: bad key',
    );
  });

  it('says plainly whether limits are enforced', () => {
    const health = {
      status: 'ok',
      version: '0.1.0',
      startedAt: '2026-11-30T09:00:00Z',
      uptimeSeconds: 10_800,
      activeSessions: 2,
      limits: { backend: 'cgroup2', enforced: true, detail: '/sys/fs/cgroup/jai' },
      policy: { source: null, loadedAt: '2026-11-30T09:00:00Z' },
      audit: null,
    };
    assert.match(healthText(health), /^limits: +enforced \(cgroup2/m);
    assert.match(healthText(health), /^policy: +built-in defaults/m);
    assert.match(
      healthText({ ...health, limits: { backend: 'none', enforced: false, detail: 'no cgroup' } }),
      /^limits: +NOT enforced: sessions run without memory, process or CPU limits/m,
    );
  });

  it('says plainly when the audit log cannot be written', () => {
    const health = {
      status: 'degraded',
      version: '0.1.0',
      startedAt: '2026-11-30T09:00:00Z',
      uptimeSeconds: 10,
      activeSessions: 0,
      limits: { backend: 'cgroup2', enforced: true, detail: '/sys/fs/cgroup/jai' },
      policy: { source: null, loadedAt: '2026-11-30T09:00:00Z' },
      audit: {
        writable: false,
        failureMode: 'refuse',
        failingSince: '2026-11-30T10:00:00Z',
        error: 'SQLITE_FULL: database or disk is full',
        pendingEnds: 2,
      },
    };
    assert.match(
      healthText(health),
      /^audit: +CANNOT BE WRITTEN since .*: SQLITE_FULL: database or disk is full; new sessions are refused; 2 session ends waiting/m,
    );
    assert.match(
      healthText({
        ...health,
        audit: { ...health.audit, writable: true, failingSince: null, error: null, pendingEnds: 0 },
      }),
      /^audit: +recorded \(if it cannot be written: refuse\)/m,
    );
  });
});
