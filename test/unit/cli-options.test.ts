import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { FILE_OPTIONS } from '../../client/cli/options';
import { comparePaths } from '../../client/cli/paths';
import { CliFixture, UID } from './cli-fixture';

describe('--mode', () => {
  const f = new CliFixture();
  after(() => f.cleanup());

  it('accepts casual, bare and strict', () => {
    for (const mode of ['casual', 'bare', 'strict'] as const) assert.equal(f.launch(['-m', mode, 'true']).mode, mode);
    assert.equal(f.launch(['--mode=bare', 'true']).mode, 'bare');
  });

  it('refuses anything else: `invalid mode X`, exit 2', () => {
    f.usageError(['-m', 'foo'], 'invalid mode foo');
    f.usageError(['--mode=Casual'], 'invalid mode Casual');
    f.usageError(['--mode='], 'invalid mode ');
  });
});

describe('--jail', () => {
  const f = new CliFixture();
  after(() => f.cleanup());

  it('accepts one relative component not starting with a dot', () => {
    assert.equal(f.launch(['-j', 'work-1', 'true']).jail, 'work-1');
    assert.equal(f.launch(['--jail=a.b', 'true']).jail, 'a.b');
  });

  it('refuses other names: `NAME: invalid sandbox name`, exit 2', () => {
    for (const name of ['../x', '..', '.', '.hidden', 'a/b', '/abs', 'a/', '']) {
      f.usageError(['-j', name, 'true'], `${name}: invalid sandbox name`);
    }
  });
});

describe('grants: -d, -r, -x, --dir!, --rdir?', () => {
  const f = new CliFixture();
  after(() => f.cleanup());
  const a = f.mkdir(path.join(f.root, 'a'));
  const ab = f.mkdir(path.join(f.root, 'a', 'b'));
  const b = f.mkdir(path.join(f.root, 'a-b'));
  fs.symlinkSync(ab, path.join(f.root, 'link'));

  it('canonicalises command-line paths relative to the cwd', () => {
    const r = f.launch(['-d', '../../a/b', '-r', path.join(f.root, 'link'), 'true'], { cwd: f.proj });
    assert.deepEqual(r.grants, [{ path: ab, readOnly: false }]);
    const r2 = f.launch(['-d', 'b', 'true'], { cwd: a });
    assert.deepEqual(r2.grants, [{ path: ab, readOnly: false }]);
  });

  it('orders grants parents first, by path components', () => {
    const r = f.launch(['-r', b, '-d', ab, '-d', a, 'true']);
    assert.deepEqual(
      r.grants.map((g) => g.path),
      [a, ab, b],
    );
  });

  it('keeps the first option that names a directory (a later -r does not make it read-only)', () => {
    assert.deepEqual(f.launch(['-d', a, '-r', a, 'true']).grants, [{ path: a, readOnly: false }]);
    assert.deepEqual(f.launch(['-r', a, '-d', a, 'true']).grants, [{ path: a, readOnly: true }]);
  });

  it('-x withdraws a grant (also re-applied after the config files)', () => {
    assert.deepEqual(f.launch(['-d', a, '-d', ab, '-x', a, 'true']).grants, [{ path: ab, readOnly: false }]);
    f.write('.jai/x.conf', `dir ${a}\n`);
    assert.deepEqual(f.launch(['-C', 'x', '-x', a, 'true']).grants, []);
  });

  it('a missing directory is a filesystem error (exit 1) naming the path as given', () => {
    f.fails(
      ['-d', '/nonexistent/x', 'true'],
      'filesystem error: in canonical: No such file or directory ["/nonexistent/x"] [""]',
    );
    f.fails(
      ['-r', 'missing', 'true'],
      `filesystem error: in canonical: No such file or directory ["missing"] ["${f.proj}"]`,
    );
    f.fails(
      ['-x', '/nonexistent', 'true'],
      'filesystem error: in canonical: No such file or directory ["/nonexistent"] [""]',
    );
  });

  it('--rdir? ignores a directory that does not exist', () => {
    assert.deepEqual(f.launch(['--rdir?', '/nonexistent', '--rdir?', a, 'true']).grants, [{ path: a, readOnly: true }]);
  });

  it('--dir! creates missing directories with their parents at launch, as the user, and says so', () => {
    const target = path.join(f.root, 'new', 'deep', '..', 'dir');
    const r = f.launch(['--dir!', target, 'true'], { umask: 0o027 });
    const made = path.join(f.root, 'new', 'dir');
    assert.deepEqual(r.grants, [{ path: made, readOnly: false }]);
    assert.equal(fs.statSync(made).mode & 0o777, 0o750);
    assert.deepEqual(f.lines, [`jai: created ${path.join(f.root, 'new')}`, `jai: created ${made}`]);
    f.launch(['--dir!', target, 'true']);
    assert.deepEqual(f.lines, [], 'nothing is created the second time');
  });

  it('refuses to grant something that is not a directory', () => {
    const file = f.write(path.join(f.root, 'file'), 'x');
    f.fails(['-d', file, 'true'], `openat("${file}", O_DIRECTORY|O_CLOEXEC|O_PATH): Not a directory`);
  });

  it('refuses a directory the user does not own: `D: owned by X should be owned by Y`', (t) => {
    if (UID !== 0) return t.skip('needs root to give a directory away');
    const theirs = f.mkdir(path.join(f.root, 'theirs'));
    fs.chownSync(theirs, 4242, 4242);
    f.fails(['-d', theirs, 'true'], `${theirs}: owned by 4242 should be owned by 0`);
    f.fails(['true'], `${theirs}: owned by 4242 should be owned by 0`, { cwd: theirs });
  });
});

