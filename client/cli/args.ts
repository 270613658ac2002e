// The jai command line (the subset this version supports), with upstream's parsing rules: options up to the
// first non-option word, `--` ends options, short options cluster (`-Dd/x`), an argument is the rest of the
// word or the next word, long options take `--opt=value` or `--opt value`. Pure.

export interface CliOptions {
  nocwd: boolean;
  /** -d DIR, as given (resolved against the cwd by the caller). */
  dirs: string[];
  command: string[];
}

export type ParsedCli =
  | { kind: 'run'; options: CliOptions }
  | { kind: 'help' }
  | { kind: 'version' }
  | { kind: 'usage-error'; message: string };

interface OptionSpec {
  takesArg: boolean;
  apply(options: CliOptions, arg: string): void;
}

const OPTIONS: Readonly<Record<string, OptionSpec>> = {
  '-D': { takesArg: false, apply: (o) => void (o.nocwd = true) },
  '--nocwd': { takesArg: false, apply: (o) => void (o.nocwd = true) },
  '-d': { takesArg: true, apply: (o, a) => void o.dirs.push(a) },
  '--dir': { takesArg: true, apply: (o, a) => void o.dirs.push(a) },
};

export function parseCli(args: readonly string[]): ParsedCli {
  const options: CliOptions = { nocwd: false, dirs: [], command: [] };
  let i = 0;
  for (; i < args.length; i++) {
    const word = args[i] ?? '';
    if (word === '--') {
      i++;
      break;
    }
    if (word === '-' || !word.startsWith('-')) break;
    if (word === '--help') return { kind: 'help' };
    if (word === '--version') return { kind: 'version' };
    if (word.startsWith('--')) {
      const eq = word.indexOf('=');
      const name = eq < 0 ? word : word.slice(0, eq);
      const spec = OPTIONS[name];
      if (spec === undefined) return { kind: 'usage-error', message: `unknown option ${name}` };
      if (!spec.takesArg) {
        if (eq >= 0) return { kind: 'usage-error', message: `option ${name} takes no argument` };
        spec.apply(options, '');
        continue;
      }
      const value = eq >= 0 ? word.slice(eq + 1) : args[++i];
      if (value === undefined) return { kind: 'usage-error', message: `option ${name} requires an argument` };
      spec.apply(options, value);
      continue;
    }
    // A cluster of short options.
    for (let j = 1; j < word.length; j++) {
      const name = `-${word[j] ?? ''}`;
      const spec = OPTIONS[name];
      if (spec === undefined) return { kind: 'usage-error', message: `unknown option ${name}` };
      if (!spec.takesArg) {
        spec.apply(options, '');
        continue;
      }
      const rest = word.slice(j + 1);
      const value = rest !== '' ? rest : args[++i];
      if (value === undefined) return { kind: 'usage-error', message: `option ${name} requires an argument` };
      spec.apply(options, value);
      break;
    }
  }
  options.command = args.slice(i);
  return { kind: 'run', options };
}

export const HELP = `usage: jai [OPTION]... [CMD [ARG]...]
Run CMD (default: your login shell) in a sandbox: the current directory writable, your home directory as a
copy-on-write overlay (changes land in ~/.jai/default.changes), private /tmp, the rest read-only.

  -d, --dir DIR   also grant DIR read-write (must be a directory you own)
  -D, --nocwd     do not grant the current directory
      --help      show this help
      --version   show the version

The daemon socket is /run/jai/jaid.sock, or $JAI_SOCKET.
Exit status: the program's, 128+N if it died of signal N, 1 if jai could not run it, 2 for usage errors.
`;
