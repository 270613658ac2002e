// The jaictl command line, parsed whole before anything runs: options may come before or after the command, each
// command accepts only its own, and every mistake is a usage error (exit 2) found here.
import { parseTime } from './time';
import { SESSION_STATES } from './views';

export const DEFAULT_SOCKET = '/run/jai/admin.sock';

export type Command =
  | { kind: 'help' }
  | { kind: 'version' }
  /** state null: every state (--all). */
  | { kind: 'sessions'; user: string | null; state: string | null; since: string | null }
  | { kind: 'show'; id: string }
  | { kind: 'kill'; id: string }
  | { kind: 'audit'; since: string | null; until: string | null; user: string | null }
  | { kind: 'policy-check'; file: string }
  | { kind: 'policy-reload' }
  | { kind: 'policy-show' }
  | { kind: 'health' };

export interface Invocation {
  socket: string;
  json: boolean;
  command: Command;
}

export type ParseResult = { ok: true; invocation: Invocation } | { ok: false; message: string };

type OptionName = '--socket' | '--json' | '--user' | '--state' | '--since' | '--until' | '--all';
const VALUED: ReadonlySet<OptionName> = new Set(['--socket', '--user', '--state', '--since', '--until']);
const OPTIONS: ReadonlySet<string> = new Set([...VALUED, '--json', '--all']);
/** Options every command takes. */
const GLOBAL: readonly OptionName[] = ['--socket', '--json'];
/** Each command's own options. */
const COMMAND_OPTIONS: Readonly<Record<string, readonly OptionName[]>> = {
  sessions: ['--user', '--state', '--since', '--all'],
  show: [],
  kill: [],
  audit: ['--since', '--until', '--user'],
  'policy check': [],
  'policy reload': [],
  'policy show': [],
  health: [],
};

/** A full session id is 32 hex digits; a prefix needs at least 6 to be worth resolving. */
export const MIN_PREFIX = 6;
const SESSION_ID = /^[0-9a-f]{6,32}$/i;

function isOptionName(name: string): name is OptionName {
  return OPTIONS.has(name);
}

export interface ParseContext {
  env: Readonly<Record<string, string | undefined>>;
  now: Date;
}

export function parseArgs(argv: readonly string[], ctx: ParseContext): ParseResult {
  const fail = (message: string): ParseResult => ({ ok: false, message });
  // --help and --version win over everything else on the line, mistakes included (before a `--`).
  const end = argv.indexOf('--');
  const options = end < 0 ? argv : argv.slice(0, end);
  const invocation = (command: Command): ParseResult => ({
    ok: true,
    invocation: { socket: DEFAULT_SOCKET, json: false, command },
  });
  if (options.includes('--help') || options.includes('-h')) return invocation({ kind: 'help' });
  if (options.includes('--version')) return invocation({ kind: 'version' });

  const values = new Map<OptionName, string>();
  const flags = new Set<OptionName>();
  const words: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (arg === '--') {
      words.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith('-') || arg === '-') {
      words.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = eq < 0 ? arg : arg.slice(0, eq);
    if (!isOptionName(name)) return fail(`unknown option '${arg}'`);
    if (VALUED.has(name)) {
      let value: string;
      if (eq >= 0) value = arg.slice(eq + 1);
      else {
        const next = argv[i + 1];
        if (next === undefined) return fail(`option '${name}' needs a value`);
        value = next;
        i++;
      }
      if (value === '') return fail(`option '${name}' needs a value`);
      if (values.has(name)) return fail(`option '${name}' given twice`);
      values.set(name, value);
    } else {
      if (eq >= 0) return fail(`option '${name}' takes no value`);
      flags.add(name);
    }
  }

  const [first, ...rest] = words;
  if (first === undefined) return fail('no command given');
  let name: string;
  let positional: string[];
  if (first === 'policy') {
    const sub = rest[0];
    if (sub === undefined) return fail("'policy' needs a subcommand: check, reload or show");
    if (!['check', 'reload', 'show'].includes(sub)) return fail(`unknown policy subcommand '${sub}'`);
    name = `policy ${sub}`;
    positional = rest.slice(1);
  } else {
    if (first.includes(' ') || !Object.hasOwn(COMMAND_OPTIONS, first)) return fail(`unknown command '${first}'`);
    name = first;
    positional = rest;
  }
  const allowed = new Set<OptionName>([...GLOBAL, ...(COMMAND_OPTIONS[name] ?? [])]);
  for (const option of [...values.keys(), ...flags]) {
    if (!allowed.has(option)) return fail(`option '${option}' does not apply to '${name}'`);
  }

  const socket = values.get('--socket') ?? nonEmpty(ctx.env['JAI_ADMIN_SOCKET']) ?? DEFAULT_SOCKET;
  const json = flags.has('--json');
  const user = values.get('--user') ?? null;
  const times: Partial<Record<'--since' | '--until', string>> = {};
  for (const option of ['--since', '--until'] as const) {
    const text = values.get(option);
    if (text === undefined) continue;
    const parsed = parseTime(text, ctx.now);
    if (!parsed.ok) return fail(`${option}: ${parsed.message}`);
    times[option] = parsed.iso;
  }
  const since = times['--since'] ?? null;
  const until = times['--until'] ?? null;
  if (since !== null && until !== null && since > until) return fail('--since is later than --until');

  const expect = (count: number, what: string): string | null => {
    if (positional.length < count) return `'${name}' needs ${what}`;
    if (positional.length > count) return `unexpected argument '${positional[count] ?? ''}'`;
    return null;
  };
  const done = (command: Command): ParseResult => ({ ok: true, invocation: { socket, json, command } });

  switch (name) {
    case 'sessions': {
      const problem = expect(0, '');
      if (problem !== null) return fail(problem);
      const state = values.get('--state');
      if (state !== undefined && flags.has('--all')) return fail("'--all' and '--state' contradict each other");
      if (state !== undefined && !(SESSION_STATES as readonly string[]).includes(state))
        return fail(`unknown state '${state}' (one of ${SESSION_STATES.join(', ')})`);
      return done({ kind: 'sessions', user, state: flags.has('--all') ? null : (state ?? 'running'), since });
    }
    case 'show':
    case 'kill': {
      const problem = expect(1, 'a session id');
      if (problem !== null) return fail(problem);
      const id = positional[0] ?? '';
      if (!SESSION_ID.test(id))
        return fail(`'${id}' is not a session id (32 hex digits, or a prefix of at least ${MIN_PREFIX})`);
      return done({ kind: name, id: id.toLowerCase() });
    }
    case 'audit': {
      const problem = expect(0, '');
      if (problem !== null) return fail(problem);
      return done({ kind: 'audit', since, until, user });
    }
    case 'policy check': {
      const problem = expect(1, 'a policy file');
      if (problem !== null) return fail(problem);
      return done({ kind: 'policy-check', file: positional[0] ?? '' });
    }
    case 'policy reload':
    case 'policy show':
    case 'health': {
      const problem = expect(0, '');
      if (problem !== null) return fail(problem);
      return done({ kind: name === 'health' ? 'health' : name === 'policy reload' ? 'policy-reload' : 'policy-show' });
    }
  }
  return fail(`unknown command '${name}'`);
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}
