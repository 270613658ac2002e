// The jailed program's environment (jai-behaviour.md §6) and ${VAR} substitution in config files (§3.5). Pure.
import { usage, type Problem } from './outcome';

import { compileGlob, glob } from '../../common/glob';

export { compileGlob, glob };

/** `${NAME}` replaced by lookup(NAME); `\` quotes the next character; `${` without a closing `}` is literal. */
export function expandVars(input: string, lookup: (name: string) => string): string {
  let out = '';
  let i = 0;
  while (i < input.length) {
    const c = input[i] ?? '';
    if (c === '\\') {
      out += i + 1 < input.length ? (input[i + 1] ?? '') : '\\';
      i += 2;
      continue;
    }
    const close = input.startsWith('${', i) ? input.indexOf('}', i + 2) : -1;
    if (close >= 0) {
      out += lookup(input.slice(i + 2, close));
      i = close + 1;
      continue;
    }
    out += c;
    i++;
  }
  return out;
}

export interface EnvSettings {
  /** --unsetenv entries: exact names, or whole-string globs when they contain `*`. */
  filter: Set<string>;
  /** --setenv assignments by name, each stored as NAME=VALUE; they win over the filter. */
  assignments: Map<string, string>;
}

/** The value an earlier `setenv NAME=…` gave, else the process environment's, else "". */
export function lookupVar(settings: EnvSettings, processEnv: ReadonlyMap<string, string>, name: string): string {
  const assigned = settings.assignments.get(name);
  if (assigned !== undefined) return assigned.slice(assigned.indexOf('=') + 1);
  return processEnv.get(name) ?? '';
}

/** --unsetenv PATTERN: filters inherited variables and deletes earlier assignments it matches. */
export function unsetenv(settings: EnvSettings, pattern: string): void {
  for (const name of [...settings.assignments.keys()]) if (glob(pattern, name)) settings.assignments.delete(name);
  settings.filter.add(pattern);
}

/**
 * --setenv VAR=VALUE assigns (VALUE already expanded by the caller when in a file); --setenv VAR removes VAR from
 * the filter when it is literally one of its entries, else passes VAR's current value through a matching pattern.
 */
export function setenv(settings: EnvSettings, spec: string, processEnv: ReadonlyMap<string, string>): Problem | null {
  const eq = spec.indexOf('=');
  if (eq >= 0) {
    settings.assignments.set(spec.slice(0, eq), spec);
    return null;
  }
  if (settings.filter.delete(spec)) return null;
  if (spec.includes(' ')) return usage(`Environment variable "${spec}" contains space, did you mean '='?`);
  const current = processEnv.get(spec);
  if (current !== undefined && [...settings.filter].some((p) => glob(p, spec))) {
    settings.assignments.set(spec, `${spec}=${current}`);
  }
  return null;
}

/** The final NAME=VALUE list: inherited variables not filtered, then assignments over them, sorted by name. */
export function buildEnvironment(settings: EnvSettings, inherited: ReadonlyMap<string, string>): string[] {
  const names = [...settings.filter].filter((f) => !f.includes('*'));
  const exact = new Set(names);
  const patterns = [...settings.filter].filter((f) => f.includes('*')).map(compileGlob);
  const result = new Map(settings.assignments);
  for (const [name, value] of inherited) {
    if (exact.has(name) || patterns.some((matches) => matches(name)) || result.has(name)) continue;
    result.set(name, `${name}=${value}`);
  }
  return [...result.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)).map((name) => result.get(name) ?? name);
}
