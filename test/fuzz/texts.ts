// Helper status records and policy files as fast-check arbitraries: random bytes and text, records and TOML built
// from the grammar's own pieces, and mutations of valid ones.
import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { MAX_POLICY_BYTES } from '../../daemon/policy/load';
import { applyTextMutations, mutatedBytes, pseudoRandomBytes, textMutation } from './mutate';

// ---- Status records: `VERB[ REST]`, at most 4096 bytes (native/README.md).

const VERBS = [
  'pty',
  'started',
  'exit',
  'signal',
  'stopped',
  'notice',
  'masks-ignored',
  'changes',
  'changed',
  'error',
  'bogus',
  '',
  'EXIT',
] as const;

const NUMBERS = [
  '0',
  '1',
  '-1',
  '19',
  '22',
  '23',
  '64',
  '65',
  '255',
  '256',
  '0000000001',
  '00000000001',
  '2147483647',
  '2147483648',
  '4294967295',
  '4294967296',
  '9999999999',
  '1e3',
  '0x10',
  ' 1',
  '1 ',
  '١',
] as const;

const recordRest: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(...NUMBERS),
  fc.tuple(fc.constantFrom(...NUMBERS), fc.constantFrom('0', '1', '2', '', ' 1')).map(([n, t]) => `${n} ${t}`),
  fc
    .tuple(fc.constantFrom(...NUMBERS), fc.constantFrom('exec', 'mount', 'Exec', '', 'a b'), fc.string())
    .map(([n, stage, msg]) => `${n} ${stage}: ${msg}`),
  fc.string().map((s) => `/${s}`),
  fc.string({ unit: 'binary' }),
  fc.constant(''),
);

const wellFormedRecord: fc.Arbitrary<string> = fc
  .tuple(fc.constantFrom(...VERBS), fc.option(recordRest, { nil: undefined }))
  .map(([verb, rest]) => (rest === undefined ? verb : `${verb} ${rest}`));

/** Records near the 4096-byte cap: a notice padded to the length. */
const recordNearTheCap: fc.Arbitrary<Buffer> = fc
  .integer({ min: 4090, max: 4100 })
  .map((n) => Buffer.from(`notice ${'x'.repeat(n - 7)}`));

export const statusRecordBytes: fc.Arbitrary<Buffer> = fc.oneof(
  { weight: 3, arbitrary: fc.uint8Array({ maxLength: 48 }).map((b) => Buffer.from(b)) },
  { weight: 6, arbitrary: wellFormedRecord.map((s) => Buffer.from(s, 'utf8')) },
  {
    weight: 4,
    arbitrary: mutatedBytes(wellFormedRecord.map((s) => ({ bytes: Buffer.from(s, 'utf8'), intact: true }))).map((m) =>
      Buffer.from(m.bytes),
    ),
  },
  { weight: 1, arbitrary: recordNearTheCap },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.integer(), fc.integer({ min: 0, max: 5000 }))
      .map(([seed, n]) => Buffer.from(pseudoRandomBytes(seed, n))),
  },
);

// ---- Policy files (docs/policy.md).

const EXAMPLE_POLICY = path.join(__dirname, '..', '..', '..', 'docs', 'examples', 'policy.toml');
export const examplePolicy = fs.readFileSync(EXAMPLE_POLICY, 'utf8');

const KEYS = [
  'admin_group',
  'defaults',
  'rule',
  'name',
  'users',
  'groups',
  'deny',
  'allow_modes',
  'max_sessions',
  'network',
  'deny_grants',
  'masks',
  'unsetenv',
  'limits',
  'memory',
  'pids',
  'cpu',
  'unknown',
  '__proto__',
  'constructor',
  'toString',
  '"quoted key"',
  '"a\\nb"',
  "'lit'",
  '""',
] as const;

