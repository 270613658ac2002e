// Concurrent first sessions of one user race for the same per-user state: the helper's lock makes exactly one
// overlay and one tmp, and every session succeeds.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { privilegedSkipReason } from '../helpers/privileged';
import { mountsUnder, spawnJai, startFixture, type Fixture } from '../helpers/fixture';

const skip = privilegedSkipReason();

describe('concurrent sessions of one user', { skip }, () => {
  let f: Fixture;
  before(async () => {
    f = await startFixture('concurrency');
  });
  after(async () => {
    await f.teardown();
  });

  it('all succeed on fresh state and share one overlay', async () => {
    const daemonFds = (): string[] => fs.readdirSync(`/proc/${String(f.daemon.pid)}/fd`).sort();
    const fdsBefore = daemonFds();
    const runs = Array.from({ length: 12 }, (_, i) => {
      const child = spawnJai(f, ['sh', '-c', `echo run-${i} > /tmp/run-${i}; cat /tmp/run-${i}`]);
      let out = '';
      child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
      return new Promise<{ code: number | null; out: string }>((resolve) =>
        child.on('close', (code) => resolve({ code, out })),
      );
    });
    const results = await Promise.all(runs);
    results.forEach((r, i) => {
      assert.equal(r.code, 0, f.daemonLog());
      assert.equal(r.out, `run-${i}\n`);
    });
    // A finished connection may linger until its client has read the end (at most 5 s, proto/channel.ts).
    for (let i = 0; i < 60 && daemonFds().join() !== fdsBefore.join(); i++)
      await new Promise((r) => setTimeout(r, 100));
    const links = (fds: string[]): string[] =>
      fds.map((fd) => {
        try {
          return `${fd}:${fs.readlinkSync(`/proc/${String(f.daemon.pid)}/fd/${fd}`)}`;
        } catch {
          return fd;
        }
      });
    assert.deepEqual(links(daemonFds()), links(fdsBefore), 'jaid keeps no fd of a finished session');
    const mounts = mountsUnder(`/run/jai/${f.user.name}`).sort();
    assert.deepEqual(mounts, [`/run/jai/${f.user.name}/default.home`, `/run/jai/${f.user.name}/tmp`]);
  });
});
