// The commands that talk to jaid's admin API. Loaded only once the command line asks for one of them.
import { AdminClient, type ApiResult } from './api';
import type { Command, Invocation } from './args';
import { decode, record, type Decoder } from './decode';
import { escapeJson, escapeText, toJson } from './escape';
import { adminEventLine, healthText, renderTree, sessionDetail, sessionEventLine, sessionTable } from './format';
import { failed, OK, write, type CtlIo, type CtlOutcome } from './output';
import { adminEvent, eventType, healthView, killAnswer, reloadAnswer, sessionList, sessionView } from './views';

type ApiCommand = Exclude<Command, { kind: 'help' | 'version' | 'policy-check' }>;

const FULL_ID = 32;

/** A decoded answer, with the JSON as the daemon sent it for --json. */
type Fetched<T> = { ok: true; value: T; raw: unknown } | { ok: false; outcome: CtlOutcome };

function checked<T>(result: ApiResult<unknown>, decoder: Decoder<T>, what: string): Fetched<T> {
  if (!result.ok) return { ok: false, outcome: failed(result.failure) };
  const decoded = decode(decoder, result.value, what);
  if (!decoded.ok)
    return {
      ok: false,
      outcome: failed({ kind: 'protocol', message: `unexpected answer from jaid: ${decoded.message}` }),
    };
  return { ok: true, value: decoded.value, raw: result.value };
}

function query(params: Record<string, string | null>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value !== null) search.set(key, value);
  const text = search.toString();
  return text === '' ? '' : `?${text}`;
}

export type PrefixMatch = { ok: true; id: string } | { ok: false; matches: string[] };

/** The one session whose id starts with `prefix`; otherwise every match (none, or several). */
export function matchPrefix(prefix: string, sessions: readonly { id: string }[]): PrefixMatch {
  const matches = [...new Set(sessions.map((s) => s.id).filter((id) => id.startsWith(prefix)))];
  const [only] = matches;
  return matches.length === 1 && only !== undefined ? { ok: true, id: only } : { ok: false, matches };
}

/**
 * A full id as given; a prefix resolved by listing. `kill` looks among running sessions first, so that a prefix
 * shared only with sessions that have ended still works; then, like `show`, among all the daemon lists.
 */
async function resolveId(client: AdminClient, id: string, runningFirst: boolean): Promise<Fetched<string>> {
  if (id.length === FULL_ID) return { ok: true, value: id, raw: id };
  let matches: string[] = [];
  for (const state of runningFirst ? ['running', null] : [null]) {
    const list = checked(await client.getJson(`/v1/sessions${query({ state })}`), sessionList, 'sessions');
    if (!list.ok) return list;
    const found = matchPrefix(id, list.value.sessions);
    if (found.ok) return { ok: true, value: found.id, raw: found.id };
    matches = found.matches;
    if (matches.length > 1) break;
  }
  if (matches.length === 0)
    return { ok: false, outcome: failed({ kind: 'fatal', message: `no session id starts with ${id}` }) };
  const shown = matches.slice(0, 10).map(escapeText).join(', ');
  const more = matches.length > 10 ? `, and ${matches.length - 10} more` : '';
  return {
    ok: false,
    outcome: failed({ kind: 'ambiguous', message: `session id prefix ${id} is ambiguous: ${shown}${more}` }),
  };
}

