import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildHelperPlan, buildTeardownPlan, encodePlan, PLAN_MAGIC } from '../../daemon/plan/helper-plan';
import type { Identity } from '../../daemon/server/peer';
import type { ValidRequest } from '../../daemon/server/validate';

const identity: Identity = {
  user: 'alice',
  uid: 1001,
  gid: 1001,
  groups: [1001, 27],
  home: '/home/alice',
  shell: '/bin/bash',
  peerPid: 4242,
  peerUid: 1001,
};

function request(overrides: Partial<ValidRequest> = {}): ValidRequest {
  return {
    argv: ['make', 'test'],
    cwd: '/home/alice/proj',
    env: ['PATH=/usr/bin', 'TERM=xterm'],
    mode: 'casual',
    jail: 'default',
    nocwd: false,
    grants: [],
    masks: [],
    storage: null,
    configDir: null,
    network: null,
    limits: { memoryBytes: null, pids: null, cpu: null },
    stdio: ['pass', 'pass', 'pass'],
    terminal: null,
    umask: 0o022,
    actAsUser: null,
    script: null,
    initjail: null,
    ...overrides,
  };
}

const values = (entries: readonly (readonly [string, string])[], key: string): string[] =>
  entries.filter(([k]) => k === key).map(([, v]) => v);

