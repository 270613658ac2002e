// Scanning the jai command line with upstream's rules: options up to the first non-option word (no permutation),
// `--` ends options, a lone `-` is a command, short options cluster (`-Dmcasual`) and take the rest of the word or
// the next word, long options take `--opt=value` or `--opt value`, names match exactly. Config-file lines are
// scanned as single `--name[=value]` words by the same code.
import { usage, type Problem } from './outcome';
import { CLI_OPTIONS, FILE_OPTIONS, type ActionEnv, type CliState, type OptionSpec } from './options';

export type Scanned =
  /** value is null for an option without an argument. */
  | { kind: 'option'; name: string; spec: OptionSpec; value: string | null }
  /** The option's argument is the next word (or missing). */
  | { kind: 'needs-arg'; name: string; spec: OptionSpec }
  | { kind: 'unknown'; name: string }
  | { kind: 'unexpected-arg'; name: string };

/** 'here': this word is the command; 'next': this word is `--`, the command starts after it. */
export function scanWord(word: string, table: ReadonlyMap<string, OptionSpec>): 'here' | 'next' | Scanned[] {
  if (word === '--') return 'next';
  if (word.length < 2 || !word.startsWith('-')) return 'here';
  if (word.startsWith('--')) {
    const eq = word.indexOf('=');
    const name = eq < 0 ? word : word.slice(0, eq);
    const spec = table.get(name);
    if (spec === undefined) return [{ kind: 'unknown', name }];
    if (eq < 0)
      return [spec.arg === null ? { kind: 'option', name, spec, value: null } : { kind: 'needs-arg', name, spec }];
    if (spec.arg === null) return [{ kind: 'unexpected-arg', name }];
    return [{ kind: 'option', name, spec, value: word.slice(eq + 1) }];
  }
  const out: Scanned[] = [];
  // By code point: option letters are ASCII; a non-ASCII letter is reported whole in `unknown option`.
  const chars = Array.from(word.slice(1));
  for (let j = 0; j < chars.length; j++) {
    const name = `-${chars[j] ?? ''}`;
    const spec = table.get(name);
    if (spec === undefined) {
      out.push({ kind: 'unknown', name });
      break;
    }
    if (spec.arg === null) {
      out.push({ kind: 'option', name, spec, value: null });
      continue;
    }
    const rest = chars.slice(j + 1).join('');
    out.push(rest === '' ? { kind: 'needs-arg', name, spec } : { kind: 'option', name, spec, value: rest });
    break;
  }
  return out;
}

export interface ScanResult {
  /** In order, ending at the first item that is not a usable option. */
  items: Scanned[];
  /** Index of the first word of the command (args.length when there is none). */
  positional: number;
}

export function scanArgs(args: readonly string[], table: ReadonlyMap<string, OptionSpec>): ScanResult {
  const items: Scanned[] = [];
  for (let i = 0; i < args.length; i++) {
    const scanned = scanWord(args[i] ?? '', table);
    if (scanned === 'here') return { items, positional: i };
    if (scanned === 'next') return { items, positional: i + 1 };
    for (const item of scanned) {
      const next = args[i + 1];
      const taken: Scanned =
        item.kind === 'needs-arg' && next !== undefined
          ? { kind: 'option', name: item.name, spec: item.spec, value: next }
          : item;
      if (taken !== item) i++;
      items.push(taken);
      if (taken.kind !== 'option') return { items, positional: args.length };
    }
  }
  return { items, positional: args.length };
}

/** Runs the items' actions in order; stops at the first problem. */
function apply(items: readonly Scanned[], state: CliState, env: ActionEnv): Problem | null {
  for (const item of items) {
    switch (item.kind) {
      case 'option': {
        const problem = item.spec.run(state, item.value ?? '', env);
        if (problem !== null) return problem;
        break;
      }
      case 'needs-arg':
        return usage(`option ${item.name} requires an argument`);
      case 'unknown':
        return usage(`unknown option ${item.name}`);
      case 'unexpected-arg':
        return usage(`option ${item.name} takes no argument`);
    }
  }
  return null;
}

export type CliPass = { ok: true; positional: number } | { ok: false; problem: Problem };

/** One pass over the command line: applies every option to state; positional = where the command starts. */
export function applyCommandLine(args: readonly string[], state: CliState, env: ActionEnv): CliPass {
  const scan = scanArgs(args, CLI_OPTIONS);
  const problem = apply(scan.items, state, env);
  return problem === null ? { ok: true, positional: scan.positional } : { ok: false, problem };
}

/** One config-file line, already turned into `--name` or `--name=value` by the reader. */
export function applyConfigWord(word: string, state: CliState, env: ActionEnv): Problem | null {
  const scanned = scanWord(word, FILE_OPTIONS);
  return typeof scanned === 'string' ? null : apply(scanned, state, env);
}
