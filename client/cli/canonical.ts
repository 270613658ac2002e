// canonical() and weakly_canonical() as upstream uses them (C++ std::filesystem on libc++), including the wording of
// the error a missing grant produces: `filesystem error: in canonical: No such file or directory ["/x"] [""]`.
import { components, isAbsolute, joinPath, lexicallyNormal } from './paths';
import { strerror, type ResolveFs } from './resolve-fs';

export type Canonical = { ok: true; path: string } | { ok: false; message: string };

function filesystemError(op: string, code: string, given: string, cwd: string): string {
  // libc++ names the path as given and, when it was relative, the directory it was resolved against.
  return `filesystem error: in ${op}: ${strerror(code)} ["${given}"] ["${isAbsolute(given) ? '' : cwd}"]`;
}

/** The real absolute path of p (relative to cwd); it must exist. */
export function canonical(fs: ResolveFs, cwd: string, p: string): Canonical {
  const r = fs.realpath(joinPath(cwd, p));
  return r.ok ? { ok: true, path: r.value } : { ok: false, message: filesystemError('canonical', r.code, p, cwd) };
}

/** The real path of the longest existing prefix of p, followed by the rest, normalised: p need not exist. */
export function weaklyCanonical(fs: ResolveFs, cwd: string, p: string): Canonical {
  const parts = components(joinPath(cwd, p)).filter((c) => c !== '');
  for (let keep = parts.length; keep > 0; keep--) {
    const prefix = parts.slice(0, keep).join('/').replace(/^\/\//, '/');
    const st = fs.stat(prefix);
    if (!st.ok) {
      if (st.code === 'ENOENT' || st.code === 'ENOTDIR') continue;
      return { ok: false, message: filesystemError('weakly_canonical', st.code, p, cwd) };
    }
    const real = fs.realpath(prefix);
    if (!real.ok) return { ok: false, message: filesystemError('weakly_canonical', real.code, p, cwd) };
    const rest = parts.slice(keep);
    if (rest.length === 0) return { ok: true, path: real.value };
    return { ok: true, path: lexicallyNormal(rest.reduce(joinPath, real.value)).replace(/(.)\/$/, '$1') };
  }
  return { ok: false, message: filesystemError('weakly_canonical', 'ENOENT', p, cwd) };
}
