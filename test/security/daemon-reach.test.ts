// Checklist #3: a jailed program cannot reach jaid. The daemon's socket and admin socket are filesystem sockets under
// /run/jai (covered by an empty read-only tmpfs in every jail), jaid binds no abstract socket, and the audit database
// is out of sight.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { privilegedSkipReason } from '../helpers/privileged';
import { runJai, startFixture, type Fixture } from '../helpers/fixture';
import { MODES } from './jail-modes';

const skip = privilegedSkipReason();

/** Tries connect() on each target (a path, or `@name` for the abstract namespace) with stream and seqpacket sockets. */
const CONNECT = `
import socket, sys
for target in sys.argv[1:]:
    address = '\\0' + target[1:] if target.startswith('@') else target
    for kind, name in ((socket.SOCK_STREAM, 'stream'), (socket.SOCK_SEQPACKET, 'seqpacket')):
        s = socket.socket(socket.AF_UNIX, kind)
        try:
            s.connect(address)
            print(target, name, 'CONNECTED')
        except OSError as e:
            print(target, name, 'refused', e.errno)
        finally:
            s.close()
`;

/** Socket inodes of the unix sockets a process holds, and the names /proc/net/unix gives them. */
function unixSocketNames(pid: number): string[] {
  const inodes = new Set<string>();
  for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
    const link = fs.readlinkSync(`/proc/${pid}/fd/${fd}`);
    const m = /^socket:\[(\d+)\]$/.exec(link);
    if (m?.[1] !== undefined) inodes.add(m[1]);
  }
  return fs
    .readFileSync('/proc/net/unix', 'utf8')
    .split('\n')
    .slice(1)
    .map((line) => line.trim().split(/\s+/))
    .filter((cols) => cols[6] !== undefined && inodes.has(cols[6]))
    .map((cols) => cols[7] ?? '');
}

describe('#3 the daemon is unreachable from inside a jail', { skip }, () => {
  let f: Fixture;
  before(async () => {
    f = await startFixture('sec-reach');
  });
  after(async () => {
    await f.teardown();
  });

  it('jaid listens on filesystem sockets only (nothing in the abstract namespace, which ignores mount namespaces)', () => {
    const pid = f.daemon.pid;
    assert.ok(pid !== undefined);
    const names = unixSocketNames(pid);
    assert.ok(names.includes(f.socket), `jaid's socket is a path: ${JSON.stringify(names)}`);
    assert.deepEqual(
      names.filter((n) => n.startsWith('@')),
      [],
      'no abstract socket',
    );
  });

  it('the probe itself works: run on the host as the user, it reaches the daemon socket', () => {
    const r = spawnSync('python3', ['-c', CONNECT, f.socket], {
      uid: f.user.uid,
      gid: f.user.gid,
      encoding: 'utf8',
      env: { PATH: '/usr/bin:/bin' },
    });
    assert.match(r.stdout, /seqpacket CONNECTED/, r.stdout + r.stderr);
  });

  for (const mode of MODES) {
    it(`${mode}: connect() to the daemon socket, the admin socket and @jai… names fails`, () => {
      const targets = [
        f.socket,
        f.adminSocket,
        '/run/jai/jaid.sock',
        '/run/jai/admin.sock',
        '@jai',
        '@jaid',
        `@${f.socket}`,
        '@/run/jai/jaid.sock',
      ];
      const r = runJai(f, ['-m', mode, 'python3', '-c', CONNECT, ...targets]);
      assert.equal(r.status, 0, r.stderr);
      const lines = r.stdout.trim().split('\n');
      assert.equal(lines.length, targets.length * 2, r.stdout);
      assert.deepEqual(
        lines.filter((l) => l.endsWith('CONNECTED')),
        [],
        r.stdout,
      );
      // The jailed view of /run/jai is an empty directory: nothing to name, let alone connect to.
      const ls = runJai(f, ['-m', mode, 'sh', '-c', 'ls -A /run/jai | wc -l; ls -ld /run/jai | cut -c1-10']);
      assert.equal(ls.stdout, '0\nd---------\n', ls.stderr);
    });

    it(`${mode}: the audit database and its directory are out of reach`, () => {
      const dbDir = path.dirname(f.auditDb);
      const r = runJai(f, [
        '-m',
        mode,
        'sh',
        '-c',
        `ls -A ${dbDir} 2>&1; echo "ls=$?"; cat ${f.auditDb} >/dev/null 2>&1; echo "cat=$?"; ` +
          'ls -A /var/lib/jai >/dev/null 2>&1; echo "varlib=$?"; echo x >> /var/lib/jai/audit.db 2>/dev/null; echo "write=$?"',
      ]);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /ls=[12]\n/, r.stdout);
      assert.match(r.stdout, /cat=1\n/);
      assert.match(r.stdout, /varlib=[12]\n/);
      assert.match(r.stdout, /write=[12]\n/);
    });
  }

  it('keeps the production audit directory root-only on the host', (t) => {
    if (!fs.existsSync('/var/lib/jai')) {
      t.skip('no /var/lib/jai on this host');
      return;
    }
    const st = fs.statSync('/var/lib/jai');
    assert.equal(st.uid, 0);
    assert.equal(st.mode & 0o077, 0, `mode ${(st.mode & 0o777).toString(8)}`);
  });
});
