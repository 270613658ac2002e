// The admin policy end to end: the example file as written, against real users and groups, a real jaid,
// real network namespaces and cgroups.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { adminJson, adminRequest } from '../helpers/admin-request';
import { parsePrometheus } from '../helpers/prometheus';
import {
  REPO,
  ensureTestUser,
  jaidArgs,
  unmountUserState,
  runJai,
  spawnJai,
  startFixture,
  type Fixture,
  type TestUser,
} from '../helpers/fixture';
import { privilegedSkipReason } from '../helpers/privileged';

const skip = privilegedSkipReason();
const EXAMPLE = fs.readFileSync(path.join(REPO, 'docs/examples/policy.toml'), 'utf8');

interface SessionView {
  id: string;
  uid: number;
  user: string;
  argv: string[];
  mode: string;
  network: string;
  rule: string;
  state: string;
  signal: number | null;
  exitCode: number | null;
  error: string | null;
  errorCode: string | null;
  limits: { memoryBytes: number | null; pids: number | null; cpu: number | null };
  changes: { count: number; truncated: boolean; paths: string[] } | null;
}

async function until(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

function projectOf(user: TestUser): string {
  const dir = path.join(user.home, 'proj-policy');
  fs.mkdirSync(dir, { recursive: true });
  fs.chownSync(dir, user.uid, user.gid);
  return dir;
}

function ended(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode);
    else child.once('exit', (code) => resolve(code));
  });
}

function sessions(f: Fixture, query: string, as?: TestUser): SessionView[] {
  const r = adminJson<{ sessions: SessionView[] }>(f.adminSocket, 'GET', `/v1/sessions${query}`, as);
  assert.equal(r.status, 200, JSON.stringify(r.json));
  return r.json.sessions;
}

