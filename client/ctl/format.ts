// Human output: the session table, `show`, audit lines, health and the policy. Every string from the daemon goes
// through escapeText (or quoteArg, which uses it) before it is printed.
import { escapeText } from './escape';
import type { AdminEvent, HealthView, SessionView } from './views';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'] as const;
/** COMMAND's width when stdout is not a terminal. */
export const DEFAULT_COMMAND_WIDTH = 60;
/** COMMAND never gets narrower than this, even on a narrow terminal (the line wraps instead). */
const MIN_COMMAND_WIDTH = 20;
const SHOWN_CHANGES = 20;

const pad2 = (n: number): string => String(n).padStart(2, '0');

function parseDate(iso: string): Date | null {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? null : date;
}

/** Local `YYYY-MM-DD HH:MM:SS`. */
export function formatLocal(date: Date): string {
  return (
    `${date.getFullYear()}-${pad2(date.getMonth() + 1)}-${pad2(date.getDate())} ` +
    `${pad2(date.getHours())}:${pad2(date.getMinutes())}:${pad2(date.getSeconds())}`
  );
}

/** Local time with its UTC offset, for `show` and `health`: `2026-11-30 14:05:09 +01:00`. */
export function formatLocalZoned(iso: string): string {
  const date = parseDate(iso);
  if (date === null) return escapeText(iso);
  const offset = -date.getTimezoneOffset();
  const sign = offset < 0 ? '-' : '+';
  return `${formatLocal(date)} ${sign}${pad2(Math.floor(Math.abs(offset) / 60))}:${pad2(Math.abs(offset) % 60)}`;
}

/** The table's STARTED: the time today, the date and minute this year, the date before (as ls -l). */
export function formatStarted(iso: string, now: Date): string {
  const date = parseDate(iso);
  if (date === null) return escapeText(iso);
  const time = `${pad2(date.getHours())}:${pad2(date.getMinutes())}`;
  if (
    date.getFullYear() === now.getFullYear() &&
    date.getMonth() === now.getMonth() &&
    date.getDate() === now.getDate()
  )
    return `${time}:${pad2(date.getSeconds())}`;
  if (date.getFullYear() === now.getFullYear())
    return `${MONTHS[date.getMonth()] ?? '?'} ${String(date.getDate()).padStart(2, ' ')} ${time}`;
  return `${date.getFullYear()}-${pad2(date.getMonth() + 1)}-${pad2(date.getDate())}`;
}

