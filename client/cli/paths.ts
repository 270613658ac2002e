// Path helpers with the semantics of C++ std::filesystem::path, which upstream jai's comparisons and messages follow
// (component-wise ordering and containment, `/` joining, lexical normalisation). Pure string functions.

/** The elements std::filesystem iterates: "/" for an absolute path, each name, and "" for a trailing slash. */
export function components(p: string): string[] {
  const names = p.split('/').filter((s) => s !== '');
  const out = p.startsWith('/') ? ['/', ...names] : names;
  if (names.length > 0 && p.endsWith('/')) out.push('');
  return out;
}

export function isAbsolute(p: string): boolean {
  return p.startsWith('/');
}

/** `a / b`: an absolute b replaces a; an empty b leaves a trailing slash. */
export function joinPath(a: string, b: string): string {
  if (isAbsolute(b) || a === '') return b;
  return a.endsWith('/') ? a + b : `${a}/${b}`;
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Component-by-component order: a directory sorts right before everything under it (parents first). */
export function comparePaths(a: string, b: string): number {
  const ca = components(a);
  const cb = components(b);
  for (let i = 0; i < ca.length && i < cb.length; i++) {
    const c = compareStrings(ca[i] ?? '', cb[i] ?? '');
    if (c !== 0) return c;
  }
  return ca.length - cb.length;
}

/** Whether sub is dir itself or lies under it, compared by components (no filesystem access). */
export function isWithin(dir: string, sub: string): boolean {
  const cd = components(dir);
  const cs = components(sub);
  return cd.length <= cs.length && cd.every((c, i) => c === cs[i]);
}

/** A jail name: one relative component, not empty, not starting with '.' (so no '/', '.' or '..'). */
export function isValidName(name: string): boolean {
  return !isAbsolute(name) && components(name).length === 1 && !name.startsWith('.');
}

/** The last component; "" when the path ends with a slash. */
export function fileName(p: string): string {
  return p.slice(p.lastIndexOf('/') + 1);
}

/** The path without its last component ("" for a bare name, "/" for a child of the root). */
export function parentPath(p: string): string {
  const slash = p.lastIndexOf('/');
  if (slash < 0) return '';
  const head = p.slice(0, slash).replace(/\/+$/, '');
  return head === '' && isAbsolute(p) ? '/' : head;
}

/** ".conf" for "a.conf"; "" for ".conf", "a", "." and ".." (std::filesystem's rule for dot files). */
export function extension(p: string): string {
  const name = fileName(p);
  const dot = name.lastIndexOf('.');
  return dot <= 0 || name === '..' ? '' : name.slice(dot);
}

/** std::filesystem::path::lexically_normal: no ".", "x/.." pairs removed, ".." at the root dropped. */
export function lexicallyNormal(p: string): string {
  if (p === '') return '';
  const absolute = isAbsolute(p);
  const out: string[] = [];
  let trailingSlash = false;
  for (const seg of p.split('/').slice(absolute ? 1 : 0)) {
    if (seg === '' || seg === '.') {
      trailingSlash = true;
    } else if (seg === '..') {
      const last = out[out.length - 1];
      if (last !== undefined && last !== '..') out.pop();
      else if (!absolute) out.push('..');
      trailingSlash = true;
    } else {
      out.push(seg);
      trailingSlash = false;
    }
  }
  let result = (absolute ? '/' : '') + out.join('/');
  if (out.length > 0 && trailingSlash && out[out.length - 1] !== '..') result += '/';
  return result === '' ? '.' : result;
}
