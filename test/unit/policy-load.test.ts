import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import {
  DEFAULT_POLICY_PATH,
  MAX_POLICY_BYTES,
  builtinPolicy,
  keyLines,
  loadPolicyFile,
  parsePolicy,
} from '../../daemon/policy/load';
import type { Policy } from '../../daemon/policy/types';

const EXAMPLE = path.join(__dirname, '..', '..', '..', 'docs', 'examples', 'policy.toml');
const G = 1024 ** 3;
const M = 1024 ** 2;

function parsed(text: string, file = 'p.toml'): Policy {
  const result = parsePolicy(text, file);
  if (!result.ok) assert.fail(result.message);
  return result.policy;
}

function problem(text: string, file = 'p.toml'): string {
  const result = parsePolicy(text, file);
  if (result.ok) assert.fail(`accepted:\n${text}`);
  return result.message;
}

describe('the issue’s example file (docs/examples/policy.toml)', () => {
  const result = loadPolicyFile(EXAMPLE);

  it('loads, naming its source', () => {
    assert.ok(result.ok, result.ok ? '' : result.message);
    assert.equal(result.policy.source, EXAMPLE);
    assert.equal(result.policy.adminGroup, 'jai-admin');
  });

  it('has the built-in defaults as its [defaults]', () => {
    assert.ok(result.ok);
    assert.deepEqual(result.policy.defaults, builtinPolicy().defaults);
  });

  it('has the contractors and suspended rules with only their own fields', () => {
    assert.ok(result.ok);
    assert.deepEqual(result.policy.rules, [
      {
        name: 'contractors',
        users: [],
        groups: ['contractors'],
        deny: false,
        overrides: {
          allowModes: ['strict'],
          network: 'none',
          maxSessions: 2,
          denyGrants: ['/srv/secrets'],
          limits: { memoryBytes: 2 * G, pids: 512 },
        },
      },
      { name: 'suspended', users: ['mallory'], groups: [], deny: true, overrides: {} },
    ]);
  });
});

describe('the built-in policy', () => {
  it('is the example’s [defaults], no admin group, no source, no rules', () => {
    assert.deepEqual(builtinPolicy(), {
      source: null,
      adminGroup: null,
      defaults: {
        allowModes: ['casual', 'strict', 'bare'],
        maxSessions: 32,
        network: 'host',
        allowUserns: false,
        allowKeyring: true,
        denyGrants: ['/etc', '/usr', '/var', '/boot', '/root'],
        masks: [],
        unsetenv: [],
        limits: { memoryBytes: 8 * G, pids: 4096, cpu: 2 },
      },
      rules: [],
    });
    assert.equal(DEFAULT_POLICY_PATH, '/etc/jai/policy.toml');
  });

  it('is what an empty file (or one of comments) gives', () => {
    assert.deepEqual(parsed('# nothing\n'), { ...builtinPolicy(), source: 'p.toml' });
  });
});

describe('[defaults] in the file', () => {
  it('replaces the built-in defaults field by field, lists included', () => {
    const p = parsed('[defaults]\nnetwork = "loopback"\ndeny_grants = ["/srv"]\nmasks = [".ssh"]\n');
    assert.deepEqual(p.defaults, {
      ...builtinPolicy().defaults,
      network: 'loopback',
      denyGrants: ['/srv'],
      masks: ['.ssh'],
    });
  });

  it('replaces limits per field', () => {
    const p = parsed('[defaults]\nlimits = { memory = "1G" }\n');
    assert.deepEqual(p.defaults.limits, { memoryBytes: G, pids: 4096, cpu: 2 });
  });

  it('takes "unlimited" for no ceiling', () => {
    const p = parsed('[defaults.limits]\nmemory = "unlimited"\npids = "unlimited"\ncpu = "unlimited"\n');
    assert.deepEqual(p.defaults.limits, { memoryBytes: null, pids: null, cpu: null });
  });
});