describe('--mask and --unmask', () => {
  const f = new CliFixture();
  after(() => f.cleanup());

  it('refuses an absolute path: `/etc: cannot mask an absolute path`, exit 2', () => {
    f.usageError(['--mask', '/etc', 'true'], '/etc: cannot mask an absolute path');
  });

  it('adds relative paths once and removes them by exact path', () => {
    f.write('.jai/default.conf', '# no defaults\n');
    assert.deepEqual(f.launch(['--mask', 'b', '--mask', 'a/x', '--mask', 'b', 'true']).masks, ['a/x', 'b']);
    assert.deepEqual(f.launch(['--mask', 'a', '--mask', 'b', '--unmask', 'a', 'true']).masks, ['b']);
    assert.deepEqual(f.launch(['--mask', 'a', '--unmask', 'a/', 'true']).masks, ['a'], 'a/ is not a');
  });

  it('keeps them in component order without duplicates, whatever the order given', () => {
    f.write('.jai/default.conf', '# no defaults\n');
    const given = ['b', 'a/x', 'a', 'a//x', 'a.b', 'a/x/', 'b', 'c/d', 'a-b', '.x', 'a/x/y', 'A'];
    const masks = f.launch([...given.flatMap((m) => ['--mask', m]), 'true']).masks;
    const reference: string[] = [];
    for (const m of given) if (!reference.some((r) => comparePaths(r, m) === 0)) reference.push(m);
    assert.deepEqual(masks, reference.sort(comparePaths));
    assert.deepEqual(masks, ['.x', 'A', 'a', 'a/x', 'a/x/', 'a/x/y', 'a-b', 'a.b', 'b', 'c/d']);
  });

  it('marks a run whose command line gave masks (the daemon warns if they could not apply)', () => {
    assert.equal(f.launch(['--mask', 'x', 'true']).maskWarning, true);
    assert.equal(f.launch(['true']).maskWarning, false);
    f.write('.jai/m.conf', 'mask y\n');
    assert.equal(f.launch(['-C', 'm', 'true']).maskWarning, false, 'masks from files do not count');
  });
});

describe('--script and --initjail', () => {
  const f = new CliFixture();
  after(() => f.cleanup());

  it('collects scripts once each, command line first (relative to the cwd there)', () => {
    const one = f.write('proj/one.sh', 'A=1');
    const two = f.write('.jai/two.sh', 'B=2');
    f.write('.jai/default.conf', 'script two.sh\nscript? .jairc\n');
    const r = f.launch(['--script', 'one.sh', '--script', two, 'true']);
    assert.ok(r.script !== null);
    assert.ok(r.script.startsWith('A=1\nB=2\n# Sourced by bash'), r.script);
    assert.ok(fs.existsSync(one));
  });

  it('fails on a missing --script and ignores a missing --script?', () => {
    f.fails(
      ['--script', 'nope.sh', 'true'],
      `filesystem error: in canonical: No such file or directory ["nope.sh"] ["${f.proj}"]`,
    );
    f.write('.jai/default.conf', '');
    assert.equal(f.launch(['--script?', 'nope.sh', 'true']).script, null);
  });

  it('--initjail must name an executable program now', () => {
    const prog = f.write('proj/init.sh', '#!/bin/sh\n', 0o755);
    assert.equal(f.launch(['--initjail', 'init.sh', 'true']).initjail, prog);
    const plain = f.write('proj/plain.sh', '#!/bin/sh\n', 0o644);
    f.usageError(['--initjail', plain, 'true'], `${plain}: no execute permission`);
    f.fails(
      ['--initjail', 'gone', 'true'],
      `filesystem error: in canonical: No such file or directory ["gone"] ["${f.proj}"]`,
    );
  });

  it('--initjail? ignores a program that does not exist, but not one that cannot run', () => {
    assert.equal(f.launch(['--initjail?', 'gone', 'true']).initjail, null);
    const plain = f.write('proj/plain2.sh', '', 0o600);
    f.usageError(['--initjail?', plain, 'true'], `${plain}: no execute permission`);
  });
});

