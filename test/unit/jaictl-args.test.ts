// jaictl's command line: every command and its options parse to the right invocation, and every mistake is a
// usage error (exit 2, the "Try" line) found before anything is sent.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_SOCKET, parseArgs, type Command, type Invocation } from '../../client/ctl/args';
import { jaictl, NOW } from './jaictl-fake-api';

const ID = '0123456789abcdef0123456789abcdef';

function parse(argv: string[], env: Record<string, string> = {}): Invocation {
  const r = parseArgs(argv, { env, now: NOW });
  assert.ok(r.ok, r.ok ? '' : r.message);
  return r.invocation;
}

function command(...argv: string[]): Command {
  return parse(argv).command;
}

function problem(...argv: string[]): string {
  const r = parseArgs(argv, { env: {}, now: NOW });
  if (r.ok) assert.fail(`${argv.join(' ')} should be refused`);
  return r.message;
}

describe('jaictl arguments', () => {
  it('parses every command', () => {
    assert.deepEqual(command('sessions'), { kind: 'sessions', user: null, state: 'running', since: null });
    assert.deepEqual(command('sessions', '--all', '--user', 'bob', '--since=2h'), {
      kind: 'sessions',
      user: 'bob',
      state: null,
      since: '2026-11-30T10:00:00.000Z',
    });
    assert.deepEqual(command('sessions', '--state', 'failed'), {
      kind: 'sessions',
      user: null,
      state: 'failed',
      since: null,
    });
    assert.deepEqual(command('show', ID), { kind: 'show', id: ID });
    assert.deepEqual(command('kill', 'ABCDEF12'), { kind: 'kill', id: 'abcdef12' });
    assert.deepEqual(command('audit', '--since', '7d', '--until', '2026-11-30T11:00Z', '--user', 'alice'), {
      kind: 'audit',
      since: '2026-11-23T12:00:00.000Z',
      until: '2026-11-30T11:00:00.000Z',
      user: 'alice',
    });
    assert.deepEqual(command('audit'), { kind: 'audit', since: null, until: null, user: null });
    assert.deepEqual(command('policy', 'check', '/etc/jai/policy.toml'), {
      kind: 'policy-check',
      file: '/etc/jai/policy.toml',
    });
    assert.deepEqual(command('policy', 'check', '--', '-odd.toml'), { kind: 'policy-check', file: '-odd.toml' });
    assert.deepEqual(command('policy', 'reload'), { kind: 'policy-reload' });
    assert.deepEqual(command('policy', 'show'), { kind: 'policy-show' });
    assert.deepEqual(command('health'), { kind: 'health' });
  });

  it('takes --socket and --json before or after the command, the socket from the environment otherwise', () => {
    assert.deepEqual(parse(['--socket', '/tmp/a.sock', '--json', 'health']), {
      socket: '/tmp/a.sock',
      json: true,
      command: { kind: 'health' },
    });
    assert.deepEqual(parse(['audit', '--json', '--socket=/tmp/b.sock']), {
      socket: '/tmp/b.sock',
      json: true,
      command: { kind: 'audit', since: null, until: null, user: null },
    });
    assert.equal(parse(['health'], { JAI_ADMIN_SOCKET: '/tmp/env.sock' }).socket, '/tmp/env.sock');
    assert.equal(
      parse(['--socket', '/tmp/opt.sock', 'health'], { JAI_ADMIN_SOCKET: '/tmp/env.sock' }).socket,
      '/tmp/opt.sock',
    );
    assert.equal(parse(['health'], { JAI_ADMIN_SOCKET: '' }).socket, DEFAULT_SOCKET);
    assert.equal(parse(['health']).json, false);
  });

  it('--help and --version win over the rest of the line, mistakes included', () => {
    assert.deepEqual(command('--help'), { kind: 'help' });
    assert.deepEqual(command('bogus', '-h'), { kind: 'help' });
    assert.deepEqual(command('kill', '--version'), { kind: 'version' });
    assert.deepEqual(command('policy', 'check', '--', '--help'), { kind: 'policy-check', file: '--help' });
  });

  it('refuses every malformed line with a message naming the mistake', () => {
    const cases: [string[], RegExp][] = [
      [[], /no command/],
      [['bogus'], /unknown command 'bogus'/],
      [['toString'], /unknown command/],
      [['--frobnicate', 'health'], /unknown option '--frobnicate'/],
      [['-x', 'health'], /unknown option '-x'/],
      [['health', 'extra'], /unexpected argument 'extra'/],
      [['sessions', '--user'], /'--user' needs a value/],
      [['sessions', '--user='], /'--user' needs a value/],
      [['sessions', '--user', 'a', '--user', 'b'], /given twice/],
      [['sessions', '--all=yes'], /takes no value/],
      [['sessions', '--state', 'zombie'], /unknown state 'zombie'/],
      [['sessions', '--state', 'exited', '--all'], /contradict/],
      [['sessions', '--until', '1h'], /'--until' does not apply to 'sessions'/],
      [['sessions', '--since', 'yesterday'], /--since: invalid time 'yesterday'/],
      [['audit', '--since', '1h', '--until', '2h'], /later than/],
      [['audit', '--all'], /'--all' does not apply to 'audit'/],
      [['show'], /'show' needs a session id/],
      [['show', ID, ID], /unexpected argument/],
      [['show', 'abcde'], /not a session id/],
      [['kill', 'not-hex-at-all'], /not a session id/],
      [['kill', `${ID}0`], /not a session id/],
      [['kill', '--user', 'bob', ID], /'--user' does not apply to 'kill'/],
      [['policy'], /needs a subcommand/],
      [['policy', 'burn'], /unknown policy subcommand 'burn'/],
      [['policy', 'check'], /needs a policy file/],
      [['policy', 'check', 'a', 'b'], /unexpected argument 'b'/],
      [['policy', 'reload', 'now'], /unexpected argument 'now'/],
      [['policy', 'show', '--since', '1h'], /does not apply to 'policy show'/],
      [['--socket', '', 'health'], /needs a value/],
    ];
    for (const [argv, pattern] of cases) assert.match(problem(...argv), pattern, argv.join(' '));
  });

  it('exits 2 with the Try line for a usage error, without contacting anything', async () => {
    const r = await jaictl(['kill', 'zz'], { env: { JAI_ADMIN_SOCKET: '/nonexistent/admin.sock' } });
    assert.equal(r.code, 2);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^jaictl: 'zz' is not a session id .*\nTry 'jaictl --help' for more information\.\n$/);
  });

  it('escapes control characters of the command line in its messages', async () => {
    const r = await jaictl(['\u001b]0;pwned\u0007']);
    assert.equal(r.code, 2);
    assert.ok(!r.stderr.includes('\u001b') && !r.stderr.includes('\u0007'));
    assert.match(r.stderr, /unknown command '\\x1b\]0;pwned\\x07'/);
  });

  it('prints the help and the version on stdout, exit 0', async () => {
    const help = await jaictl(['--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /^usage: jaictl /);
    for (const word of ['sessions', 'show', 'kill', 'audit', 'policy check', 'policy reload', 'policy show', 'health'])
      assert.ok(help.stdout.includes(`  ${word}`), word);
    const version = await jaictl(['--version']);
    assert.equal(version.code, 0);
    assert.match(version.stdout, /^jaictl \d+\.\d+\.\d+/);
  });
});