describe('valid values of every field', () => {
  const cases: { toml: string; check: (p: Policy) => unknown; want: unknown }[] = [
    { toml: 'admin_group = "wheel"', check: (p) => p.adminGroup, want: 'wheel' },
    { toml: 'admin_group = "_svc$"', check: (p) => p.adminGroup, want: '_svc$' },
    { toml: '[defaults]\nallow_modes = ["bare"]', check: (p) => p.defaults.allowModes, want: ['bare'] },
    { toml: '[defaults]\nmax_sessions = 0', check: (p) => p.defaults.maxSessions, want: 0 },
    { toml: '[defaults]\nmax_sessions = 100000', check: (p) => p.defaults.maxSessions, want: 100000 },
    { toml: '[defaults]\nnetwork = "none"', check: (p) => p.defaults.network, want: 'none' },
    { toml: '[defaults]\nallow_userns = true', check: (p) => p.defaults.allowUserns, want: true },
    { toml: '[defaults]\nallow_keyring = false', check: (p) => p.defaults.allowKeyring, want: false },
    {
      toml: '[[rule]]\nname = "b"\nusers = ["u"]\nallow_userns = true',
      check: (p) => p.rules[0]?.overrides,
      want: { allowUserns: true },
    },
    { toml: '[defaults]\ndeny_grants = ["/"]', check: (p) => p.defaults.denyGrants, want: ['/'] },
    { toml: '[defaults]\ndeny_grants = []', check: (p) => p.defaults.denyGrants, want: [] },
    {
      toml: '[defaults]\nmasks = [".ssh", ".config/gh"]',
      check: (p) => p.defaults.masks,
      want: ['.ssh', '.config/gh'],
    },
    { toml: '[defaults]\nunsetenv = ["AWS_*", "TOKEN"]', check: (p) => p.defaults.unsetenv, want: ['AWS_*', 'TOKEN'] },
    { toml: '[defaults.limits]\nmemory = 4194304', check: (p) => p.defaults.limits.memoryBytes, want: 4 * M },
    { toml: '[defaults.limits]\nmemory = "4M"', check: (p) => p.defaults.limits.memoryBytes, want: 4 * M },
    { toml: '[defaults.limits]\nmemory = "512M"', check: (p) => p.defaults.limits.memoryBytes, want: 512 * M },
    { toml: '[defaults.limits]\npids = 1', check: (p) => p.defaults.limits.pids, want: 1 },
    { toml: '[defaults.limits]\npids = 4194304', check: (p) => p.defaults.limits.pids, want: 4194304 },
    { toml: '[defaults.limits]\ncpu = 0.5', check: (p) => p.defaults.limits.cpu, want: 0.5 },
    { toml: '[defaults.limits]\ncpu = 1024', check: (p) => p.defaults.limits.cpu, want: 1024 },
    {
      toml: '[[rule]]\nname = "A.b_c-1"\nusers = ["u"]\ngroups = []\ndeny = false',
      check: (p) => p.rules[0],
      want: { name: 'A.b_c-1', users: ['u'], groups: [], deny: false, overrides: {} },
    },
    {
      toml: '[[rule]]\nname = "g"\ngroups = ["staff"]\nunsetenv = ["X"]\nmasks = ["m"]',
      check: (p) => p.rules[0]?.overrides,
      want: { unsetenv: ['X'], masks: ['m'] },
    },
    {
      toml: 'rule = [{ name = "inline", users = ["u"], limits = { cpu = 1 } }]',
      check: (p) => p.rules[0],
      want: { name: 'inline', users: ['u'], groups: [], deny: false, overrides: { limits: { cpu: 1 } } },
    },
  ];
  for (const { toml, check, want } of cases) {
    it(`accepts ${JSON.stringify(toml)}`, () => assert.deepEqual(check(parsed(toml)), want));
  }
});

