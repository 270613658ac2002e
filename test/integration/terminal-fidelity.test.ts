// Terminal and process fidelity: signals without a PTY, mixed stdio, TIOCSTI injection, large output bursts.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { privilegedSkipReason } from '../helpers/privileged';
import { REPO, jaiCommand, runInTerminal, spawnJai, startFixture, type Fixture } from '../helpers/fixture';

const skip = privilegedSkipReason();

describe('terminal and process fidelity', { skip }, () => {
  let f: Fixture;
  let tiocsti: string;
  let legacyTiocsti: string | null = null;
  const sysctl = '/proc/sys/dev/tty/legacy_tiocsti';
  before(async () => {
    f = await startFixture('fidelity');
    tiocsti = path.join(f.project, 'tiocsti');
    execFileSync('cc', ['-o', tiocsti, path.join(REPO, 'test/helpers/tiocsti.c')]);
    // Let the kernel accept TIOCSTI at all, so the test shows where an injection lands, not just that it is refused.
    if (fs.existsSync(sysctl)) {
      legacyTiocsti = fs.readFileSync(sysctl, 'utf8');
      fs.writeFileSync(sysctl, '1');
    }
  });
  after(async () => {
    if (legacyTiocsti !== null) fs.writeFileSync(sysctl, legacyTiocsti);
    await f.teardown();
  });

  it('forwards SIGINT without a PTY, and a trapping program finishes its handler', async () => {
    const child = spawnJai(f, [
      'bash',
      '-c',
      'trap "echo trapped; exit 7" INT; echo ready; while :; do sleep 0.1; done',
    ]);
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      if (out === 'ready\n') child.kill('SIGINT');
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    assert.equal(out, 'ready\ntrapped\n');
    assert.equal(code, 7);
  });

  it('keeps pipes and files as they are next to a terminal (jai cmd 2>err | cat)', async () => {
    const err = path.join(f.project, 'err.log');
    const jai = jaiCommand(f, [
      'sh',
      '-c',
      'echo to-stdout; echo to-stderr >&2; tty; test -t 1 || echo stdout-not-a-tty',
    ]);
    const { output } = await runInTerminal(f, `${jai} 2>${err} | cat`);
    const lines = output.replace(/\r/g, '').trim().split('\n');
    assert.deepEqual(lines, ['to-stdout', '/dev/pts/0', 'stdout-not-a-tty'], output);
    assert.equal(fs.readFileSync(err, 'utf8'), 'to-stderr\n');
  });

  it("keeps TIOCSTI injection inside the jail's own PTY: the user's shell reads nothing", async () => {
    const marker = path.join(f.project, 'INJECTED');
    const jai = jaiCommand(f, [tiocsti, `touch ${marker}\n`]);
    const { output } = await runInTerminal(f, 'bash --norc --noprofile -i', [
      { atMs: 300, text: `${jai}; echo "jai=$?"\n` },
      { atMs: 1500, text: 'echo after\n' },
      { atMs: 2000, text: 'exit\n' },
    ]);
    assert.match(output, /jai=0/, output);
    assert.match(output, /after/);
    assert.equal(fs.existsSync(marker), false, 'the injected command never ran in the outer shell');
  });

  it('relays a 100 MB burst through the PTY without loss, even when the program exits right after', async () => {
    const size = 100_000_000;
    const jai = jaiCommand(f, ['sh', '-c', `head -c ${size} /dev/zero | tr '\\0' x`]);
    const { output, status } = await runInTerminal(f, jai, [], { timeoutMs: 120_000 });
    assert.equal(status, 0);
    assert.equal(output.length, size);
    assert.ok(/^x*$/.test(output), 'only the bytes written');
  });
});
