// The session cgroups made ahead on cgroup v1 (a spare renamed to the next session's id). Plain directories stand
// in for the hierarchies: mkdir, rename and rmdir behave the same there; the limit files are absent, so none is
// written (the integration tests write real ones).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { CgroupManager } from '../../daemon/limits/cgroups';
import type { Logger } from '../../daemon/log';
import type { Limits } from '../../daemon/policy/types';

const LIMITS: Limits = { memoryBytes: 8 * 2 ** 30, pids: 4096, cpu: 2 };
const OTHER: Limits = { memoryBytes: 2 * 2 ** 30, pids: 512, cpu: 2 };
const id = (n: number): string => n.toString(16).padStart(32, '0');
const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
const quiet = { warn: () => undefined } as unknown as Logger;

describe('session cgroups made ahead (cgroup v1)', () => {
  let root: string;
  let bases: string[];
  const entries = (base: string): string[] => fs.readdirSync(base).sort();

  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'jai-cg-'));
    bases = ['memory', 'pids', 'cpu'].map((c) => path.join(root, c));
    for (const base of bases) fs.mkdirSync(base);
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  it('makes a spare once the admission is done, and gives it to the next session by renaming it', async () => {
    const cg = CgroupManager.over(bases, 'cgroup1');
    assert.deepEqual(
      cg.create(id(1), LIMITS),
      bases.map((b) => `${b}/${id(1)}`),
    );
    for (const base of bases) assert.deepEqual(entries(base), [id(1)], 'no spare before the event loop is idle');
    await tick();
    const spare = entries(bases[0] ?? '').filter((n) => n !== id(1));
    assert.equal(spare.length, 1);
    assert.match(spare[0] ?? '', new RegExp(`^spare-${process.pid}-[0-9a-f]{16}$`), 'named after its jaid');
    for (const base of bases) assert.deepEqual(entries(base), [id(1), spare[0]].sort());
    const inode = fs.statSync(`${bases[0]}/${spare[0]}`).ino;
    cg.create(id(2), LIMITS);
    for (const base of bases) assert.deepEqual(entries(base), [id(1), id(2)], 'the spare became the session');
    assert.equal(fs.statSync(`${bases[0]}/${id(2)}`).ino, inode);
    await tick();
    assert.equal(entries(bases[0] ?? '').length, 3, 'and another spare is made');
    cg.close();
    for (const base of bases) assert.deepEqual(entries(base), [id(1), id(2)], 'close removes the spare');
  });

  it('does not give a spare made with other limits: fresh cgroups, and the next spare has the new limits', async () => {
    const cg = CgroupManager.over(bases, 'cgroup1');
    cg.create(id(1), LIMITS);
    await tick();
    const spare = entries(bases[0] ?? '').find((n) => n !== id(1)) ?? '';
    cg.create(id(2), OTHER);
    for (const base of bases) assert.deepEqual(entries(base), [id(1), id(2)], 'the old spare is removed');
    assert.equal(fs.existsSync(`${bases[0]}/${spare}`), false);
    await tick();
    const next = entries(bases[0] ?? '').find((n) => n !== id(1) && n !== id(2)) ?? '';
    cg.create(id(3), OTHER);
    assert.equal(fs.existsSync(`${bases[0]}/${next}`), false, 'a spare with the same limits is taken');
    cg.close();
  });

  it('copes with a spare removed behind its back', async () => {
    const cg = CgroupManager.over(bases, 'cgroup1');
    cg.create(id(1), LIMITS);
    await tick();
    const spare = entries(bases[1] ?? '').find((n) => n !== id(1)) ?? '';
    fs.rmdirSync(`${bases[1]}/${spare}`);
    assert.deepEqual(
      cg.create(id(2), LIMITS),
      bases.map((b) => `${b}/${id(2)}`),
    );
    for (const base of bases) assert.deepEqual(entries(base), [id(1), id(2)], 'no half-renamed leftovers');
    cg.close();
  });

  it("sweeps a dead jaid's spare at once, a live one's never, nor its own", () => {
    const cg = CgroupManager.over(bases, 'cgroup1');
    const dead = spawnSync('true').pid;
    const names = [`spare-${dead}-0123456789abcdef`, `spare-${process.ppid}-0123456789abcdef`, 'spare-x-1', id(7)];
    for (const name of names) fs.mkdirSync(`${bases[0]}/${name}`);
    assert.equal(cg.sweep(quiet), 1, 'the young session cgroup stays (30 s), the dead spare goes');
    assert.deepEqual(entries(bases[0] ?? ''), names.slice(1).sort());
    cg.close();
  });

  it('never sweeps its own spare, and makes none after close or on cgroup v2', async () => {
    const cg = CgroupManager.over(bases, 'cgroup1');
    cg.create(id(1), LIMITS);
    await tick();
    const spare = entries(bases[0] ?? '').find((n) => n !== id(1)) ?? '';
    fs.mkdirSync(`${bases[0]}/${id(9)}`); // a previous jaid's leftover
    assert.equal(cg.sweep(quiet, Date.now() + 3_600_000), 1);
    assert.ok(fs.existsSync(`${bases[0]}/${spare}`));
    cg.close();
    cg.create(id(2), LIMITS);
    await tick();
    for (const base of bases) assert.deepEqual(entries(base), [id(1), id(2)]);

    const v2 = CgroupManager.over([bases[2] ?? ''], 'cgroup2');
    fs.rmSync(bases[2] ?? '', { recursive: true });
    fs.mkdirSync(bases[2] ?? '');
    v2.create(id(3), { memoryBytes: null, pids: null, cpu: null });
    await tick();
    assert.deepEqual(entries(bases[2] ?? ''), [id(3)], 'a v2 cgroup cannot be renamed: no spare');
  });
});
