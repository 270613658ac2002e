import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import {
  evaluate,
  filterEnv,
  isAdmin,
  isAtOrBelow,
  matchRule,
  type SessionAsk,
  type Subject,
} from '../../daemon/policy/evaluate';
import { builtinPolicy, loadPolicyFile, parsePolicy } from '../../daemon/policy/load';
import type { Policy } from '../../daemon/policy/types';

const G = 1024 ** 3;
const EXAMPLE = path.join(__dirname, '..', '..', '..', 'docs', 'examples', 'policy.toml');

function load(text: string): Policy {
  const result = parsePolicy(text, 'p.toml');
  if (!result.ok) assert.fail(result.message);
  return result.policy;
}

function example(): Policy {
  const result = loadPolicyFile(EXAMPLE);
  if (!result.ok) assert.fail(result.message);
  return result.policy;
}

const subject = (user: string, ...groupNames: string[]): Subject => ({
  user,
  uid: 1000 + user.length,
  groupNames: [user, ...groupNames],
});

const ask = (more: Partial<SessionAsk> = {}): SessionAsk => ({
  mode: 'strict',
  network: null,
  limits: { memoryBytes: null, pids: null, cpu: null },
  grants: [],
  ...more,
});

describe('the issue’s example policy', () => {
  const policy = example();

  it('gives contractors strict only, no network, 2 sessions, the defaults’ deny_grants plus /srv/secrets', () => {
    const matched = matchRule(policy, subject('carol', 'contractors'));
    assert.deepEqual(matched, {
      name: 'contractors',
      deny: false,
      settings: {
        allowModes: ['strict'],
        maxSessions: 2,
        network: 'none',
        allowUserns: false,
        allowKeyring: true,
        denyGrants: ['/etc', '/usr', '/var', '/boot', '/root', '/srv/secrets'],
        masks: [],
        unsetenv: [],
        limits: { memoryBytes: 2 * G, pids: 512, cpu: 2 },
      },
    });
  });

  it('allows a contractor’s strict session with the rule’s ceilings, cpu 2.0 from the defaults', () => {
    assert.deepEqual(evaluate(policy, subject('carol', 'contractors'), ask(), 1), {
      ok: true,
      rule: 'contractors',
      network: 'none',
      allowUserns: false,
      allowKeyring: true,
      limits: { memoryBytes: 2 * G, pids: 512, cpu: 2 },
      masks: [],
      unsetenv: [],
      maxSessions: 2,
    });
  });

  it('refuses a contractor casual mode, a third session, the network and /srv/secrets', () => {
    const carol = subject('carol', 'contractors');
    const cases: [SessionAsk, number, string, string][] = [
      [ask({ mode: 'casual' }), 0, 'POLICY_DENIED', 'mode casual is not allowed (allowed: strict)'],
      [ask(), 2, 'SESSION_LIMIT', 'carol already has 2 sessions (at most 2)'],
      [ask({ network: 'loopback' }), 0, 'POLICY_DENIED', 'network loopback is not allowed (at most none)'],
      [
        ask({ grants: [{ path: '/srv/secrets/db', readOnly: true }] }),
        0,
        'POLICY_DENIED',
        'grant /srv/secrets/db is denied (deny_grants /srv/secrets)',
      ],
      [
        ask({ limits: { memoryBytes: 4 * G, pids: null, cpu: null } }),
        0,
        'POLICY_DENIED',
        'memory 4G is over the ceiling 2G',
      ],
    ];
    for (const [request, active, code, reason] of cases) {
      assert.deepEqual(evaluate(policy, carol, request, active), { ok: false, rule: 'contractors', code, reason });
    }
  });

  it('denies mallory everything', () => {
    assert.deepEqual(evaluate(policy, subject('mallory'), ask(), 0), {
      ok: false,
      rule: 'suspended',
      code: 'POLICY_DENIED',
      reason: 'sandboxes are disabled for mallory',
    });
  });

  it('gives a user in no rule the defaults', () => {
    assert.deepEqual(evaluate(policy, subject('alice', 'staff'), ask({ mode: 'casual' }), 31), {
      ok: true,
      rule: 'defaults',
      network: 'host',
      allowUserns: false,
      allowKeyring: true,
      limits: { memoryBytes: 8 * G, pids: 4096, cpu: 2 },
      masks: [],
      unsetenv: [],
      maxSessions: 32,
    });
  });

  it('makes jai-admin members admins, and root always', () => {
    assert.equal(isAdmin(policy, 1001, ['alice', 'jai-admin']), true);
    assert.equal(isAdmin(policy, 1001, ['alice', 'staff']), false);
    assert.equal(isAdmin(policy, 0, ['root']), true);
    assert.equal(isAdmin(builtinPolicy(), 1001, ['alice', 'jai-admin']), false);
    assert.equal(isAdmin(builtinPolicy(), 0, []), true);
  });
});

