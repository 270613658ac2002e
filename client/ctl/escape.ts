// Data from the daemon made safe for a terminal. Session argv, paths, jail and user names are chosen by users: a
// raw escape sequence in one must not reach the administrator's terminal, in the human output or in --json.

// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;
/** Format characters that reorder or break lines on display (bidi overrides and isolates, line separators). */
const INVISIBLE = /[\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
const JSON_UNSAFE =
  // eslint-disable-next-line no-control-regex -- as above; tab and newline are JSON whitespace and stay
  /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

const hex = (c: string, width: number): string => c.charCodeAt(0).toString(16).padStart(width, '0');

/** For human output: C0, DEL and C1 as `\xNN`, the invisible formatting characters as `\uNNNN`. */
export function escapeText(text: string): string {
  return text.replace(CONTROL, (c) => `\\x${hex(c, 2)}`).replace(INVISIBLE, (c) => `\\u${hex(c, 4)}`);
}

/**
 * For JSON text: the same characters as `\uNNNN` escapes. Inside a JSON string that is the same value; outside one
 * they are not valid JSON anyway (JSON.stringify never writes them raw, except DEL, C1 and the formatting
 * characters, which it leaves raw inside strings).
 */
export function escapeJson(text: string): string {
  return text.replace(JSON_UNSAFE, (c) => `\\u${hex(c, 4)}`);
}

/** Pretty JSON for --json output, terminal-safe. */
export function toJson(value: unknown): string {
  return `${escapeJson(JSON.stringify(value, null, 2))}\n`;
}
