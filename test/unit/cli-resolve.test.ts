import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { DEFAULT_CONF, DEFAULT_JAIL, DEFAULT_JAIRC, DEFAULTS } from '../../client/cli/defaults';
import { isInertScript } from '../../client/cli/launch';
import { CliFixture, UID } from './cli-fixture';

const HOME_REFUSAL =
  'Refusing to grant your entire home directory to jailed code.\n' +
  '     Run "jai -D" to avoid granting the current working directory.';

describe('the configuration directory', () => {
  it('is created 0700 on every run with .defaults, default.conf and .jairc, each announced', () => {
    const f = new CliFixture();
    try {
      const r = f.launch(['true']);
      assert.equal(r.configDir, f.cfg);
      assert.equal(fs.statSync(f.cfg).mode & 0o777, 0o700);
      assert.deepEqual(f.lines, [
        `jai: created ${f.cfg}/.defaults`,
        `jai: created ${f.cfg}/default.conf`,
        `jai: created ${f.cfg}/.jairc`,
        `jai: created ${f.cfg}/default.jail`,
      ]);
      assert.equal(fs.readFileSync(path.join(f.cfg, '.defaults'), 'utf8'), DEFAULTS);
      assert.equal(fs.readFileSync(path.join(f.cfg, 'default.conf'), 'utf8'), DEFAULT_CONF);
      assert.equal(fs.readFileSync(path.join(f.cfg, '.jairc'), 'utf8'), DEFAULT_JAIRC);
      for (const name of ['.defaults', 'default.conf', '.jairc', 'default.jail']) {
        assert.equal(fs.statSync(path.join(f.cfg, name)).mode & 0o777, 0o600, name);
      }
      f.launch(['true']);
      assert.deepEqual(f.lines, [], 'existing files are left alone');
    } finally {
      f.cleanup();
    }
  });

  it('recreates a deleted file but keeps an edited one', () => {
    const f = new CliFixture();
    try {
      f.launch(['true']);
      fs.rmSync(path.join(f.cfg, '.jairc'));
      fs.writeFileSync(path.join(f.cfg, '.defaults'), '# mine\n');
      f.launch(['true']);
      assert.deepEqual(f.lines, [`jai: created ${f.cfg}/.jairc`]);
      assert.equal(fs.readFileSync(path.join(f.cfg, '.defaults'), 'utf8'), '# mine\n');
    } finally {
      f.cleanup();
    }
  });

  it('has its permissions reduced to at most 0700', () => {
    const f = new CliFixture();
    try {
      fs.mkdirSync(f.cfg, { mode: 0o755 });
      fs.chmodSync(f.cfg, 0o755);
      f.launch(['true']);
      assert.equal(fs.statSync(f.cfg).mode & 0o777, 0o700);
    } finally {
      f.cleanup();
    }
  });

  it('is $JAI_CONFIG_DIR when set (relative to $HOME), exported as given', () => {
    const f = new CliFixture();
    try {
      const r = f.launch(['true'], { env: { JAI_CONFIG_DIR: 'cfg/jai' } });
      const dir = path.join(f.home, 'cfg', 'jai');
      assert.equal(r.configDir, dir);
      assert.equal(r.storage, dir);
      assert.ok(r.env.includes(`JAI_CONFIG_DIR=${dir}`));
      assert.ok(fs.existsSync(path.join(dir, '.defaults')));
      const abs = path.join(f.root, 'abs');
      assert.equal(f.launch(['true'], { env: { JAI_CONFIG_DIR: abs } }).configDir, abs);
    } finally {
      f.cleanup();
    }
  });

  it('refuses a file where a default file should be', () => {
    const f = new CliFixture();
    try {
      fs.mkdirSync(path.join(f.cfg, 'default.conf'), { recursive: true });
      f.fails(['true'], `${f.cfg}/default.conf: not a regular file`);
    } finally {
      f.cleanup();
    }
  });

  it('must be owned by the user, and so must $HOME', (t) => {
    if (UID !== 0) return t.skip('needs root to give a directory away');
    const f = new CliFixture();
    try {
      f.fails(['true'], `${f.home}: owned by 0 should be owned by 4242`, { uid: 4242 });
      fs.mkdirSync(f.cfg);
      fs.chownSync(f.cfg, 4242, 4242);
      f.fails(['true'], `${f.cfg}: owned by 4242 should be owned by 0`);
    } finally {
      f.cleanup();
    }
  });
});

