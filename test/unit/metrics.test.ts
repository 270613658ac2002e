import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LimitsStatus } from '../../daemon/admin/context';
import { escapeLabelValue, Metrics, SPAWN_BUCKETS } from '../../daemon/admin/metrics';
import { parsePrometheus, parsePrometheusFamilies, sampleValue } from '../helpers/prometheus';

const limits: LimitsStatus = { backend: 'cgroup2', enforced: true, detail: '/sys/fs/cgroup/jai' };
const idle = { casual: 0, strict: 0, bare: 0 };

describe('metrics exposition', () => {
  it('declares every family with HELP and TYPE even before anything happened', () => {
    const text = new Metrics().render(idle, limits);
    const families = parsePrometheusFamilies(text);
    const types = Object.fromEntries([...families.values()].map((f) => [f.name, f.type]));
    assert.deepEqual(types, {
      jai_sessions_started_total: 'counter',
      jai_sessions_denied_total: 'counter',
      jai_limit_refusals_total: 'counter',
      jai_sessions_active: 'gauge',
      jai_spawn_admit_seconds: 'histogram',
      jai_spawn_duration_seconds: 'histogram',
      jai_spawn_report_seconds: 'histogram',
      jai_session_seconds: 'histogram',
      jai_audit_sync_seconds: 'histogram',
      jai_helper_failures_total: 'counter',
      jai_helpers_started_total: 'counter',
      jai_helper_zygotes_started_total: 'counter',
      jai_audit_writable: 'gauge',
      jai_audit_write_failures_total: 'counter',
      jai_sessions_unaudited_total: 'counter',
      jai_limits_enforced: 'gauge',
    });
    for (const f of families.values()) assert.ok(f.help !== null && f.help.length > 0, `${f.name} has HELP`);
    const samples = parsePrometheus(text);
    assert.equal(sampleValue(samples, 'jai_sessions_started_total', { mode: 'strict' }), 0);
    assert.equal(sampleValue(samples, 'jai_spawn_duration_seconds_count'), 0);
    assert.equal(sampleValue(samples, 'jai_limits_enforced', { backend: 'cgroup2' }), 1);
  });

  it('counts sessions, refusals, helper failures and active sessions by mode', () => {
    const m = new Metrics();
    m.sessionStarted('casual');
    m.sessionStarted('casual');
    m.sessionStarted('bare');
    m.sessionDenied('strict', 'POLICY_DENIED');
    m.sessionDenied('strict', 'POLICY_DENIED');
    m.sessionDenied('casual', 'SESSION_LIMIT');
    m.helperFailure();
    m.helperStarted('forked');
    m.helperStarted('forked');
    m.helperStarted('execd');
    m.zygoteStarted();
    m.limitRefused('RATE_LIMITED');
    m.limitRefused('CONNECTION_LIMIT');
    m.limitRefused('RATE_LIMITED');
    const text = m.render({ casual: 2, strict: 0, bare: 1 }, { backend: 'none', enforced: false, detail: 'no cgroup' });
    const f = parsePrometheus(text);
    assert.equal(sampleValue(f, 'jai_sessions_started_total', { mode: 'casual' }), 2);
    assert.equal(sampleValue(f, 'jai_sessions_started_total', { mode: 'bare' }), 1);
    assert.equal(sampleValue(f, 'jai_sessions_denied_total', { mode: 'strict', code: 'POLICY_DENIED' }), 2);
    assert.equal(sampleValue(f, 'jai_sessions_denied_total', { mode: 'casual', code: 'SESSION_LIMIT' }), 1);
    assert.equal(sampleValue(f, 'jai_sessions_active', { mode: 'casual' }), 2);
    assert.equal(sampleValue(f, 'jai_helper_failures_total'), 1);
    assert.equal(sampleValue(f, 'jai_helpers_started_total', { how: 'forked' }), 2);
    assert.equal(sampleValue(f, 'jai_helpers_started_total', { how: 'execd' }), 1);
    assert.equal(sampleValue(f, 'jai_helper_zygotes_started_total'), 1);
    assert.equal(sampleValue(f, 'jai_limit_refusals_total', { code: 'RATE_LIMITED' }), 2);
    assert.equal(sampleValue(f, 'jai_limit_refusals_total', { code: 'CONNECTION_LIMIT' }), 1);
    assert.equal(sampleValue(f, 'jai_limits_enforced', { backend: 'none' }), 0);
  });

  it('renders the spawn histogram with cumulative buckets, +Inf equal to _count, and _sum', () => {
    const m = new Metrics();
    for (const s of [0.0005, 0.001, 0.004, 0.2, 0.2, 3, 10]) m.spawnObserved(s);
    m.spawnObserved(-1);
    m.spawnObserved(NaN);
    const text = m.render(idle, limits);
    const f = parsePrometheus(text);
    const hist = parsePrometheusFamilies(text).get('jai_spawn_duration_seconds');
    assert.ok(hist);
    const buckets = hist.samples.filter((s) => s.name.endsWith('_bucket')).map((s) => [s.labels['le'], s.value]);
    assert.deepEqual(
      buckets.map(([le]) => le),
      [...SPAWN_BUCKETS.map(String), '+Inf'],
    );
    assert.equal(sampleValue(f, 'jai_spawn_duration_seconds_bucket', { le: '0.001' }), 2, 'le is inclusive');
    assert.equal(sampleValue(f, 'jai_spawn_duration_seconds_bucket', { le: '0.005' }), 3);
    assert.equal(sampleValue(f, 'jai_spawn_duration_seconds_bucket', { le: '0.25' }), 5);
    assert.equal(sampleValue(f, 'jai_spawn_duration_seconds_bucket', { le: '2.5' }), 5);
    assert.equal(sampleValue(f, 'jai_spawn_duration_seconds_bucket', { le: '+Inf' }), 7);
    assert.equal(sampleValue(f, 'jai_spawn_duration_seconds_count'), 7, 'negative and NaN observations are ignored');
    assert.ok(Math.abs((sampleValue(f, 'jai_spawn_duration_seconds_sum') ?? 0) - 13.4055) < 1e-9);
  });

  it('keeps each spawn-path timing in its own histogram', () => {
    const m = new Metrics();
    m.timing('admit', 0.0012);
    m.timing('admit', 0.0031);
    m.timing('report', 0.0009);
    m.timing('session', 0.02);
    m.timing('session', 7200);
    m.timing('admit', -0.5);
    const f = parsePrometheus(m.render(idle, limits));
    assert.equal(sampleValue(f, 'jai_spawn_admit_seconds_count'), 2);
    assert.equal(sampleValue(f, 'jai_spawn_admit_seconds_bucket', { le: '0.0015' }), 1);
    assert.equal(sampleValue(f, 'jai_spawn_admit_seconds_bucket', { le: '0.004' }), 2);
    assert.ok(Math.abs((sampleValue(f, 'jai_spawn_admit_seconds_sum') ?? 0) - 0.0043) < 1e-12);
    assert.equal(sampleValue(f, 'jai_spawn_report_seconds_bucket', { le: '0.001' }), 1);
    assert.equal(sampleValue(f, 'jai_spawn_duration_seconds_count'), 0);
    assert.equal(sampleValue(f, 'jai_session_seconds_bucket', { le: '3600' }), 1, 'beyond the last bound: +Inf only');
    assert.equal(sampleValue(f, 'jai_session_seconds_bucket', { le: '+Inf' }), 2);
  });

  it('escapes label values: a hostile error code cannot forge samples', () => {
    const m = new Metrics();
    const code = 'X"} 1\njai_helper_failures_total 99\\';
    m.sessionDenied('casual', code);
    const f = parsePrometheus(m.render(idle, limits));
    assert.equal(sampleValue(f, 'jai_sessions_denied_total', { mode: 'casual', code }), 1);
    assert.equal(sampleValue(f, 'jai_helper_failures_total'), 0);
    assert.equal(escapeLabelValue('a\\b"c\nd'), 'a\\\\b\\"c\\nd');
  });
});

