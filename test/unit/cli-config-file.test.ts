import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import fc from 'fast-check';
import { MAX_CONFIG_BYTES, readConfigEntries, type ConfigEntry } from '../../client/cli/config-file';
import { DEFAULTS, DEFAULT_CONF, DEFAULT_JAIL, DEFAULT_JAIRC } from '../../client/cli/defaults';
import { nodeResolveFs } from '../../client/cli/node-fs';
import { CliFixture } from './cli-fixture';

/**
 * The reader as first written, one character at a time: the reference for the line-by-line one (config-file.ts).
 */
function referenceEntries(text: string): ConfigEntry[] {
  const skip = (pos: number, set: string): number => {
    while (pos < text.length && set.includes(text[pos] ?? '')) pos++;
    return pos;
  };
  const entries: ConfigEntry[] = [];
  let counted = 0;
  let newlines = 0;
  const lineAt = (pos: number): number => {
    for (const end = Math.min(pos, text.length); counted < end; counted++) if (text[counted] === '\n') newlines++;
    return newlines + 1;
  };
  let pos = 0;
  while (pos < text.length) {
    pos = skip(pos, ' \t\r\n');
    if (pos >= text.length) break;
    if (text[pos] === '#') {
      const nl = text.indexOf('\n', pos);
      pos = nl < 0 ? text.length : nl;
      continue;
    }
    let end = pos;
    while (end < text.length && !' \t\r\n='.includes(text[end] ?? '')) end++;
    let word = `--${text.slice(pos, end)}`;
    pos = skip(end, ' \t\r');
    if (pos >= text.length || text[pos] === '\n') {
      entries.push({ word, line: lineAt(pos) });
      continue;
    }
    if (text[pos] !== '=') word += '=';
    let escape = false;
    let lastEscaped = false;
    for (; pos < text.length && (escape || text[pos] !== '\n'); pos++) {
      const c = text[pos] ?? '';
      if (c === '\r') continue;
      if (!escape) {
        lastEscaped = false;
        if (c === '\\') escape = true;
        else word += c;
        continue;
      }
      escape = false;
      lastEscaped = true;
      if (c === 't') word += '\t';
      else if (c === 'r') word += '\r';
      else if (c === 'n') word += '\n';
      else if (c === '\n') pos = skip(pos + 1, ' \t\r') - 1;
      else word += c;
    }
    if (!lastEscaped) word = word.replace(/[ \t\r\n]+$/, '');
    entries.push({ word, line: lineAt(pos) });
  }
  return entries;
}

function words(text: string): string[] {
  return readConfigEntries(text).map((e) => e.word);
}

describe('config line syntax', () => {
  it('reads `name value`, `name=value` and a bare `name`', () => {
    assert.deepEqual(words('mode casual\ndir=/x\nnocwd\n'), ['--mode=casual', '--dir=/x', '--nocwd']);
  });

  it('skips blank lines, leading blanks and comment lines', () => {
    assert.deepEqual(words('\n\n   # comment\n\t mode  strict \n#mode bare'), ['--mode=strict']);
  });

  it('keeps # inside a value (it is not a comment there)', () => {
    assert.deepEqual(words('mode casual # x\n'), ['--mode=casual # x']);
  });

  it('takes everything after = as the value, blanks included', () => {
    assert.deepEqual(words('mode = casual\n'), ['--mode= casual']);
    assert.deepEqual(words('setenv A=B=C\n'), ['--setenv=A=B=C']);
    assert.deepEqual(words('nocwd=\n'), ['--nocwd=']);
  });

  it('gives an option with only blanks after it no value', () => {
    assert.deepEqual(words('nocwd \t \r\nmode'), ['--nocwd', '--mode']);
  });

  it('decodes \\t \\r \\n and quotes any other character with a backslash', () => {
    assert.deepEqual(words('setenv A=1\\t2\\r3\\n4\\\\5\\#6\\q\n'), ['--setenv=A=1\t2\r3\n4\\5#6q']);
  });

  it('continues a line after backslash-newline, skipping the next line’s leading blanks', () => {
    assert.deepEqual(words('command echo \\\n    one \\\n\ttwo\nnocwd\n'), ['--command=echo one two', '--nocwd']);
    assert.deepEqual(words('mode \\\n  casual'), ['--mode=casual']);
  });

  it('drops raw carriage returns (CRLF files work, continuations included)', () => {
    assert.deepEqual(words('mode casual\r\ncommand a\\\r\n b\r\n'), ['--mode=casual', '--command=ab']);
  });

  it('trims trailing blanks unless the last character came from an escape', () => {
    assert.deepEqual(words('command x  \t\n'), ['--command=x']);
    assert.deepEqual(words('command trail\\ \n'), ['--command=trail ']);
    assert.deepEqual(words('command x\\t\n'), ['--command=x\t']);
    assert.deepEqual(words('command x\\   \n'), ['--command=x'], 'a blank after the escape ends it');
  });

  it('reads any text as the character-by-character reader does (entries and line numbers)', () => {
    for (const text of [DEFAULTS, DEFAULT_CONF, DEFAULT_JAIL, DEFAULT_JAIRC])
      assert.deepEqual(readConfigEntries(text), referenceEntries(text));
    const chars = fc.constantFrom(' ', '\t', '\r', '\n', '=', '#', '\\', 't', 'r', 'n', 'x', 'é');
    fc.assert(
      fc.property(fc.array(chars, { maxLength: 60 }), (list) => {
        const text = list.join('');
        assert.deepEqual(readConfigEntries(text), referenceEntries(text), JSON.stringify(text));
      }),
      { seed: 0x6a6169, numRuns: 20000 },
    );
  });

  it('numbers each entry by the line it ends on', () => {
    assert.deepEqual(
      readConfigEntries('# c\n\nmode a\ncommand x\\\ny\nnocwd').map((e) => e.line),
      [3, 5, 6],
    );
  });

  it('turns a name written with dashes into an unknown option', () => {
    assert.deepEqual(words('-d /x\nd /x\n'), ['---d=/x', '--d=/x']);
  });
});

