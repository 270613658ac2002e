// Sizes and CPU amounts as people write them (`512M`, `8G`, `1.5`): shared by the policy file and the CLI's
// --memory/--cpu. Pure.

const UNITS = ['', 'K', 'M', 'G', 'T'] as const;

/** The smallest memory ceiling a session may have or ask for: below it nothing useful starts. */
export const MIN_MEMORY_BYTES = 4 * 1024 * 1024;
/** The kernel's own ceiling on pid_max (PID_MAX_LIMIT on 64-bit). */
export const MAX_PIDS = 4194304;
/** More CPUs' worth than any workstation has; cpu.max takes a quota up to this many periods. */
export const MAX_CPU = 1024;

/**
 * Bytes from a whole number of bytes, or a string of digits with an optional binary unit K, M, G or T (any case):
 * `1024`, `512M`, `8G`. Null for anything else, negative or fractional numbers, and values past 2^53.
 */
export function parseSize(text: string | number): number | null {
  if (typeof text === 'number') return Number.isSafeInteger(text) && text >= 0 ? text : null;
  const match = /^([0-9]{1,16})([KMGTkmgt]?)$/.exec(text);
  if (match === null) return null;
  const [, digits = '', unit = ''] = match;
  const power = UNITS.indexOf(unit.toUpperCase() as (typeof UNITS)[number]);
  const bytes = Number(digits) * 1024 ** power;
  return Number.isSafeInteger(bytes) ? bytes : null;
}

/** The largest unit that divides the size exactly: 2147483648 → `2G`, 1536 MiB → `1536M`, 1000 → `1000`. */
export function formatSize(bytes: number): string {
  let power = 0;
  while (power < UNITS.length - 1 && bytes !== 0 && bytes % 1024 ** (power + 1) === 0) power++;
  return `${bytes / 1024 ** power}${UNITS[power] ?? ''}`;
}

/** CPUs' worth of time as a plain decimal (`2`, `1.5`, `0.25`), more than 0 and at most MAX_CPU; null otherwise. */
export function parseCpu(text: string): number | null {
  if (!/^[0-9]{1,4}(\.[0-9]{1,6})?$/.test(text)) return null;
  const cpu = Number(text);
  return cpu > 0 && cpu <= MAX_CPU ? cpu : null;
}
