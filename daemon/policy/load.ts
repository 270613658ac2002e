// Reading /etc/jai/policy.toml (docs/policy.md): TOML through smol-toml, then a schema written out here. Every
// problem names the file, the line and the key, so `jaictl policy check` points the admin at the mistake.
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { TomlDate, TomlError, parseToml as parse } from '../../common/toml';
import { escapeControl } from '../escape';
import { isCanonicalAbsolute, isPlainRelative } from '../../common/path-shape';
import { MAX_CPU, MAX_PIDS, MIN_MEMORY_BYTES, formatSize, parseSize } from '../../common/units';
import { isValidUserName, type Mode } from '../server/validate';
import { DEFAULTS_RULE } from './evaluate';
import type { Limits, NetworkMode, Policy, PolicyRule, PolicySettings } from './types';

export const DEFAULT_POLICY_PATH = '/etc/jai/policy.toml';
export const MAX_POLICY_BYTES = 1024 * 1024;
export const MAX_RULES = 1000;
export const MAX_LIST_ENTRIES = 1000;
export const MAX_SESSIONS_CEILING = 100000;
/** Past this many, the admin fixes the first ones and runs the check again. */
const MAX_REPORTED = 50;

export type PolicyLoad = { ok: true; policy: Policy } | { ok: false; message: string };

/** What applies without a file; a `[defaults]` table replaces it field by field. */
export function builtinPolicy(): Policy {
  return {
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
      limits: { memoryBytes: 8 * 1024 ** 3, pids: 4096, cpu: 2 },
    },
    rules: [],
  };
}

// ---- The schema: one check per key; a check records its problems and returns undefined when the value is bad.

interface Problem {
  /** The key as the messages name it: `rule[0].limits.memory`, `defaults.deny_grants[2]`. */
  key: string;
  message: string;
}
type Check<T> = (value: unknown, key: string, problems: Problem[]) => T | undefined;
type Shape = Record<string, Check<unknown>>;
type Parsed<S extends Shape> = { [K in keyof S]?: S[K] extends Check<infer T> ? T : never };

type Kind = 'string' | 'integer' | 'float' | 'boolean' | 'array' | 'table' | 'date';

/** Parsed with integersAsBigInt, so an integer (bigint) and a float (number) stay apart: `max_sessions = 2.0` is wrong. */
function kindOf(value: unknown): Kind {
  if (typeof value === 'string') return 'string';
  if (typeof value === 'bigint') return 'integer';
  if (typeof value === 'number') return 'float';
  if (typeof value === 'boolean') return 'boolean';
  if (Array.isArray(value)) return 'array';
  if (isTable(value)) return 'table';
  return 'date';
}

/** smol-toml gives tables (inline or not) a null prototype; dates and times are objects with one. */
function isTable(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !(value instanceof TomlDate) && !Array.isArray(value);
}

function describe(value: unknown): string {
  const kind = kindOf(value);
  return `${kind === 'integer' || kind === 'array' ? 'an' : 'a'} ${kind}`;
}

function fail(problems: Problem[], key: string, message: string): undefined {
  problems.push({ key, message });
  return undefined;
}

const quote = (text: string): string => JSON.stringify(text);

function integer(min: number, max: number): Check<number> {
  const wanted = `an integer from ${min} to ${max}`;
  return (value, key, problems) => {
    if (typeof value !== 'bigint') return fail(problems, key, `must be ${wanted}, not ${describe(value)}`);
    if (value < BigInt(min) || value > BigInt(max)) return fail(problems, key, `must be ${wanted} (got ${value})`);
    return Number(value);
  };
}

const boolean: Check<boolean> = (value, key, problems) =>
  typeof value === 'boolean' ? value : fail(problems, key, `must be true or false, not ${describe(value)}`);

function oneOf<T extends string>(values: readonly T[]): Check<T> {
  return (value, key, problems) => {
    const found = values.find((v) => v === value);
    return found ?? fail(problems, key, `must be one of ${values.join(', ')}`);
  };
}

/** A string checked by `problem`, which returns what is wrong with it or null. */
function text(problem: (s: string) => string | null): Check<string> {
  return (value, key, problems) => {
    if (typeof value !== 'string') return fail(problems, key, `must be a string, not ${describe(value)}`);
    const bad = problem(value);
    return bad === null ? value : fail(problems, key, bad);
  };
}