describe('--init', () => {
  it('creates the default files and default.jail, then prints where to edit the defaults', () => {
    const f = new CliFixture();
    try {
      assert.deepEqual(f.output(['--init']), {
        stdout:
          `You can edit the configuration defaults in ${f.cfg}/.defaults.\n` +
          'Run jai --print-defaults to see the original contents of that file.\n',
        stderr: '',
        exitCode: 0,
      });
      assert.equal(f.lines.length, 4);
      assert.equal(fs.readFileSync(path.join(f.cfg, 'default.jail'), 'utf8'), DEFAULT_JAIL);
    } finally {
      f.cleanup();
    }
  });

  it('puts default.jail in --storage', () => {
    const f = new CliFixture();
    try {
      f.output(['--storage', 'st', '--init']);
      assert.ok(fs.existsSync(path.join(f.proj, 'st', 'default.jail')));
    } finally {
      f.cleanup();
    }
  });
});

describe('the .conf file', () => {
  const f = new CliFixture();
  after(() => f.cleanup());
  f.write('.jai/default.jail', '# neutral\n');
  f.write('.jai/default.conf', 'mode bare\n');
  f.write('.jai/claude.conf', 'mode casual\n');
  f.write('.jai/other.conf', 'mode strict\nsetenv FROM=other\n');

  it('is CMD.conf when the command is a plain name with such a file', () => {
    assert.equal(f.launch(['claude', '--x']).mode, 'casual');
    assert.equal(f.launch(['ls']).mode, 'bare', 'no ls.conf: default.conf');
  });

  it('is default.conf for a command with a slash, a dotted name, or no command', () => {
    f.write('.jai/.hidden.conf', 'mode casual\n');
    assert.equal(f.launch(['/usr/bin/claude']).mode, 'bare');
    assert.equal(f.launch(['.hidden']).mode, 'bare');
    assert.equal(f.launch([]).mode, 'bare');
  });

  it('is the -C file when given (the last -C wins; it is not parsed in place)', () => {
    assert.equal(f.launch(['-C', 'other', 'claude']).mode, 'strict');
    const r = f.launch(['-C', 'claude', '--conf=other', 'ls']);
    assert.ok(r.env.includes('FROM=other'));
  });

  it('-C default finds default.conf', () => {
    assert.equal(f.launch(['-C', 'default', 'claude']).mode, 'bare');
  });

  it('a missing -C file is `NAME: no such configuration file`, exit 1 (also with --conf?)', () => {
    f.fails(['-C', 'nothere', 'true'], 'nothere: no such configuration file');
    f.fails(['--conf?', 'nothere', 'true'], 'nothere: no such configuration file');
  });

  it('an empty default.conf means no defaults at all (it is recreated only when deleted)', () => {
    f.write('.jai/default.conf', '');
    const r = f.launch(['true']);
    assert.equal(r.mode, 'strict');
    assert.deepEqual(r.masks, []);
    assert.deepEqual(r.argv, ['true']);
    f.write('.jai/default.conf', 'mode bare\n');
  });
});