describe('--setenv and --command', () => {
  const f = new CliFixture();
  after(() => f.cleanup());

  it('refuses `--setenv "X Y"`: did you mean =?', () => {
    f.usageError(['--setenv', 'X Y', 'true'], `Environment variable "X Y" contains space, did you mean '='?`);
  });

  it('runs the program through bash -c COMMAND when command is set, directly when it is empty', () => {
    assert.deepEqual(f.launch(['--command', 'exec "$0" "$@"', 'ls', '-l']).argv, [
      '/bin/bash',
      '-c',
      'exec "$0" "$@"',
      'ls',
      '-l',
    ]);
    assert.deepEqual(f.launch(['--command=', 'ls', '-l']).argv, ['ls', '-l']);
  });

  it('runs the login shell (or /bin/sh) when there is no command', () => {
    assert.deepEqual(f.launch(['--command=']).argv, ['/bin/zsh']);
    assert.deepEqual(f.launch(['--command='], { loginShell: '' }).argv, ['/bin/sh']);
  });
});

describe('--storage', () => {
  const f = new CliFixture();
  after(() => f.cleanup());

  it('relocates jail state: created 0700, relative to the cwd on the command line', () => {
    const r = f.launch(['--storage', 'st', 'true']);
    const st = path.join(f.proj, 'st');
    assert.equal(r.storage, st);
    assert.equal(fs.statSync(st).mode & 0o777, 0o700);
    assert.ok(fs.existsSync(path.join(st, 'default.jail')));
  });

  it('is relative to $HOME in files, and an empty value means the configuration directory', () => {
    f.write('.jai/s.conf', 'storage elsewhere\n');
    assert.equal(f.launch(['-C', 's', 'true']).storage, path.join(f.home, 'elsewhere'));
    assert.equal(f.launch(['-C', 's', '--storage=', 'true']).storage, f.cfg);
  });

  it('refuses grants inside the storage directory', () => {
    const st = f.mkdir(path.join(f.root, 'store'));
    const inside = f.mkdir(path.join(st, 'x'));
    f.fails(['--storage', st, '-d', inside, 'true'], `${inside}: cannot export a directory within ${st}`);
  });
});

describe('--net, --memory, --pids, --cpu', () => {
  const f = new CliFixture();
  after(() => f.cleanup());

  it('asks for nothing by default: the policy decides', () => {
    const r = f.launch(['true']);
    assert.equal(r.network, null);
    assert.deepEqual(r.limits, { memoryBytes: null, pids: null, cpu: null });
  });

  it('passes what was asked, from the command line or a config file (the command line wins)', () => {
    const r = f.launch(['--net=loopback', '--memory', '2G', '--pids=100', '--cpu', '1.5', 'true']);
    assert.equal(r.network, 'loopback');
    assert.deepEqual(r.limits, { memoryBytes: 2 * 1024 ** 3, pids: 100, cpu: 1.5 });
    f.write('.jai/lim.conf', 'net none\nmemory 512M\ncpu 1\n');
    const fromFile = f.launch(['-C', 'lim', 'true']);
    assert.equal(fromFile.network, 'none');
    assert.deepEqual(fromFile.limits, { memoryBytes: 512 * 1024 ** 2, pids: null, cpu: 1 });
    assert.equal(f.launch(['-C', 'lim', '--net', 'host', 'true']).network, 'host');
  });

  it('refuses values that are not a mode, a size, a count or a CPU amount (status 2)', () => {
    f.usageError(['--net', 'wifi', 'true'], 'invalid network mode wifi (host, loopback or none)');
    f.usageError(['--memory', 'lots', 'true'], 'invalid memory size lots');
    f.usageError(['--pids', '0', 'true'], 'invalid process count 0');
    f.usageError(['--cpu', '-1', 'true'], 'invalid CPU count -1');
  });
});

describe('config-file option names', () => {
  it('are the long names only, and include the conf includes but no command-line-only option', () => {
    assert.deepEqual([...FILE_OPTIONS.keys()].sort(), [
      '--command',
      '--conf',
      '--conf?',
      '--cpu',
      '--dir',
      '--dir!',
      '--filter-escapes',
      '--initjail',
      '--initjail?',
      '--jail',
      '--mask',
      '--memory',
      '--mode',
      '--net',
      '--no-filter-escapes',
      '--nocwd',
      '--pids',
      '--rdir',
      '--rdir?',
      '--script',
      '--script?',
      '--setenv',
      '--storage',
      '--unmask',
      '--unsetenv',
      '--xdir',
    ]);
  });
});