function list<T>(item: Check<T>, options: { nonEmpty?: string; unique?: boolean } = {}): Check<T[]> {
  return (value, key, problems) => {
    if (!Array.isArray(value)) return fail(problems, key, `must be an array, not ${describe(value)}`);
    if (value.length > MAX_LIST_ENTRIES) return fail(problems, key, `more than ${MAX_LIST_ENTRIES} entries`);
    if (value.length === 0 && options.nonEmpty !== undefined) return fail(problems, key, options.nonEmpty);
    const out: T[] = [];
    const before = problems.length;
    value.forEach((entry: unknown, i) => {
      const parsed = item(entry, `${key}[${i}]`, problems);
      if (parsed === undefined) return;
      if (options.unique === true && out.includes(parsed))
        fail(problems, `${key}[${i}]`, `${quote(String(parsed))} is listed twice`);
      else out.push(parsed);
    });
    return problems.length === before ? out : undefined;
  };
}

function table<S extends Shape>(shape: S): Check<Parsed<S>> {
  return (value, key, problems) => {
    if (!isTable(value)) return fail(problems, key, `must be a table, not ${describe(value)}`);
    const out: Record<string, unknown> = {};
    for (const [name, field] of Object.entries(value)) {
      const child = key === '' ? name : `${key}.${name}`;
      // Own keys only: `toString = 1` is an unknown key, not Object.prototype's.
      const check = Object.hasOwn(shape, name) ? shape[name] : undefined;
      if (check === undefined) {
        fail(problems, child, `unknown key (known: ${Object.keys(shape).join(', ')})`);
        continue;
      }
      const parsed = check(field, child, problems);
      if (parsed !== undefined) out[name] = parsed;
    }
    // The loop above stored each key of S only with what S's own check returned.
    return out as Parsed<S>;
  };
}

const noNul = (s: string): boolean => !s.includes('\0');

const name = text((s) => (isValidUserName(s) ? null : `not a valid user or group name (${quote(s)})`));

/** A limit key: its own check, or "unlimited" for no ceiling at all (null). */
function limit(check: Check<number>): Check<number | null> {
  return (value, key, problems) => (value === 'unlimited' ? null : check(value, key, problems));
}

const memory: Check<number> = (value, key, problems) => {
  const bytes =
    typeof value === 'string' ? parseSize(value) : typeof value === 'bigint' ? parseSize(Number(value)) : null;
  if (bytes === null) {
    const shown =
      typeof value === 'string' ? quote(value) : typeof value === 'bigint' ? String(value) : describe(value);
    return fail(problems, key, `not a size (${shown})`);
  }
  if (bytes < MIN_MEMORY_BYTES) return fail(problems, key, `must be at least ${formatSize(MIN_MEMORY_BYTES)}`);
  return bytes;
};

const cpu: Check<number> = (value, key, problems) => {
  const wanted = `a number more than 0 and at most ${MAX_CPU}`;
  if (typeof value !== 'number' && typeof value !== 'bigint')
    return fail(problems, key, `must be ${wanted}, not ${describe(value)}`);
  const n = Number(value);
  // Written so that NaN fails too.
  return n > 0 && n <= MAX_CPU ? n : fail(problems, key, `must be ${wanted} (got ${String(value)})`);
};

const LIMITS_SHAPE = {
  memory: limit(memory),
  pids: limit(integer(1, MAX_PIDS)),
  cpu: limit(cpu),
};

const MODES: readonly Mode[] = ['casual', 'strict', 'bare'];
/** In the order the messages list them, from the most access. */
const NETWORKS: readonly NetworkMode[] = ['host', 'loopback', 'none'];

const SETTINGS_SHAPE = {
  allow_modes: list(oneOf(MODES), { nonEmpty: 'must allow at least one mode', unique: true }),
  max_sessions: integer(0, MAX_SESSIONS_CEILING),
  network: oneOf(NETWORKS),
  allow_userns: boolean,
  allow_keyring: boolean,
  deny_grants: list(
    text((s) => (noNul(s) && isCanonicalAbsolute(s) ? null : `not a canonical absolute path (${quote(s)})`)),
  ),
  masks: list(text((s) => (noNul(s) && isPlainRelative(s) ? null : `not a plain relative path (${quote(s)})`))),
  unsetenv: list(
    text((s) => (s !== '' && noNul(s) && !s.includes('=') ? null : `not a variable name or pattern (${quote(s)})`)),
  ),
  limits: table(LIMITS_SHAPE),
};