describe('invalid values: FILE:LINE: KEY: problem', () => {
  const rule = (body: string): string => `# a comment\n\n[[rule]]\nname = "r"\nusers = ["u"]\n${body}\n`;
  const cases: [string, string][] = [
    // Top level.
    ['admin_group = 1', 'p.toml:1: admin_group: must be a string, not an integer'],
    ['admin_group = "a b"', 'p.toml:1: admin_group: not a valid user or group name ("a b")'],
    ['admin_group = "-x"', 'p.toml:1: admin_group: not a valid user or group name ("-x")'],
    [
      `admin_group = "${'a'.repeat(65)}"`,
      `p.toml:1: admin_group: not a valid user or group name ("${'a'.repeat(65)}")`,
    ],
    ['\nadmins = "x"', 'p.toml:2: admins: unknown key (known: admin_group, defaults, rule)'],
    ['defaults = 1', 'p.toml:1: defaults: must be a table, not an integer'],
    ['[rule]\nname = "x"', 'p.toml:1: rule: must be an array of tables ([[rule]]), not a table'],
    ['rule = [1]', 'p.toml:1: rule[0]: must be a table, not an integer'],
    // [defaults], each field.
    ['[defaults]\nallow_modes = []', 'p.toml:2: defaults.allow_modes: must allow at least one mode'],
    ['[defaults]\nallow_modes = "strict"', 'p.toml:2: defaults.allow_modes: must be an array, not a string'],
    [
      '[defaults]\nallow_modes = ["casual", "nested"]',
      'p.toml:2: defaults.allow_modes[1]: must be one of casual, strict, bare',
    ],
    ['[defaults]\nallow_modes = ["bare", "bare"]', 'p.toml:2: defaults.allow_modes[1]: "bare" is listed twice'],
    ['[defaults]\nmax_sessions = -1', 'p.toml:2: defaults.max_sessions: must be an integer from 0 to 100000 (got -1)'],
    [
      '[defaults]\nmax_sessions = 100001',
      'p.toml:2: defaults.max_sessions: must be an integer from 0 to 100000 (got 100001)',
    ],
    [
      '[defaults]\nmax_sessions = 2.0',
      'p.toml:2: defaults.max_sessions: must be an integer from 0 to 100000, not a float',
    ],
    [
      '[defaults]\nmax_sessions = "2"',
      'p.toml:2: defaults.max_sessions: must be an integer from 0 to 100000, not a string',
    ],
    ['[defaults]\nnetwork = "wan"', 'p.toml:2: defaults.network: must be one of host, loopback, none'],
    ['[defaults]\nnetwork = true', 'p.toml:2: defaults.network: must be one of host, loopback, none'],
    ['[defaults]\ndeny_grants = ["etc"]', 'p.toml:2: defaults.deny_grants[0]: not a canonical absolute path ("etc")'],
    [
      '[defaults]\ndeny_grants = ["/etc/"]',
      'p.toml:2: defaults.deny_grants[0]: not a canonical absolute path ("/etc/")',
    ],
    [
      '[defaults]\ndeny_grants = ["/a//b"]',
      'p.toml:2: defaults.deny_grants[0]: not a canonical absolute path ("/a//b")',
    ],
    [
      '[defaults]\ndeny_grants = ["/a/./b"]',
      'p.toml:2: defaults.deny_grants[0]: not a canonical absolute path ("/a/./b")',
    ],
    [
      '[defaults]\ndeny_grants = ["/a/.."]',
      'p.toml:2: defaults.deny_grants[0]: not a canonical absolute path ("/a/..")',
    ],
    ['[defaults]\ndeny_grants = [""]', 'p.toml:2: defaults.deny_grants[0]: not a canonical absolute path ("")'],
    [
      '[defaults]\ndeny_grants = ["/a\\u0000"]',
      'p.toml:2: defaults.deny_grants[0]: not a canonical absolute path ("/a\\u0000")',
    ],
    ['[defaults]\ndeny_grants = [1]', 'p.toml:2: defaults.deny_grants[0]: must be a string, not an integer'],
    ['[defaults]\nmasks = ["/root"]', 'p.toml:2: defaults.masks[0]: not a plain relative path ("/root")'],
    ['[defaults]\nmasks = ["../x"]', 'p.toml:2: defaults.masks[0]: not a plain relative path ("../x")'],
    ['[defaults]\nmasks = ["a/./b"]', 'p.toml:2: defaults.masks[0]: not a plain relative path ("a/./b")'],
    ['[defaults]\nmasks = ["a/"]', 'p.toml:2: defaults.masks[0]: not a plain relative path ("a/")'],
    ['[defaults]\nmasks = [""]', 'p.toml:2: defaults.masks[0]: not a plain relative path ("")'],
    ['[defaults]\nunsetenv = [""]', 'p.toml:2: defaults.unsetenv[0]: not a variable name or pattern ("")'],
    ['[defaults]\nunsetenv = ["A=B"]', 'p.toml:2: defaults.unsetenv[0]: not a variable name or pattern ("A=B")'],
    [
      '[defaults]\nunsetenv = ["A\\u0000"]',
      'p.toml:2: defaults.unsetenv[0]: not a variable name or pattern ("A\\u0000")',
    ],
    ['[defaults]\nlimits = 1', 'p.toml:2: defaults.limits: must be a table, not an integer'],
    ['[defaults]\nlimits = { swap = "1G" }', 'p.toml:2: defaults.limits.swap: unknown key (known: memory, pids, cpu)'],
    ['[defaults]\nlimits = { memory = "8Q" }', 'p.toml:2: defaults.limits.memory: not a size ("8Q")'],
    ['[defaults]\nlimits = { memory = "1.5G" }', 'p.toml:2: defaults.limits.memory: not a size ("1.5G")'],
    ['[defaults]\nlimits = { memory = -1 }', 'p.toml:2: defaults.limits.memory: not a size (-1)'],
    ['[defaults]\nlimits = { memory = 1.5 }', 'p.toml:2: defaults.limits.memory: not a size (a float)'],
    ['[defaults]\nlimits = { memory = "1M" }', 'p.toml:2: defaults.limits.memory: must be at least 4M'],
    ['[defaults]\nlimits = { memory = 4194303 }', 'p.toml:2: defaults.limits.memory: must be at least 4M'],
    [
      '[defaults]\nlimits = { pids = 0 }',
      'p.toml:2: defaults.limits.pids: must be an integer from 1 to 4194304 (got 0)',
    ],
    [
      '[defaults]\nlimits = { pids = 4194305 }',
      'p.toml:2: defaults.limits.pids: must be an integer from 1 to 4194304 (got 4194305)',
    ],
    [
      '[defaults]\nlimits = { pids = "many" }',
      'p.toml:2: defaults.limits.pids: must be an integer from 1 to 4194304, not a string',
    ],
    [
      '[defaults]\nlimits = { cpu = 0 }',
      'p.toml:2: defaults.limits.cpu: must be a number more than 0 and at most 1024 (got 0)',
    ],
    [
      '[defaults]\nlimits = { cpu = 1024.5 }',
      'p.toml:2: defaults.limits.cpu: must be a number more than 0 and at most 1024 (got 1024.5)',
    ],
    [
      '[defaults]\nlimits = { cpu = nan }',
      'p.toml:2: defaults.limits.cpu: must be a number more than 0 and at most 1024 (got NaN)',
    ],
    [
      '[defaults]\nlimits = { cpu = inf }',
      'p.toml:2: defaults.limits.cpu: must be a number more than 0 and at most 1024 (got Infinity)',
    ],
    [
      '[defaults]\nlimits = { cpu = "2" }',
      'p.toml:2: defaults.limits.cpu: must be a number more than 0 and at most 1024, not a string',
    ],
    [
      '[defaults]\nadmin_group = "x"',
      'p.toml:2: defaults.admin_group: unknown key (known: allow_modes, max_sessions, network, allow_userns, allow_keyring, deny_grants, masks, unsetenv, limits)',
    ],
    [
      '[defaults]\ntoString = 1',
      'p.toml:2: defaults.toString: unknown key (known: allow_modes, max_sessions, network, allow_userns, allow_keyring, deny_grants, masks, unsetenv, limits)',
    ],
    // [[rule]], its own fields and the settings it shares with [defaults].
    [rule('network = "wan"'), 'p.toml:6: rule[0].network: must be one of host, loopback, none'],
    [rule('max_sessions = 1.5'), 'p.toml:6: rule[0].max_sessions: must be an integer from 0 to 100000, not a float'],
    [rule('allow_modes = []'), 'p.toml:6: rule[0].allow_modes: must allow at least one mode'],
    [rule('deny_grants = ["x"]'), 'p.toml:6: rule[0].deny_grants[0]: not a canonical absolute path ("x")'],
    [rule('masks = ["/x"]'), 'p.toml:6: rule[0].masks[0]: not a plain relative path ("/x")'],
    [rule('unsetenv = ["="]'), 'p.toml:6: rule[0].unsetenv[0]: not a variable name or pattern ("=")'],
    [rule('limits = { memory = "2X" }'), 'p.toml:6: rule[0].limits.memory: not a size ("2X")'],
    [rule('deny = "yes"'), 'p.toml:6: rule[0].deny: must be true or false, not a string'],
    [rule('allow_userns = 1'), 'p.toml:6: rule[0].allow_userns: must be true or false, not an integer'],
    ['[defaults]\nallow_userns = "no"', 'p.toml:2: defaults.allow_userns: must be true or false, not a string'],
    [rule('groups = ["a:b"]'), 'p.toml:6: rule[0].groups[0]: not a valid user or group name ("a:b")'],
    [rule('groups = "staff"'), 'p.toml:6: rule[0].groups: must be an array, not a string'],
    [
      rule('admin_group = "x"'),
      'p.toml:6: rule[0].admin_group: unknown key (known: name, users, groups, deny, allow_modes, max_sessions, network, allow_userns, allow_keyring, deny_grants, masks, unsetenv, limits)',
    ],
    ['[[rule]]\nusers = ["u"]', 'p.toml:1: rule[0].name: missing: every rule needs a name'],
    [
      '[[rule]]\nname = "a b"\nusers = ["u"]',
      'p.toml:2: rule[0].name: not a valid rule name ("a b"): 1 to 64 of A-Z a-z 0-9 . _ -',
    ],
    [
      '[[rule]]\nname = ""\nusers = ["u"]',
      'p.toml:2: rule[0].name: not a valid rule name (""): 1 to 64 of A-Z a-z 0-9 . _ -',
    ],
    [
      `[[rule]]\nname = "${'r'.repeat(65)}"\nusers = ["u"]`,
      `p.toml:2: rule[0].name: not a valid rule name ("${'r'.repeat(65)}"): 1 to 64 of A-Z a-z 0-9 . _ -`,
    ],
    [
      '[[rule]]\nname = "defaults"\nusers = ["u"]',
      'p.toml:2: rule[0].name: "defaults" is the name of the [defaults] table',
    ],
    [
      '[[rule]]\nname = "a"\nusers = ["u"]\n[[rule]]\nname = "a"\nusers = ["v"]',
      'p.toml:5: rule[1].name: "a" is already the name of rule[0]',
    ],
    ['[[rule]]\nname = "a"\n', 'p.toml:1: rule[0]: matches nobody: give it users or groups'],
    ['[[rule]]\nname = "a"\nusers = []\ngroups = []', 'p.toml:1: rule[0]: matches nobody: give it users or groups'],
  ];
  for (const [toml, message] of cases) {
    it(`refuses ${JSON.stringify(toml)}`, () => assert.equal(problem(toml), message));
  }
});

