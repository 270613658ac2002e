// The helper runs as root with the plan we give it: refuse one that a non-root user could have replaced.
import fs from 'node:fs';
import path from 'node:path';
import * as native from '../native/addon';
import type { HelperForker } from './session/helper-zygote';

/**
 * The helper, opened once at start: every session execs this fd, so the file checked is the file run, and a helper
 * replaced on disk (an upgrade) is not run by this daemon, whose plans and records are those of the helper it started
 * with; the new one runs once jaid is restarted.
 */
export interface HelperBinary {
  path: string;
  /** O_RDONLY, CLOEXEC; held for the daemon's lifetime. */
  fd: number;
  /** Forks the session helpers when set (jaid sets it at start); else each is exec'd from `fd`. */
  zygote?: HelperForker;
}

const ELF_MAGIC = Buffer.from('\x7fELF', 'latin1');

export type HelperOpen = { ok: true; binary: HelperBinary } | { ok: false; message: string };

/**
 * Opens the helper and checks the file opened (its owner and mode, and that it is an ELF binary: a script cannot be
 * exec'd from an fd) and the directories above its path.
 */
export function openHelperBinary(helperPath: string): HelperOpen {
  let fd: number;
  try {
    fd = native.openExecutable(helperPath);
  } catch (e) {
    const why = native.isNativeError(e) ? e.code : String(e);
    return { ok: false, message: `${helperPath}: cannot open (${why}) (run npm run build)` };
  }
  let problem: string | null;
  try {
    problem = checkHelperBinary(helperPath, fs.fstatSync(fd));
    const magic = Buffer.alloc(ELF_MAGIC.length);
    if (problem === null && (fs.readSync(fd, magic, 0, magic.length, 0) < magic.length || !magic.equals(ELF_MAGIC)))
      problem = `${helperPath}: not an ELF executable (jaid execs the helper from an fd, which a script cannot be)`;
  } catch (e) {
    problem = `${helperPath}: ${e instanceof Error ? e.message : String(e)}`;
  }
  if (problem !== null) {
    native.closeFd(fd);
    return { ok: false, message: problem };
  }
  return { ok: true, binary: { path: helperPath, fd } };
}

export function checkHelperBinary(helperPath: string, opened?: fs.Stats): string | null {
  let stat: fs.Stats;
  try {
    stat = opened ?? fs.statSync(helperPath);
  } catch (e) {
    return `${helperPath}: ${e instanceof Error ? e.message : String(e)} (run npm run build)`;
  }
  if (!stat.isFile() || (stat.mode & 0o111) === 0) return `${helperPath}: not an executable file`;
  if (stat.uid !== 0 || (stat.mode & 0o022) !== 0)
    return `${helperPath}: must be owned by root and not group/other writable`;
  for (let dir = path.dirname(helperPath); ; dir = path.dirname(dir)) {
    const d = fs.statSync(dir);
    // A sticky directory (/tmp) is fine: others cannot rename or remove the root-owned entry in it.
    const sticky = (d.mode & 0o1000) !== 0;
    if (d.uid !== 0 || ((d.mode & 0o022) !== 0 && !sticky))
      return `${dir}: directories above the helper must be owned by root and not writable by others`;
    if (dir === '/') return null;
  }
}