function ruleNameProblem(s: string): string | null {
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(s)) return `not a valid rule name (${quote(s)}): 1 to 64 of A-Z a-z 0-9 . _ -`;
  // Refusals and the audit log name the rule; `defaults` must mean no rule matched.
  if (s === DEFAULTS_RULE) return `"${DEFAULTS_RULE}" is the name of the [defaults] table`;
  return null;
}

const RULE_SHAPE = {
  name: text(ruleNameProblem),
  users: list(name),
  groups: list(name),
  deny: boolean,
  ...SETTINGS_SHAPE,
};

const checkRule = table(RULE_SHAPE);

function overridesOf(parsed: Parsed<typeof SETTINGS_SHAPE>): PolicyRule['overrides'] {
  const out: PolicyRule['overrides'] = {};
  if (parsed.allow_modes !== undefined) out.allowModes = parsed.allow_modes;
  if (parsed.max_sessions !== undefined) out.maxSessions = parsed.max_sessions;
  if (parsed.network !== undefined) out.network = parsed.network;
  if (parsed.allow_userns !== undefined) out.allowUserns = parsed.allow_userns;
  if (parsed.allow_keyring !== undefined) out.allowKeyring = parsed.allow_keyring;
  if (parsed.deny_grants !== undefined) out.denyGrants = parsed.deny_grants;
  if (parsed.masks !== undefined) out.masks = parsed.masks;
  if (parsed.unsetenv !== undefined) out.unsetenv = parsed.unsetenv;
  if (parsed.limits !== undefined) {
    const limits: Partial<Limits> = {};
    if (parsed.limits.memory !== undefined) limits.memoryBytes = parsed.limits.memory;
    if (parsed.limits.pids !== undefined) limits.pids = parsed.limits.pids;
    if (parsed.limits.cpu !== undefined) limits.cpu = parsed.limits.cpu;
    out.limits = limits;
  }
  return out;
}

const checkRules: Check<PolicyRule[]> = (value, key, problems) => {
  if (!Array.isArray(value))
    return fail(problems, key, `must be an array of tables ([[${key}]]), not ${describe(value)}`);
  if (value.length > MAX_RULES) return fail(problems, key, `more than ${MAX_RULES} rules`);
  const rules: PolicyRule[] = [];
  const seen = new Map<string, string>();
  value.forEach((entry: unknown, i) => {
    const at = `${key}[${i}]`;
    const rule = checkRule(entry, at, problems);
    if (rule === undefined) return;
    if (rule.name === undefined) {
      // A bad name was reported by its check; only a missing one is reported here.
      if (isTable(entry) && !Object.hasOwn(entry, 'name'))
        fail(problems, `${at}.name`, 'missing: every rule needs a name');
    } else {
      const first = seen.get(rule.name);
      if (first !== undefined) fail(problems, `${at}.name`, `${quote(rule.name)} is already the name of ${first}`);
      else seen.set(rule.name, at);
    }
    // From the text as written, so a bad `users` list is reported once, as itself.
    const named = isTable(entry) && [entry['users'], entry['groups']].some((v) => Array.isArray(v) && v.length > 0);
    if (!named) fail(problems, at, 'matches nobody: give it users or groups');
    rules.push({
      name: rule.name ?? '',
      users: rule.users ?? [],
      groups: rule.groups ?? [],
      deny: rule.deny ?? false,
      overrides: overridesOf(rule),
    });
  });
  return rules;
};

const checkFile = table({
  admin_group: name,
  defaults: table(SETTINGS_SHAPE),
  rule: checkRules,
});

// ---- Lines: smol-toml keeps no positions, so the source is scanned for where each key starts.

type Frame = { kind: 'table'; path: string; expectKey: boolean } | { kind: 'array'; path: string; index: number };

const join = (base: string, part: string): string => (base === '' ? part : `${base}.${part}`);

/**
 * The line where each key, table and array element starts, named as the checks name them (`rule[1].limits.memory`,
 * `defaults.deny_grants[0]`). Runs only on text smol-toml accepted, so it can be simple; every step advances, so it
 * ends on any input.
 */