describe('the line of a key', () => {
  const example = fs.readFileSync(EXAMPLE, 'utf8');
  const lines = keyLines(example);

  it('is found for the common places: top level, [defaults], the Nth [[rule]], an inline limits field', () => {
    assert.equal(lines.get('admin_group'), 1);
    assert.equal(lines.get('defaults'), 3);
    assert.equal(lines.get('defaults.network'), 6);
    assert.equal(lines.get('defaults.limits.cpu'), 10);
    assert.equal(lines.get('rule[0]'), 12);
    assert.equal(lines.get('rule[0].network'), 16);
    assert.equal(lines.get('rule[0].limits.pids'), 19);
    assert.equal(lines.get('rule[1]'), 21);
    assert.equal(lines.get('rule[1].deny'), 24);
    assert.equal(lines.get('defaults.deny_grants[4]'), 7);
  });

  it('is named in the message for an error in the example file', () => {
    const text = example.replace('network = "none"', 'network = "nonex"');
    assert.equal(
      problem(text, DEFAULT_POLICY_PATH),
      '/etc/jai/policy.toml:16: rule[0].network: must be one of host, loopback, none',
    );
    const memory = example.replace('memory = "8G"', 'memory = "8Q"');
    assert.equal(
      problem(memory, DEFAULT_POLICY_PATH),
      '/etc/jai/policy.toml:10: defaults.limits.memory: not a size ("8Q")',
    );
  });

  it('follows multi-line arrays, multi-line strings and comments holding brackets', () => {
    const text = [
      '# [[rule]] in a comment',
      '[defaults]',
      'deny_grants = [',
      '  "/etc",  # ] a bracket',
      "  'x]',",
      '  "nope",',
      ']',
      'unsetenv = ["""',
      'A=""", \'\'\'B=',
      "C'''] # x",
      'masks = ["/m"]',
    ].join('\n');
    assert.equal(
      problem(text),
      [
        'p.toml:5: defaults.deny_grants[1]: not a canonical absolute path ("x]")',
        'p.toml:6: defaults.deny_grants[2]: not a canonical absolute path ("nope")',
        'p.toml:8: defaults.unsetenv[0]: not a variable name or pattern ("A=")',
        'p.toml:9: defaults.unsetenv[1]: not a variable name or pattern ("B=\\nC")',
        'p.toml:11: defaults.masks[0]: not a plain relative path ("/m")',
      ].join('\n'),
    );
  });

  it('follows dotted keys, sub-tables of the latest [[rule]] and quoted keys', () => {
    const text = [
      '[[rule]]',
      'name = "a"',
      'users = ["u"]',
      'limits.memory = "1K"',
      '[[rule]]',
      'name = "b"',
      'users = ["v"]',
      '[rule.limits]',
      'pids = 0',
      '[defaults]',
      '"net work" = 1',
      '[defaults.limits]',
      'cpu = -1',
    ].join('\n');
    assert.equal(
      problem(text),
      [
        'p.toml:4: rule[0].limits.memory: must be at least 4M',
        'p.toml:9: rule[1].limits.pids: must be an integer from 1 to 4194304 (got 0)',
        'p.toml:11: defaults.net work: unknown key (known: allow_modes, max_sessions, network, allow_userns, allow_keyring, deny_grants, masks, unsetenv, limits)',
        'p.toml:13: defaults.limits.cpu: must be a number more than 0 and at most 1024 (got -1)',
      ].join('\n'),
    );
  });

  it('is the [[rule]] header for a key the rule lacks, and counts CRLF lines', () => {
    assert.equal(
      problem('\r\n\r\n[[rule]]\r\nusers = ["u"]\r\n'),
      'p.toml:3: rule[0].name: missing: every rule needs a name',
    );
  });

  it('lists every problem, in the order of the lines', () => {
    const text = '[[rule]]\nname = "r"\nusers = ["u"]\nnetwork = "x"\n[defaults]\nnetwork = "y"\n';
    assert.equal(
      problem(text),
      'p.toml:4: rule[0].network: must be one of host, loopback, none\np.toml:6: defaults.network: must be one of host, loopback, none',
    );
  });

  it('reports at most 50 problems, then how many more', () => {
    const text = `[defaults]\nmasks = [${Array.from({ length: 60 }, () => '"/x"').join(', ')}]\n`;
    const lines = problem(text).split('\n');
    assert.equal(lines.length, 51);
    assert.equal(lines[50], 'p.toml: and 10 more problems');
  });
});

