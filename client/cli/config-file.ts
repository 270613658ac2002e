// jai configuration files (jai-behaviour.md §3): the line syntax, file lookup, and `conf` includes parsed in place
// with loop detection by real path. An option error inside a file reads `REALPATH:LINE: message`, one prefix per
// include level; other errors (missing directories, unreadable files) are reported as they are.
import { applyConfigWord } from './args';
import { fatal, usage, type Problem } from './outcome';
import type { ActionEnv, CliState, IncludeResult } from './options';
import { components, extension, joinPath } from './paths';
import { strerror, type ResolveFs } from './resolve-fs';

/** Files larger than this are refused (guards against huge or sparse files). */
export const MAX_CONFIG_BYTES = 16 * 1024 * 1024;

export interface ConfigEntry {
  /** `--name` (no value) or `--name=value`, ready for the option scanner. */
  word: string;
  /** 1-based line where the entry ends (its last line when continued). */
  line: number;
}

const BLANKS = ' \t\r';
const NAME_END = ' \t\r\n=';

function skip(text: string, pos: number, set: string): number {
  while (pos < text.length && set.includes(text[pos] ?? '')) pos++;
  return pos;
}

/**
 * Splits a file into entries. A line whose first non-blank is `#` is a comment. The name runs to a blank, newline
 * or `=`; with only blanks after it the option has no value; otherwise the value follows the blanks, or is
 * everything after an `=` (blanks included). In values: \t \r \n escapes, backslash-newline continues the line
 * (skipping the next line's leading blanks), backslash quotes any other character, raw CRs are dropped, trailing
 * blanks are trimmed unless the last character came from an escape.
 * Line by line with indexOf and slice: .defaults (~4.5 KB, 60 entries) is read on every start, in code that runs
 * once and so is interpreted; a value with a backslash goes through the character loop (escapeValue).
 */
export function readConfigEntries(text: string): ConfigEntry[] {
  const entries: ConfigEntry[] = [];
  let line = 1; // of `start`
  let start = 0;
  while (start < text.length) {
    const nl = text.indexOf('\n', start);
    let end = nl < 0 ? text.length : nl;
    const first = skip(text, start, BLANKS);
    if (first < end && text[first] !== '#') {
      let nameEnd = first;
      while (nameEnd < end && !NAME_END.includes(text[nameEnd] ?? '')) nameEnd++;
      const word = `--${text.slice(first, nameEnd)}`;
      const pos = skip(text, nameEnd, BLANKS);
      if (pos >= end) entries.push({ word, line });
      else {
        const named = text[pos] === '=' ? word : `${word}=`;
        const backslash = text.indexOf('\\', pos);
        if (backslash < 0 || backslash >= end) {
          const value = text.slice(pos, end);
          entries.push({ word: trimEnd(named + (value.includes('\r') ? value.replaceAll('\r', '') : value)), line });
        } else {
          const escaped = escapeValue(text, pos, named);
          // A continued value ends on a later line.
          for (let i = text.indexOf('\n', start); i >= 0 && i < escaped.end; i = text.indexOf('\n', i + 1)) line++;
          end = escaped.end;
          entries.push({ word: escaped.word, line });
        }
      }
    }
    start = end + 1;
    line++;
  }
  return entries;
}

function trimEnd(word: string): string {
  return word.replace(/[ \t\r\n]+$/, '');
}

/** A value with escapes, from pos to the newline that ends it (or the end of the text). */
function escapeValue(text: string, pos: number, named: string): { word: string; end: number } {
  let word = named;
  let escape = false;
  let lastEscaped = false;
  for (; pos < text.length && (escape || text[pos] !== '\n'); pos++) {
    const c = text[pos] ?? '';
    if (c === '\r') continue;
    if (!escape) {
      lastEscaped = false;
      if (c === '\\') escape = true;
      else word += c;
      continue;
    }
    escape = false;
    lastEscaped = true;
    if (c === 't') word += '\t';
    else if (c === 'r') word += '\r';
    else if (c === 'n') word += '\n';
    else if (c === '\n') pos = skip(text, pos + 1, BLANKS) - 1;
    else word += c;
  }
  return { word: lastEscaped ? word : trimEnd(word), end: pos };
}

export type ConfigContext = 'conf' | 'jail';

/** What the reader needs besides the state: ActionEnv minus what it sets itself. */
export type ReaderEnv = Omit<ActionEnv, 'context' | 'include'> & {
  /** The real path of $CFG: where names without '/' are looked up. */
  configDirReal: string;
};

/** Reads config files into one state, keeping the include stack for loop detection. */
export class ConfigReader {
  private readonly stack: string[] = [];

  constructor(
    private readonly env: ReaderEnv,
    private readonly state: CliState,
  ) {}

  /**
   * A file by name (§3.2): without '/', in $CFG, with `.conf` appended when only that exists; with '/', relative to
   * the cwd on the command line (fromCommandLine) and to $CFG in files.
   */
  loadNamed(name: string, fromCommandLine: boolean, context: ConfigContext): IncludeResult {
    const fs = this.env.fs;
    const hasSlash = components(name).length > 1;
    let file = name;
    if (!hasSlash && extension(file) !== '.conf' && !exists(fs, this.env.configDirReal, file)) {
      const st = fs.stat(joinPath(this.env.configDirReal, `${file}.conf`));
      if (st.ok && st.value.isFile) file += '.conf';
    }
    if (file === '') return 'missing';
    const real = fs.realpath(joinPath(hasSlash && fromCommandLine ? this.env.cwd : this.env.configDirReal, file));
    if (!real.ok) return real.code === 'ENOENT' ? 'missing' : fatal(`${file}: ${strerror(real.code)}`);
    const problem = this.loadFile(real.value, file, context);
    return problem ?? 'found';
  }

  /** Parses the file at realPath (display: the name to report when it cannot be read). */
  loadFile(realPath: string, display: string, context: ConfigContext): Problem | null {
    if (this.stack.includes(realPath)) return usage('configuration loop');
    const data = this.env.fs.readFile(realPath, MAX_CONFIG_BYTES);
    if (!data.ok) {
      if (data.code === 'EFBIG') return fatal(`${realPath}: ${strerror('EFBIG')}`);
      if (data.code === 'EISDIR') return fatal(`${realPath}: read: ${strerror('EISDIR')}`);
      return fatal(`${display}: ${strerror(data.code)}`);
    }
    const env: ActionEnv = { ...this.env, context, include: (n) => this.loadNamed(n, false, context) };
    this.stack.push(realPath);
    try {
      for (const entry of readConfigEntries(data.value.toString('utf8'))) {
        const problem = applyConfigWord(entry.word, this.state, env);
        if (problem === null) continue;
        return problem.kind === 'usage' ? usage(`${realPath}:${entry.line}: ${problem.message}`) : problem;
      }
      return null;
    } finally {
      this.stack.pop();
    }
  }
}

/** stat() did not fail with ENOENT (upstream appends `.conf` only to names that do not exist at all). */
function exists(fs: ResolveFs, dir: string, name: string): boolean {
  if (name === '') return false;
  const st = fs.stat(joinPath(dir, name));
  return st.ok || st.code !== 'ENOENT';
}
