// The jai(1) command line against a real daemon: messages and exit codes as upstream, grants, read-only grants.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { privilegedSkipReason } from '../helpers/privileged';
import { REPO, asUser, runJai, startFixture, type Fixture } from '../helpers/fixture';

const skip = privilegedSkipReason();
const TRY = 'Try jai --help for more information.\n';

describe('jai options', { skip }, () => {
  let f: Fixture;
  before(async () => {
    f = await startFixture('options');
  });
  after(async () => {
    await f.teardown();
  });

  it('--version names the untrusted user and carries the NO WARRANTY notice', () => {
    const r = runJai(f, ['--version']);
    assert.equal(r.status, 0);
    assert.match(r.stdout, /Untrusted user for strict mode: jai\n/);
    assert.match(r.stdout, /This program comes with NO WARRANTY/);
  });

  it('reports usage errors with exit 2 and the Try line', () => {
    const cases: [string[], string][] = [
      [['--bogus'], 'jai: unknown option --bogus\n'],
      [['-m', 'foo', 'true'], 'jai: invalid mode foo\n'],
      [['-j', '../x', 'true'], 'jai: ../x: invalid sandbox name\n'],
      [['--mask', '/etc', 'true'], 'jai: /etc: cannot mask an absolute path\n'],
      [['-u', 'ls'], '-u is not compatible with -d, -D, or a command\n'],
      [['-d'], 'jai: option -d requires an argument\n'],
    ];
    for (const [args, message] of cases) {
      const r = runJai(f, args);
      assert.equal(r.stderr, message + TRY, args.join(' '));
      assert.equal(r.status, 2, args.join(' '));
    }
  });

  it('reports a missing -C file with exit 1', () => {
    const r = runJai(f, ['-C', 'nosuch', 'true']);
    assert.equal(r.stderr, 'jai: nosuch: no such configuration file\n');
    assert.equal(r.status, 1);
  });

  it('grants read-only with -r', () => {
    const dir = asUser(f, () => fs.mkdtempSync(path.join(f.user.home, 'ro-')));
    fs.writeFileSync(path.join(dir, 'data'), 'readable\n');
    try {
      const r = runJai(f, ['-r', dir, 'sh', '-c', `cat ${dir}/data; touch ${dir}/new`]);
      assert.equal(r.stdout, 'readable\n');
      assert.match(r.stderr, /Read-only file system/);
      assert.notEqual(r.status, 0);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('mounts parents before children: a read-only child inside a read-write grant stays read-only', () => {
    const parent = asUser(f, () => fs.mkdtempSync(path.join(f.user.home, 'nest-')));
    const child = path.join(parent, 'child');
    asUser(f, () => fs.mkdirSync(child));
    try {
      const r = runJai(f, ['-r', child, '-d', parent, 'sh', '-c', `touch ${parent}/p && touch ${child}/c`]);
      assert.match(r.stderr, /Read-only file system/);
      assert.ok(fs.existsSync(path.join(parent, 'p')), 'the parent grant is writable');
      assert.ok(!fs.existsSync(path.join(child, 'c')), 'the child grant is not');
    } finally {
      fs.rmSync(parent, { recursive: true, force: true });
    }
  });

  it('refuses grants inside the config dir', () => {
    const inside = path.join(f.user.home, '.jai');
    const r = runJai(f, ['-d', inside, 'true']);
    assert.equal(r.stderr, `jai: ${inside}: cannot export a directory within ${inside}\n`);
    assert.equal(r.status, 1);
  });

  it('ships a bash completion script that registers jai', () => {
    const script = path.join(REPO, 'completion/jai.bash');
    const r = spawnSync('bash', ['-c', `source ${script} && complete -p jai`], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /complete .* jai$/m);
  });

  it('creates a --dir! directory as the user and grants it', () => {
    const dir = path.join(f.user.home, `made-${process.pid}`, 'sub');
    try {
      const r = runJai(f, [`--dir!`, dir, 'sh', '-c', `echo ok > ${dir}/f`]);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stderr, new RegExp(`jai: created ${dir}`));
      assert.equal(fs.statSync(dir).uid, f.user.uid);
      assert.equal(fs.readFileSync(path.join(dir, 'f'), 'utf8'), 'ok\n');
    } finally {
      fs.rmSync(path.dirname(dir), { recursive: true, force: true });
    }
  });

  it('allows an explicit grant of the home directory with -D', () => {
    const r = runJai(f, ['-D', '-d', f.user.home, 'sh', '-c', `echo direct > ${f.user.home}/direct-${process.pid}`]);
    const file = path.join(f.user.home, `direct-${process.pid}`);
    try {
      assert.equal(r.status, 0, r.stderr);
      assert.equal(fs.readFileSync(file, 'utf8'), 'direct\n', 'written to the real home, not the overlay');
    } finally {
      fs.rmSync(file, { force: true });
    }
  });

  it('prints the built-in defaults byte-identical to the .defaults file it creates', () => {
    runJai(f, ['true']);
    const printed = runJai(f, ['--print-defaults']);
    assert.equal(printed.status, 0);
    assert.equal(printed.stdout, fs.readFileSync(path.join(f.user.home, '.jai/.defaults'), 'utf8'));
  });

  it('completes options and hands commands to bash', () => {
    assert.equal(runJai(f, ['--complete', '-D', 'ls', '-l']).stdout, '_command_offset 2\n');
    assert.match(runJai(f, ['--complete', '--mo']).stdout, /^--mode $/m);
    assert.equal(runJai(f, ['--complete', '-m', 'st']).stdout, 'strict \n');
  });
});
