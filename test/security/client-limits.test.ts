// Checklist #5: jaid's per-client limits, each set small on a real jaid and run into by a real unprivileged user:
// the spawn rate (RATE_LIMITED), setups in flight (BUSY), connections per uid (CONNECTION_LIMIT) and slow senders
// (REQUEST_TIMEOUT); and jaid refuses absurd limits at start. Everything at once, with another user still served
// within a second, is in connection-flood.test.ts.
import assert from 'node:assert/strict';
import { spawnSync, type ChildProcess, type SpawnSyncReturns } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { adminRequest } from '../helpers/admin-request';
import { REPO, jaidArgs, runJai, startFixture, type Fixture } from '../helpers/fixture';
import { reportOf, startClient } from '../helpers/limit-client-runner';
import { privilegedSkipReason } from '../helpers/privileged';
import { parsePrometheus, sampleValue } from '../helpers/prometheus';
import { ended } from './jail-modes';

const skip = privilegedSkipReason();
async function stop(child: ChildProcess): Promise<void> {
  child.kill('SIGKILL');
  await ended(child);
}

function limitRefusals(f: Fixture, code: string): number {
  const metrics = adminRequest(f.adminSocket, 'GET', '/metrics');
  return sampleValue(parsePrometheus(metrics.body), 'jai_limit_refusals_total', { code }) ?? 0;
}

describe('#5 spawn rate and connections per uid', { skip }, () => {
  let f: Fixture;
  before(async () => {
    f = await startFixture('sec-rate', process.env, {
      daemonArgs: ['--spawn-rate', '1', '--spawn-burst', '3', '--max-connections-per-uid', '8'],
    });
  });
  after(async () => {
    await f.teardown();
  });

  it('refuses a user past its spawn rate with RATE_LIMITED: jai says so and exits 1; audited and counted', () => {
    let served = 0;
    let refused: ReturnType<typeof runJai> | null = null;
    for (let i = 0; i < 20 && refused === null; i++) {
      const r = runJai(f, ['true']);
      if (r.status === 0) served++;
      else refused = r;
    }
    assert.ok(refused !== null, 'refused at last');
    assert.ok(served >= 3, `the burst is served first (${String(served)})`);
    assert.equal(refused.status, 1, refused.stderr);
    assert.match(
      refused.stderr,
      /^jai: uid \d+ starts sessions faster than jaid allows \(1\/s, bursts of 3\); try again in \d+ ms\n/,
    );
    assert.match(refused.stderr, /jai: jaid limits how much each user may ask at once/);
    const db = new Database(f.auditDb, { readonly: true, fileMustExist: true });
    try {
      const rows = db.prepare("SELECT outcome, rule, user FROM sessions WHERE error_code = 'RATE_LIMITED'").all() as {
        outcome: string;
        rule: string;
        user: string;
      }[];
      assert.ok(rows.length >= 1, 'the refusal is in the audit log');
      assert.deepEqual(rows[0], { outcome: 'denied', rule: 'spawn_rate', user: f.user.name });
    } finally {
      db.close();
    }
    assert.ok(limitRefusals(f, 'RATE_LIMITED') >= 1, 'counted in /metrics');
  });

  it('refuses connections past the per-uid cap with CONNECTION_LIMIT, which jai shows', async (t) => {
    const holder = startClient(f.user, ['idle', f.socket, '10']);
    try {
      const report = await reportOf(holder);
      t.diagnostic(`10 idle connections: ${JSON.stringify(report)}`);
      assert.deepEqual(report.counts, { open: 8, CONNECTION_LIMIT: 2 });
      const r = runJai(f, ['true']);
      assert.equal(r.status, 1, r.stderr);
      assert.match(r.stderr, /^jai: too many connections to jaid from uid \d+ \(limit 8\); close some and try again\n/);
      assert.ok(limitRefusals(f, 'CONNECTION_LIMIT') >= 3, 'counted in /metrics');
    } finally {
      await stop(holder);
    }
  });
});