describe('TOML syntax errors', () => {
  const cases: [string, string][] = [
    ['a = 1\nb = [1,\n x', 'p.toml:3:2: invalid value'],
    [
      '[defaults]\nnetwork = "host"\nnetwork = "none"',
      'p.toml:3:1: trying to redefine an already defined table or value',
    ],
    ['__proto__ = 1', 'p.toml:1:1: document contains an unsafe property'],
  ];
  for (const [toml, message] of cases) {
    it(`come out as FILE:LINE:COL: ${message.replace(/^p\.toml:\d+:\d+: /, '')}`, () =>
      assert.equal(problem(toml), message));
  }
});

describe('caps', () => {
  it('refuses more than 1000 rules', () => {
    const text = Array.from({ length: 1001 }, (_, i) => `[[rule]]\nname = "r${i}"\nusers = ["u"]\n`).join('');
    assert.equal(problem(text), 'p.toml:1: rule: more than 1000 rules');
  });

  it('accepts 1000 rules', () => {
    const text = Array.from({ length: 1000 }, (_, i) => `[[rule]]\nname = "r${i}"\nusers = ["u"]\n`).join('');
    assert.equal(parsed(text).rules.length, 1000);
  });

  it('refuses more than 1000 entries in a list', () => {
    const names = Array.from({ length: 1001 }, (_, i) => `"u${i}"`).join(',');
    assert.equal(
      problem(`[[rule]]\nname = "r"\nusers = [${names}]`),
      'p.toml:3: rule[0].users: more than 1000 entries',
    );
  });

  it('refuses text over 1 MiB', () => {
    assert.equal(problem(`#${'x'.repeat(MAX_POLICY_BYTES)}`), 'p.toml: larger than 1M');
  });
});

