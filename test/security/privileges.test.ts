// Checklist #22 (and #13): no privilege can be gained inside a jail. no_new_privs and empty capability sets in every
// mode; su and setuid/file-capability binaries give nothing; a setuid-root binary or a device node planted out of
// band (as root) in the jail's home store or in a grant is inert (every mount nosuid,nodev; CVE-2023-0386 class).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { privilegedSkipReason } from '../helpers/privileged';
import { startFixture, type Fixture } from '../helpers/fixture';
import { MODES, homeStore, probe } from './jail-modes';

const skip = privilegedSkipReason();

/** Strict mode's uid: jaid's default --sandbox-id-base + the user's uid. */
function sandboxUid(f: Fixture): string {
  return String(0x70000000 + f.user.uid);
}

describe('#22 #13 no privilege inside the jail', { skip }, () => {
  let f: Fixture;
  before(async () => {
    f = await startFixture('sec-privs');
  });
  after(async () => {
    await f.teardown();
  });

  for (const mode of MODES) {
    it(`${mode}: NoNewPrivs 1, every capability set empty`, () => {
      const r = probe(f, mode, 'grep -E "^(NoNewPrivs|Cap(Inh|Prm|Eff|Bnd|Amb)):" /proc/self/status');
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /^NoNewPrivs:\s+1$/m);
      for (const set of ['CapInh', 'CapPrm', 'CapEff', 'CapBnd', 'CapAmb'])
        assert.match(r.stdout, new RegExp(`^${set}:\\s+0{16}$`, 'm'), r.stdout);
    });

    it(`${mode}: su, sudo -n and setuid/file-cap binaries of the host gain nothing`, () => {
      const r = probe(
        f,
        mode,
        'su -c "id -u" root </dev/null >/dev/null 2>&1; echo "su=$?"; ' +
          'if command -v sudo >/dev/null; then sudo -n id -u >/dev/null 2>&1; echo "sudo=$?"; else echo sudo=absent; fi; ' +
          // A setuid binary exec'd must not change the effective uid: mount(8) is setuid root on Debian.
          'mount -t tmpfs none /tmp 2>/dev/null; echo "mount=$?"; ' +
          'grep -c "^Uid:.*\\b0\\b" /proc/self/status',
      );
      assert.match(r.stdout, /^su=[1-9]\d*$/m, r.stdout + r.stderr);
      assert.match(r.stdout, /^sudo=([1-9]\d*|absent)$/m);
      assert.match(r.stdout, /^mount=[1-9]\d*$/m);
      assert.match(r.stdout, /^0$/m, 'no uid 0 anywhere');
    });

    it(`${mode}: a setuid-root copy of id and a device node planted as root in the home store and the grant are inert`, () => {
      const store = path.join(f.user.home, '.jai', homeStore(mode));
      // Make the store exist (the first session creates it), then plant as root, out of band.
      assert.equal(probe(f, mode, 'true').status, 0);
      const planted: string[] = [];
      try {
        for (const dir of [store, f.project]) {
          const suid = path.join(dir, `suid-id-${mode}`);
          fs.copyFileSync('/usr/bin/id', suid);
          fs.chownSync(suid, 0, 0);
          fs.chmodSync(suid, 0o4755);
          planted.push(suid);
        }
        const dev = path.join(f.project, `null-dev-${mode}`);
        // mknod(1) as root: a char device 1:3 (/dev/null), world-writable. On a nodev mount opening it fails.
        assert.equal(spawnSync('mknod', ['-m', '0666', dev, 'c', '1', '3']).status, 0);
        planted.push(dev);
        const r = probe(
          f,
          mode,
          `~/suid-id-${mode} -u; ./suid-id-${mode} -u; (echo x > ./null-dev-${mode}) 2>/dev/null; echo "dev=$?"; ` +
            'grep -E " (/|$HOME|$PWD) " /proc/self/mountinfo > /tmp/m; wc -l < /tmp/m; grep -vc nosuid /tmp/m',
        );
        const lines = r.stdout.trim().split('\n');
        const expectedUid = mode === 'strict' ? sandboxUid(f) : String(f.user.uid);
        assert.deepEqual(lines.slice(0, 2), [expectedUid, expectedUid], 'euid unchanged by the setuid bit');
        assert.match(r.stdout, /^dev=[1-9]\d*$/m, 'nodev: the planted device cannot be opened');
        assert.ok(Number(lines.at(-2)) >= 3, `/, home and cwd found in mountinfo: ${r.stdout}`);
        assert.equal(lines.at(-1), '0', 'home, cwd and / are all nosuid');
      } finally {
        for (const p of planted) fs.rmSync(p, { force: true });
      }
    });
  }
});
