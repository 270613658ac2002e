import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ClientLimits, DEFAULT_CLIENT_LIMITS, SpawnRateLimiter } from '../../daemon/server/client-limits';

describe('spawn rate per uid (token bucket)', () => {
  it('allows a burst, then the sustained rate, and says when the next token comes', () => {
    const bucket = new SpawnRateLimiter(10, 5);
    for (let i = 0; i < 5; i++) assert.deepEqual(bucket.take(1000, 0), { ok: true });
    assert.deepEqual(bucket.take(1000, 0), { ok: false, retryAfterMs: 100 });
    assert.deepEqual(bucket.take(1000, 60), { ok: false, retryAfterMs: 40 });
    assert.deepEqual(bucket.take(1000, 100), { ok: true });
    // 10/s sustained: one token every 100 ms, never more.
    let granted = 0;
    for (let t = 100; t <= 1100; t += 10) if (bucket.take(1000, t).ok) granted++;
    assert.equal(granted, 10);
  });

  it('keeps uids apart: one uid at its limit leaves another its whole burst', () => {
    const bucket = new SpawnRateLimiter(1, 3);
    for (let i = 0; i < 10; i++) bucket.take(1000, 0);
    assert.equal(bucket.take(1000, 0).ok, false);
    for (let i = 0; i < 3; i++) assert.equal(bucket.take(2000, 0).ok, true);
  });

  it('refills up to the burst only, and nothing when the clock goes backwards', () => {
    const bucket = new SpawnRateLimiter(100, 2);
    assert.equal(bucket.take(1, 0).ok, true);
    assert.equal(bucket.take(1, 0).ok, true);
    assert.equal(bucket.take(1, -5000).ok, false);
    // An hour idle is worth the burst, not 360 000 sessions.
    const later = 3_600_000;
    assert.equal(bucket.take(1, later).ok, true);
    assert.equal(bucket.take(1, later).ok, true);
    assert.equal(bucket.take(1, later).ok, false);
  });

  it('forgets idle uids: memory is bounded by the uids active within burst/rate seconds', () => {
    const bucket = new SpawnRateLimiter(100, 200);
    // 100 000 distinct uids (subordinate uids, say), each once, 1 ms apart: a bucket is full again after 2 s.
    for (let uid = 0; uid < 100_000; uid++) bucket.take(uid, uid);
    assert.ok(bucket.size <= 2 * 2000 + 256, `remembered ${String(bucket.size)} uids`);
    // A uid that is still limited is never forgotten by a sweep.
    const busy = new SpawnRateLimiter(1, 1);
    busy.take(7, 0);
    for (let uid = 100; uid < 2000; uid++) busy.take(uid, 0);
    assert.equal(busy.take(7, 0).ok, false);
  });
});

describe('client limits', () => {
  it('counts connections per uid and in all, and refuses with CONNECTION_LIMIT', () => {
    const limits = new ClientLimits({ ...DEFAULT_CLIENT_LIMITS, maxConnections: 5, maxConnectionsPerUid: 3 });
    for (let i = 0; i < 3; i++) assert.equal(limits.openConnection(1000), null);
    const mine = limits.openConnection(1000);
    assert.ok(mine !== null);
    assert.equal(mine.code, 'CONNECTION_LIMIT');
    assert.match(mine.message, /too many connections to jaid from uid 1000 \(limit 3\)/);
    assert.equal(limits.openConnection(2000), null);
    assert.equal(limits.openConnection(3000), null);
    const all = limits.openConnection(4000);
    assert.ok(all !== null);
    assert.equal(all.code, 'CONNECTION_LIMIT');
    assert.match(all.message, /maximum of 5 connections/);
    limits.closeConnection(1000);
    assert.equal(limits.connectionsFor(1000), 2);
    assert.equal(limits.openConnection(4000), null);
    assert.equal(limits.openConnections, 5);
  });

  it('refuses setups past the in-flight cap with BUSY (taking no token), then by rate with RATE_LIMITED', () => {
    const limits = new ClientLimits({ ...DEFAULT_CLIENT_LIMITS, maxSetupsPerUid: 2, spawnRate: 1, spawnBurst: 3 });
    const a = limits.beginSetup(1000, 0);
    const b = limits.beginSetup(1000, 0);
    assert.ok(a.ok && b.ok);
    const busy = limits.beginSetup(1000, 0);
    assert.equal(busy.ok ? null : busy.code, 'BUSY');
    assert.equal(limits.setupsFor(1000), 2);
    a.release();
    a.release(); // idempotent
    assert.equal(limits.setupsFor(1000), 1);
    const c = limits.beginSetup(1000, 0);
    assert.ok(c.ok, 'the BUSY refusal took no token: the third of the burst is left');
    c.release();
    const limited = limits.beginSetup(1000, 0);
    assert.equal(limited.ok ? null : limited.code, 'RATE_LIMITED');
    assert.match(
      limited.ok ? '' : limited.message,
      /faster than jaid allows \(1\/s, bursts of 3\); try again in 1000 ms/,
    );
    assert.ok(limits.beginSetup(2000, 0).ok, 'another uid is not affected');
    b.release();
    assert.equal(limits.setupsFor(1000), 0);
  });

  it('logs a few refusals per uid, then one every 10 s, with how many went unlogged', () => {
    const limits = new ClientLimits();
    let logged = 0;
    for (let i = 0; i < 1000; i++) if (limits.shouldLog(1000, 0).log) logged++;
    assert.equal(logged, 10);
    assert.deepEqual(limits.shouldLog(1000, 10_000), { log: true, unlogged: 990 });
    assert.equal(limits.shouldLog(2000, 0).log, true);
  });
});
