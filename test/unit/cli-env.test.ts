import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import fc from 'fast-check';
import {
  buildEnvironment,
  compileGlob,
  expandVars,
  glob,
  setenv,
  unsetenv,
  type EnvSettings,
} from '../../client/cli/env';
import { CliFixture } from './cli-fixture';

/** The straightforward matcher (greedy, backtracking to the last star) that compileGlob must agree with. */
function referenceGlob(pattern: string, target: string): boolean {
  const tokens: ({ star: true } | { star: false; char: string })[] = [];
  for (let i = 0; i < pattern.length; i++) {
    let c = pattern[i] ?? '';
    if (c === '*') {
      tokens.push({ star: true });
      continue;
    }
    if (c === '\\') {
      if (i + 1 >= pattern.length) return false;
      c = pattern[++i] ?? '';
    }
    tokens.push({ star: false, char: c });
  }
  let t = 0;
  let s = 0;
  let starToken = -1;
  let starTarget = 0;
  while (s < target.length) {
    const tok = tokens[t];
    if (tok !== undefined && !tok.star && tok.char === target[s]) {
      t++;
      s++;
    } else if (tok?.star === true) {
      starToken = t++;
      starTarget = s;
    } else if (starToken >= 0) {
      t = starToken + 1;
      s = ++starTarget;
    } else {
      return false;
    }
  }
  while (tokens[t]?.star === true) t++;
  return t === tokens.length;
}

describe('glob', () => {
  it('matches * against any sequence, the whole string only', () => {
    assert.equal(glob('*_TOKEN', 'GH_TOKEN'), true);
    assert.equal(glob('*_TOKEN', 'GH_TOKEN_X'), false);
    assert.equal(glob('*_TOKEN', '_TOKEN'), true);
    assert.equal(glob('A*B*C', 'AxxBCyyC'), true);
    assert.equal(glob('A*B*C', 'AxxCyyB'), false);
    assert.equal(glob('*', ''), true);
    assert.equal(glob('', ''), true);
    assert.equal(glob('', 'x'), false);
  });

  it('has no metacharacter besides * and \\ (which quotes the next one)', () => {
    assert.equal(glob('A?', 'AB'), false);
    assert.equal(glob('A?', 'A?'), true);
    assert.equal(glob('A\\*', 'A*'), true);
    assert.equal(glob('A\\*', 'AB'), false);
    assert.equal(glob('A\\', 'A\\'), false, 'a lone trailing backslash matches nothing');
  });

  it('stays fast on patterns with many stars', () => {
    assert.equal(glob('*a*a*a*a*a*a*a*a*a*a*b', 'a'.repeat(5000)), false);
    assert.equal(compileGlob('*a*a*a*a*a*a*a*a*a*a*b')('a'.repeat(5000)), false);
  });

  it('compiled once, matches exactly as a backtracking matcher does', () => {
    const text = (chars: string[], maxLength: number) =>
      fc.array(fc.constantFrom(...chars), { maxLength }).map((a) => a.join(''));
    fc.assert(
      fc.property(
        text(['*', '\\', 'a', 'b', '_'], 10),
        fc.array(text(['*', '\\', 'a', 'b', '_'], 12), { maxLength: 8 }),
        (p, targets) => {
          const matches = compileGlob(p);
          for (const t of targets)
            assert.equal(matches(t), referenceGlob(p, t), `${JSON.stringify(p)} ${JSON.stringify(t)}`);
        },
      ),
      { seed: 0x6a6169, numRuns: 20000 },
    );
    for (const p of ['*_TOKEN', 'A*', '*', '', 'A\\', 'A\\*', '**', 'a*b*a'])
      for (const t of ['', 'A', 'A*', 'GH_TOKEN', '_TOKEN', 'aba', 'ab', 'A\\'])
        assert.equal(compileGlob(p)(t), referenceGlob(p, t), `${p} ${t}`);
  });
});

describe('${VAR} expansion', () => {
  const lookup = (name: string): string => ({ A: 'x', 'A B': 'sp' })[name] ?? '';

  it('substitutes ${NAME}, an unset name by nothing', () => {
    assert.equal(expandVars('1${A}2${B}3', lookup), '1x23');
    assert.equal(expandVars('${A B}', lookup), 'sp');
  });

  it('leaves $NAME without braces and ${ without } alone', () => {
    assert.equal(expandVars('$A ${A', lookup), '$A ${A');
  });

  it('treats backslash as quoting the next character', () => {
    assert.equal(expandVars('\\${A}', lookup), '${A}');
    assert.equal(expandVars('\\\\${A}', lookup), '\\x');
    assert.equal(expandVars('end\\', lookup), 'end\\');
  });
});

function settings(): EnvSettings {
  return { filter: new Set(), assignments: new Map() };
}

