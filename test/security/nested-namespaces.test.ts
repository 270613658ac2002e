// Checklist #29: nested namespaces. The helper installs no seccomp filter and does not forbid user namespaces, so a
// jailed program may `unshare -Urm` (recorded by the first test: the behaviour is documented in the threat model).
// What must hold whatever it does there: the mounts jai set up are locked into the nested namespace (they cannot be
// unmounted to reveal what they cover, nor remounted read-write), and nothing reaches the host.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { privilegedSkipReason } from '../helpers/privileged';
import { startFixture, type Fixture } from '../helpers/fixture';
import { MODES, probe } from './jail-modes';

const skip = privilegedSkipReason();

/** Run inside `unshare -Urm` in the jail: root in a new user namespace, with a copy of the jail's mounts. */
const NESTED = [
  'echo "uid=$(id -u)"',
  // /run/jai is the empty cover over the daemon's sockets; $HOME is the overlay (casual) or the private home.
  'umount /run/jai 2>/dev/null; echo "umount-run-jai=$?"',
  'umount -l /run/jai 2>/dev/null; echo "umount-l-run-jai=$?"',
  'echo "run-jai-entries=$(ls -A /run/jai 2>/dev/null | wc -l)"',
  'umount -l "$HOME" 2>/dev/null; echo "umount-home=$?"',
  'umount -l /dev 2>/dev/null; echo "umount-dev=$?"',
  'mount -o remount,rw / 2>/dev/null; echo "remount-root-rw=$?"',
  'mount -o remount,bind,rw / 2>/dev/null; echo "remount-bind-rw=$?"',
  'mount --bind /etc /mnt 2>/dev/null && mount -o remount,bind,rw /mnt 2>/dev/null; echo "rebind-etc-rw=$?"',
  'touch /etc/jaisec-nested /mnt/jaisec-nested 2>/dev/null; echo "touch-etc=$?"',
  'mount -t tmpfs jaisec /tmp/x 2>/dev/null || { mkdir -p /tmp/x; mount -t tmpfs jaisec /tmp/x 2>/dev/null; }; echo "own-tmpfs=$?"',
  'ls -A ~/.jai 2>/dev/null | grep -c conf; true',
].join('; ');

describe('#29 nested user and mount namespaces cannot undo the jail', { skip }, () => {
  let f: Fixture;
  before(async () => {
    f = await startFixture('sec-nested');
  });
  after(async () => {
    await f.teardown();
  });

  for (const mode of MODES) {
    it(`${mode}: after unshare -Urm, jai's mounts stay locked and the host is untouched`, (t) => {
      const r = probe(f, mode, `unshare -Urm sh -c '${NESTED}'; echo "unshare=$?"`);
      assert.equal(r.status, 0, r.stderr);
      t.diagnostic(`${mode}: ${r.stdout.trim().replace(/\n/g, ' ')}`);
      const value = (key: string): string | undefined => new RegExp(`^${key}=(.*)$`, 'm').exec(r.stdout)?.[1];
      if (value('unshare') !== '0') {
        // A policy or kernel that forbids nested user namespaces: nothing more to check.
        assert.equal(value('uid'), undefined);
        return;
      }
      for (const key of ['umount-run-jai', 'umount-l-run-jai', 'umount-home', 'umount-dev'])
        assert.notEqual(value(key), '0', `${key}: locked mounts cannot be unmounted`);
      assert.equal(value('run-jai-entries'), '0', 'the daemon socket stays covered');
      for (const key of ['remount-root-rw', 'remount-bind-rw', 'rebind-etc-rw', 'touch-etc'])
        assert.notEqual(value(key), '0', `${key}: read-only stays read-only`);
      assert.equal(fs.existsSync('/etc/jaisec-nested'), false);
      // ~/.jai stays hidden (casual: masked in the overlay; strict/bare: not in the private home).
      assert.match(r.stdout, /^0$/m);
    });
  }
});