describe('the test-side Prometheus parser', () => {
  const ok = '# HELP x_total X.\n# TYPE x_total counter\nx_total{a="1"} 3\n';
  it('accepts a well-formed exposition', () => {
    assert.equal(sampleValue(parsePrometheus(ok), 'x_total', { a: '1' }), 3);
    assert.equal(parsePrometheusFamilies(ok).get('x_total')?.help, 'X.');
  });

  const bad: [string, string][] = [
    ['no final newline', ok.slice(0, -1)],
    ['sample before TYPE', 'x_total 1\n# TYPE x_total counter\n'],
    ['TYPE after samples', '# TYPE x gauge\nx 1\n# TYPE x gauge\n'],
    ['garbage line', '# TYPE x gauge\nx 1\nhello world again\n'],
    ['bad value', '# TYPE x gauge\nx one\n'],
    ['bad label escape', '# TYPE x gauge\nx{a="\\t"} 1\n'],
    ['unterminated label', '# TYPE x gauge\nx{a="1} 1\n'],
    ['duplicate sample', '# TYPE x gauge\nx{a="1"} 1\nx{a="1"} 2\n'],
    ['non-contiguous family', '# TYPE x gauge\n# TYPE y gauge\nx 1\ny 1\nx{a="2"} 1\n'],
    ['negative counter', '# TYPE x_total counter\nx_total -1\n'],
    ['empty line', '# TYPE x gauge\n\nx 1\n'],
    [
      'non-cumulative buckets',
      '# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="2"} 1\nh_bucket{le="+Inf"} 2\nh_sum 1\nh_count 2\n',
    ],
    ['+Inf != count', '# TYPE h histogram\nh_bucket{le="1"} 1\nh_bucket{le="+Inf"} 2\nh_sum 1\nh_count 3\n'],
    ['no +Inf bucket', '# TYPE h histogram\nh_bucket{le="1"} 1\nh_sum 1\nh_count 1\n'],
  ];
  for (const [what, text] of bad) {
    it(`rejects ${what}`, () => {
      assert.throws(() => parsePrometheus(text));
    });
  }
});