describe('matching', () => {
  const policy = load(
    [
      '[[rule]]',
      'name = "first"',
      'groups = ["staff"]',
      'network = "loopback"',
      '[[rule]]',
      'name = "second"',
      'users = ["alice"]',
      'groups = ["devs"]',
      'network = "none"',
    ].join('\n'),
  );
  const cases: [Subject, string][] = [
    [subject('alice'), 'second'],
    [subject('alice', 'staff'), 'first'],
    [subject('bob', 'devs'), 'second'],
    [subject('bob', 'wheel', 'devs', 'staff'), 'first'],
    [{ user: 'dave', uid: 1004, groupNames: ['users', 'devs'] }, 'second'],
    [subject('eve', 'developers'), 'defaults'],
    [subject('staff'), 'first'],
  ];
  for (const [who, rule] of cases) {
    it(`gives ${who.user} in [${who.groupNames.join(', ')}] the rule ${rule}`, () =>
      assert.equal(matchRule(policy, who).name, rule));
  }

  it('matches groups by membership, not by a user of the same name', () => {
    const p = load('[[rule]]\nname = "r"\ngroups = ["alice"]\nnetwork = "none"\n');
    assert.equal(matchRule(p, { user: 'alice', uid: 1, groupNames: ['users'] }).name, 'defaults');
    assert.equal(matchRule(p, { user: 'bob', uid: 2, groupNames: ['alice'] }).name, 'r');
  });
});

describe('merging a rule over the defaults', () => {
  const policy = load(
    [
      '[defaults]',
      'masks = [".ssh"]',
      'unsetenv = ["AWS_*"]',
      'deny_grants = ["/etc"]',
      'limits = { memory = "unlimited", pids = 100, cpu = 4 }',
      '[[rule]]',
      'name = "r"',
      'users = ["u"]',
      'masks = [".gnupg", ".ssh"]',
      'unsetenv = ["GH_TOKEN"]',
      'limits = { cpu = 1 }',
    ].join('\n'),
  );

  it('adds list fields to the defaults’ (once each) and overrides limits per field', () => {
    assert.deepEqual(matchRule(policy, subject('u')).settings, {
      ...builtinPolicy().defaults,
      masks: ['.ssh', '.gnupg'],
      unsetenv: ['AWS_*', 'GH_TOKEN'],
      denyGrants: ['/etc'],
      limits: { memoryBytes: null, pids: 100, cpu: 1 },
    });
  });

  it('hands the merged masks and unsetenv to the session', () => {
    const result = evaluate(policy, subject('u'), ask(), 0);
    assert.ok(result.ok);
    assert.deepEqual(
      [result.masks, result.unsetenv],
      [
        ['.ssh', '.gnupg'],
        ['AWS_*', 'GH_TOKEN'],
      ],
    );
  });
});

