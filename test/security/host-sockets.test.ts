// Checklist #27: host sockets a jailed program could reach. Listeners of the user's on the host: an "agent" socket
// in the user's /tmp (as ssh-agent and gpg-agent make), one in /run/user/<uid> (D-Bus session bus, pipewire…) and an
// abstract one (as X11's @/tmp/.X11-unix/X0). In every mode: SSH_AUTH_SOCK is dropped by the default unsetenv
// patterns and the two filesystem sockets are not there (private /tmp and /run/user/<uid>). The abstract socket is
// reachable with the host's network (the documented residual: abstract sockets belong to the network namespace) and
// unreachable with `--net loopback` and `--net none`.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { privilegedSkipReason } from '../helpers/privileged';
import { startFixture, type Fixture } from '../helpers/fixture';
import { MODES, ended, probe } from './jail-modes';

const skip = privilegedSkipReason();

/** Listens on each address given (a path, or @name for an abstract one), accepting and closing connections. */
const LISTEN = `
import os, socket, sys
socks = []
for a in sys.argv[1:]:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind("\\0" + a[1:] if a.startswith("@") else a)
    s.listen(16)
    socks.append(s)
print("ready", flush=True)
import select
while True:
    for s in select.select(socks, [], [])[0]:
        s.accept()[0].close()
`;

/** Tries each address inside the jail; prints `NAME=ok` or `NAME=ERRNO-NAME`. */
const CONNECT = `
import errno, socket, sys
for arg in sys.argv[1:]:
    name, a = arg.split("=", 1)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.connect("\\0" + a[1:] if a.startswith("@") else a)
        print(name + "=ok")
    except OSError as e:
        print(name + "=" + errno.errorcode.get(e.errno, str(e.errno)))
`;

describe('#27 host sockets from inside a jail', { skip }, () => {
  let f: Fixture;
  let listener: ChildProcess;
  const tag = crypto.randomBytes(4).toString('hex');
  const agent = `/tmp/jaisec-agent-${tag}.sock`;
  let runUser = '';
  let runUserMade = false;
  let bus = '';
  const abstract = `@jaisec-x11-${tag}`;
  let targets: string[] = [];

  before(async () => {
    f = await startFixture('sec-host-sockets');
    runUser = `/run/user/${f.user.uid}`;
    if (!fs.existsSync(runUser)) {
      fs.mkdirSync(runUser, { mode: 0o700 });
      fs.chownSync(runUser, f.user.uid, f.user.gid);
      runUserMade = true;
    }
    bus = `${runUser}/jaisec-bus-${tag}`;
    listener = spawn('python3', ['-c', LISTEN, agent, bus, abstract], {
      uid: f.user.uid,
      gid: f.user.gid,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    await new Promise<void>((resolve, reject) => {
      listener.stdout?.once('data', () => resolve());
      listener.once('exit', () => reject(new Error('the listener died')));
    });
    targets = [`agent=${agent}`, `bus=${bus}`, `abstract=${abstract}`];
    for (const sys of ['/run/dbus/system_bus_socket', '/var/run/docker.sock'])
      if (fs.existsSync(sys)) targets.push(`${sys.includes('dbus') ? 'system-bus' : 'docker'}=${sys}`);
  });
  after(async () => {
    listener.kill('SIGKILL');
    await ended(listener);
    fs.rmSync(agent, { force: true });
    fs.rmSync(bus, { force: true });
    if (runUserMade) fs.rmSync(runUser, { recursive: true, force: true });
    await f.teardown();
  });

  it('the listeners answer on the host (positive control)', () => {
    const host = spawn('python3', ['-c', CONNECT, ...targets.slice(0, 3)], {
      uid: f.user.uid,
      gid: f.user.gid,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    host.stdout.on('data', (d: Buffer) => (out += d.toString()));
    return ended(host).then(() => assert.equal(out, 'agent=ok\nbus=ok\nabstract=ok\n'));
  });

  for (const mode of MODES) {
    it(`${mode}: no SSH_AUTH_SOCK, no agent or bus socket; the abstract one only with the host's network`, (t) => {
      const script = `echo "ssh-auth-sock=\${SSH_AUTH_SOCK-unset}"; python3 -c '${CONNECT}' ${targets.join(' ')}`;
      const value = (out: string, key: string): string | undefined => new RegExp(`^${key}=(.*)$`, 'm').exec(out)?.[1];
      const host = probe(f, mode, script, { env: { SSH_AUTH_SOCK: agent } });
      assert.equal(host.status, 0, host.stderr);
      t.diagnostic(`${mode} host net: ${host.stdout.trim().replace(/\n/g, ' ')}`);
      assert.equal(value(host.stdout, 'ssh-auth-sock'), 'unset');
      assert.equal(value(host.stdout, 'agent'), 'ENOENT', 'private /tmp');
      assert.equal(value(host.stdout, 'bus'), 'ENOENT', 'private /run/user/<uid>');
      assert.equal(value(host.stdout, 'abstract'), 'ok', 'the residual: same network namespace');
      for (const net of ['loopback', 'none']) {
        const own = probe(f, mode, script, { extraArgs: ['--net', net] });
        assert.equal(own.status, 0, own.stderr);
        t.diagnostic(`${mode} --net ${net}: ${own.stdout.trim().replace(/\n/g, ' ')}`);
        assert.equal(value(own.stdout, 'abstract'), 'ECONNREFUSED', `--net ${net}: its own namespace`);
        assert.equal(value(own.stdout, 'agent'), 'ENOENT');
      }
    });
  }
});
