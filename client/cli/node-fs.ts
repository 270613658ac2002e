// ResolveFs backed by node:fs (synchronous: resolution runs once, before anything else, and must be ordered).
import fs from 'node:fs';
import type { DirEntry, FileStat, FsResult, ResolveFs } from './resolve-fs';

function errnoCode(e: unknown): string {
  if (e instanceof Error && 'code' in e && typeof e.code === 'string') return e.code;
  throw e; // not a system call failure: a bug
}

function attempt<T>(f: () => T): FsResult<T> {
  try {
    return { ok: true, value: f() };
  } catch (e) {
    return { ok: false, code: errnoCode(e) };
  }
}

function toStat(st: fs.Stats): FileStat {
  return { uid: st.uid, mode: st.mode & 0o7777, isDirectory: st.isDirectory(), isFile: st.isFile() };
}

function entryType(d: fs.Dirent): DirEntry['type'] {
  if (d.isDirectory()) return 'dir';
  if (d.isFile()) return 'file';
  if (d.isSymbolicLink()) return 'link';
  return 'other';
}

class TooLarge extends Error {
  readonly code = 'EFBIG';
}

class IsDirectory extends Error {
  readonly code = 'EISDIR';
}

function readCapped(path: string, maxBytes: number): Buffer {
  // O_NONBLOCK: a FIFO named in a config file fails with EAGAIN instead of hanging the client.
  const fd = fs.openSync(path, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  try {
    const st = fs.fstatSync(fd);
    if (st.isDirectory()) throw new IsDirectory();
    if (st.size > maxBytes) throw new TooLarge();
    // Room for the whole file and one byte (EOF shows as a read of 0): no 64 KiB chunk for a 200-byte file.
    let buf = Buffer.allocUnsafe(st.size > 0 ? st.size + 1 : 65536);
    let total = 0;
    for (;;) {
      if (total === buf.length) {
        const grown = Buffer.allocUnsafe(buf.length * 2);
        buf.copy(grown, 0, 0, total);
        buf = grown;
      }
      const n = fs.readSync(fd, buf, total, buf.length - total, null);
      if (n === 0) break;
      total += n;
      if (total > maxBytes) throw new TooLarge(); // files that grow, or report size 0 (/proc, /dev/zero)
    }
    return buf.subarray(0, total);
  } finally {
    fs.closeSync(fd);
  }
}

function writeAtomic(path: string, data: string): null {
  const tmp = `${path}~${process.pid}~`;
  fs.rmSync(tmp, { force: true });
  try {
    const fd = fs.openSync(tmp, fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_WRONLY, 0o600);
    try {
      fs.fchmodSync(fd, 0o600); // exactly 0600 whatever the umask
      fs.writeSync(fd, data);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, path);
    return null;
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
}

export const nodeResolveFs: ResolveFs = {
  readFile: (path, maxBytes) => attempt(() => readCapped(path, maxBytes)),
  realpath: (path) => attempt(() => fs.realpathSync.native(path)),
  stat: (path) => attempt(() => toStat(fs.statSync(path))),
  lstat: (path) => attempt(() => toStat(fs.lstatSync(path))),
  mkdir: (path, mode) => attempt(() => (fs.mkdirSync(path, { mode }), null)),
  chmod: (path, mode) => attempt(() => (fs.chmodSync(path, mode), null)),
  writeFileAtomic: (path, data) => attempt(() => writeAtomic(path, data)),
  accessExecute: (path) => attempt(() => (fs.accessSync(path, fs.constants.X_OK), null)),
  readdir: (path) =>
    attempt(() => fs.readdirSync(path, { withFileTypes: true }).map((d) => ({ name: d.name, type: entryType(d) }))),
};