describe('building the environment', () => {
  const inherited = new Map([
    ['PATH', '/bin'],
    ['GH_TOKEN', 'secret'],
    ['NPM_TOKEN', 'secret2'],
    ['MAIL', '/var/mail/a'],
    ['ZED', 'z'],
  ]);

  it('drops variables matching an exact name or a pattern, sorts by name', () => {
    const s = settings();
    unsetenv(s, '*_TOKEN');
    unsetenv(s, 'MAIL');
    assert.deepEqual(buildEnvironment(s, inherited), ['PATH=/bin', 'ZED=z']);
  });

  it('lets setenv VAR=VALUE win over filters and inherited values', () => {
    const s = settings();
    unsetenv(s, '*_TOKEN');
    setenv(s, 'GH_TOKEN=mine', inherited);
    setenv(s, 'PATH=/usr/bin', inherited);
    setenv(s, 'AAA=1', inherited);
    assert.deepEqual(buildEnvironment(s, inherited), [
      'AAA=1',
      'GH_TOKEN=mine',
      'MAIL=/var/mail/a',
      'PATH=/usr/bin',
      'ZED=z',
    ]);
  });

  it('`setenv PATTERN` removes exactly that filter entry', () => {
    const s = settings();
    unsetenv(s, '*_TOKEN');
    setenv(s, '*_TOKEN', inherited);
    assert.deepEqual(s.filter, new Set());
    assert.ok(buildEnvironment(s, inherited).includes('GH_TOKEN=secret'));
  });

  it('`setenv VAR` passes one filtered variable through with its current value', () => {
    const s = settings();
    unsetenv(s, '*_TOKEN');
    setenv(s, 'GH_TOKEN', inherited);
    const env = buildEnvironment(s, inherited);
    assert.ok(env.includes('GH_TOKEN=secret'));
    assert.ok(!env.some((e) => e.startsWith('NPM_TOKEN=')));
  });

  it('`setenv VAR` does nothing for a variable that is unset or not filtered', () => {
    const s = settings();
    unsetenv(s, '*_TOKEN');
    setenv(s, 'NOPE_TOKEN', inherited);
    setenv(s, 'ZED', inherited);
    assert.deepEqual(s.assignments, new Map());
  });

  it('`unsetenv` also deletes earlier assignments it matches, so order matters', () => {
    const a = settings();
    unsetenv(a, 'X*');
    setenv(a, 'XY=1', inherited);
    assert.ok(buildEnvironment(a, inherited).includes('XY=1'));
    const b = settings();
    setenv(b, 'XY=1', inherited);
    unsetenv(b, 'X*');
    assert.ok(!buildEnvironment(b, inherited).includes('XY=1'));
  });

  it('refuses `setenv "A B"` unless it names a filter entry', () => {
    const s = settings();
    assert.deepEqual(setenv(s, 'A B', inherited), {
      kind: 'usage',
      message: `Environment variable "A B" contains space, did you mean '='?`,
    });
    unsetenv(s, 'A B');
    assert.equal(setenv(s, 'A B', inherited), null);
  });
});

describe('the jailed program’s environment', () => {
  const f = new CliFixture();
  after(() => f.cleanup());
  const env = {
    GH_TOKEN: 'x',
    AWS_SECRET_ACCESS_KEY: 'x',
    DATABASE_URL: 'x',
    SSH_AUTH_SOCK: 'x',
    KEEP_ME: 'yes',
    USER: 'root',
    JAI_SCRIPT: '/tmp/stale',
    JAI_MODE: 'bogus',
    NOT_SET: undefined,
  };

  it('applies the defaults: secrets removed, USER and LOGNAME set to the invoking user', () => {
    const r = f.launch(['-j', 'envtest', 'true'], { env });
    assert.deepEqual(r.env, [
      `HOME=${f.home}`,
      `JAI_CONFIG_DIR=${f.cfg}`,
      'JAI_JAIL=envtest',
      'JAI_MODE=strict',
      'JAI_USER=alice',
      'KEEP_ME=yes',
      'LANG=C.UTF-8',
      'LOGNAME=alice',
      'PATH=/usr/bin:/bin',
      `PWD=${f.proj}`,
      'USER=alice',
    ]);
  });

  it('never carries JAI_SCRIPT (the helper sets it) and follows the command line', () => {
    const r = f.launch(['--setenv', 'GH_TOKEN', '--unsetenv', 'KEEP_*', '--setenv', 'NEW=a=b', 'true'], { env });
    assert.ok(r.env.includes('GH_TOKEN=x'));
    assert.ok(r.env.includes('NEW=a=b'));
    assert.ok(!r.env.some((e) => e.startsWith('KEEP_ME=') || e.startsWith('JAI_SCRIPT=')));
  });

  it('lets a later file undo a default filter with `setenv PATTERN`', () => {
    f.write('.jai/tok.conf', 'conf .defaults\nsetenv *_TOKEN\n');
    assert.ok(f.launch(['-C', 'tok', 'true'], { env }).env.includes('GH_TOKEN=x'));
  });
});
