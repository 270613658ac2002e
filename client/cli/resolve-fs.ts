// The filesystem operations command-line resolution needs, injected so the logic can be tested against a temporary
// directory (node-fs.ts has the real implementation). The client runs as the user, so every call is made with the
// user's rights. Expected failures are values carrying the errno code name ('ENOENT', …).

export type FsResult<T> = { ok: true; value: T } | { ok: false; code: string };

export interface FileStat {
  uid: number;
  /** Permission bits (st_mode & 07777). */
  mode: number;
  isDirectory: boolean;
  isFile: boolean;
}

export interface DirEntry {
  name: string;
  /** 'link' and 'unknown' entries need a stat to know whether they lead to a directory. */
  type: 'dir' | 'file' | 'link' | 'other' | 'unknown';
}

export interface ResolveFs {
  /** The whole file; 'EFBIG' when it is larger than maxBytes, 'EISDIR' for a directory. Never blocks on a FIFO. */
  readFile(path: string, maxBytes: number): FsResult<Buffer>;
  realpath(path: string): FsResult<string>;
  stat(path: string): FsResult<FileStat>;
  lstat(path: string): FsResult<FileStat>;
  /** One directory (no parents); the mode is further reduced by the process umask. */
  mkdir(path: string, mode: number): FsResult<null>;
  chmod(path: string, mode: number): FsResult<null>;
  /** Writes a temporary file beside path (mode 0600), fsyncs it and renames it over path. */
  writeFileAtomic(path: string, data: string): FsResult<null>;
  /** access(path, X_OK). */
  accessExecute(path: string): FsResult<null>;
  readdir(path: string): FsResult<DirEntry[]>;
}

const MESSAGES: Readonly<Record<string, string>> = {
  EPERM: 'Operation not permitted',
  ENOENT: 'No such file or directory',
  EIO: 'Input/output error',
  ENXIO: 'No such device or address',
  EBADF: 'Bad file descriptor',
  EAGAIN: 'Resource temporarily unavailable',
  ENOMEM: 'Cannot allocate memory',
  EACCES: 'Permission denied',
  EBUSY: 'Device or resource busy',
  EEXIST: 'File exists',
  EXDEV: 'Invalid cross-device link',
  ENODEV: 'No such device',
  ENOTDIR: 'Not a directory',
  EISDIR: 'Is a directory',
  EINVAL: 'Invalid argument',
  ENFILE: 'Too many open files in system',
  EMFILE: 'Too many open files',
  ETXTBSY: 'Text file busy',
  EFBIG: 'File too large',
  ENOSPC: 'No space left on device',
  EROFS: 'Read-only file system',
  EMLINK: 'Too many links',
  ENAMETOOLONG: 'File name too long',
  ELOOP: 'Too many levels of symbolic links',
  ENOTEMPTY: 'Directory not empty',
  EDQUOT: 'Disk quota exceeded',
  ESTALE: 'Stale file handle',
  EOVERFLOW: 'Value too large for defined data type',
  ENOEXEC: 'Exec format error',
};

/** glibc's strerror text for an errno code name, as upstream's messages print it. */
export function strerror(code: string): string {
  return MESSAGES[code] ?? code;
}
