import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseCli } from '../../client/cli/args';

function run(args: string[]) {
  const parsed = parseCli(args);
  if (parsed.kind !== 'run') return assert.fail(`expected run, got ${parsed.kind}`);
  return parsed.options;
}

describe('jai command line', () => {
  it('stops at the first non-option word', () => {
    assert.deepEqual(run(['ls', '-l']), { nocwd: false, dirs: [], command: ['ls', '-l'] });
    assert.deepEqual(run(['-D', 'ls', '-d', 'x']).command, ['ls', '-d', 'x']);
  });

  it('treats -- and a lone - as the end of options', () => {
    assert.deepEqual(run(['--', '-D']).command, ['-D']);
    assert.deepEqual(run(['-', 'x']).command, ['-', 'x']);
  });

  it('clusters short options and takes attached or separate arguments', () => {
    assert.deepEqual(run(['-Dd/x', 'cmd']), { nocwd: true, dirs: ['/x'], command: ['cmd'] });
    assert.deepEqual(run(['-d', '/a', '--dir=/b', '--dir', '/c']).dirs, ['/a', '/b', '/c']);
  });

  it('has no command when none is given (login shell)', () => {
    assert.deepEqual(run([]).command, []);
  });

  it('reports usage errors with upstream wording', () => {
    assert.deepEqual(parseCli(['--bogus']), { kind: 'usage-error', message: 'unknown option --bogus' });
    assert.deepEqual(parseCli(['-q']), { kind: 'usage-error', message: 'unknown option -q' });
    assert.deepEqual(parseCli(['-d']), { kind: 'usage-error', message: 'option -d requires an argument' });
    assert.deepEqual(parseCli(['--nocwd=1']), { kind: 'usage-error', message: 'option --nocwd takes no argument' });
  });

  it('recognises --help and --version', () => {
    assert.equal(parseCli(['--help']).kind, 'help');
    assert.equal(parseCli(['--version']).kind, 'version');
  });
});
