// `jai --complete WORD...` (jai-behaviour.md §12): the helper behind completion/jai.bash. The words are those after
// `jai` on the line being completed, the last one being the word under the cursor. Answers are lines: option names
// or arguments to insert (ending in a space, or `/` for a directory, prefixed with the `--opt=` or `-o` they were
// attached to), or `_command_offset N` when the cursor is in the command, N counting `jai` as word 0.
import { scanArgs, scanWord } from './args';
import { CLI_OPTIONS } from './options';
import { extension, fileName, joinPath, parentPath } from './paths';
import type { ResolveFs } from './resolve-fs';

export interface CompleteEnv {
  fs: ResolveFs;
  cwd: string;
  home: string;
  configDir: string;
  processEnv: ReadonlyMap<string, string>;
}

export interface CompleteOutput {
  stdout: string;
  stderr: string;
  exitCode: number;
}

const NOTHING: CompleteOutput = { stdout: '', stderr: '', exitCode: 1 };

function lines(list: Iterable<string>): CompleteOutput {
  return { stdout: [...list].map((l) => `${l}\n`).join(''), stderr: '', exitCode: 0 };
}

function sorted(set: Set<string>): string[] {
  return [...set].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

function optionNames(prefix: string): CompleteOutput {
  return lines(sorted(new Set([...CLI_OPTIONS.keys()].filter((n) => n.startsWith(prefix)))).map((n) => `${n} `));
}

function isDirectory(fs: ResolveFs, path: string): boolean {
  const st = fs.stat(path);
  return st.ok && st.value.isDirectory;
}

/** Entries of the directory part of arg (relative to base) whose names start with its last part. */
function paths(env: CompleteEnv, base: string, arg: string, want: 'dirs' | 'all' | 'programs'): string[] {
  const parent = parentPath(arg);
  const stem = fileName(arg);
  const dir = parent === '' ? base : joinPath(base, parent);
  const entries = env.fs.readdir(dir);
  if (!entries.ok) return [];
  const out: string[] = [];
  for (const e of entries.value) {
    if (e.name === '.' || e.name === '..' || !e.name.startsWith(stem)) continue;
    const full = joinPath(dir, e.name);
    const isDir = e.type === 'dir' || ((e.type === 'link' || e.type === 'unknown') && isDirectory(env.fs, full));
    if (want === 'dirs' && !isDir) continue;
    if (want === 'programs' && !isDir && !env.fs.accessExecute(full).ok) continue;
    out.push(`${parent === '' ? e.name : joinPath(parent, e.name)}${isDir ? '/' : ' '}`);
  }
  return out;
}

/** Names of dir's files ending in ext, without it. */
function configNames(env: CompleteEnv, dir: string, ext: string, arg: string): string[] | null {
  const entries = env.fs.readdir(dir);
  if (!entries.ok) return null;
  return entries.value
    .filter((e) => extension(e.name) === ext)
    .map((e) => e.name.slice(0, -ext.length))
    .filter((name) => name.startsWith(arg))
    .map((name) => `${name} `);
}

const DIR_OPTIONS = ['-d', '--dir', '--dir!', '-x', '--xdir', '-r', '--rdir', '--rdir?', '--storage'];

function argument(env: CompleteEnv, option: string, arg: string, prepend: string): CompleteOutput {
  let found: string[] = [];
  if (option === '--net') {
    found = ['host', 'loopback', 'none'].filter((m) => m.startsWith(arg)).map((m) => `${m} `);
  } else if (option === '-m' || option === '--mode') {
    found = ['casual', 'strict', 'bare'].filter((m) => m.startsWith(arg)).map((m) => `${m} `);
  } else if (DIR_OPTIONS.includes(option)) {
    found = paths(env, env.cwd, arg, 'dirs');
  } else if (option === '--script' || option === '--script?') {
    found = paths(env, env.cwd, arg, 'all');
  } else if (option === '--initjail' || option === '--initjail?') {
    found = paths(env, env.cwd, arg, 'programs');
  } else if (option === '--mask' || option === '--unmask') {
    found = paths(env, env.home, arg, 'all');
  } else if (['-C', '--conf', '--conf?', '-j', '--jail'].includes(option)) {
    const ext = option === '-j' || option === '--jail' ? '.jail' : '.conf';
    const names = configNames(env, env.configDir, ext, arg);
    if (names === null) {
      const stderr = `jai: ${env.configDir} does not exist; run jai --init to create it\n`;
      return { stdout: '', stderr, exitCode: 1 };
    }
    found = names;
  } else if (option === '--setenv' || option === '--unsetenv') {
    const end = option === '--setenv' ? '=' : ' ';
    found = [...env.processEnv.keys()].filter((n) => n.startsWith(arg)).map((n) => `${n}${end}`);
  }
  return lines(sorted(new Set(found.map((f) => prepend + f))));
}

export function complete(words: readonly string[], env: CompleteEnv): CompleteOutput {
  const before = words.slice(0, -1);
  const last = words[words.length - 1] ?? '';
  const scan = scanArgs(before, CLI_OPTIONS);
  if (scan.positional !== before.length) return lines([`_command_offset ${scan.positional + 1}`]);
  const previous = scan.items[scan.items.length - 1];
  if (previous !== undefined) {
    if (previous.kind === 'needs-arg') return argument(env, previous.name, last, '');
    if (previous.kind !== 'option') return NOTHING;
  }
  if (last === '-' || last === '--') return optionNames(last);
  if (last.length < 2 || !last.startsWith('-')) return lines([`_command_offset ${words.length}`]);
  if (last.startsWith('--')) {
    const eq = last.indexOf('=');
    if (eq < 0) return optionNames(last);
    const option = last.slice(0, eq);
    const spec = CLI_OPTIONS.get(option);
    if (spec === undefined || spec.arg === null) return NOTHING;
    return argument(env, option, last.slice(eq + 1), last.slice(0, eq + 1));
  }
  const cluster = scanWord(last, CLI_OPTIONS);
  if (typeof cluster === 'string') return NOTHING;
  for (const item of cluster) {
    if (item.kind === 'unknown') return NOTHING;
    if (item.kind === 'option' && item.value !== null) {
      return argument(env, item.name, item.value, last.slice(0, last.length - item.value.length));
    }
  }
  return lines([`${last} `]);
}
