// Opening the directories a request grants, as the user (the client runs as the user: the kernel checks access).
import fs from 'node:fs';
import { JaiClientError } from './errors';

/** O_PATH is not in fs.constants; the value is the same on every Linux architecture Node supports but alpha. */
const O_PATH = 0o10000000;

export interface OpenedDir {
  fd: number;
  /** The canonical path of what was opened, read back from the fd (no window between resolve and open). */
  path: string;
}

export function openDirectory(dir: string): OpenedDir {
  let fd: number;
  try {
    fd = fs.openSync(dir, O_PATH | fs.constants.O_DIRECTORY);
  } catch (e) {
    const reason = e instanceof Error && 'code' in e ? String((e as NodeJS.ErrnoException).code) : String(e);
    throw new JaiClientError('PATH_UNUSABLE', `${dir}: ${describeErrno(reason)}`);
  }
  try {
    return { fd, path: fs.readlinkSync(`/proc/self/fd/${fd}`) };
  } catch (e) {
    fs.closeSync(fd);
    throw new JaiClientError('PATH_UNUSABLE', `${dir}: cannot resolve (${String(e)})`);
  }
}

function describeErrno(code: string): string {
  switch (code) {
    case 'ENOENT':
      return 'No such file or directory';
    case 'ENOTDIR':
      return 'Not a directory';
    case 'EACCES':
      return 'Permission denied';
    default:
      return code;
  }
}
