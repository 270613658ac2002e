// Checklist #5: one user flooding the spawn socket cannot keep another from a session. User B (JAI_TEST_USER2,
// default jaisec2) holds idle connections and slow senders, spams spawn requests and connects as fast as it can,
// all at once; user A (JAI_TEST_USER) must still get each session within a second. jaid runs with the default
// spawn rate, burst and setups per uid (docs/operations.md), a connection cap and request timeout made small so that
// the flood meets them. B's processes run at nice 19: on a real host each user's processes get their own
// CPU share (their systemd user slice), while here everything shares root's cgroup, and B's busy loops would
// otherwise measure the CPU scheduler, not jaid. Each limit on its own: client-limits.test.ts.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { privilegedSkipReason } from '../helpers/privileged';
import {
  ensureTestUser,
  runJai,
  startFixture,
  unmountUserState,
  type Fixture,
  type TestUser,
} from '../helpers/fixture';
import { reportOf, startClient, type ClientReport } from '../helpers/limit-client-runner';
import { ended } from './jail-modes';

const skip = privilegedSkipReason();
const USER2 = process.env['JAI_TEST_USER2'] ?? 'jaisec2';
const PER_UID = 64;
const LIMITS = [
  ['--max-connections-per-uid', String(PER_UID)],
  // Short, so that slow senders are cut off (and come back) during the flood.
  ['--request-timeout', '2s'],
].flat();
const FLOOD = PER_UID + 100;
/** How long user B's flood runs; A's sessions are measured in its middle. */
const FLOOD_SECONDS = 12;

describe('#5 a flood by one user does not starve another', { skip }, () => {
  let f: Fixture;
  let flooder: TestUser;
  before(async () => {
    flooder = ensureTestUser(USER2);
    unmountUserState(flooder.name);
    f = await startFixture('sec-flood', process.env, { daemonArgs: LIMITS });
  });
  after(async () => {
    // B's sessions ran in its own jails: their overlays are B's state to remove, before the fixture's leak check.
    unmountUserState(flooder.name);
    fs.rmSync(path.join(flooder.home, '.jai'), { recursive: true, force: true });
    await f.teardown();
  });

  it(`${String(FLOOD)} idle connections from user B: the excess is refused with CONNECTION_LIMIT; A is served`, async (t) => {
    const child = startClient(flooder, ['idle', f.socket, String(FLOOD)]);
    try {
      const report = await reportOf(child);
      t.diagnostic(`flooder: ${JSON.stringify(report)}`);
      assert.equal(report['opened'], FLOOD);
      assert.deepEqual(report.counts, { open: PER_UID, CONNECTION_LIMIT: FLOOD - PER_UID });
      // While B holds its connections, A's session starts and ends promptly.
      const started = Date.now();
      const r = runJai(f, ['sh', '-c', 'echo served'], { timeoutMs: 10_000 });
      const ms = Date.now() - started;
      t.diagnostic(`user A's jai (node start included) took ${String(ms)} ms`);
      assert.equal(r.stdout, 'served\n', r.stderr);
      assert.ok(ms < 5000, `${String(ms)} ms`);
    } finally {
      child.kill('SIGKILL');
      await ended(child);
    }
  });

  it('while B floods with connections, spawns and slow senders at once, A gets each session within 1 s', async (t) => {
    const a = startClient(f.user, ['timed', f.socket, '10'], f.project);
    const seconds = String(FLOOD_SECONDS);
    // Together past B's connection cap (40 held + 16 spawning + the connect loop), its setups and its rate.
    const flood = [
      startClient(flooder, ['flood-hold', f.socket, '40', seconds], flooder.home, true),
      startClient(flooder, ['flood-spawn', f.socket, '16', seconds], flooder.home, true),
      startClient(flooder, ['flood-connect', f.socket, seconds], flooder.home, true),
    ];
    const reports = flood.map((c) => reportOf(c, (FLOOD_SECONDS + 20) * 1000));
    try {
      // The flood in full swing (past B's spawn burst, slow senders timed out once), then A asks.
      await new Promise((r) => setTimeout(r, 3000));
      const aReport = reportOf(a, 20_000);
      a.stdin?.write('go\n');
      const timed = (await aReport) as ClientReport & { times: number[]; failures: string[] };
      const cliStarted = Date.now();
      const cli = runJai(f, ['true'], { timeoutMs: 10_000 });
      const cliMs = Date.now() - cliStarted;
      t.diagnostic(`user A's sessions under the flood (ms, spawn to exit): ${timed.times.join(' ')}`);
      t.diagnostic(`user A's jai true under the flood (node start included): ${String(cliMs)} ms`);
      for (const c of flood) c.kill('SIGTERM');
      const b = (await Promise.all(reports)).map((r) => r.counts);
      t.diagnostic(`user B: hold ${JSON.stringify(b[0])}`);
      t.diagnostic(`user B: spawn ${JSON.stringify(b[1])}`);
      t.diagnostic(`user B: connect ${JSON.stringify(b[2])}`);
      assert.deepEqual(timed.failures, []);
      assert.equal(timed.times.length, 10);
      assert.ok(Math.max(...timed.times) < 1000, `A waited ${String(Math.max(...timed.times))} ms`);
      assert.equal(cli.status, 0, cli.stderr);
      // The flood did run into the limits: connections, requests and the deadline.
      const seen = new Set(b.flatMap((counts) => Object.keys(counts)));
      assert.ok(seen.has('CONNECTION_LIMIT'), [...seen].join(' '));
      assert.ok(seen.has('REQUEST_TIMEOUT'), [...seen].join(' '));
      assert.ok(seen.has('BUSY') || seen.has('RATE_LIMITED'), [...seen].join(' '));
    } finally {
      for (const c of [a, ...flood]) c.kill('SIGKILL');
      await Promise.all([a, ...flood].map(ended));
    }
  });
});
