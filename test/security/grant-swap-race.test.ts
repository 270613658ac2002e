// Checklist #10: a grant swapped for a symlink to /etc between check and mount. A racer owned by the user exchanges
// `proj` (a directory the user owns) and `alt` (a symlink to /etc) with renameat2(RENAME_EXCHANGE) in a tight loop
// while sessions in every mode ask for `-d …/proj`. Whatever each attempt ends as (run with the real directory, or
// refused), no session may ever have /etc (or anything outside the user's directory) mounted at the grant, and
// nothing may be written into /etc.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { privilegedSkipReason } from '../helpers/privileged';
import { asUser, startFixture, type Fixture } from '../helpers/fixture';
import { closed } from '../helpers/child-exit';
import { MODES, pythonAsUser, type Mode } from './jail-modes';

const skip = privilegedSkipReason();
const RACE_MS = 5000;
const LOOPS_PER_MODE = 2;

const RACER = `
import ctypes, os, sys, time
libc = ctypes.CDLL(None, use_errno=True)
AT_FDCWD, RENAME_EXCHANGE = -100, 2
os.chdir(sys.argv[1])
deadline = time.time() + float(sys.argv[2])
n = 0
while time.time() < deadline:
    if libc.renameat2(AT_FDCWD, b'proj', AT_FDCWD, b'alt', RENAME_EXCHANGE) != 0:
        sys.exit('renameat2: errno %d' % ctypes.get_errno())
    n += 1
print(n)
`;

interface Outcome {
  mode: Mode;
  status: number | null;
  stdout: string;
  stderr: string;
}

describe('#10 symlink swap of a grant during the request (TOCTOU)', { skip }, () => {
  let f: Fixture;
  before(async () => {
    f = await startFixture('sec-race');
  });
  after(async () => {
    await f.teardown();
  });

  it(`no session ever gets /etc at the grant while proj <-> symlink(/etc) flips for ${RACE_MS} ms`, async (t) => {
    const raceDir = path.join(f.user.home, 'jaisec-race');
    fs.rmSync(raceDir, { recursive: true, force: true });
    asUser(f, () => {
      fs.mkdirSync(path.join(raceDir, 'proj'), { recursive: true });
      fs.symlinkSync('/etc', path.join(raceDir, 'alt'));
    });
    const grant = path.join(raceDir, 'proj');
    const probe =
      `P=${grant}; touch "$P/jaisec-race-probe" 2>/dev/null && echo wrote; ` +
      'touch /etc/jaisec-race-probe 2>/dev/null && echo ETC-WRITABLE; ' +
      // The directory may be granted under either name: renamed during the request, it is mounted where it is then.
      `grep -F -e " $P " -e " ${path.join(raceDir, 'alt')} " /proc/self/mountinfo || echo no-mount`;
    const outcomes: Outcome[] = [];
    const deadline = Date.now() + RACE_MS;
    const loop = async (mode: Mode): Promise<void> => {
      while (Date.now() < deadline) {
        const child = spawn(
          process.execPath,
          [path.join(f.clientDir, 'bin/jai'), '-m', mode, '-D', '-d', grant, 'sh', '-c', probe],
          {
            cwd: '/',
            uid: f.user.uid,
            gid: f.user.gid,
            env: { HOME: f.user.home, USER: f.user.name, PATH: '/usr/bin:/bin', JAI_SOCKET: f.socket },
            stdio: ['ignore', 'pipe', 'pipe'],
          },
        );
        const o: Outcome = { mode, status: null, stdout: '', stderr: '' };
        child.stdout.on('data', (d: Buffer) => (o.stdout += d.toString()));
        child.stderr.on('data', (d: Buffer) => (o.stderr += d.toString()));
        child.on('exit', (code) => (o.status = code));
        await closed(child);
        outcomes.push(o);
      }
    };
    const racer = pythonAsUser(f, RACER, [raceDir, String(RACE_MS / 1000 + 1)]);
    try {
      await Promise.all(MODES.flatMap((mode) => Array.from({ length: LOOPS_PER_MODE }, () => loop(mode))));
    } finally {
      await closed(racer.child); // its pipes too: all it printed is read
    }
    const swaps = racer.out();
    try {
      const count = (mode: Mode, pred: (o: Outcome) => boolean): number =>
        outcomes.filter((o) => o.mode === mode && pred(o)).length;
      for (const mode of MODES)
        t.diagnostic(
          `${mode}: ${String(count(mode, () => true))} attempts, ${String(count(mode, (o) => o.status === 0))} ran, ` +
            `${String(count(mode, (o) => o.status !== 0))} refused`,
        );
      t.diagnostic(`racer: ${swaps.trim()} exchanges`);
      const refusals = new Set(outcomes.filter((o) => o.status !== 0).map((o) => o.stderr.trim().split('\n').at(-1)));
      t.diagnostic(`refusal messages: ${JSON.stringify([...refusals].slice(0, 6))}`);
      assert.ok(Number(swaps) > 1000, `the racer ran: ${swaps}`);
      assert.ok(outcomes.length >= 3 * LOOPS_PER_MODE, 'every loop made attempts');
      for (const o of outcomes) {
        assert.doesNotMatch(o.stdout, /ETC-WRITABLE/, `${o.mode}: ${o.stdout}`);
        if (o.status !== 0) continue;
        // The mount at the grant is of the user's directory: its root is under the race dir, never /etc.
        const mountRoot = /^\S+ \S+ \S+ (\S+) /m.exec(o.stdout)?.[1];
        assert.ok(
          mountRoot?.startsWith(raceDir) === true,
          `${o.mode}: grant mount root ${String(mountRoot)}\n${o.stdout}`,
        );
      }
      assert.equal(fs.existsSync('/etc/jaisec-race-probe'), false, 'nothing written into /etc');
    } finally {
      fs.rmSync(raceDir, { recursive: true, force: true });
    }
  });
});
