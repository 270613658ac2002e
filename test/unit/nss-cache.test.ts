import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { NssCache, type NssCacheOptions } from '../../daemon/nss-cache';
import type { GroupEntry, NssLookup, PasswdEntry } from '../../daemon/server/peer';

const alice: PasswdEntry = { name: 'alice', uid: 1000, gid: 1000, dir: '/home/alice', shell: '/bin/bash', gecos: '' };

/** A source that counts its calls, and whose answers the test changes. */
function countingSource(): NssLookup & { calls: string[]; groups: number[]; fail: boolean } {
  const source = {
    calls: [] as string[],
    groups: [1000, 27],
    fail: false,
    getpwuid(uid: number): PasswdEntry | null {
      source.calls.push(`getpwuid ${uid}`);
      if (source.fail) throw new Error('NSS is down');
      return uid === alice.uid ? { ...alice } : null;
    },
    getpwnam(name: string): PasswdEntry | null {
      source.calls.push(`getpwnam ${name}`);
      return name === alice.name ? { ...alice } : null;
    },
    getgrouplist(name: string, gid: number): number[] {
      source.calls.push(`getgrouplist ${name} ${gid}`);
      return [...source.groups];
    },
    getgrnam(name: string): GroupEntry | null {
      source.calls.push(`getgrnam ${name}`);
      return name === 'sudo' ? { name, gid: 27 } : null;
    },
    getgrgid(gid: number): GroupEntry | null {
      source.calls.push(`getgrgid ${gid}`);
      return gid === 27 ? { name: 'sudo', gid } : null;
    },
  };
  return source;
}

/** A cache whose clock, file signatures and end of run the test drives. */
function harness(options: Partial<NssCacheOptions> = {}) {
  const source = countingSource();
  const state = { now: 0, signature: 'a', signatureReads: 0, endOfRun: [] as (() => void)[] };
  const cache = new NssCache(source, {
    ttlMs: 10_000,
    maxEntries: 100,
    files: ['/etc/passwd', '/etc/group'],
    fileSignature: (file) => {
      state.signatureReads++;
      return `${file}:${state.signature}`;
    },
    now: () => state.now,
    afterThisRun: (then) => state.endOfRun.push(then),
    ...options,
  });
  const endRun = (): void => {
    for (const then of state.endOfRun.splice(0)) then();
  };
  return { source, state, cache, endRun };
}