describe('precedence: command line over .jail over .conf', () => {
  const f = new CliFixture();
  after(() => f.cleanup());

  it('creates default.jail with `mode casual` and a named jail with the mode in effect', () => {
    assert.equal(f.launch(['true']).mode, 'casual');
    assert.equal(fs.readFileSync(path.join(f.cfg, 'default.jail'), 'utf8'), DEFAULT_JAIL);
    assert.equal(f.launch(['-j', 'w', 'true']).mode, 'strict');
    assert.equal(fs.readFileSync(path.join(f.cfg, 'w.jail'), 'utf8'), 'mode strict\n');
    f.launch(['-j', 'b', '-m', 'bare', 'true']);
    assert.equal(fs.readFileSync(path.join(f.cfg, 'b.jail'), 'utf8'), 'mode bare\n');
    assert.equal(f.launch(['-j', 'b', 'true']).mode, 'bare', 'the .jail keeps the mode');
  });

  it('lets the .jail override the .conf and the command line override both', () => {
    f.write('.jai/p.conf', 'mode bare\nsetenv V=conf\n');
    f.write('.jai/pj.jail', 'mode casual\nsetenv V=jail\n');
    const r = f.launch(['-C', 'p', '-j', 'pj', 'true']);
    assert.equal(r.mode, 'casual');
    assert.ok(r.env.includes('V=jail'));
    const c = f.launch(['-C', 'p', '-j', 'pj', '-m', 'strict', '--setenv', 'V=cli', 'true']);
    assert.equal(c.mode, 'strict');
    assert.ok(c.env.includes('V=cli'));
  });

  it('takes the jail name from the .conf file', () => {
    f.write('.jai/named.conf', 'jail fromconf\n');
    assert.equal(f.launch(['-C', 'named', 'true']).jail, 'fromconf');
    assert.equal(f.launch(['-C', 'named', '-j', 'cli', 'true']).jail, 'cli');
  });

  it('refuses `jail` in a .jail file or anything it includes', () => {
    f.write('.jai/bad.jail', 'jail other\n');
    f.fails(['-j', 'bad', 'true'], `${f.cfg}/bad.jail:1: cannot set name from a .jail file or include`);
    f.write('.jai/setsname.conf', 'jail x\n');
    f.write('.jai/bad2.jail', 'mode bare\nconf setsname\n');
    f.fails(
      ['-j', 'bad2', 'true'],
      `${f.cfg}/bad2.jail:2: ${f.cfg}/setsname.conf:1: cannot set name from a .jail file or include`,
    );
  });

  it('reads the .jail from --storage', () => {
    const st = f.mkdir(path.join(f.root, 'store'));
    fs.writeFileSync(path.join(st, 's.jail'), 'mode bare\n');
    const r = f.launch(['--storage', st, '-j', 's', 'true']);
    assert.equal(r.storage, st);
    assert.equal(r.mode, 'bare');
  });
});

describe('jai -u', () => {
  const f = new CliFixture();
  after(() => f.cleanup());

  it('tears down every jail when no name is set', () => {
    assert.deepEqual(f.teardown(['-u']), {
      kind: 'teardown',
      jail: null,
      mode: 'strict',
      configDir: f.cfg,
      storage: f.cfg,
    });
  });

  it('tears down one jail, with its resolved mode, when -j or the .conf names it', () => {
    assert.deepEqual(f.teardown(['-u', '-j', 'default']), {
      kind: 'teardown',
      jail: 'default',
      mode: 'casual',
      configDir: f.cfg,
      storage: f.cfg,
    });
    assert.ok(fs.existsSync(path.join(f.cfg, 'default.jail')));
    f.write('.jai/uj.conf', 'jail fromconf\nmode bare\n');
    const t = f.teardown(['-u', '-C', 'uj']);
    assert.equal(t.jail, 'fromconf');
    assert.equal(t.mode, 'bare');
  });

  it('is not compatible with -d, -D or a command (exit 2, no jai: prefix)', () => {
    const expected = {
      stdout: '',
      stderr: '-u is not compatible with -d, -D, or a command\nTry jai --help for more information.\n',
      exitCode: 2,
    };
    assert.deepEqual(f.output(['-u', 'ls']), expected);
    assert.deepEqual(f.output(['-u', '-D']), expected);
    assert.deepEqual(f.output(['-u', '-d', f.proj]), expected);
    assert.deepEqual(f.output(['-u', '--dir!', path.join(f.root, 'nd')]), expected);
  });

  it('ignores grants from config files', () => {
    f.write('.jai/g.conf', `dir ${f.proj}\nnocwd\n`);
    assert.equal(f.teardown(['-u', '-C', 'g']).jail, null);
  });
});