describe('config files', () => {
  const f = new CliFixture();
  after(() => f.cleanup());
  const cfg = f.cfg;
  // The default jail's file would set `mode casual` after the .conf files: keep it neutral here.
  f.write('.jai/default.jail', '# neutral\n');

  it('reports an error inside a file as REALPATH:LINE: message, exit 1 (not 2)', () => {
    f.write('.jai/bad.conf', '# first\nmode casual # x\n');
    f.fails(['-C', 'bad', 'true'], `${cfg}/bad.conf:2: invalid mode casual # x`);
    f.write('.jai/bad.conf', 'd /x\n');
    f.fails(['-C', 'bad', 'true'], `${cfg}/bad.conf:1: unknown option --d`);
    f.write('.jai/bad.conf', '\ndir\n');
    f.fails(['-C', 'bad', 'true'], `${cfg}/bad.conf:2: option --dir requires an argument`);
    f.write('.jai/bad.conf', 'nocwd=yes\n');
    f.fails(['-C', 'bad', 'true'], `${cfg}/bad.conf:1: option --nocwd takes no argument`);
    f.write('.jai/bad.conf', 'init\n');
    f.fails(['-C', 'bad', 'true'], `${cfg}/bad.conf:1: unknown option --init`);
    f.write('.jai/bad.conf', 'mask /etc\n');
    f.fails(['-C', 'bad', 'true'], `${cfg}/bad.conf:1: /etc: cannot mask an absolute path`);
    f.write('.jai/bad.conf', 'jail ../x\n');
    f.fails(['-C', 'bad', 'true'], `${cfg}/bad.conf:1: ../x: invalid sandbox name`);
    f.write('.jai/bad.conf', 'setenv A B\n');
    f.fails(['-C', 'bad', 'true'], `${cfg}/bad.conf:1: Environment variable "A B" contains space, did you mean '='?`);
  });

  it('keeps the blank after `name =` in the value, so `mode = casual` is invalid', () => {
    f.write('.jai/eq.conf', 'mode = casual\n');
    f.fails(['-C', 'eq', 'true'], `${cfg}/eq.conf:1: invalid mode  casual`);
  });

  it('reports the last line of a continued entry', () => {
    f.write('.jai/cont.conf', 'mode \\\n  \\\n  bogus\n');
    f.fails(['-C', 'cont', 'true'], `${cfg}/cont.conf:3: invalid mode bogus`);
  });

  it('reports the real path of a file reached through a symlink', () => {
    const real = f.write(path.join(f.root, 'real.conf'), 'mode x\n');
    fs.symlinkSync(real, path.join(cfg, 'via.conf'));
    f.fails(['-C', 'via', 'true'], `${real}:1: invalid mode x`);
  });

  it('does not prefix filesystem errors with FILE:LINE', () => {
    f.write('.jai/fs.conf', 'dir /nonexistent\n');
    f.fails(['-C', 'fs', 'true'], 'filesystem error: in canonical: No such file or directory ["/nonexistent"] [""]');
  });

  it('parses `conf FILE` in place: later lines override the included file and vice versa', () => {
    f.write('.jai/inc.conf', 'mode bare\n');
    f.write('.jai/top.conf', 'mode strict\nconf inc\n');
    assert.equal(f.launch(['-C', 'top', 'true']).mode, 'bare');
    f.write('.jai/top.conf', 'conf inc.conf\nmode strict\n');
    assert.equal(f.launch(['-C', 'top', 'true']).mode, 'strict');
  });

  it('nests include errors, one FILE:LINE: per level', () => {
    f.write('.jai/a.conf', 'conf b\n');
    f.write('.jai/b.conf', '\nmode x\n');
    f.fails(['-C', 'a', 'true'], `${cfg}/a.conf:1: ${cfg}/b.conf:2: invalid mode x`);
  });

  it('detects include loops by real path: `configuration loop`', () => {
    f.write('.jai/a.conf', 'conf b\n');
    f.write('.jai/b.conf', 'conf a\n');
    f.fails(['-C', 'a', 'true'], `${cfg}/a.conf:1: ${cfg}/b.conf:1: configuration loop`);
    f.write('.jai/self.conf', `conf ${cfg}/./self.conf\n`);
    f.fails(['-C', 'self', 'true'], `${cfg}/self.conf:1: configuration loop`);
  });

  it('allows including the same file twice in a row', () => {
    f.write('.jai/twice.conf', 'mask m1\n');
    f.write('.jai/top2.conf', 'conf twice\nconf twice\nmode bare\n');
    assert.equal(f.launch(['-C', 'top2', 'true']).mode, 'bare');
  });

  it('fails on a missing `conf FILE` and skips a missing `conf? FILE`', () => {
    f.write('.jai/m.conf', 'conf? nothere\nconf nothere\n');
    f.fails(['-C', 'm', 'true'], `${cfg}/m.conf:2: nothere: configuration file not found`);
  });

  it('looks names without / up in $CFG, appending .conf when only that exists', () => {
    f.write('.jai/plain', 'mode bare\n');
    f.write('.jai/plain.conf', 'mode casual\n');
    f.write('.jai/only.conf', 'mode bare\n');
    assert.equal(f.launch(['-C', 'plain', 'true']).mode, 'bare', 'the name as given exists');
    assert.equal(f.launch(['-C', 'only', 'true']).mode, 'bare');
    assert.equal(f.launch(['-C', 'only.conf', 'true']).mode, 'bare');
  });

  it('resolves names with / against the cwd on the command line and against $CFG in files', () => {
    f.write('proj/sub/local.conf', 'mode bare\n');
    f.write('.jai/sub/incfg.conf', 'mode casual\n');
    f.write('.jai/sub/top.conf', 'conf sub/incfg.conf\n');
    assert.equal(f.launch(['-C', 'sub/local.conf', 'true']).mode, 'bare');
    assert.equal(f.launch(['-D', '-C', './sub/top.conf', 'true'], { cwd: cfg }).mode, 'casual');
    f.fails(['-C', 'sub/incfg.conf', 'true'], 'sub/incfg.conf: no such configuration file');
  });

  it('does not hang on a FIFO named as a config file', () => {
    const fifo = path.join(cfg, 'fifo.conf');
    assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
    assert.equal(f.launch(['-C', 'fifo.conf', 'true']).mode, 'strict');
    f.fails(['-C', 'fifo', 'true'], 'fifo: no such configuration file', {}); // .conf is appended only for regular files
  });

  it('refuses files larger than 16 MiB', () => {
    const big = path.join(cfg, 'big.conf');
    fs.writeFileSync(big, Buffer.alloc(MAX_CONFIG_BYTES, ' '));
    assert.equal(f.launch(['-C', 'big', 'true']).mode, 'strict', 'exactly 16 MiB is read');
    fs.appendFileSync(big, ' ');
    f.fails(['-C', 'big', 'true'], `${big}: File too large`);
  });

  it('reads files whole whatever their size says: small, empty, over 64 KiB, /proc (size 0)', () => {
    const file = path.join(cfg, 'sized');
    for (const size of [0, 1, 200, 65535, 65536, 65537, 300_000]) {
      const data = Buffer.alloc(size, 'x');
      fs.writeFileSync(file, data);
      const r = nodeResolveFs.readFile(file, MAX_CONFIG_BYTES);
      assert.ok(r.ok && r.value.equals(data), `${size} bytes`);
      const capped = nodeResolveFs.readFile(file, size - 1);
      assert.ok(size === 0 || (!capped.ok && capped.code === 'EFBIG'), `${size} bytes over a cap of ${size - 1}`);
    }
    const proc = nodeResolveFs.readFile('/proc/self/status', MAX_CONFIG_BYTES);
    assert.ok(proc.ok && proc.value.toString().startsWith('Name:') && proc.value.toString().endsWith('\n'));
    const zero = nodeResolveFs.readFile('/dev/zero', 100_000);
    assert.ok(!zero.ok && zero.code === 'EFBIG', 'a device that never ends is cut at the cap');
  });
});