describe('loadPolicyFile', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'jai-policy-'));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('names a missing file', () => {
    const file = path.join(dir, 'missing.toml');
    assert.deepEqual(loadPolicyFile(file), {
      ok: false,
      message: `${file}: cannot read: ENOENT: no such file or directory`,
    });
  });

  it('refuses what is not a regular file', () => {
    assert.deepEqual(loadPolicyFile(dir), { ok: false, message: `${dir}: cannot read: not a regular file` });
  });

  it('refuses a file over 1 MiB without reading past it', () => {
    const file = path.join(dir, 'big.toml');
    fs.writeFileSync(file, `#${'x'.repeat(MAX_POLICY_BYTES)}`);
    assert.deepEqual(loadPolicyFile(file), { ok: false, message: `${file}: cannot read: larger than 1M` });
  });

  it('refuses bytes that are not UTF-8', () => {
    const file = path.join(dir, 'latin1.toml');
    fs.writeFileSync(file, Buffer.from('# caf\xe9\n', 'latin1'));
    assert.deepEqual(loadPolicyFile(file), { ok: false, message: `${file}: cannot read: not valid UTF-8` });
  });

  it('reads a file and names it in problems', () => {
    const file = path.join(dir, 'bad.toml');
    fs.writeFileSync(file, '\n[defaults]\nnetwork = "wan"\n');
    assert.deepEqual(loadPolicyFile(file), {
      ok: false,
      message: `${file}:3: defaults.network: must be one of host, loopback, none`,
    });
  });

  it('uses the reader it is given', () => {
    const result = loadPolicyFile('/virtual.toml', () => 'admin_group = "ops"');
    assert.ok(result.ok);
    assert.equal(result.policy.adminGroup, 'ops');
    assert.equal(result.policy.source, '/virtual.toml');
  });

  it('reports what the reader throws', () => {
    const result = loadPolicyFile('/virtual.toml', () => {
      throw new Error("EACCES: permission denied, open '/virtual.toml'");
    });
    assert.deepEqual(result, { ok: false, message: '/virtual.toml: cannot read: EACCES: permission denied' });
  });
});

describe('keys in problem messages', () => {
  it('quotes a key that is not a bare key, so it cannot split or forge a problem line', () => {
    const r = parsePolicy('"a\\n/etc/jai/policy.toml:99: forged" = "casual"\n', '/etc/jai/policy.toml');
    assert.ok(!r.ok);
    assert.equal(r.message.split('\n').length, 1, r.message);
    assert.match(r.message, /^\/etc\/jai\/policy\.toml:1: a.+\/etc\/jai\/policy\.toml:99: forged: unknown key/);
  });
});