describe('NSS cache', () => {
  it('answers a repeated lookup without asking NSS again, across requests', () => {
    const { source, cache, endRun } = harness();
    assert.equal(cache.getpwuid(1000)?.name, 'alice');
    endRun();
    assert.equal(cache.getpwuid(1000)?.name, 'alice');
    assert.deepEqual(cache.getgrouplist('alice', 1000), [1000, 27]);
    endRun();
    assert.deepEqual(cache.getgrouplist('alice', 1000), [1000, 27]);
    assert.equal(cache.getgrnam('sudo')?.gid, 27);
    assert.equal(cache.getgrnam('sudo')?.gid, 27);
    assert.deepEqual(source.calls, ['getpwuid 1000', 'getgrouplist alice 1000', 'getgrnam sudo']);
  });

  it('keeps the answers of different lookups apart (a name that looks like a number is still a name)', () => {
    const { source, cache } = harness();
    assert.equal(cache.getpwuid(1000)?.name, 'alice');
    assert.equal(cache.getpwnam('1000'), null);
    assert.equal(cache.getgrgid(27)?.name, 'sudo');
    assert.equal(cache.getgrnam('27'), null);
    assert.equal(source.calls.length, 4);
  });

  it('caches "no such user" too', () => {
    const { source, cache } = harness();
    assert.equal(cache.getpwuid(4242), null);
    assert.equal(cache.getpwuid(4242), null);
    assert.deepEqual(source.calls, ['getpwuid 4242']);
  });

  it('drops every answer when one of the files changes, seen by the next request', () => {
    const { source, state, cache, endRun } = harness();
    assert.deepEqual(cache.getgrouplist('alice', 1000), [1000, 27]);
    endRun();
    source.groups = [1000];
    state.signature = 'b'; // usermod -G replaced /etc/group
    assert.deepEqual(cache.getgrouplist('alice', 1000), [1000]);
    assert.equal(source.calls.length, 2);
  });

  it('reads the files once per synchronous run of lookups, not once per lookup', () => {
    const { state, cache, endRun } = harness();
    cache.getpwuid(1000);
    cache.getgrouplist('alice', 1000);
    cache.getgrnam('sudo');
    assert.equal(state.signatureReads, 2, 'two files, read once');
    endRun();
    cache.getpwuid(1000);
    assert.equal(state.signatureReads, 4);
  });

  it('asks again once an answer is older than the TTL (sources that are not files)', () => {
    const { source, state, cache, endRun } = harness({ ttlMs: 10_000 });
    cache.getpwuid(1000);
    state.now = 9_999;
    endRun();
    cache.getpwuid(1000);
    assert.equal(source.calls.length, 1);
    state.now = 10_000;
    endRun();
    cache.getpwuid(1000);
    assert.equal(source.calls.length, 2);
  });

  it('forgets every answer on clear() (SIGHUP)', () => {
    const { source, cache } = harness();
    cache.getpwuid(1000);
    cache.clear();
    cache.getpwuid(1000);
    assert.equal(source.calls.length, 2);
  });

  it('does not cache a lookup that threw', () => {
    const { source, cache } = harness();
    source.fail = true;
    assert.throws(() => cache.getpwuid(1000), /NSS is down/);
    source.fail = false;
    assert.equal(cache.getpwuid(1000)?.name, 'alice');
    assert.equal(source.calls.length, 2);
  });

  it('gives no caller a way to change what the next one is told', () => {
    const { cache } = harness();
    const groups = cache.getgrouplist('alice', 1000);
    groups.push(0);
    assert.deepEqual(cache.getgrouplist('alice', 1000), [1000, 27]);
    const entry = cache.getpwuid(1000);
    assert.ok(entry !== null && Object.isFrozen(entry));
    assert.throws(() => {
      (entry as { uid: number }).uid = 0;
    }, TypeError);
    assert.equal(cache.getpwuid(1000)?.uid, 1000);
  });

  it('stays within maxEntries', () => {
    const { source, cache } = harness({ maxEntries: 3 });
    for (const uid of [1, 2, 3, 4]) cache.getpwuid(uid);
    cache.getpwuid(4);
    cache.getpwuid(1);
    assert.deepEqual(
      source.calls.map((c) => c.split(' ')[1]),
      ['1', '2', '3', '4', '1'],
    );
  });

  it('notices a real file replaced by rename, even with the same size and mtime', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'jai-nss-'));
    const nextRun = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
    try {
      const file = path.join(dir, 'passwd');
      fs.writeFileSync(file, 'alice:x:1000:1000::/home/alice:/bin/bash\n');
      const stat = fs.statSync(file);
      const source = countingSource();
      // The default signature (stat), and the real end of a run (a microtask).
      const cache = new NssCache(source, { ttlMs: 60_000, maxEntries: 10, files: [file] });
      cache.getpwuid(1000);
      await nextRun();
      cache.getpwuid(1000);
      assert.equal(source.calls.length, 1);
      fs.writeFileSync(`${file}+`, 'alice:x:1000:1000::/home/alicf:/bin/bash\n');
      fs.utimesSync(`${file}+`, stat.atime, stat.mtime);
      fs.renameSync(`${file}+`, file);
      cache.getpwuid(1000);
      assert.equal(source.calls.length, 1, 'within the same run the first answer stands');
      await nextRun();
      cache.getpwuid(1000);
      assert.equal(source.calls.length, 2, 'the next run sees the new file');
      fs.rmSync(file);
      await nextRun();
      cache.getpwuid(1000);
      assert.equal(source.calls.length, 3, 'and its removal');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
