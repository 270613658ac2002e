// Checklist #19: the jail has its own devpts instance and a minimal /dev. No terminal of the user's (the one jai runs
// in, nor another session's) and no host device (disks, kvm, fuse, input, dri) is reachable.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { privilegedSkipReason } from '../helpers/privileged';
import { runJaiInTerminal, spawnJai, startFixture, type Fixture } from '../helpers/fixture';
import { MODES, ended } from './jail-modes';

const skip = privilegedSkipReason();

const MINIMAL_DEV = [
  'fd',
  'full',
  'null',
  'ptmx',
  'pts',
  'random',
  'shm',
  'stderr',
  'stdin',
  'stdout',
  'tty',
  'urandom',
  'zero',
];

/** The host's tty group, as /etc/group has it. */
const TTY_GID = /^tty:[^:]*:(\d+):/m.exec(fs.readFileSync('/etc/group', 'utf8'))?.[1] ?? 'none';

const SCRIPT = [
  'echo "dev: $(ls -A /dev | sort | tr "\\n" " ")"',
  'echo "pts: $(ls -A /dev/pts | sort | tr "\\n" " ")"',
  'echo "tty: $(tty)"',
  // devpts is mounted with gid= the host's tty group (read from /etc/group by the helper): the PTY is in it.
  'echo "pts-group: $(stat -c %g $(tty)) $(stat -c %g /dev/pts/ptmx)"',
  // Every other pts number, and the host devices by name: none may open.
  'n=0; for i in 1 2 3 4 5 6 7 8 9; do (: >> /dev/pts/$i) 2>/dev/null && n=$((n+1)); done; echo "other-pts-opened: $n"',
  'n=0; for d in /dev/sda /dev/vda /dev/nvme0n1 /dev/kvm /dev/fuse /dev/dri/card0 /dev/input/event0 /dev/mem /dev/console /dev/tty1; do (: >> $d) 2>/dev/null && n=$((n+1)); done; echo "host-devs-opened: $n"',
].join('; ');

describe('#19 own devpts and a minimal /dev', { skip }, () => {
  let f: Fixture;
  before(async () => {
    f = await startFixture('sec-dev');
  });
  after(async () => {
    await f.teardown();
  });

  for (const mode of MODES) {
    it(`${mode}: /dev holds only the minimal nodes, /dev/pts only the session's PTY, nothing else opens`, async () => {
      // Another session of the same user runs meanwhile (its PTY lives in its own devpts instance).
      const other = spawnJai(f, ['-m', mode, 'sleep', '30']);
      try {
        const r = await runJaiInTerminal(f, ['-m', mode, 'sh', '-c', SCRIPT]);
        const out = r.output.replace(/\r/g, '');
        assert.equal(r.status, 0, out);
        assert.match(out, new RegExp(`^dev: ${MINIMAL_DEV.join(' ')} $`, 'm'), out);
        assert.match(out, /^pts: 0 ptmx $/m, out);
        assert.match(out, /^tty: \/dev\/pts\/0$/m);
        assert.match(out, new RegExp(`^pts-group: ${TTY_GID} `, 'm'), out);
        assert.match(out, /^other-pts-opened: 0$/m);
        assert.match(out, /^host-devs-opened: 0$/m);
      } finally {
        other.kill('SIGTERM');
        await ended(other);
      }
    });
  }
});
