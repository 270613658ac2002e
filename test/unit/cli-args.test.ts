import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { scanArgs } from '../../client/cli/args';
import { DEFAULTS } from '../../client/cli/defaults';
import { CLI_OPTIONS, helpText } from '../../client/cli/options';
import { VERSION_TEXT } from '../../client/cli/version';
import { CliFixture } from './cli-fixture';

/** The options a scan found, as NAME or NAME=VALUE, and where the command starts. */
function scan(args: string[]): { options: string[]; command: string[] } {
  const r = scanArgs(args, CLI_OPTIONS);
  const options = r.items.map((i) =>
    i.kind === 'option' ? (i.value === null ? i.name : `${i.name}=${i.value}`) : `${i.kind}:${i.name}`,
  );
  return { options, command: args.slice(r.positional) };
}

describe('command-line scanning', () => {
  it('stops at the first non-option word (no permutation)', () => {
    assert.deepEqual(scan(['ls', '-l']), { options: [], command: ['ls', '-l'] });
    assert.deepEqual(scan(['-D', 'ls', '-d', 'x']), { options: ['-D'], command: ['ls', '-d', 'x'] });
  });

  it('ends options at -- and treats a lone - as the command', () => {
    assert.deepEqual(scan(['-D', '--', '-x']), { options: ['-D'], command: ['-x'] });
    assert.deepEqual(scan(['-', 'x']), { options: [], command: ['-', 'x'] });
    assert.deepEqual(scan(['--']), { options: [], command: [] });
  });

  it('clusters short options; an argument is the rest of the word or the next word', () => {
    assert.deepEqual(scan(['-Dmcasual', 'cmd']).options, ['-D', '-m=casual']);
    assert.deepEqual(scan(['-Dd/x', '-d', '/y']).options, ['-D', '-d=/x', '-d=/y']);
    assert.deepEqual(scan(['-m', '-D']).options, ['-m=-D'], 'the next word is taken even if it looks like an option');
  });

  it('takes --opt=value and --opt value for long options', () => {
    assert.deepEqual(scan(['--dir=/a', '--dir', '/b', '--mode=']).options, ['--dir=/a', '--dir=/b', '--mode=']);
    assert.deepEqual(scan(['--setenv', 'A=B=C']).options, ['--setenv=A=B=C']);
  });

  it('matches long names exactly (no abbreviations)', () => {
    assert.deepEqual(scan(['--no']).options, ['unknown:--no']);
    assert.deepEqual(scan(['--nocwd']).options, ['--nocwd']);
  });

  it('keeps the items before an error and stops there', () => {
    assert.deepEqual(scan(['-Dq', '-j', 'x']).options, ['-D', 'unknown:-q']);
    assert.deepEqual(scan(['-D', '--dir']).options, ['-D', 'needs-arg:--dir']);
  });

  it('has no command when none is given (the login shell runs)', () => {
    assert.deepEqual(scan([]).command, []);
    assert.deepEqual(scan(['-D']).command, []);
  });

  it('knows every option of jai(1), and no config-file-only name', () => {
    for (const name of [
      '-m',
      '--mode',
      '-d',
      '--dir',
      '--dir!',
      '-r',
      '--rdir',
      '--rdir?',
      '-x',
      '--xdir',
      '-D',
      '--nocwd',
      '-j',
      '--jail',
      '-C',
      '--conf',
      '--conf?',
      '--script',
      '--script?',
      '--initjail',
      '--initjail?',
      '--mask',
      '--unmask',
      '--unsetenv',
      '--setenv',
      '--command',
      '--storage',
      '-u',
      '--init',
      '--help',
      '--version',
      '--print-defaults',
      '--net',
      '--memory',
      '--pids',
      '--cpu',
      '--filter-escapes',
      '--no-filter-escapes',
    ]) {
      assert.ok(CLI_OPTIONS.has(name), name);
    }
    assert.equal(CLI_OPTIONS.size, 38);
    assert.equal(CLI_OPTIONS.has('--complete'), false);
  });
});

describe('command-line errors', () => {
  const f = new CliFixture();
  after(() => f.cleanup());

  it('reports an unknown option as a usage error (exit 2)', () => {
    f.usageError(['--bogus'], 'unknown option --bogus');
    f.usageError(['-q'], 'unknown option -q');
    f.usageError(['-Dq'], 'unknown option -q');
    f.usageError(['--bogus=1'], 'unknown option --bogus');
  });

  it('reports a missing argument', () => {
    f.usageError(['-d'], 'option -d requires an argument');
    f.usageError(['-D', '--mode'], 'option --mode requires an argument');
  });

  it('reports an argument given to an option that takes none', () => {
    f.usageError(['--nocwd=1'], 'option --nocwd takes no argument');
    f.usageError(['--init='], 'option --init takes no argument');
  });

  it('treats --complete as unknown unless it is the first word and has a word after it', () => {
    f.usageError(['--complete'], 'unknown option --complete');
    f.usageError(['-D', '--complete', 'x'], 'unknown option --complete');
  });

  it('runs actions in order: the first error or exit wins', () => {
    assert.equal(f.output(['--help', '--bogus']).exitCode, 0);
    f.usageError(['--bogus', '--help'], 'unknown option --bogus');
    f.usageError(['-m', 'foo', '--help'], 'invalid mode foo');
  });

  it('does not expand ${VAR} on the command line', () => {
    f.usageError(['-m', '${MODE}'], 'invalid mode ${MODE}', { env: { MODE: 'casual' } });
  });
});

describe('informational options', () => {
  const f = new CliFixture();
  after(() => f.cleanup());

  it('--help prints the usage and every option on stdout, exit 0', () => {
    const HELP = helpText();
    assert.deepEqual(f.output(['--help']), { stdout: HELP, stderr: '', exitCode: 0 });
    assert.match(HELP, /^usage: jai \[OPTIONS\] \[CMD \[ARG\.\.\.\]\]\n/);
    for (const name of CLI_OPTIONS.keys()) assert.ok(HELP.includes(name), `${name} is in the help`);
  });

  it('--version names the untrusted user and the warranty notice, exit 0', () => {
    assert.deepEqual(f.output(['--version']), { stdout: VERSION_TEXT, stderr: '', exitCode: 0 });
    assert.match(VERSION_TEXT, /Untrusted user for strict mode: jai\n/);
    assert.match(VERSION_TEXT, /This program comes with NO WARRANTY/);
  });

  it('--print-defaults prints the built-in defaults', () => {
    assert.deepEqual(f.output(['--print-defaults']), { stdout: DEFAULTS, stderr: '', exitCode: 0 });
  });

  it('answers before creating any file', () => {
    const g = new CliFixture();
    try {
      g.output(['--help']);
      g.output(['--bogus']);
      assert.deepEqual(g.lines, []);
    } finally {
      g.cleanup();
    }
  });
});