describe('#5 setups in flight and slow senders', { skip }, () => {
  let f: Fixture;
  before(async () => {
    f = await startFixture('sec-busy', process.env, {
      daemonArgs: ['--max-setups-per-uid', '2', '--request-timeout', '1s'],
    });
  });
  after(async () => {
    await f.teardown();
  });

  it('refuses requests past the setups in flight with BUSY; the first ones start', async (t) => {
    const burst = startClient(f.user, ['burst', f.socket, '12'], f.project);
    const report = await reportOf(burst);
    await ended(burst);
    t.diagnostic(`12 spawns at once: ${JSON.stringify(report)}`);
    assert.ok((report.counts['ok'] ?? 0) >= 2, JSON.stringify(report));
    assert.ok((report.counts['BUSY'] ?? 0) >= 1, JSON.stringify(report));
    assert.deepEqual(Object.keys(report.counts).sort(), ['BUSY', 'ok']);
    assert.match(String(report['firstRefusal']), /requests of uid \d+ are being set up already \(limit 2\)/);
    assert.ok(limitRefusals(f, 'BUSY') >= 1, 'counted in /metrics');
  });

  it('closes a silent connection and one stalled after Hello with REQUEST_TIMEOUT at the deadline', async (t) => {
    const slow = startClient(f.user, ['slow', f.socket]);
    const report = await reportOf(slow);
    await ended(slow);
    t.diagnostic(JSON.stringify(report));
    const silent = report['silent'] as { got: string[]; afterMs: number };
    const partial = report['partial'] as { got: string[]; afterMs: number };
    assert.deepEqual(silent.got, ['REQUEST_TIMEOUT', 'eof']);
    assert.deepEqual(partial.got, ['hello', 'REQUEST_TIMEOUT', 'eof']);
    for (const c of [silent, partial]) assert.ok(c.afterMs >= 950 && c.afterMs < 3000, `closed after ${c.afterMs} ms`);
    assert.ok(limitRefusals(f, 'REQUEST_TIMEOUT') >= 2, 'counted in /metrics');
  });
});

describe('#5 jaid refuses absurd limits at start', { skip }, () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'jai-limits-'));
  const files = {
    socket: `/run/jai/test-badlimits-${String(process.pid)}.sock`,
    adminSocket: `/run/jai/test-badlimits-${String(process.pid)}.admin.sock`,
    auditDb: path.join(dir, 'audit.db'),
    policyFile: path.join(dir, 'policy.toml'),
  };
  fs.writeFileSync(files.policyFile, '');
  after(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const jaid = (extra: readonly string[]): SpawnSyncReturns<string> =>
    spawnSync(process.execPath, [path.join(REPO, 'bin/jaid'), ...jaidArgs(files), ...extra], {
      encoding: 'utf8',
      timeout: 10_000,
    });

  it('exits 1 naming the option, from a flag or from jaid.toml, and serves nothing', () => {
    const config = path.join(dir, 'jaid.toml');
    fs.writeFileSync(config, 'spawn_rate = 50\nmax_setups_per_uid = 0\n');
    const cases: [readonly string[], RegExp][] = [
      [['--spawn-rate', '0'], /^jaid: --spawn-rate: 0 is out of range \(0\.1 to 100000\)\n$/],
      [['--max-connections', '9999999'], /^jaid: --max-connections: 9999999 is out of range \(16 to 65536\)\n$/],
      [['--request-timeout', '5ms'], /^jaid: --request-timeout: 5ms is out of range \(100 to 600000\)\n$/],
      [['--max-packet-bytes', '1M'], /^jaid: --max-packet-bytes: 1M is out of range \(4096 to 65536\)\n$/],
      [
        ['--config', config],
        /^jaid: \/.*\/jaid\.toml:2: max_setups_per_uid: --max-setups-per-uid: 0 is out of range \(1 to 4096\)\n$/,
      ],
    ];
    for (const [extra, message] of cases) {
      const r = jaid(extra);
      assert.equal(r.status, 1, `${extra.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message);
      assert.equal(fs.existsSync(files.socket), false);
    }
    // A malformed command line stays a usage error.
    assert.equal(jaid(['--spawn-rate']).status, 2);
  });
});
