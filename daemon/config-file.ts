// /etc/jai/jaid.toml: the daemon's settings as a file (docs/jaid.8). Each key is a long option without `--` and
// with `_` for `-`; the values go through the same checks as the flags.
import fs from 'node:fs';
import { TomlError, parseToml as parse } from '../common/toml';
import { CONFIG_KEYS, type ConfigPair } from './options';

const MAX_CONFIG_BYTES = 64 * 1024;

function lineOf(text: string, key: string): number | null {
  const lines = text.split('\n');
  // Keys are compared as text: a key may hold any character (`"(" = 1`), and is not a pattern.
  const index = lines.findIndex((l) => {
    const trimmed = l.trimStart();
    return trimmed.startsWith(key) && trimmed.slice(key.length).trimStart().startsWith('=');
  });
  return index < 0 ? null : index + 1;
}

/** The file's settings as flag/value pairs; null when a default (not explicit) file is absent. */
export function readDaemonConfig(file: string, explicit: boolean): ConfigPair[] | null | { problem: string } {
  let text: string;
  try {
    const stat = fs.statSync(file);
    if (stat.size > MAX_CONFIG_BYTES) return { problem: `${file}: larger than ${MAX_CONFIG_BYTES} bytes` };
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    const code = e instanceof Error && 'code' in e ? String(e.code) : '';
    if (!explicit && code === 'ENOENT') return null;
    return { problem: `${file}: ${e instanceof Error ? e.message : String(e)}` };
  }
  return parseDaemonConfig(text, file);
}

export function parseDaemonConfig(text: string, file: string): ConfigPair[] | { problem: string } {
  let table: Record<string, unknown>;
  try {
    table = parse(text);
  } catch (e) {
    if (e instanceof TomlError) return { problem: `${file}:${e.line}:${e.column}: ${e.message.split('\n')[0] ?? ''}` };
    throw e;
  }
  const pairs: ConfigPair[] = [];
  for (const [key, value] of Object.entries(table)) {
    const where = `${file}:${lineOf(text, key) ?? 1}: ${key}`;
    if (!CONFIG_KEYS.includes(key)) return { problem: `${where}: unknown setting (known: ${CONFIG_KEYS.join(', ')})` };
    let text_: string;
    if (typeof value === 'string') text_ = value;
    else if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0)
      // `socket_mode = 0o660` is an integer in TOML: written back in octal for the flag's parser.
      text_ = key.endsWith('_mode') ? value.toString(8).padStart(3, '0') : String(value);
    // `spawn_rate = 0.5`: a float, for the flag's parser to check like any other value.
    else if (typeof value === 'number' && Number.isFinite(value) && value >= 0) text_ = String(value);
    // `helper_zygote = false`: a switch, for the flag's on|off.
    else if (typeof value === 'boolean') text_ = value ? 'on' : 'off';
    else return { problem: `${where}: must be a string, a non-negative number or true/false` };
    pairs.push([`--${key.replace(/_/g, '-')}`, text_, where]);
  }
  return pairs;
}
