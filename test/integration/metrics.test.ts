// GET /metrics: the spawn path's histograms (docs/admin-api.md) count every session, from a real daemon's clock.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { adminRequest } from '../helpers/admin-request';
import { privilegedSkipReason } from '../helpers/privileged';
import { runJai, startFixture, type Fixture } from '../helpers/fixture';
import { parsePrometheus, sampleValue, type Sample } from '../helpers/prometheus';

const skip = privilegedSkipReason();
const HISTOGRAMS = [
  'jai_spawn_admit_seconds',
  'jai_spawn_duration_seconds',
  'jai_spawn_report_seconds',
  'jai_audit_sync_seconds',
] as const;

describe('spawn-path metrics', { skip }, () => {
  let f: Fixture;
  before(async () => {
    f = await startFixture('metrics');
  });
  after(async () => {
    await f.teardown();
  });

  const metrics = (): Sample[] => {
    const r = adminRequest(f.adminSocket, 'GET', '/metrics');
    assert.equal(r.status, 200, r.body);
    return parsePrometheus(r.body); // strict: buckets cumulative, +Inf equal to _count
  };

  it('counts every session in each spawn histogram, with plausible times', () => {
    const before = metrics();
    const runs = 3;
    for (let i = 0; i < runs; i++) assert.equal(runJai(f, ['true']).status, 0);
    const now = metrics();
    const delta = (name: string, labels: Record<string, string> = {}): number =>
      (sampleValue(now, name, labels) ?? NaN) - (sampleValue(before, name, labels) ?? 0);
    for (const h of [...HISTOGRAMS, 'jai_session_seconds']) {
      assert.equal(delta(`${h}_count`), runs, `${h}_count`);
      assert.equal(delta(`${h}_bucket`, { le: '+Inf' }), runs, `${h} +Inf bucket`);
      const sum = delta(`${h}_sum`);
      assert.ok(sum > 0 && sum / runs < 10, `${h}: mean ${sum / runs} s`);
    }
    // Admission happens before the session starts, which happens before it ends.
    assert.ok(delta('jai_spawn_admit_seconds_sum') < delta('jai_spawn_duration_seconds_sum'));
    assert.ok(delta('jai_spawn_duration_seconds_sum') < delta('jai_session_seconds_sum'));
    // The program waits for its start row's sync: the session starts after the sync answered.
    assert.ok(delta('jai_audit_sync_seconds_sum') < delta('jai_spawn_duration_seconds_sum'));
    assert.equal(delta('jai_sessions_started_total', { mode: 'casual' }), runs);
    // Every helper forked by the one zygote jaid started (native/README.md, "The zygote"), none exec'd.
    assert.equal(delta('jai_helpers_started_total', { how: 'forked' }), runs);
    assert.equal(sampleValue(now, 'jai_helpers_started_total', { how: 'execd' }), 0);
    assert.equal(sampleValue(now, 'jai_helper_zygotes_started_total'), 1);
  });
});