export function keyLines(source: string): Map<string, number> {
  const lines = new Map<string, number>();
  const arrayTables = new Map<string, number>();
  const stack: Frame[] = [];
  const n = source.length;
  let line = 1;
  let i = 0;
  let table = '';
  let lineStart = true;
  let valuePath = '';

  const note = (path: string): void => {
    if (!lines.has(path)) lines.set(path, line);
  };
  const skipTo = (end: number): void => {
    for (let j = i; j < end && j < n; j++) if (source[j] === '\n') line++;
    i = Math.max(end, i + 1);
  };
  // Bare or quoted parts separated by dots; returns the parts and leaves i after them.
  const readKey = (): string[] => {
    const parts: string[] = [];
    for (;;) {
      while (source[i] === ' ' || source[i] === '\t') i++;
      const c = source[i];
      let part: string;
      if (c === '"' || c === "'") {
        let j = i + 1;
        while (j < n && source[j] !== c && source[j] !== '\n') j += c === '"' && source[j] === '\\' ? 2 : 1;
        part = source.slice(i + 1, j);
        i = j + 1;
      } else {
        const start = i;
        while (i < n && /[A-Za-z0-9_-]/.test(source[i] ?? '')) i++;
        part = source.slice(start, i);
      }
      parts.push(part);
      while (source[i] === ' ' || source[i] === '\t') i++;
      if (source[i] !== '.') return parts;
      i++;
    }
  };
  // Table paths name array-of-tables elements by their last index: `[rule.limits]` after the 2nd [[rule]].
  const resolve = (parts: readonly string[]): string => {
    let path = '';
    for (const part of parts) {
      path = join(path, part);
      const count = arrayTables.get(path);
      if (count !== undefined) path = `${path}[${count - 1}]`;
    }
    return path;
  };
  const noteKey = (base: string, parts: readonly string[]): string => {
    let path = base;
    for (const part of parts) {
      path = join(path, part);
      note(path);
    }
    return path;
  };
  const readHeader = (): void => {
    const isArray = source[i + 1] === '[';
    i += isArray ? 2 : 1;
    const parts = readKey();
    if (isArray) {
      const last = parts.pop() ?? '';
      const path = join(resolve(parts), last);
      const count = arrayTables.get(path) ?? 0;
      arrayTables.set(path, count + 1);
      note(path);
      table = `${path}[${count}]`;
    } else {
      table = resolve(parts);
    }
    note(table);
    i += isArray ? 2 : 1;
  };
  const readKeyValue = (base: string): void => {
    const start = i;
    valuePath = noteKey(base, readKey());
    // Past the `=`; at least one character either way.
    i = Math.max(i + 1, start + 1);
  };
  const skipValue = (): void => {
    const c = source[i];
    if (c === '{') {
      stack.push({ kind: 'table', path: valuePath, expectKey: true });
      i++;
    } else if (c === '[') {
      stack.push({ kind: 'array', path: valuePath, index: 0 });
      i++;
    } else if (source.startsWith('"""', i) || source.startsWith("'''", i)) {
      const delimiter = source.slice(i, i + 3);
      let j = i + 3;
      while (j < n && !source.startsWith(delimiter, j)) j += delimiter === '"""' && source[j] === '\\' ? 2 : 1;
      j += 3;
      // Up to two quotes just before the closing delimiter belong to the string.
      for (let extra = 0; extra < 2 && source[j] === delimiter[0]; extra++) j++;
      skipTo(j);
    } else if (c === '"' || c === "'") {
      let j = i + 1;
      while (j < n && source[j] !== c) j += c === '"' && source[j] === '\\' ? 2 : 1;
      skipTo(j + 1);
    } else {
      let j = i;
      while (j < n && !' \t\r\n,]}#'.includes(source[j] ?? '')) j++;
      skipTo(j);
    }
  };

  while (i < n) {
    const c = source[i] ?? '';
    if (c === '\n') {
      line++;
      i++;
      if (stack.length === 0) lineStart = true;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\r') {
      i++;
      continue;
    }
    if (c === '#') {
      while (i < n && source[i] !== '\n') i++;
      continue;
    }
    const top = stack.at(-1);
    if (top === undefined) {
      if (lineStart) {
        lineStart = false;
        if (c === '[') readHeader();
        else readKeyValue(table);
        continue;
      }
    } else if (top.kind === 'table') {
      if (c === '}' || c === ',') {
        if (c === '}') stack.pop();
        else top.expectKey = true;
        i++;
        continue;
      }
      if (top.expectKey) {
        top.expectKey = false;
        readKeyValue(top.path);
        continue;
      }
    } else {
      if (c === ']' || c === ',') {
        if (c === ']') stack.pop();
        else top.index++;
        i++;
        continue;
      }
      valuePath = `${top.path}[${top.index}]`;
      note(valuePath);
    }
    skipValue();
  }
  return lines;
}

