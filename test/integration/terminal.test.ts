// `jai bash` in a real terminal: an interactive shell in the jail, raw-mode relay, window size, exit status back.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { privilegedSkipReason } from '../helpers/privileged';
import { runJaiInTerminal, startFixture, type Fixture } from '../helpers/fixture';

const skip = privilegedSkipReason();

describe('interactive terminal session', { skip }, () => {
  let f: Fixture;
  before(async () => {
    f = await startFixture('terminal');
  });
  after(async () => {
    await f.teardown();
  });

  it('runs an interactive bash in the jail and returns its exit status', async () => {
    const { output, status } = await runJaiInTerminal(f, ['bash', '--norc', '--noprofile'], {
      typed: ['echo answer=$((6*7)) pid=$$', 'exit 5'],
    });
    assert.match(output, /answer=42 pid=2/, output);
    assert.equal(status, 5, output);
  });

  it("gives the PTY the terminal's size and follows resizes (SIGWINCH)", async () => {
    const { output, status } = await runJaiInTerminal(f, ['sh', '-c', 'stty size; sleep 1.5; stty size'], {
      shellPrefix: 'stty rows 33 cols 111; (sleep 0.7; stty rows 40 cols 100 </dev/tty) & ',
    });
    assert.equal(status, 0, output);
    assert.deepEqual(output.replace(/\r/g, '').trim().split('\n'), ['33 111', '40 100']);
  });
});