describe('the decisions, in order', () => {
  const policy = load(
    [
      '[defaults]',
      'allow_modes = ["casual", "strict"]',
      'max_sessions = 3',
      'network = "loopback"',
      'limits = { memory = "2G", pids = 512, cpu = 1.5 }',
      '[[rule]]',
      'name = "off"',
      'users = ["mallory"]',
      'allow_modes = ["bare"]',
      'deny = true',
      '[[rule]]',
      'name = "none"',
      'users = ["zero"]',
      'max_sessions = 0',
      '[[rule]]',
      'name = "root-deny"',
      'users = ["boxed"]',
      'deny_grants = ["/"]',
    ].join('\n'),
  );
  const alice = subject('alice');

  const denials: {
    what: string;
    who?: Subject;
    request: SessionAsk;
    active?: number;
    code?: string;
    reason: string;
  }[] = [
    {
      what: 'a deny rule, before anything else',
      who: subject('mallory'),
      request: ask({ mode: 'bare' }),
      active: 99,
      reason: 'sandboxes are disabled for mallory',
    },
    {
      what: 'a mode not allowed, before the session count',
      request: ask({ mode: 'bare' }),
      active: 3,
      reason: 'mode bare is not allowed (allowed: casual, strict)',
    },
    {
      what: 'the session limit, before the network',
      request: ask({ network: 'host' }),
      active: 3,
      code: 'SESSION_LIMIT',
      reason: 'alice already has 3 sessions (at most 3)',
    },
    {
      what: 'more sessions than the limit (after a policy reload lowered it)',
      request: ask(),
      active: 7,
      code: 'SESSION_LIMIT',
      reason: 'alice already has 7 sessions (at most 3)',
    },
    {
      what: 'max_sessions 0',
      who: subject('zero'),
      request: ask(),
      active: 0,
      code: 'SESSION_LIMIT',
      reason: 'zero may not have any session (at most 0)',
    },
    {
      what: 'more network than allowed, before the grants',
      request: ask({ network: 'host', grants: [{ path: '/etc', readOnly: false }] }),
      reason: 'network host is not allowed (at most loopback)',
    },
    {
      what: 'a grant at a deny_grants entry, before the limits',
      request: ask({
        grants: [{ path: '/etc', readOnly: false }],
        limits: { memoryBytes: 4 * G, pids: null, cpu: null },
      }),
      reason: 'grant /etc is denied (deny_grants /etc)',
    },
    {
      what: 'a grant below one',
      request: ask({
        grants: [
          { path: '/home/alice/p', readOnly: false },
          { path: '/usr/local/src', readOnly: false },
        ],
      }),
      reason: 'grant /usr/local/src is denied (deny_grants /usr)',
    },
    {
      what: 'a read-only grant below one',
      request: ask({ grants: [{ path: '/var/log', readOnly: true }] }),
      reason: 'grant /var/log is denied (deny_grants /var)',
    },
    {
      what: 'any grant under deny_grants "/"',
      who: subject('boxed'),
      request: ask({ grants: [{ path: '/home/boxed/p', readOnly: false }] }),
      reason: 'grant /home/boxed/p is denied (deny_grants /)',
    },
    {
      what: 'memory over the ceiling',
      request: ask({ limits: { memoryBytes: 4 * G, pids: 1000, cpu: null } }),
      reason: 'memory 4G is over the ceiling 2G',
    },
    {
      what: 'pids over the ceiling',
      request: ask({ limits: { memoryBytes: null, pids: 1000, cpu: 9 } }),
      reason: 'pids 1000 is over the ceiling 512',
    },
    {
      what: 'cpu over the ceiling',
      request: ask({ limits: { memoryBytes: null, pids: null, cpu: 2.5 } }),
      reason: 'cpu 2.5 is over the ceiling 1.5',
    },
  ];
  for (const { what, who, request, active, code, reason } of denials) {
    it(`refuses ${what}`, () => {
      const result = evaluate(policy, who ?? alice, request, active ?? 0);
      assert.equal(result.ok, false);
      assert.ok(!result.ok);
      assert.equal(result.code, code ?? 'POLICY_DENIED');
      assert.equal(result.reason, reason);
    });
  }

  it('says "1 session" for one', () => {
    const p = load('[defaults]\nmax_sessions = 1\n');
    const result = evaluate(p, alice, ask(), 1);
    assert.ok(!result.ok);
    assert.equal(result.reason, 'alice already has 1 session (at most 1)');
  });

  const network: [SessionAsk['network'], string][] = [
    [null, 'loopback'],
    ['loopback', 'loopback'],
    ['none', 'none'],
  ];
  for (const [asked, got] of network) {
    it(`gives network ${got} when asked for ${String(asked)} under loopback`, () => {
      const result = evaluate(policy, alice, ask({ network: asked }), 0);
      assert.ok(result.ok);
      assert.equal(result.network, got);
    });
  }

  it('orders networks none < loopback < host', () => {
    const none = load('[defaults]\nnetwork = "none"\n');
    const host = builtinPolicy();
    assert.ok(!evaluate(none, alice, ask({ network: 'loopback' }), 0).ok);
    assert.ok(!evaluate(none, alice, ask({ network: 'host' }), 0).ok);
    for (const n of ['none', 'loopback', 'host'] as const) assert.ok(evaluate(host, alice, ask({ network: n }), 0).ok);
  });

  it('allows grants beside denied trees: /etcetera is not below /etc, nor /usr2 below /usr', () => {
    const grants = [
      { path: '/etcetera', readOnly: false },
      { path: '/usr2/x', readOnly: true },
      { path: '/home/alice', readOnly: false },
    ];
    assert.ok(evaluate(policy, alice, ask({ grants }), 0).ok);
  });

  it('refuses a grant of an ancestor of a denied tree, which would expose it', () => {
    for (const [path, inside] of [
      ['/', '/etc'],
      ['/srv', '/srv/secrets'],
    ] as const) {
      const r = evaluate(
        load('[defaults]\ndeny_grants = ["/etc", "/srv/secrets"]\n'),
        alice,
        ask({ grants: [{ path, readOnly: true }] }),
        0,
      );
      assert.deepEqual(r, {
        ok: false,
        rule: 'defaults',
        code: 'POLICY_DENIED',
        reason: `grant ${path} is denied: it contains deny_grants ${inside}`,
      });
    }
  });

  it('takes the ceilings for limits not asked, and what was asked when less', () => {
    const asked = evaluate(policy, alice, ask({ limits: { memoryBytes: G, pids: 512, cpu: null } }), 2);
    assert.ok(asked.ok);
    assert.deepEqual(asked.limits, { memoryBytes: G, pids: 512, cpu: 1.5 });
    const none = evaluate(policy, alice, ask(), 2);
    assert.ok(none.ok);
    assert.deepEqual(none.limits, { memoryBytes: 2 * G, pids: 512, cpu: 1.5 });
  });

  it('has no ceiling where the policy says "unlimited": null unless asked', () => {
    const p = load('[defaults]\nlimits = { memory = "unlimited", pids = "unlimited", cpu = "unlimited" }\n');
    const none = evaluate(p, alice, ask(), 0);
    assert.ok(none.ok);
    assert.deepEqual(none.limits, { memoryBytes: null, pids: null, cpu: null });
    const some = evaluate(p, alice, ask({ limits: { memoryBytes: 1024 * G, pids: 5, cpu: 64 } }), 0);
    assert.ok(some.ok);
    assert.deepEqual(some.limits, { memoryBytes: 1024 * G, pids: 5, cpu: 64 });
  });
});

