// `jai bash` in a real terminal: an interactive shell in the jail, raw-mode relay, window size, exit status back.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { privilegedSkipReason } from '../helpers/privileged';
import { jaiCommand, runInTerminal, runJaiInTerminal, startFixture, type Fixture } from '../helpers/fixture';

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

  it("relays job control: ^Z stops jai in the user's shell, fg continues the job with the terminal", async () => {
    const jai = jaiCommand(f, [
      'sh',
      '-c',
      'echo start; sleep 1.5; stty size; echo end; read -r line; echo "got $line"',
    ]);
    const { output } = await runInTerminal(f, 'bash --norc --noprofile -i', [
      { atMs: 300, text: `${jai}\n` },
      { atMs: 1300, text: '\x1a' },
      { atMs: 1900, text: 'echo outer-shell-ok; jobs; stty rows 50 cols 90\n' },
      { atMs: 2500, text: 'fg\n' },
      { atMs: 4800, text: 'typed-after-fg\n' },
      { atMs: 5600, text: 'exit\n' },
    ]);
    const text = output.replace(/\r/g, '');
    assert.match(text, /start\n/);
    assert.match(text, /Stopped +.*jai/, text);
    assert.match(text, /outer-shell-ok/);
    assert.match(text, /50 90\nend\n/, 'the window size changed while stopped reaches the job');
    assert.match(text, /got typed-after-fg/, 'the job has the terminal again after fg');
  });

  it("relays output byte-exact: no CR added to the program's LF", async () => {
    const { output, status } = await runJaiInTerminal(f, ['printf', 'a\\nb\\n']);
    assert.equal(status, 0);
    assert.equal(output, 'a\r\nb\r\n', JSON.stringify(output));
  });

  it('filters clipboard writes and report queries with --filter-escapes (threat model #21), not without', async () => {
    // printf's octal escapes: ESC ] 52 ; c ; … BEL (clipboard), ESC [ 21 t (title report), ESC ] 0 ; … BEL (title).
    const program = ['printf', 'x\\033]52;c;ZWNobyBwd25lZAo=\\007\\033[21t\\033]0;title\\007\\033[1my\\n'];
    const plain = await runJaiInTerminal(f, program);
    assert.equal(plain.status, 0);
    assert.ok(plain.output.includes('\x1b]52;c;ZWNobyBwd25lZAo=\x07'), JSON.stringify(plain.output));
    const filtered = await runJaiInTerminal(f, ['--filter-escapes', ...program]);
    assert.equal(filtered.status, 0);
    assert.equal(filtered.output, 'x\x1b]0;title\x07\x1b[1my\r\n', JSON.stringify(filtered.output));
  });
});