/** `12s`, `3m04s`, `1h02m`, `2d03h`. */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${pad2(s % 60)}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h${pad2(Math.floor((s % 3600) / 60))}m`;
  return `${Math.floor(s / 86400)}d${pad2(Math.floor((s % 86400) / 3600))}h`;
}

/** How long a session ran, or has been running. */
function sessionDuration(s: SessionView, now: Date): string {
  if (s.durationMs !== null) return formatDuration(s.durationMs);
  const started = parseDate(s.startedAt);
  return s.state === 'running' && started !== null ? formatDuration(now.getTime() - started.getTime()) : '-';
}

/** One argument as a shell would need it, escaped: `claude`, `'two words'`, `''`. */
export function quoteArg(arg: string): string {
  const text = escapeText(arg);
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}

export function commandText(argv: readonly string[]): string {
  return argv.map(quoteArg).join(' ');
}

/** At most `width` characters (code points), the last one `…` when cut. */
export function truncate(text: string, width: number): string {
  const chars = Array.from(text);
  if (chars.length <= width) return text;
  return width <= 0 ? '' : `${chars.slice(0, width - 1).join('')}…`;
}

const textWidth = (text: string): number => Array.from(text).length;

/**
 * Left-aligned columns two spaces apart; the last column is cut to what is left of `lineWidth` (at least
 * MIN_COMMAND_WIDTH), or to DEFAULT_COMMAND_WIDTH when lineWidth is null (not a terminal).
 */
export function renderTable(
  headers: readonly string[],
  rows: readonly (readonly string[])[],
  lineWidth: number | null,
): string {
  const fixed = headers.length - 1;
  const widths = headers
    .slice(0, fixed)
    .map((h, i) => Math.max(textWidth(h), ...rows.map((r) => textWidth(r[i] ?? ''))));
  const used = widths.reduce((sum, w) => sum + w + 2, 0);
  const lastWidth = lineWidth === null ? DEFAULT_COMMAND_WIDTH : Math.max(MIN_COMMAND_WIDTH, lineWidth - used);
  const line = (cells: readonly string[]): string => {
    const head = widths.map((w, i) => {
      const cell = cells[i] ?? '';
      return cell + ' '.repeat(w - textWidth(cell) + 2);
    });
    return `${head.join('')}${truncate(cells[fixed] ?? '', lastWidth)}`.trimEnd();
  };
  return [headers, ...rows].map((r) => `${line(r)}\n`).join('');
}

export const SESSION_HEADERS = [
  'ID',
  'USER',
  'MODE',
  'JAIL',
  'NET',
  'STATE',
  'STARTED',
  'DURATION',
  'COMMAND',
] as const;

export function sessionTable(sessions: readonly SessionView[], now: Date, lineWidth: number | null): string {
  const rows = sessions.map((s) => [
    escapeText(s.id.slice(0, 12)),
    escapeText(s.user),
    escapeText(s.mode),
    escapeText(s.jail),
    escapeText(s.network ?? '-'),
    escapeText(s.state),
    formatStarted(s.startedAt, now),
    sessionDuration(s, now),
    commandText(s.argv),
  ]);
  return renderTable(SESSION_HEADERS, rows, lineWidth);
}

/** How a session ended, in a few words: `exit code 1`, `signal 9`, `POLICY_DENIED: …`. */
function outcome(s: SessionView): string {
  const parts: string[] = [];
  if (s.exitCode !== null) parts.push(`exit code ${s.exitCode}`);
  if (s.signal !== null) parts.push(`signal ${s.signal}`);
  if (s.errorCode !== null || s.error !== null)
    parts.push(
      [s.errorCode, s.error]
        .filter((p): p is string => p !== null)
        .map(escapeText)
        .join(': '),
    );
  return parts.join(', ');
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'] as const;
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1 && value % 1024 === 0) {
    value /= 1024;
    unit++;
  }
  return `${value} ${units[unit] ?? 'B'}`;
}

function limitsText(limits: SessionView['limits']): string {
  if (limits === null) return '(not recorded)';
  const parts: string[] = [];
  if (limits.memoryBytes !== null) parts.push(`memory ${formatBytes(limits.memoryBytes)}`);
  if (limits.pids !== null) parts.push(`pids ${limits.pids}`);
  if (limits.cpu !== null) parts.push(`cpu ${limits.cpu}`);
  return parts.length === 0 ? 'none' : parts.join(', ');
}

/** `key: value` lines; a list value is one item per line under its key. */
function keyValues(entries: readonly (readonly [string, string | readonly string[]])[]): string {
  const width = Math.max(...entries.map(([k]) => k.length)) + 2;
  const out: string[] = [];
  for (const [key, value] of entries) {
    const label = `${key}:`.padEnd(width);
    if (typeof value === 'string') out.push(`${label}${value}`.trimEnd());
    else if (value.length === 0) out.push(`${label}none`);
    else value.forEach((v, i) => out.push(`${i === 0 ? label : ' '.repeat(width)}${v}`));
  }
  return out.map((line) => `${line}\n`).join('');
}

/** `jaictl show`: every field of the session. */
export function sessionDetail(s: SessionView, now: Date): string {
  const changes: string[] = [];
  if (s.changes !== null) {
    const shown = s.changes.paths.slice(0, SHOWN_CHANGES);
    const more = s.changes.count - shown.length;
    changes.push(
      `${s.changes.count} path${s.changes.count === 1 ? '' : 's'}${s.changes.truncated ? ' (list truncated)' : ''}`,
    );
    changes.push(...shown.map(escapeText));
    if (more > 0) changes.push(`… and ${more} more`);
  }
  return keyValues([
    ['id', escapeText(s.id)],
    ['user', `${escapeText(s.user)} (uid ${s.uid})`],
    ['peer', `uid ${s.peerUid}, pid ${s.peerPid}`],
    ['command', commandText(s.argv)],
    ['cwd', escapeText(s.cwd)],
    ['mode', escapeText(s.mode)],
    ['jail', escapeText(s.jail)],
    ['network', escapeText(s.network ?? '(not recorded)')],
    ['grants', s.grants.map((g) => `${escapeText(g.path)} (${g.readOnly ? 'ro' : 'rw'})`)],
    ['masks', s.masks.map(escapeText)],
    ['limits', limitsText(s.limits)],
    ['rule', escapeText(s.rule)],
    ['started', formatLocalZoned(s.startedAt)],
    ['ended', s.endedAt === null ? '-' : formatLocalZoned(s.endedAt)],
    ['duration', sessionDuration(s, now)],
    ['state', escapeText(s.state)],
    ['exit code', s.exitCode === null ? '-' : String(s.exitCode)],
    ['signal', s.signal === null ? '-' : String(s.signal)],
    ['error', s.errorCode === null && s.error === null ? '-' : outcome({ ...s, exitCode: null, signal: null })],
    ['changes', s.changes === null ? '-' : changes],
  ]);
}

function eventTime(iso: string): string {
  const date = parseDate(iso);
  return date === null ? escapeText(iso) : formatLocal(date);
}

/** A value of unknown shape, on one line. */
function scalarText(value: unknown): string {
  if (value === null || value === undefined) return '-';
  if (typeof value === 'string') return escapeText(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return escapeText(JSON.stringify(value));
}

/** One line of `jaictl audit`. */
export function sessionEventLine(s: SessionView): string {
  const end = outcome(s);
  return [
    eventTime(s.startedAt),
    'session',
    escapeText(s.id.slice(0, 12)),
    escapeText(s.user),
    `${escapeText(s.mode)}/${escapeText(s.jail)}`,
    end === '' ? escapeText(s.state) : `${escapeText(s.state)} (${end})`,
    s.durationMs === null ? '-' : formatDuration(s.durationMs),
    commandText(s.argv),
  ].join('  ');
}

export function adminEventLine(e: AdminEvent): string {
  const parts = [
    eventTime(e.at),
    'admin',
    `${escapeText(e.actorUser)}(${e.actorUid})`,
    escapeText(e.action),
    scalarText(e.target),
    scalarText(e.result),
  ];
  if (e.detail !== null && e.detail !== undefined && e.detail !== '') parts.push(scalarText(e.detail));
  return parts.join('  ');
}

function auditText(a: NonNullable<HealthView['audit']>): string {
  if (a.writable) return `recorded (if it cannot be written: ${escapeText(a.failureMode)})`;
  const effect = a.failureMode === 'allow' ? 'sessions run UNAUDITED' : 'new sessions are refused';
  const since = a.failingSince === null ? '' : ` since ${formatLocalZoned(a.failingSince)}`;
  const pending = a.pendingEnds > 0 ? `; ${a.pendingEnds} session ends waiting to be written` : '';
  return `CANNOT BE WRITTEN${since}: ${escapeText(a.error ?? 'unknown error')}; ${effect}${pending}`;
}

export function healthText(h: HealthView): string {
  const limits = h.limits.enforced
    ? `enforced (${escapeText(h.limits.backend)}: ${escapeText(h.limits.detail)})`
    : `NOT enforced: sessions run without memory, process or CPU limits (${escapeText(h.limits.backend)}: ${escapeText(h.limits.detail)})`;
  return keyValues([
    ['status', `${escapeText(h.status)}, jaid ${escapeText(h.version)}`],
    ['up since', `${formatLocalZoned(h.startedAt)} (${formatDuration(h.uptimeSeconds * 1000)})`],
    ['sessions', `${h.activeSessions} running`],
    ['limits', limits],
    [
      'policy',
      `${h.policy.source === null ? 'built-in defaults (no policy file)' : escapeText(h.policy.source)}, loaded ${formatLocalZoned(h.policy.loadedAt)}`,
    ],
    ...(h.audit === null ? [] : [['audit', auditText(h.audit)] as [string, string]]),
  ]);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Any JSON value as indented `key: value` lines (for `policy show`, whose shape follows the policy file): lists of
 * scalars on one line, lists of objects as `-` items, null as `none`.
 */
export function renderTree(value: unknown, indent = ''): string {
  if (!isPlainObject(value)) return `${indent}${scalarText(value)}\n`;
  let out = '';
  for (const [rawKey, v] of Object.entries(value)) {
    const key = `${indent}${escapeText(rawKey)}:`;
    if (Array.isArray(v)) {
      if (v.every((item) => !isPlainObject(item) && !Array.isArray(item)))
        out += v.length === 0 ? `${key} none\n` : `${key} ${v.map(scalarText).join(', ')}\n`;
      else {
        out += `${key}\n`;
        for (const item of v as unknown[]) {
          const body = renderTree(item, `${indent}    `);
          out += `${indent}  - ${body.slice(indent.length + 4)}`;
        }
      }
    } else if (isPlainObject(v))
      out += Object.keys(v).length === 0 ? `${key} none\n` : `${key}\n${renderTree(v, `${indent}  `)}`;
    else out += `${key} ${v === null ? 'none' : scalarText(v)}\n`;
  }
  return out;
}
