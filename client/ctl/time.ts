// --since and --until: an ISO 8601 date or time, or an age (`30m`, `2h`, `7d`) counted back from now. Either way
// the daemon gets an ISO 8601 UTC timestamp.

export type TimeResult = { ok: true; iso: string } | { ok: false; message: string };

const UNIT_MS: Readonly<Record<string, number>> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
const AGE = /^(\d{1,9})([smhdw])$/;
// YYYY-MM-DD, optionally followed by T or a space, HH:MM, optional :SS and fraction, optional Z or ±HH[:]MM.
const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}(?::?\d{2})?)?)?$/i;

function fail(text: string): TimeResult {
  return {
    ok: false,
    message: `invalid time '${text}': use an ISO 8601 date or time (2026-11-30, 2026-11-30T14:00, 2026-11-30T14:00Z) or an age such as 30m, 2h, 7d`,
  };
}

function parseOffsetMinutes(zone: string): number {
  if (zone.toUpperCase() === 'Z') return 0;
  const sign = zone.startsWith('-') ? -1 : 1;
  const digits = zone.slice(1).replace(':', '');
  return sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2) || '0'));
}

/**
 * A date alone is local midnight, a time without a zone is local time (as the table shows them); with Z or an
 * offset it is that instant. Impossible dates (February 30th, 25:00) are refused rather than rolled over.
 */
export function parseTime(text: string, now: Date): TimeResult {
  const age = AGE.exec(text);
  if (age !== null) {
    const ms = Number(age[1]) * (UNIT_MS[age[2] ?? ''] ?? Number.NaN);
    const at = new Date(now.getTime() - ms);
    return Number.isNaN(at.getTime()) ? fail(text) : { ok: true, iso: at.toISOString() };
  }
  const m = ISO.exec(text);
  if (m === null) return fail(text);
  const [year, month, day, hour, minute, second] = [m[1], m[2], m[3], m[4], m[5], m[6]].map((v) =>
    Number(v ?? '0'),
  ) as [number, number, number, number, number, number];
  const ms = Number((m[7] ?? '').padEnd(3, '0').slice(0, 3));
  const zone = m[8];
  let at: Date;
  if (zone === undefined) {
    at = new Date(year, month - 1, day, hour, minute, second, ms);
    // Local fields that came out different were out of range (or skipped by a DST change): refuse.
    if (at.getFullYear() !== year || at.getMonth() !== month - 1 || at.getDate() !== day) return fail(text);
    if (at.getHours() !== hour || at.getMinutes() !== minute || at.getSeconds() !== second) return fail(text);
  } else {
    const utc = new Date(Date.UTC(year, month - 1, day, hour, minute, second, ms));
    if (utc.getUTCFullYear() !== year || utc.getUTCMonth() !== month - 1 || utc.getUTCDate() !== day) return fail(text);
    if (utc.getUTCHours() !== hour || utc.getUTCMinutes() !== minute || utc.getUTCSeconds() !== second)
      return fail(text);
    const offset = parseOffsetMinutes(zone);
    if (Math.abs(offset) > 18 * 60) return fail(text);
    at = new Date(utc.getTime() - offset * 60_000);
  }
  return Number.isNaN(at.getTime()) ? fail(text) : { ok: true, iso: at.toISOString() };
}