/** `jaictl audit`: the NDJSON stream, passed through (--json) or one line per event, as it arrives. */
async function audit(client: AdminClient, command: Extract<Command, { kind: 'audit' }>, inv: Invocation, io: CtlIo) {
  const path = `/v1/audit${query({ since: command.since, until: command.until, user: command.user })}`;
  if (inv.json) {
    const result = await client.stream(path, { write: (text) => write(io.stdout, escapeJson(text)) });
    return result.ok ? OK : failed(result.failure);
  }
  let pending = '';
  let lineNumber = 0;
  let unreadable = 0;
  const emit = async (line: string): Promise<void> => {
    lineNumber++;
    if (line.trim() === '') return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      unreadable++;
      await write(io.stderr, `jaictl: audit line ${lineNumber} is not JSON\n`);
      return;
    }
    const type = decode(eventType, parsed, `audit line ${lineNumber}`);
    const text = !type.ok
      ? type
      : type.value.type === 'session'
        ? mapDecoded(decode(sessionView, parsed, `audit line ${lineNumber}`), sessionEventLine)
        : type.value.type === 'admin'
          ? mapDecoded(decode(adminEvent, parsed, `audit line ${lineNumber}`), adminEventLine)
          : { ok: true as const, value: `-  ${escapeText(type.value.type)}  ${escapeJson(JSON.stringify(parsed))}` };
    if (text.ok) await write(io.stdout, `${text.value}\n`);
    else {
      unreadable++;
      await write(io.stderr, `jaictl: ${escapeText(text.message)}\n`);
    }
  };
  const result = await client.stream(path, {
    write: async (chunk) => {
      const lines = (pending + chunk).split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) await emit(line);
    },
  });
  if (!result.ok) return failed(result.failure);
  if (pending !== '') await emit(pending);
  if (unreadable > 0)
    return failed({
      kind: 'protocol',
      message: `${unreadable} audit event${unreadable === 1 ? '' : 's'} could not be read`,
    });
  return OK;
}

function mapDecoded<T>(
  d: { ok: true; value: T } | { ok: false; message: string },
  f: (value: T) => string,
): { ok: true; value: string } | { ok: false; message: string } {
  return d.ok ? { ok: true, value: f(d.value) } : d;
}

export async function runApiCommand(command: ApiCommand, inv: Invocation, io: CtlIo): Promise<CtlOutcome> {
  const client = new AdminClient(inv.socket);
  const now = io.now?.() ?? new Date();
  switch (command.kind) {
    case 'sessions': {
      const path = `/v1/sessions${query({ user: command.user, state: command.state, since: command.since })}`;
      const list = checked(await client.getJson(path), sessionList, 'sessions');
      if (!list.ok) return list.outcome;
      const sessions = list.value.sessions;
      // The array as the daemon sent it, fields this jaictl does not know included.
      if (inv.json) await write(io.stdout, toJson(record(list.raw, 'sessions')['sessions']));
      else if (sessions.length === 0)
        await write(io.stdout, command.state === null ? 'no sessions\n' : `no ${escapeText(command.state)} sessions\n`);
      else await write(io.stdout, sessionTable(sessions, now, io.columns));
      return OK;
    }
    case 'show': {
      const id = await resolveId(client, command.id, false);
      if (!id.ok) return id.outcome;
      const session = checked(
        await client.getJson(`/v1/sessions/${encodeURIComponent(id.value)}`),
        sessionView,
        'session',
      );
      if (!session.ok) return session.outcome;
      await write(io.stdout, inv.json ? toJson(session.raw) : sessionDetail(session.value, now));
      return OK;
    }
    case 'kill': {
      const id = await resolveId(client, command.id, true);
      if (!id.ok) return id.outcome;
      const answer = checked(
        await client.postJson(`/v1/sessions/${encodeURIComponent(id.value)}/kill`),
        killAnswer,
        'kill',
      );
      if (!answer.ok) return answer.outcome;
      if (!answer.value.killed) return failed({ kind: 'fatal', message: `jaid did not kill session ${id.value}` });
      await write(io.stdout, inv.json ? toJson(answer.raw) : `killed ${escapeText(answer.value.id)}\n`);
      return OK;
    }
    case 'audit':
      return audit(client, command, inv, io);
    case 'policy-reload': {
      const answer = checked(await client.postJson('/v1/policy/reload'), reloadAnswer, 'reload');
      if (!answer.ok) return answer.outcome;
      const source = answer.value.source === null ? 'the built-in defaults' : escapeText(answer.value.source);
      await write(io.stdout, inv.json ? toJson(answer.raw) : `policy reloaded from ${source}\n`);
      return OK;
    }
    case 'policy-show': {
      const policy = checked(await client.getJson('/v1/policy'), record, 'policy');
      if (!policy.ok) return policy.outcome;
      await write(io.stdout, inv.json ? toJson(policy.value) : renderTree(policy.value));
      return OK;
    }
    case 'health': {
      const health = checked(await client.getJson('/v1/health'), healthView, 'health');
      if (!health.ok) return health.outcome;
      await write(io.stdout, inv.json ? toJson(health.raw) : healthText(health.value));
      return OK;
    }
  }
}