describe('the current directory', () => {
  const f = new CliFixture();
  after(() => f.cleanup());

  it('is granted implicitly (nocwd false, not among the explicit grants)', () => {
    const r = f.launch(['true']);
    assert.equal(r.cwd, f.proj);
    assert.equal(r.nocwd, false);
    assert.deepEqual(r.grants, []);
  });

  it('is canonical and exported as PWD', () => {
    fs.symlinkSync(f.proj, path.join(f.root, 'plink'));
    const r = f.launch(['true'], { cwd: path.join(f.root, 'plink'), env: { PWD: '/bogus' } });
    assert.equal(r.cwd, f.proj);
    assert.ok(r.env.includes(`PWD=${f.proj}`));
  });

  it('is not granted with -D, or in a file with nocwd', () => {
    assert.equal(f.launch(['-D', 'true']).nocwd, true);
    f.write('.jai/nc.conf', 'nocwd\n');
    assert.equal(f.launch(['-C', 'nc', 'true']).nocwd, true);
  });

  it('counts as covered when it is granted explicitly (even read-only)', () => {
    const r = f.launch(['-r', '.', 'true']);
    assert.equal(r.nocwd, true);
    assert.deepEqual(r.grants, [{ path: f.proj, readOnly: true }]);
  });

  it('refuses to grant the whole home directory implicitly', () => {
    f.fails(['true'], HOME_REFUSAL, { cwd: f.home });
    assert.equal(f.launch(['-D', 'true'], { cwd: f.home }).nocwd, true);
    const r = f.launch(['-d', f.home, 'true'], { cwd: f.home });
    assert.deepEqual(r.grants, [{ path: f.home, readOnly: false }]);
  });

  it('cannot be inside the configuration directory', () => {
    f.fails(['true'], `${f.cfg}: cannot export a directory within ${f.cfg}`, { cwd: f.cfg });
  });
});

describe('grants inside jai’s own directories', () => {
  const f = new CliFixture();
  after(() => f.cleanup());

  it('are refused: `D: cannot export a directory within CFG`', () => {
    f.launch(['true']);
    const inside = f.mkdir('.jai/sub');
    f.fails(['-d', inside, 'true'], `${inside}: cannot export a directory within ${f.cfg}`);
    f.fails(['-r', f.cfg, 'true'], `${f.cfg}: cannot export a directory within ${f.cfg}`);
  });

  it('are refused through a symlinked configuration directory too', () => {
    const real = f.mkdir(path.join(f.root, 'realcfg'));
    fs.symlinkSync(real, path.join(f.home, 'cfglink'));
    const inside = f.mkdir(path.join(real, 'x'));
    f.fails(['-d', inside, 'true'], `${inside}: cannot export a directory within ${f.home}/cfglink`, {
      env: { JAI_CONFIG_DIR: 'cfglink' },
    });
  });

  it('are checked in path order: the first offending grant is reported', () => {
    const a = f.mkdir(path.join(f.root, 'a'));
    const inside = f.mkdir('.jai/z');
    const file = f.write(path.join(f.root, 'b'), '');
    f.fails(
      ['-d', inside, '-d', file, '-d', a, 'true'],
      `openat("${file}", O_DIRECTORY|O_CLOEXEC|O_PATH): Not a directory`,
    );
  });
});