describe('isAtOrBelow', () => {
  const cases: [string, string, boolean][] = [
    ['/etc', '/etc', true],
    ['/etc/passwd', '/etc', true],
    ['/etcetera', '/etc', false],
    ['/et', '/etc', false],
    ['/', '/etc', false],
    ['/anything', '/', true],
    ['/', '/', true],
    ['/srv/secrets/a/b', '/srv/secrets', true],
    ['/srv/secretsx', '/srv/secrets', false],
  ];
  for (const [p, base, want] of cases) {
    it(`${p} ${want ? 'is' : 'is not'} at or below ${base}`, () => assert.equal(isAtOrBelow(p, base), want));
  }
});

describe('filterEnv', () => {
  const env = ['AWS_KEY=1', 'AWS_SECRET=2', 'MY_AWS=3', 'GH_TOKEN=4', 'GH_TOKENS=5', 'PATH=/bin', 'A=B=C', 'TOKEN_X=6'];
  const cases: [string[], string[]][] = [
    [[], env],
    [['GH_TOKEN'], ['AWS_KEY=1', 'AWS_SECRET=2', 'MY_AWS=3', 'GH_TOKENS=5', 'PATH=/bin', 'A=B=C', 'TOKEN_X=6']],
    [['AWS_*'], ['MY_AWS=3', 'GH_TOKEN=4', 'GH_TOKENS=5', 'PATH=/bin', 'A=B=C', 'TOKEN_X=6']],
    [
      ['*AWS*', '*TOKEN*'],
      ['PATH=/bin', 'A=B=C'],
    ],
    [
      ['*_TOKEN', 'A'],
      ['AWS_KEY=1', 'AWS_SECRET=2', 'MY_AWS=3', 'GH_TOKENS=5', 'PATH=/bin', 'TOKEN_X=6'],
    ],
    [['B', 'C', 'AWS'], env],
    [['*'], []],
  ];
  for (const [patterns, want] of cases) {
    it(`removes [${patterns.join(', ')}] by name only`, () => assert.deepEqual(filterEnv(env, patterns), want));
  }

  it('takes a name without * literally, backslash included', () => {
    assert.deepEqual(filterEnv(['A\\B=1', 'AB=2'], ['A\\B']), ['AB=2']);
  });
});
