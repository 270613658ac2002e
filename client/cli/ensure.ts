// Creating what jai keeps on disk, as the user (the client runs as the user): directories with their parents
// (upstream's ensure_dir, following symlinks) and files written once (ensure_file: temp file, fsync, rename, 0600).
import { components, joinPath } from './paths';
import { fatal, type Problem, type Result } from './outcome';
import { strerror, type ResolveFs } from './resolve-fs';

export interface EnsureDirOptions {
  mode: number;
  /** Called with the real path of each directory this call created. */
  onCreate?: (path: string) => void;
}

/** Makes sure directory p exists, creating missing components with opts.mode; returns nothing on success. */
export function ensureDir(fs: ResolveFs, p: string, opts: EnsureDirOptions): Problem | undefined {
  // Usually there already: then every component is a directory (or a link to one), as the walk below would find.
  const whole = fs.stat(p);
  if (whole.ok && whole.value.isDirectory) return undefined;
  const parts = components(p).filter((c) => c !== '');
  let prefix = '';
  for (const part of parts) {
    prefix = part === '/' ? '/' : joinPath(prefix, part);
    let st = fs.stat(prefix);
    if (!st.ok && st.code === 'ENOENT') {
      const made = fs.mkdir(prefix, opts.mode);
      if (!made.ok && made.code !== 'EEXIST') {
        return fatal(`ensure_dir("${p}"): mkdir("${prefix}"): ${strerror(made.code)}`);
      }
      if (made.ok && opts.onCreate !== undefined) {
        const real = fs.realpath(prefix);
        opts.onCreate(real.ok ? real.value : prefix);
      }
      st = fs.stat(prefix);
    }
    if (!st.ok) return fatal(`ensure_dir("${p}"): open("${prefix}"): ${strerror(st.code)}`);
    if (!st.value.isDirectory) return fatal(`ensure_dir("${p}"): open("${prefix}"): ${strerror('ENOTDIR')}`);
  }
  return undefined;
}

/** The real path of directory p, which must be owned by uid. */
export function checkOwner(fs: ResolveFs, p: string, uid: number): Result<string> {
  const st = fs.stat(p);
  const real = fs.realpath(p);
  if (!st.ok || !real.ok) return { ok: false, problem: fatal(`${p}: ${strerror(st.ok ? 'ENOENT' : st.code)}`) };
  if (st.value.uid !== uid) {
    return { ok: false, problem: fatal(`${real.value}: owned by ${st.value.uid} should be owned by ${uid}`) };
  }
  return { ok: true, value: real.value };
}

/** A private directory ($CFG, $STORE): created 0700 with its parents, owned by uid, bits reduced to <= 0700. */
export function ensurePrivateDir(fs: ResolveFs, p: string, uid: number): Result<string> {
  const made = ensureDir(fs, p, { mode: 0o700 });
  if (made !== undefined) return { ok: false, problem: made };
  const owned = checkOwner(fs, p, uid);
  if (!owned.ok) return owned;
  const st = fs.stat(owned.value);
  if (st.ok && (st.value.mode & ~0o700) !== 0) {
    const ch = fs.chmod(owned.value, st.value.mode & 0o700);
    if (!ch.ok)
      return {
        ok: false,
        problem: fatal(`fchmod("${p}", ${(st.value.mode & 0o700).toString(8)}): ${strerror(ch.code)}`),
      };
  }
  return owned;
}

/** Writes dir/name with contents unless it exists (then it must be a regular file); reports each creation. */
export function ensureFile(
  fs: ResolveFs,
  dir: string,
  name: string,
  contents: string,
  onCreate: (path: string) => void,
): Problem | undefined {
  const path = joinPath(dir, name);
  const st = fs.stat(path);
  if (st.ok) return st.value.isFile ? undefined : fatal(`${path}: not a regular file`);
  if (st.code !== 'ENOENT') return fatal(`${path}: ${strerror(st.code)}`);
  const written = fs.writeFileAtomic(path, contents);
  if (!written.ok) return fatal(`${path}: ${strerror(written.code)}`);
  const real = fs.realpath(path);
  onCreate(real.ok ? real.value : path);
  return undefined;
}