describe('helper plan builder', () => {
  it('numbers attached fds after the status fd in request order: cwd, grants, passed stdio', () => {
    const plan = buildHelperPlan(
      identity,
      request({
        grants: [{ path: '/srv/data', readOnly: true }],
        stdio: ['pass', 'pty', 'pass'],
        terminal: { rows: 40, cols: 120 },
      }),
    );
    assert.deepEqual(values(plan.entries, 'grant'), ['cwd:4:/home/alice/proj', 'ro:5:/srv/data']);
    assert.deepEqual(values(plan.entries, 'stdin'), ['fd:6']);
    assert.deepEqual(values(plan.entries, 'stdout'), ['pty']);
    assert.deepEqual(values(plan.entries, 'stderr'), ['fd:7']);
    assert.deepEqual(values(plan.entries, 'pty_rows'), ['40']);
    assert.deepEqual(values(plan.entries, 'status_fd'), ['3']);
  });

  it('omits the cwd grant with nocwd but still starts in cwd', () => {
    const plan = buildHelperPlan(identity, request({ nocwd: true }));
    assert.deepEqual(values(plan.entries, 'grant'), []);
    assert.deepEqual(values(plan.entries, 'cwd'), ['/home/alice/proj']);
    assert.deepEqual(values(plan.entries, 'stdin'), ['fd:4']);
  });

  it('passes the network, the session cgroups and userns the policy decided (host, none, deny by default)', () => {
    assert.deepEqual(values(buildHelperPlan(identity, request()).entries, 'network'), ['host']);
    assert.deepEqual(values(buildHelperPlan(identity, request()).entries, 'cgroup'), []);
    assert.deepEqual(values(buildHelperPlan(identity, request()).entries, 'userns'), ['deny']);
    assert.deepEqual(values(buildHelperPlan(identity, request()).entries, 'keyring'), ['allow']);
    const placed = buildHelperPlan(identity, request(), null, {
      network: 'none',
      cgroups: ['/sys/fs/cgroup/memory/jai/ab', '/sys/fs/cgroup/pids/jai/ab'],
      allowUserns: true,
      allowKeyring: false,
    });
    assert.deepEqual(values(placed.entries, 'userns'), ['allow']);
    assert.deepEqual(values(placed.entries, 'keyring'), ['deny']);
    assert.deepEqual(values(placed.entries, 'network'), ['none']);
    assert.deepEqual(values(placed.entries, 'cgroup'), ['/sys/fs/cgroup/memory/jai/ab', '/sys/fs/cgroup/pids/jai/ab']);
  });

  it('runs the login shell when no command is given', () => {
    const plan = buildHelperPlan(identity, request({ argv: [] }));
    assert.deepEqual(plan.argv, ['/bin/bash']);
    assert.deepEqual(values(plan.entries, 'argv'), ['/bin/bash']);
  });

  it('defaults the config and storage dirs to ~/.jai, from the identity not the request', () => {
    const plan = buildHelperPlan(identity, request());
    assert.equal(plan.configDir, '/home/alice/.jai');
    assert.equal(plan.storage, '/home/alice/.jai');
    assert.deepEqual(values(plan.entries, 'home'), ['/home/alice']);
    assert.deepEqual(values(plan.entries, 'uid'), ['1001']);
    assert.deepEqual(values(plan.entries, 'group'), ['1001', '27']);
    assert.deepEqual(values(plan.entries, 'umask'), ['22']);
  });

  it('passes the startup script and initjail program when given', () => {
    const plan = buildHelperPlan(identity, request({ script: 'alias ll="ls -l"\n', initjail: '/home/alice/bin/init' }));
    assert.deepEqual(values(plan.entries, 'script'), ['alias ll="ls -l"\n']);
    assert.deepEqual(values(plan.entries, 'initjail'), ['/home/alice/bin/init']);
    assert.deepEqual(values(buildHelperPlan(identity, request()).entries, 'script'), []);
  });

  it('builds a teardown plan for one jail or all, with no run keys', () => {
    const one = buildTeardownPlan(identity, {
      jail: 'work',
      mode: 'casual',
      storage: null,
      configDir: null,
      actAsUser: null,
    });
    assert.deepEqual(one, [
      ['op', 'teardown'],
      ['mode', 'casual'],
      ['user', 'alice'],
      ['uid', '1001'],
      ['gid', '1001'],
      ['home', '/home/alice'],
      ['storage', '/home/alice/.jai'],
      ['jail', 'work'],
      ['status_fd', '3'],
    ]);
    const all = buildTeardownPlan(identity, {
      jail: null,
      mode: 'casual',
      storage: '/data/s',
      configDir: null,
      actAsUser: null,
    });
    assert.deepEqual(values(all, 'jail'), []);
    assert.deepEqual(values(all, 'storage'), ['/data/s']);
  });

  it('adds the sandbox account and the shell in strict mode, and sends masks for casual overlays only', () => {
    const sandbox = { name: 'jai', uid: 70001000, gid: 70001000, range: { base: 70000000, count: 5000 } };
    const strict = buildHelperPlan(identity, request({ mode: 'strict', masks: ['.ssh'] }), sandbox).entries;
    assert.deepEqual(values(strict, 'sandbox_user'), ['jai']);
    assert.deepEqual(values(strict, 'sandbox_uid'), ['70001000']);
    assert.deepEqual(values(strict, 'sandbox_gid'), ['70001000']);
    assert.deepEqual(values(strict, 'sandbox_id_base'), ['70000000']);
    assert.deepEqual(values(strict, 'sandbox_id_count'), ['5000']);
    assert.deepEqual(values(strict, 'shell'), ['/bin/bash']);
    assert.deepEqual(values(strict, 'mask'), []);
    const bare = buildHelperPlan(identity, request({ mode: 'bare', masks: ['.ssh'] })).entries;
    assert.deepEqual(values(bare, 'sandbox_uid'), []);
    assert.deepEqual(values(bare, 'sandbox_id_base'), []);
    assert.deepEqual(values(bare, 'mask'), []);
    assert.deepEqual(values(buildHelperPlan(identity, request({ masks: ['.ssh'] })).entries, 'mask'), ['.ssh']);
    assert.throws(() => buildHelperPlan(identity, request({ mode: 'strict' })), /sandbox account/);
  });

  it('encodes NUL-separated with magic and end marker', () => {
    const bytes = encodePlan([
      ['op', 'run'],
      ['argv', 'a b'],
    ]);
    assert.equal(bytes.toString('utf8'), `${PLAN_MAGIC}\0op\0run\0argv\0a b\0end\0`);
    assert.throws(() => encodePlan([['argv', 'x\0y']]), /NUL/);
  });
});
