import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { CliFixture } from './cli-fixture';

describe('jai --complete', () => {
  const f = new CliFixture();
  after(() => f.cleanup());
  f.mkdir('proj/src');
  f.mkdir('proj/srv');
  f.write('proj/setup.sh', '');
  f.write('proj/run.sh', '', 0o755);
  f.write('.ssh/config', '');
  f.write('.jai/claude.conf', '');
  f.write('.jai/codex.conf', '');
  f.write('.jai/work.jail', '');
  f.write('.jai/.conf', '');
  fs.symlinkSync(path.join(f.proj, 'src'), path.join(f.proj, 'srclink'));

  function complete(...words: string[]): string[] {
    const r = f.output(['--complete', ...words], { env: { JAI_TEST_VAR: '1', JAI_TEST_OTHER: '2' } });
    assert.equal(r.exitCode, 0, r.stderr);
    return r.stdout === '' ? [] : r.stdout.slice(0, -1).split('\n');
  }

  function invalid(...words: string[]): void {
    assert.deepEqual(f.output(['--complete', ...words]), { stdout: '', stderr: '', exitCode: 1 });
  }

  it('hands over to the command once it has started: _command_offset N (jai is word 0)', () => {
    assert.deepEqual(complete('-D', 'ls', '-l'), ['_command_offset 2']);
    assert.deepEqual(complete('ls'), ['_command_offset 1']);
    assert.deepEqual(complete(''), ['_command_offset 1']);
    assert.deepEqual(complete('-m', 'casual', ''), ['_command_offset 3']);
    assert.deepEqual(complete('--', 'ls'), ['_command_offset 2']);
  });

  it('lists matching option names, each followed by a space', () => {
    assert.deepEqual(complete('--s'), ['--script ', '--script? ', '--setenv ', '--storage ']);
    assert.deepEqual(complete('--dir'), ['--dir ', '--dir! ']);
    const all = complete('-');
    assert.equal(all.length, 38);
    assert.deepEqual(complete('--net', 'l'), ['loopback ']);
    assert.ok(all.includes('-u ') && all.includes('--print-defaults '));
    assert.deepEqual(
      complete('--'),
      all.filter((o) => o.startsWith('--')),
    );
  });

  it('echoes a complete cluster of short options', () => {
    assert.deepEqual(complete('-Du'), ['-Du ']);
    assert.deepEqual(complete('-m'), ['-m ']);
  });

  it('completes modes', () => {
    assert.deepEqual(complete('-m', ''), ['bare ', 'casual ', 'strict ']);
    assert.deepEqual(complete('--mode', 'c'), ['casual ']);
    assert.deepEqual(complete('-mst'), ['-mstrict ']);
    assert.deepEqual(complete('--mode=b'), ['--mode=bare ']);
  });

  it('completes directories relative to the cwd for grant and storage options', () => {
    assert.deepEqual(complete('-d', 'sr'), ['src/', 'srclink/', 'srv/']);
    assert.deepEqual(complete('--dir=sr'), ['--dir=src/', '--dir=srclink/', '--dir=srv/']);
    assert.deepEqual(complete('--storage', `${f.proj}/src`), [`${f.proj}/src/`, `${f.proj}/srclink/`]);
    assert.deepEqual(complete('-D', '-x', 'src/'), []);
  });

  it('completes any file for --script, programs and directories for --initjail', () => {
    assert.deepEqual(complete('--script', 's'), ['setup.sh ', 'src/', 'srclink/', 'srv/']);
    assert.deepEqual(complete('--initjail', 'r'), ['run.sh ']);
    assert.deepEqual(complete('--initjail?', 's'), ['src/', 'srclink/', 'srv/']);
  });

  it('completes masks relative to $HOME', () => {
    assert.deepEqual(complete('--mask', '.ss'), ['.ssh/']);
    assert.deepEqual(complete('--unmask', '.ssh/c'), ['.ssh/config ']);
  });

  it('completes configuration and jail names without their extension', () => {
    assert.deepEqual(complete('-C', 'c'), ['claude ', 'codex ']);
    assert.deepEqual(complete('--conf=cl'), ['--conf=claude ']);
    assert.deepEqual(complete('-j', ''), ['work ']);
  });

  it('completes environment variable names', () => {
    assert.deepEqual(complete('--setenv', 'JAI_TEST'), ['JAI_TEST_OTHER=', 'JAI_TEST_VAR=']);
    assert.deepEqual(complete('--unsetenv', 'JAI_TEST_V'), ['JAI_TEST_VAR ']);
    assert.ok(complete('--setenv', 'JAI_').includes('JAI_CONFIG_DIR='));
  });

  it('offers nothing for an option whose argument is free text', () => {
    assert.deepEqual(complete('--command', ''), []);
  });

  it('prints nothing and exits 1 on invalid input', () => {
    invalid('--bogus', '');
    invalid('-q', 'x');
    invalid('--nocwd=');
    invalid('--bogus=x');
    invalid('-Dq');
  });
});

describe('completion/jai.bash', () => {
  const script = path.join(__dirname, '..', '..', '..', 'completion', 'jai.bash');

  it('is valid bash that registers a completion for jai', () => {
    const check = spawnSync('bash', ['-n', script], { encoding: 'utf8' });
    assert.equal(check.status, 0, check.stderr);
    const text = fs.readFileSync(script, 'utf8');
    assert.match(text, /jai --complete "\$\{words\[@\]:1/);
    assert.match(text, /complete -F \S+ jai/);
  });
});
