// `jai bash` in a real terminal: an interactive shell in the jail, raw-mode relay, exit status back.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { privilegedSkipReason } from '../helpers/privileged';
import { startFixture, type Fixture } from '../helpers/fixture';

const skip = privilegedSkipReason();

/**
 * Runs `PREFIX jai ARGS…` in a shell under script(1) (so the client's stdio is a terminal), types `lines` one at a
 * time, and collects the screen bytes.
 */
function typeInto(
  f: Fixture,
  args: string[],
  lines: string[],
  prefix = '',
): Promise<{ output: string; status: number | null }> {
  const command = `${prefix}${[process.execPath, path.join(f.clientDir, 'bin/jai'), ...args].join(' ')}`;
  const child = spawn('script', ['-qec', command, '/dev/null'], {
    cwd: f.project,
    uid: f.user.uid,
    gid: f.user.gid,
    env: { HOME: f.user.home, PATH: '/usr/bin:/bin', TERM: 'xterm', JAI_SOCKET: f.socket },
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const timers = lines.map((line, i) => setTimeout(() => child.stdin.write(`${line}\n`), 400 * (i + 1)));
  const deadline = setTimeout(() => child.kill('SIGKILL'), 15_000);
  return new Promise((resolve) => {
    child.on('close', (status) => {
      timers.forEach(clearTimeout);
      clearTimeout(deadline);
      resolve({ output, status });
    });
  });
}

describe('interactive terminal session', { skip }, () => {
  let f: Fixture;
  before(async () => {
    f = await startFixture('terminal');
  });
  after(async () => {
    await f.teardown();
  });

  it('runs an interactive bash in the jail and returns its exit status', async () => {
    const { output, status } = await typeInto(
      f,
      ['bash', '--norc', '--noprofile'],
      ['echo answer=$((6*7)) pid=$$', 'exit 5'],
    );
    assert.match(output, /answer=42 pid=2/, output);
    assert.equal(status, 5, output);
  });

  it("gives the PTY the terminal's size and follows resizes (SIGWINCH)", async () => {
    const { output, status } = await typeInto(
      f,
      ['sh', '-c', "'stty size; sleep 1.5; stty size'"],
      [],
      'stty rows 33 cols 111; (sleep 0.7; stty rows 40 cols 100 </dev/tty) & ',
    );
    assert.equal(status, 0, output);
    assert.deepEqual(output.replace(/\r/g, '').trim().split('\n'), ['33 111', '40 100']);
  });
});
