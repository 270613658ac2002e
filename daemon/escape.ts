// Text from clients and from user-controlled paths, made safe for logs, the audit DB and terminals.

/** Cap on any single stored or reported string. */
export const MAX_ESCAPED = 4096;

// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f]/g;

/** Control characters (C0, DEL, C1) are stored escaped so that a log viewer cannot be driven by them. */
export function escapeControl(text: string, max = MAX_ESCAPED): string {
  const escaped = text.replace(CONTROL_CHARS, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  return escaped.length > max ? `${escaped.slice(0, max)}…` : escaped;
}