/** The key's own line, else its nearest enclosing key's (a missing `name` is reported at its [[rule]] header). */
function lineOf(lines: ReadonlyMap<string, number>, key: string): number {
  let path = key;
  for (;;) {
    const line = lines.get(path);
    if (line !== undefined) return line;
    const cut = path.endsWith(']') ? path.lastIndexOf('[') : path.lastIndexOf('.');
    if (cut <= 0) return 1;
    path = path.slice(0, cut);
  }
}

// ---- Entry points.

function tomlMessage(err: TomlError): string {
  const first = err.message.split('\n', 1)[0] ?? '';
  return first.replace(/^Invalid TOML document: /, '');
}

/** Parses and validates a policy file's text; `file` names it in every message. */
export function parsePolicy(source: string, file: string): PolicyLoad {
  if (Buffer.byteLength(source, 'utf8') > MAX_POLICY_BYTES)
    return { ok: false, message: `${file}: larger than ${formatSize(MAX_POLICY_BYTES)}` };
  let document: unknown;
  try {
    // Unsafe keys (`__proto__`) are refused outright; no key of ours nests deeper than 3.
    document = parse(source, { integersAsBigInt: true, unsafeKeyBehaviour: 'throw', maxDepth: 16 });
  } catch (err: unknown) {
    if (err instanceof TomlError)
      return { ok: false, message: `${file}:${err.line}:${err.column}: ${tomlMessage(err)}` };
    return { ok: false, message: `${file}: cannot parse: ${err instanceof Error ? err.message : String(err)}` };
  }
  const problems: Problem[] = [];
  const parsed = checkFile(document, '', problems);
  if (problems.length > 0 || parsed === undefined) {
    const lines = keyLines(source);
    const located = problems
      .map((p) => ({ ...p, line: lineOf(lines, p.key) }))
      .sort((a, b) => a.line - b.line)
      // A key is file text: its control characters are escaped, so that it cannot split or forge a problem line.
      .map((p) => `${file}:${p.line}: ${escapeControl(p.key)}: ${p.message}`);
    if (located.length > MAX_REPORTED)
      located.splice(MAX_REPORTED, Infinity, `${file}: and ${located.length - MAX_REPORTED} more problems`);
    return { ok: false, message: located.join('\n') };
  }
  const builtin = builtinPolicy();
  const { limits, ...scalars } = overridesOf(parsed.defaults ?? {});
  const defaults: PolicySettings = {
    ...builtin.defaults,
    ...scalars,
    limits: { ...builtin.defaults.limits, ...limits },
  };
  return {
    ok: true,
    policy: { source: file, adminGroup: parsed.admin_group ?? null, defaults, rules: parsed.rule ?? [] },
  };
}

/**
 * The file's text, read as root: at most MAX_POLICY_BYTES + 1 bytes (so `--policy /dev/zero` cannot exhaust
 * memory), only from a regular file (O_NONBLOCK so a FIFO cannot hang the daemon), and only valid UTF-8.
 */
export function readPolicyText(file: string): string {
  const fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    if (!fstatSync(fd).isFile()) throw new Error('not a regular file');
    const buffer = Buffer.alloc(MAX_POLICY_BYTES + 1);
    let length = 0;
    for (;;) {
      const got = readSync(fd, buffer, length, buffer.length - length, null);
      if (got === 0 || (length += got) === buffer.length) break;
    }
    if (length > MAX_POLICY_BYTES) throw new Error(`larger than ${formatSize(MAX_POLICY_BYTES)}`);
    const bytes = buffer.subarray(0, length);
    const source = bytes.toString('utf8');
    // Invalid bytes decode to U+FFFD; a file that had U+FFFD itself re-encodes to the same bytes.
    if (!Buffer.from(source, 'utf8').equals(bytes)) throw new Error('not valid UTF-8');
    return source;
  } finally {
    closeSync(fd);
  }
}

/** Reads and parses a policy file; a missing or unreadable file is an error naming it. */
export function loadPolicyFile(file: string, read: (f: string) => string = readPolicyText): PolicyLoad {
  let source: string;
  try {
    source = read(file);
  } catch (err: unknown) {
    const reason = err instanceof Error ? err.message : String(err);
    // Node's messages end with `, open '<file>'`: the file is named once, first.
    return { ok: false, message: `${file}: cannot read: ${reason.replace(/, \w+ '.*'$/, '')}` };
  }
  return parsePolicy(source, file);
}
