import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chooseLayout, cpuMax, parseMountinfo, parseProcCgroup } from '../../daemon/limits/cgroup-layout';

// Read off this project's CI machine (a hybrid host): v1 controllers, cgroup2 without any.
const HYBRID_MOUNTINFO = `31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw`;
const HYBRID_CGROUP = `9:name=systemd:/
8:pids:/
4:memory:/process_api/67b5
1:cpu:/
0::/`;

// A modern systemd host: everything on the unified hierarchy, jaid in its service cgroup.
const UNIFIED_MOUNTINFO = `25 22 0:23 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 rw,nsdelegate`;
const UNIFIED_CGROUP = '0::/system.slice/jaid.service\n';

describe('cgroup layout detection', () => {
  it('parses mountinfo, unescaping the mount point', () => {
    const [mount] = parseMountinfo('40 31 0:37 / /sys/fs/cg\\040x rw - cgroup cgroup rw,cpu,cpuacct');
    assert.deepEqual(mount, { point: '/sys/fs/cg x', fstype: 'cgroup', superOptions: ['rw', 'cpu', 'cpuacct'] });
  });

  it('parses /proc/self/cgroup, co-mounted controllers included', () => {
    const parsed = parseProcCgroup('2:cpu,cpuacct:/a\n0::/b\n7:name=systemd:/c\n');
    assert.equal(parsed.unified, '/b');
    assert.equal(parsed.v1.get('cpu'), '/a');
    assert.equal(parsed.v1.get('cpuacct'), '/a');
  });

  it('takes cgroup v2 when the daemon cgroup offers memory, pids and cpu', () => {
    const seen: string[] = [];
    const layout = chooseLayout(UNIFIED_MOUNTINFO, UNIFIED_CGROUP, (dir) => {
      seen.push(dir);
      return 'cpuset cpu io memory pids\n';
    });
    assert.deepEqual(layout, { kind: 'cgroup2', mount: '/sys/fs/cgroup', own: '/system.slice/jaid.service' });
    assert.deepEqual(seen, ['/sys/fs/cgroup/system.slice/jaid.service']);
  });

  it('falls back to the v1 controllers on a hybrid host, in the daemon’s own cgroups', () => {
    const layout = chooseLayout(HYBRID_MOUNTINFO, HYBRID_CGROUP, () => '');
    assert.deepEqual(layout, {
      kind: 'cgroup1',
      own: { memory: '/sys/fs/cgroup/memory/process_api/67b5', pids: '/sys/fs/cgroup/pids', cpu: '/sys/fs/cgroup/cpu' },
    });
  });

  it('uses only hierarchies mounted below /sys/fs/cgroup (the helper refuses other paths)', () => {
    const elsewhere = UNIFIED_MOUNTINFO.replace(' /sys/fs/cgroup ', ' /mnt/cg ');
    const layout = chooseLayout(elsewhere, UNIFIED_CGROUP, () => 'memory pids cpu');
    assert.deepEqual(layout, {
      kind: 'none',
      reason: 'no cgroup2 mount below /sys/fs/cgroup/; cgroup v1 lacks memory, pids, cpu',
    });
  });

  it('says why when neither is usable', () => {
    const layout = chooseLayout(UNIFIED_MOUNTINFO, UNIFIED_CGROUP, () => 'cpu io\n');
    assert.deepEqual(layout, {
      kind: 'none',
      reason: "cgroup2 lacks memory, pids in the daemon's cgroup; cgroup v1 lacks memory, pids, cpu",
    });
    assert.equal(chooseLayout('', '', () => null).kind, 'none');
  });

  it('writes cpu.max as quota and period', () => {
    assert.equal(cpuMax(2), '200000 100000');
    assert.equal(cpuMax(0.5), '50000 100000');
    assert.equal(cpuMax(0.001), '1000 100000');
  });
});