describe('the startup script', () => {
  const f = new CliFixture();
  after(() => f.cleanup());

  const trailer =
    /\n# Added by jai[^\n]*\nif \[\[ -n \$JAI_SCRIPT && -z \$\{JAI_KEEP_SCRIPT\+set\} \]\]; then\n {4}rm -f "\$JAI_SCRIPT"\n {4}unset JAI_SCRIPT\nfi\n$/;

  it('is not sent when it is the default .jairc (comments only) and the default command sources it first', () => {
    const r = f.launch(['true']);
    assert.equal(r.script, null);
    assert.deepEqual(r.argv, ['/bin/bash', '-c', 'source "${JAI_SCRIPT:-/dev/null}"; "$0" "$@"', 'true']);
    assert.ok(!r.env.some((e) => e.startsWith('JAI_SCRIPT=')));
  });

  it('is the .jairc plus a trailer that removes $JAI_SCRIPT, when the environment of the jail could act on it', () => {
    for (const [argv, env] of [
      [['--setenv', 'JAI_KEEP_SCRIPT=', 'true'], {}],
      [['true'], { JAI_KEEP_SCRIPT: '1' }],
      [['true'], { BASH_ENV: '/home/alice/env.sh' }],
      [['true'], { 'BASH_FUNC_rm%%': '() { :; }' }],
      [['true'], { SHELLOPTS: 'xtrace' }],
      [['--setenv', 'BASHOPTS=extdebug', 'true'], {}],
    ] as const) {
      const r = f.launch(argv, { env });
      assert.ok(r.script !== null, JSON.stringify(argv) + JSON.stringify(env));
      assert.ok(r.script.startsWith(`${DEFAULT_JAIRC}\n`));
      assert.match(r.script, trailer);
    }
  });

  it('is not sent when what would act on it does not reach the jail', () => {
    const r = f.launch(['--unsetenv', 'JAI_KEEP_SCRIPT', '--unsetenv', 'BASH_*', 'true'], {
      env: { JAI_KEEP_SCRIPT: '1', BASH_ENV: '/home/alice/env.sh', 'BASH_FUNC_rm%%': '() { :; }' },
    });
    assert.equal(r.script, null);
  });

  it('is sent, comments only, when the command does not source it first', () => {
    for (const command of ['"$0" "$@"', 'echo hi; source "${JAI_SCRIPT:-/dev/null}"; "$0" "$@"', '']) {
      const r = f.launch(['--command', command, 'true']);
      assert.ok(r.script?.startsWith(`${DEFAULT_JAIRC}\n`), command);
      assert.match(r.script ?? '', trailer);
    }
  });

  it('is sent when a script file does something', () => {
    const one = f.write('proj/one.sh', '# comment\n  export A=1 # set\n');
    const r = f.launch(['--script', one, 'true']);
    assert.ok(r.script?.startsWith(`# comment\n  export A=1 # set\n\n${DEFAULT_JAIRC}\n`), r.script ?? '');
    assert.match(r.script ?? '', trailer);
  });

  it('counts as inert only blank lines (spaces and tabs) and comments, which bash runs nothing of', () => {
    // What bash traces sourcing TEXT: only the `source` itself when it runs nothing of it.
    const trace = (text: string): string => {
      const file = f.write('proj/inert-probe.sh', text);
      return spawnSync('/bin/bash', ['-c', 'set -x; source "$1"', 'probe', file], {
        encoding: 'utf8',
        env: { PATH: '/usr/bin:/bin' },
      }).stderr;
    };
    const nothing = trace('');
    const invalidUtf8InComment = Buffer.from([0x23, 0x20, 0xff, 0xc0, 0xaf, 0x0a]).toString('utf8');
    const inert = ['', '\n', '# a\n  # b\n\t\n\n', '#', '  #x \\\n', DEFAULT_JAIRC, invalidUtf8InComment];
    const active = ['x\n', '# a\nb', 'a # b\n', '# a \\\nb\n', '\r\n', '\f\n', '\v\n', ': # x\n', '\ufeff# a BOM\n'];
    // Comments to bash, but counted as something all the same: CR and NUL are kept out.
    const cautious = ['# a\r\n', '# a\0\n'];
    for (const text of inert) {
      assert.equal(isInertScript(text), true, JSON.stringify(text));
      assert.equal(trace(text), nothing, JSON.stringify(text));
    }
    for (const text of active) {
      assert.equal(isInertScript(text), false, JSON.stringify(text));
      assert.notEqual(trace(text), nothing, JSON.stringify(text));
    }
    for (const text of cautious) assert.equal(isInertScript(text), false, JSON.stringify(text));
  });

  it('is absent without script files, and the default command sources it', () => {
    f.write('.jai/none.conf', 'command source "${JAI_SCRIPT:-/dev/null}"; "$0" "$@"\n');
    const r = f.launch(['-C', 'none', 'true']);
    assert.equal(r.script, null);
    assert.deepEqual(r.argv, ['/bin/bash', '-c', 'source "${JAI_SCRIPT:-/dev/null}"; "$0" "$@"', 'true']);
  });

  it('orders files: command line, then the .conf chain, then the .jail chain', () => {
    f.write('.jai/c.sh', 'C');
    f.write('.jai/j.sh', 'J');
    const cli = f.write('proj/cli.sh', 'CLI');
    f.write('.jai/sc.conf', 'script c.sh\n');
    f.write('.jai/sj.jail', 'script j.sh\nscript c.sh\n');
    const r = f.launch(['-C', 'sc', '-j', 'sj', '--script', cli, 'true']);
    assert.ok(r.script?.startsWith('CLI\nC\nJ\n\n# Added by jai'), r.script ?? '');
  });
});