const VALUES = [
  '"casual"',
  '["casual", "strict", "bare"]',
  '["strict", "strict"]',
  '["root"]',
  '[]',
  '[[]]',
  '32',
  '0',
  '-1',
  '100000',
  '100001',
  '9223372036854775807',
  '99999999999999999999',
  '2.0',
  '0.0',
  '-0.0',
  '1e400',
  'nan',
  'inf',
  '-inf',
  '0x10',
  '0o7',
  '0b1',
  '1_000',
  'true',
  'false',
  '"host"',
  '"loopback"',
  '"none"',
  '"/etc"',
  '["/srv", "/srv/a", "/"]',
  '["a/../b", "//x", ""]',
  '["x", "a/b"]',
  '["PATH", "AWS_*", "A=B", ""]',
  '"8G"',
  '"4M"',
  '"3M"',
  '"1T"',
  '"0"',
  '"unlimited"',
  '"jai-admin"',
  '["alice", "bob$", "-x", ""]',
  '"defaults"',
  '"contractors"',
  '"a\\u0000b"',
  '"\\uD800"',
  '"\\n"',
  '"""multi\nline"""',
  "'''lit\n'''",
  '{ memory = "2G", pids = 512, cpu = 1.5 }',
  '{ memory = "unlimited", pids = "unlimited", cpu = "unlimited" }',
  '{ memory = 1, pids = 0, cpu = 0 }',
  '{}',
  '{ a = { b = { c = 1 } } }',
  '1979-05-27T07:32:00Z',
  '1979-05-27',
  '07:32:00',
  `"${'x'.repeat(70)}"`,
] as const;

const HEADERS = [
  '[defaults]',
  '[[rule]]',
  '[defaults.limits]',
  '[rule.limits]',
  '[rule]',
  '[[rule.limits]]',
  '[admin_group]',
  '[[defaults]]',
  '[x]',
  '["defaults"]',
  "['rule']",
  '[ defaults ]',
  '[[ rule ]]',
] as const;

const TOKENS = [
  ...KEYS,
  ...VALUES,
  ...HEADERS,
  '[',
  ']',
  '[[',
  ']]',
  '{',
  '}',
  '=',
  ',',
  '.',
  '"',
  "'",
  '"""',
  "'''",
  '#',
  '\n',
  '\r\n',
  '\r',
  ' ',
  '\t',
  '\\',
  '\0',
  '\uFEFF',
] as const;

const tokenSoup = fc.array(fc.constantFrom(...TOKENS), { maxLength: 40 }).map((t) => t.join(''));

const key = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...KEYS) },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom(...KEYS), fc.constantFrom(...KEYS)).map(([a, b]) => `${a}.${b}`) },
  { weight: 1, arbitrary: fc.string({ maxLength: 8 }).map((s) => JSON.stringify(s)) },
);
const value = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...VALUES) },
  { weight: 1, arbitrary: fc.string({ maxLength: 12 }).map((s) => JSON.stringify(s)) },
  { weight: 1, arbitrary: fc.array(fc.constantFrom(...VALUES), { maxLength: 4 }).map((v) => `[${v.join(', ')}]`) },
  { weight: 1, arbitrary: fc.integer().map(String) },
);
const line = fc.oneof(
  { weight: 6, arbitrary: fc.tuple(key, value).map(([k, v]) => `${k} = ${v}`) },
  { weight: 2, arbitrary: fc.constantFrom(...HEADERS) },
  { weight: 1, arbitrary: fc.constantFrom('', '# comment', '  ', '\t# x') },
  { weight: 1, arbitrary: tokenSoup },
);
/** Documents written line by line from the schema's keys, headers and values: past the TOML parser, into the checks. */
const lineSoup = fc
  .tuple(fc.array(line, { maxLength: 30 }), fc.constantFrom('\n', '\r\n'))
  .map(([lines, eol]) => lines.join(eol));

const inserted = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...TOKENS) },
  { weight: 1, arbitrary: tokenSoup },
  { weight: 1, arbitrary: fc.string({ maxLength: 6 }) },
);

/** A file around the 1 MiB cap: the example padded with a comment. */
const policyNearTheCap: fc.Arbitrary<string> = fc
  .integer({ min: -4, max: 4 })
  .map((delta) => `${examplePolicy}#${'x'.repeat(MAX_POLICY_BYTES - Buffer.byteLength(examplePolicy) - 1 + delta)}`);

export const policyText: fc.Arbitrary<string> = fc.oneof(
  { weight: 2, arbitrary: fc.string({ maxLength: 64 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 64 }) },
  { weight: 3, arbitrary: tokenSoup },
  { weight: 6, arbitrary: lineSoup },
  {
    weight: 8,
    arbitrary: fc
      .array(textMutation(inserted), { minLength: 1, maxLength: 6 })
      .map((mutations) => applyTextMutations(examplePolicy, mutations)),
  },
  { weight: 1, arbitrary: fc.constant(examplePolicy) },
  { weight: 1, arbitrary: policyNearTheCap },
);