describe('${VAR} substitution in config files', () => {
  const f = new CliFixture();
  after(() => f.cleanup());
  f.write('.jai/default.jail', '# neutral\n');

  it('applies to directories, masks, includes, storage and setenv values', () => {
    const d = f.mkdir('data/alice');
    f.write('.jai/alice.inc', 'mode bare\n');
    f.write(
      '.jai/v.conf',
      [
        'setenv WHO=alice',
        'dir ${HOME}/data/${WHO}',
        'mask .cache/${WHO}',
        'conf ${WHO}.inc',
        'setenv GREETING=hi ${JAI_USER} in ${PWD}',
        'storage ${HOME}/st-${WHO}',
      ].join('\n'),
    );
    const r = f.launch(['-C', 'v', '-j', 'vjail', 'true']);
    assert.deepEqual(r.grants, [{ path: d, readOnly: false }]);
    assert.deepEqual(r.masks, ['.cache/alice']);
    assert.equal(r.mode, 'bare');
    assert.ok(r.env.includes(`GREETING=hi alice in ${f.proj}`));
    assert.equal(r.storage, path.join(f.home, 'st-alice'));
  });

  it('applies to rdir, rdir?, xdir, dir!, unmask and conf? as well', () => {
    const data = f.mkdir('data2');
    const drop = f.mkdir('drop');
    f.write(
      '.jai/w.conf',
      [
        'setenv D=data2',
        'rdir ${HOME}/${D}',
        'rdir? ${HOME}/missing-${D}',
        'dir ${HOME}/drop',
        'xdir ${HOME}/drop',
        'dir! new-${D}',
        'mask a-${D}',
        'unmask a-${D}',
        'conf? none-${D}',
      ].join('\n'),
    );
    const r = f.launch(['-C', 'w', 'true']);
    assert.deepEqual(r.grants, [
      { path: data, readOnly: true },
      { path: path.join(f.home, 'new-data2'), readOnly: false },
    ]);
    assert.deepEqual(r.masks, []);
    assert.ok(fs.existsSync(drop));
  });

  it('takes a jail name literally', () => {
    f.write('.jai/j.conf', 'setenv X=y\njail ${X}\n');
    assert.equal(f.launch(['-C', 'j', 'true']).jail, '${X}');
  });

  it('does not apply to script, initjail, command, unsetenv, mode or jail', () => {
    f.write('.jai/n.conf', 'setenv M=casual\ncommand echo ${M}\nunsetenv ${M}\nmode ${M}\n');
    f.fails(['-C', 'n', 'true'], `${f.cfg}/n.conf:4: invalid mode \${M}`);
    f.write('.jai/n.conf', 'command echo ${M}\n');
    assert.deepEqual(f.launch(['-C', 'n', 'true']).argv, ['/bin/bash', '-c', 'echo ${M}', 'true']);
    f.write('.jai/${X}.sh', 'literal');
    f.write('.jai/n.conf', 'setenv X=nope\nscript ${X}.sh\n');
    assert.ok(f.launch(['-C', 'n', 'true']).script?.startsWith('literal\n'));
  });

  it('substitutes an unset variable by nothing and leaves `${` without `}` alone', () => {
    f.write('.jai/u.conf', 'setenv A=[${UNSET_VAR}]\nsetenv B=${open\n');
    const env = f.launch(['-C', 'u', 'true']).env;
    assert.ok(env.includes('A=[]'));
    assert.ok(env.includes('B=${open'));
  });

  it('needs \\\\${X} for a literal ${X}; \\${X} still expands (the reader eats one backslash)', () => {
    f.write('.jai/q.conf', 'setenv Q=\\\\${HOME}\nsetenv R=\\${HOME}\n');
    const env = f.launch(['-C', 'q', 'true']).env;
    assert.ok(env.includes('Q=${HOME}'), env.join(' '));
    assert.ok(env.includes(`R=${f.home}`));
  });

  it('sees earlier setenv values and the adjusted environment, but not JAI_JAIL or JAI_MODE', () => {
    f.write('.jai/e.conf', 'setenv X=${JAI_CONFIG_DIR}|${JAI_JAIL}|${JAI_MODE}|${JAI_USER}\n');
    assert.ok(f.launch(['-C', 'e', 'true']).env.includes(`X=${f.cfg}|||alice`));
  });
});
