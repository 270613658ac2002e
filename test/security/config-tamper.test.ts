// Checklist #16: a jailed program cannot change what the next launch does. ~/.jai (config files, .defaults, masks,
// initjail scripts) is hidden in casual mode and not the real one in strict and bare modes (private home); whatever
// the program writes there, the host file and the next session's environment stay as they were.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { privilegedSkipReason } from '../helpers/privileged';
import { runJai, startFixture, type Fixture } from '../helpers/fixture';
import { MODES, probe } from './jail-modes';

const skip = privilegedSkipReason();

describe('#16 the jail cannot edit its own configuration', { skip }, () => {
  let f: Fixture;
  before(async () => {
    f = await startFixture('sec-conf');
  });
  after(async () => {
    await f.teardown();
  });

  for (const mode of MODES) {
    it(`${mode}: writes to ~/.jai/default.conf and .defaults from inside do not reach the next launch`, (t) => {
      const configDir = path.join(f.user.home, '.jai');
      const files = ['default.conf', '.defaults', 'sh.conf'].map((name) => path.join(configDir, name));
      const before = files.map((p) => (fs.existsSync(p) ? fs.readFileSync(p, 'utf8') : null));
      const r = probe(
        f,
        mode,
        'mkdir -p ~/.jai 2>/dev/null; n=0; ' +
          'for c in default.conf .defaults sh.conf; do ' +
          '(printf "setenv JAI_SEC_EVIL=1\\nunmask .ssh\\n" >> ~/.jai/$c) 2>/dev/null && n=$((n+1)); done; ' +
          'echo "written-inside: $n"; ls -A ~/.jai 2>&1 | tr "\\n" " "; echo',
      );
      assert.equal(r.status, 0, r.stderr);
      // The program may well write (casual: ~/.jai is masked by .defaults, so a new ~/.jai lands in the overlay's
      // upper dir; strict/bare: the private home's own ~/.jai), but never into the real config dir.
      t.diagnostic(`${mode}: ${r.stdout.trim().replace(/\n/g, ' | ')}`);
      assert.deepEqual(
        files.map((p) => (fs.existsSync(p) ? fs.readFileSync(p, 'utf8') : null)),
        before,
        'the host config files are unchanged',
      );
      for (const m of MODES) {
        const next = runJai(f, ['-m', m, 'sh', '-c', 'echo "evil=${JAI_SEC_EVIL:-unset}"']);
        assert.equal(next.stdout, 'evil=unset\n', `${m} after a ${mode} session: ${next.stderr}`);
      }
    });
  }
});