/** A TCP listener on the host's loopback: what a jail without the host network must not reach. */
function hostListener(): Promise<net.Server> {
  return new Promise((resolve) => {
    const server = net.createServer((s) => s.end('hello\n'));
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

const connectTo = (port: number): string[] => ['bash', '-c', `exec 3<>/dev/tcp/127.0.0.1/${port} && echo connected`];

describe('admin policy (the issue example)', { skip }, () => {
  let f: Fixture;
  let contractor: TestUser;
  let mallory: TestUser;
  let listener: net.Server;
  let port: number;

  before(async () => {
    execFileSync('groupadd', ['-f', 'contractors']);
    contractor = ensureTestUser('jaitest2');
    execFileSync('usermod', ['-aG', 'contractors', contractor.name]);
    mallory = ensureTestUser('mallory');
    f = await startFixture('policy', process.env, { policy: EXAMPLE });
    for (const u of [contractor, mallory]) {
      fs.rmSync(path.join(u.home, '.jai'), { recursive: true, force: true });
      assert.equal(runJai(f, ['--init'], { as: u, cwd: projectOf(u) }).status, 0);
    }
    listener = await hostListener();
    const address = listener.address();
    port = typeof address === 'object' && address !== null ? address.port : 0;
  });

  after(async () => {
    listener.close();
    for (const u of [contractor, mallory]) unmountUserState(u.name);
    try {
      await f.teardown();
    } finally {
      for (const u of [contractor, mallory]) {
        fs.rmSync(path.join(u.home, '.jai'), { recursive: true, force: true });
        fs.rmSync(path.join(u.home, 'proj-policy'), { recursive: true, force: true });
      }
      fs.rmSync('/srv/secrets', { recursive: true, force: true });
    }
  });

  it('gives a user in no rule the defaults: casual, host network (the host listener answers)', () => {
    const r = runJai(f, ['-m', 'casual', ...connectTo(port)]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /connected/);
  });

  it('refuses casual mode to a contractor, naming the rule, with status 1', () => {
    const r = runJai(f, ['-m', 'casual', 'true'], { as: contractor, cwd: projectOf(contractor) });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^jai: mode casual is not allowed .*\(policy rule contractors\)\n$/);
  });

  it("sees a change of the user's groups on the very next request (jaid caches NSS answers)", () => {
    assert.equal(runJai(f, ['-m', 'casual', 'true']).status, 0, 'in no rule: casual allowed, and looked up');
    execFileSync('usermod', ['-aG', 'contractors', f.user.name]);
    try {
      const r = runJai(f, ['-m', 'casual', 'true']);
      assert.equal(r.status, 1, 'now a contractor');
      assert.match(r.stderr, /\(policy rule contractors\)/);
    } finally {
      execFileSync('gpasswd', ['-d', f.user.name, 'contractors'], { stdio: 'ignore' });
    }
    const again = runJai(f, ['-m', 'casual', 'true']);
    assert.equal(again.status, 0, again.stderr);
  });

  it('runs a contractor in strict mode with no network: no interface up, the host listener unreachable', () => {
    const cwd = projectOf(contractor);
    const links = runJai(f, ['-m', 'strict', '/usr/sbin/ip', '-o', 'link'], { as: contractor, cwd });
    assert.equal(links.status, 0, links.stderr);
    const lines = links.stdout.trim().split('\n');
    assert.equal(lines.length, 1, links.stdout);
    assert.match(lines[0] ?? '', /^1: lo: <LOOPBACK>/);
    const connect = runJai(f, ['-m', 'strict', ...connectTo(port)], { as: contractor, cwd });
    assert.notEqual(connect.status, 0);
    assert.doesNotMatch(connect.stdout, /connected/);
  });

  it('refuses a contractor asking for more network than the rule allows, and accepts asking for less', () => {
    const cwd = projectOf(contractor);
    const more = runJai(f, ['-m', 'strict', '--net=loopback', 'true'], { as: contractor, cwd });
    assert.equal(more.status, 1);
    assert.match(more.stderr, /network loopback is not allowed \(at most none\) \(policy rule contractors\)/);
    const less = runJai(f, ['-m', 'casual', '--net=loopback', '/usr/sbin/ip', '-o', 'link']);
    assert.equal(less.status, 0, less.stderr);
    assert.match(less.stdout, /^1: lo: <LOOPBACK,UP,LOWER_UP>/);
    const reach = runJai(f, ['-m', 'casual', '--net=loopback', ...connectTo(port)]);
    assert.notEqual(reach.status, 0, 'the host loopback is not the jail loopback');
  });

  it('refuses every session of a suspended user', () => {
    const r = runJai(f, ['true'], { as: mallory, cwd: projectOf(mallory) });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /sandboxes are disabled for mallory \(policy rule suspended\)/);
  });

  it('enforces max_sessions per user (2 for contractors)', async () => {
    const cwd = projectOf(contractor);
    const running = [0, 1].map(() =>
      spawnJai(f, ['-m', 'strict', 'sh', '-c', 'echo up; exec sleep 30'], { as: contractor, cwd }),
    );
    const outputs = running.map((c) => {
      let text = '';
      c.stdout?.on('data', (d: Buffer) => (text += d.toString()));
      return () => text;
    });
    try {
      await until(() => outputs.every((o) => o() === 'up\n'), 'two sessions to start');
      const third = runJai(f, ['-m', 'strict', 'true'], { as: contractor, cwd });
      assert.equal(third.status, 1);
      assert.match(third.stderr, /jaitest2 already has 2 sessions \(at most 2\) \(policy rule contractors\)/);
      assert.equal(runJai(f, ['true']).status, 0, 'another user is not limited by them');
    } finally {
      running.forEach((c) => c.kill('SIGTERM'));
      await Promise.all(running.map(ended));
    }
  });

  it('enforces deny_grants in the daemon, also for a directory the user owns and for a hand-made request', () => {
    fs.mkdirSync('/srv/secrets', { recursive: true });
    fs.chownSync('/srv/secrets', contractor.uid, contractor.gid);
    const cli = runJai(f, ['-m', 'strict', '-d', '/srv/secrets', 'true'], {
      as: contractor,
      cwd: projectOf(contractor),
    });
    assert.equal(cli.status, 1);
    assert.match(cli.stderr, /grant \/srv\/secrets is denied \(deny_grants \/srv\/secrets\)/);
    // The SDK straight to the socket, with /srv/secrets as the cwd grant: no client-side check in the way.
    const sdk = path.join(f.clientDir, 'dist/client/sdk/spawn.js');
    const script = `
      const { spawn } = require(${JSON.stringify(sdk)});
      spawn({ argv: ['true'], cwd: '/srv/secrets', mode: 'strict', stdio: [{ kind: 'null' }, { kind: 'null' }, { kind: 'null' }],
              socketPath: ${JSON.stringify(f.socket)} })
        .then((s) => s.wait()).then((st) => { console.log('ran', JSON.stringify(st)); })
        .catch((e) => { console.log('refused', e.code, e.message); });`;
    const r = spawnSync(process.execPath, ['-e', script], {
      uid: contractor.uid,
      gid: contractor.gid,
      encoding: 'utf8',
      env: { HOME: contractor.home, PATH: '/usr/bin:/bin' },
      timeout: 20_000,
    });
    assert.match(r.stdout, /^refused POLICY_DENIED grant \/srv\/secrets is denied/, r.stdout + r.stderr);
  });

  it('kills a program that allocates over its memory ceiling, and refuses a ceiling above the policy', () => {
    const r = runJai(f, ['--memory=64M', 'perl', '-e', '$x = "a" x (512 * 1024 * 1024); print "survived\\n"']);
    assert.equal(r.status, 128 + 9, r.stderr);
    assert.doesNotMatch(r.stdout, /survived/);
    const last = sessions(f, '?state=signaled&limit=1')[0];
    assert.equal(last?.signal, 9);
    assert.equal(last.limits.memoryBytes, 64 * 1024 * 1024);
    assert.equal(last.limits.pids, 4096, 'unasked ceilings come from the policy');
    const over = runJai(f, ['--memory=16G', 'true']);
    assert.equal(over.status, 1);
    assert.match(over.stderr, /memory 16G is over the ceiling 8G \(policy rule defaults\)/);
  });

  it('caps processes with pids', () => {
    // Forks sleepers until fork fails; they die with the session (its PID namespace ends with it).
    const forks =
      'my $n = 0; for (1 .. 40) { my $p = fork; last unless defined $p; if (!$p) { sleep 30; exit 0 } $n++ } print "$n\\n"';
    // The second --pids=20 session gets the cgroups jaid made ahead with the first one's limits (cgroup v1); the
    // default session after them must not get a spare made with pids 20.
    for (const attempt of ['fresh', 'made ahead']) {
      const r = runJai(f, ['--pids=20', 'perl', '-e', forks]);
      assert.equal(r.status, 0, r.stderr);
      const started = Number(r.stdout.trim());
      assert.ok(started > 0 && started < 20, `${attempt}: started ${r.stdout.trim()} sleepers under pids.max 20`);
    }
    const unlimited = runJai(f, ['perl', '-e', forks]);
    assert.equal(unlimited.stdout.trim(), '40', 'the default ceiling (4096) lets all 40 start');
  });

  it('removes each session cgroup when the session ends', async () => {
    const marker = `cgroup-${process.pid}`;
    assert.equal(runJai(f, ['sh', '-c', `: ${marker}`]).status, 0);
    // The session's own cgroups (named by its id): a jaid killed by an earlier test may have left young ones, which
    // the next jaid's start-up sweep spares for 30 s (docs/operations.md).
    const id = sessions(f, '?limit=50').find((s) => s.argv.includes(`: ${marker}`))?.id;
    assert.ok(id !== undefined);
    const health = adminJson<{ limits: { backend: string; enforced: boolean; detail: string } }>(
      f.adminSocket,
      'GET',
      '/v1/health',
    );
    assert.equal(health.json.limits.enforced, true, JSON.stringify(health.json));
    const bases = health.json.limits.detail.split(' ');
    await until(() => bases.every((b) => !fs.readdirSync(b).includes(id)), 'session cgroups to go');
  });

  it('records start, deny and end rows, with the casual changes, in the audit log', async () => {
    const marker = `changed-${process.pid}`;
    assert.equal(runJai(f, ['-m', 'casual', 'sh', '-c', `echo x > ~/${marker}`]).status, 0);
    // The end row is there when jai exits; the changes follow once the helper has walked them (docs/audit.md).
    const ended = sessions(f, '?limit=50').find((s) => s.argv.includes(`echo x > ~/${marker}`));
    assert.equal(ended?.state, 'exited');
    await until(
      () => sessions(f, '?limit=50').some((s) => s.changes?.paths.includes(marker) === true),
      'the changes to be recorded',
    );
    const all = sessions(f, '?limit=50');
    const withChange = all.find((s) => s.changes?.paths.includes(marker) === true);
    assert.ok(withChange, JSON.stringify(all.map((s) => s.changes)));
    assert.equal(withChange.state, 'exited');
    assert.ok((withChange.changes?.count ?? 0) >= 1);
    const denied = all.filter((s) => s.state === 'denied');
    assert.ok(denied.some((s) => s.user === 'mallory' && s.rule === 'suspended' && s.errorCode === 'POLICY_DENIED'));
    assert.ok(denied.some((s) => s.user === 'jaitest2' && s.errorCode === 'SESSION_LIMIT'));
    const contractorRun = all.find((s) => s.user === 'jaitest2' && s.state === 'exited');
    assert.equal(contractorRun?.network, 'none');
    assert.equal(contractorRun.rule, 'contractors');
    assert.equal(contractorRun.limits.memoryBytes, 2 * 1024 ** 3);
    assert.equal(contractorRun.limits.cpu, 2);
  });

  it("keeps another user's sessions out of reach through the API, and audits the kill", async () => {
    const victim = spawnJai(f, ['sh', '-c', 'echo up; exec sleep 30']);
    let out = '';
    victim.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    try {
      await until(() => out === 'up\n', 'the session to start');
      const mine = sessions(f, '?state=running', f.user);
      const target = mine.find((s) => s.user === f.user.name);
      assert.ok(target);
      assert.deepEqual(sessions(f, '?state=running', contractor), [], 'B sees none of A');
      assert.ok(sessions(f, '?limit=100', contractor).every((s) => s.uid === contractor.uid));
      assert.equal(adminRequest(f.adminSocket, 'GET', `/v1/sessions/${target.id}`, contractor).status, 404);
      const refused = adminRequest(f.adminSocket, 'POST', `/v1/sessions/${target.id}/kill`, contractor);
      assert.ok([403, 404].includes(refused.status), refused.body);
      assert.equal(adminRequest(f.adminSocket, 'POST', '/v1/policy/reload', contractor).status, 403);
      assert.equal(victim.exitCode, null, 'still running');
      const audit = adminRequest(f.adminSocket, 'GET', '/v1/audit', contractor).body;
      assert.ok(
        audit
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l) as { uid?: number; type: string })
          .every((e) => e.type === 'session' && e.uid === contractor.uid),
      );
      const killed = adminJson<{ killed: boolean }>(f.adminSocket, 'POST', `/v1/sessions/${target.id}/kill`, f.user);
      assert.deepEqual(killed, { status: 200, json: { id: target.id, killed: true } });
      await ended(victim);
      await until(
        () => adminJson<SessionView>(f.adminSocket, 'GET', `/v1/sessions/${target.id}`).json.state !== 'running',
        'the end row',
      );
      const lines = adminRequest(f.adminSocket, 'GET', '/v1/audit').body.trim().split('\n');
      const admin = lines.map(
        (l) => JSON.parse(l) as { type: string; action?: string; target?: string; result?: string },
      );
      assert.ok(
        admin.some((e) => e.type === 'admin' && e.action === 'kill' && e.target === target.id && e.result === 'ok'),
      );
      assert.ok(admin.some((e) => e.type === 'admin' && e.action === 'kill' && e.result === 'denied'));
    } finally {
      victim.kill('SIGKILL');
      await ended(victim);
    }
  });

  it('reloads on SIGHUP: a valid file takes effect, an invalid one keeps the old policy and says why', async () => {
    const deny = `${EXAMPLE}\n[[rule]]\nname = "everyone-off"\nusers = ["${f.user.name}"]\ndeny = true\n`;
    fs.writeFileSync(f.policyFile, deny);
    f.daemon.kill('SIGHUP');
    await until(() => runJai(f, ['true']).status === 1, 'the new policy');
    assert.match(runJai(f, ['true']).stderr, /policy rule everyone-off/);
    fs.writeFileSync(f.policyFile, `${EXAMPLE}\n[defaults]\nnetwork = "everywhere"\n`);
    f.daemon.kill('SIGHUP');
    await until(() => /policy reload failed/.test(f.daemonLog()), 'the reload error in the log');
    assert.match(f.daemonLog(), /policy\.toml:\d+/);
    assert.match(runJai(f, ['true']).stderr, /policy rule everyone-off/, 'the old policy stays');
    fs.writeFileSync(f.policyFile, EXAMPLE);
    const reload = adminJson<{ ok: boolean }>(f.adminSocket, 'POST', '/v1/policy/reload');
    assert.equal(reload.status, 200);
    assert.equal(runJai(f, ['true']).status, 0);
  });

  it('serves Prometheus metrics', () => {
    const r = adminRequest(f.adminSocket, 'GET', '/metrics');
    assert.equal(r.status, 200);
    assert.match(r.contentType, /^text\/plain; version=0\.0\.4/);
    const samples = parsePrometheus(r.body);
    const started = samples.filter((s) => s.name === 'jai_sessions_started_total');
    assert.ok(started.reduce((n, s) => n + s.value, 0) > 0);
    assert.ok(samples.some((s) => s.name === 'jai_sessions_denied_total' && s.value > 0));
    assert.ok(samples.some((s) => s.name === 'jai_spawn_duration_seconds_count' && s.value > 0));
  });

  it('works with jaictl as an unprivileged user: own sessions only, no reload, and a local policy check', () => {
    const jaictl = (args: string[], as: TestUser = f.user) =>
      spawnSync(process.execPath, [path.join(f.clientDir, 'bin/jaictl'), '--socket', f.adminSocket, ...args], {
        uid: as.uid,
        gid: as.gid,
        encoding: 'utf8',
        env: { HOME: as.home, PATH: '/usr/bin:/bin', LANG: 'C.UTF-8' },
        timeout: 20_000,
      });
    assert.equal(runJai(f, ['true']).status, 0);
    const listed = jaictl(['--json', 'sessions', '--all']);
    assert.equal(listed.status, 0, listed.stderr);
    const rows = JSON.parse(listed.stdout) as SessionView[];
    assert.ok(rows.length > 0);
    assert.ok(rows.every((r) => r.uid === f.user.uid));
    const shown = jaictl(['show', rows[0]?.id.slice(0, 8) ?? '']);
    assert.equal(shown.status, 0, shown.stderr);
    assert.match(shown.stdout, new RegExp(rows[0]?.id ?? 'none'));
    const health = jaictl(['health']);
    assert.equal(health.status, 0, health.stderr);
    assert.match(health.stdout, /enforced/);
    const reload = jaictl(['policy', 'reload']);
    assert.equal(reload.status, 1);
    const check = jaictl(['policy', 'check', path.join(REPO, 'docs/examples/policy.toml')]);
    assert.equal(check.status, 0, check.stderr);
    assert.match(check.stdout, /ok \(2 rules, admin group jai-admin\)/);
  });

  it('refuses to start with an invalid policy file, naming file and line', () => {
    const bad = path.join(path.dirname(f.policyFile), 'bad.toml');
    fs.writeFileSync(bad, '[defaults]\nmax_sessions = "many"\n');
    const r = spawnSync(
      process.execPath,
      [
        path.join(REPO, 'bin/jaid'),
        ...jaidArgs({ ...f, socket: `${f.socket}-bad`, adminSocket: `${f.adminSocket}-bad`, policyFile: bad }),
      ],
      { encoding: 'utf8', timeout: 10_000 },
    );
    assert.equal(r.status, 1);
    assert.match(r.stderr, /bad\.toml:2: defaults\.max_sessions/);
    assert.equal(fs.existsSync(`${f.socket}-bad`), false);
  });
});
