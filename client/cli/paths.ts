// Path helpers with the semantics of C++ std::filesystem::path, which upstream jai's comparisons and messages follow
// (component-wise ordering and containment, `/` joining, lexical normalisation). Pure string functions.

/** The elements std::filesystem iterates: "/" for an absolute path, each name, and "" for a trailing slash. */
export function components(p: string): string[] {
  return [...cachedComponents(p)];
}

/**
 * components(p), shared: comparePaths runs thousands of times per start (each --mask of .defaults re-sorts the mask
 * list), and splitting the same few paths again each time was the client's hottest code (docs/benchmarks.md).
 * Callers must not modify the array. Bounded: a long-running caller (the SDK) cannot grow it without limit.
 */
const componentCache = new Map<string, readonly string[]>();
const COMPONENT_CACHE_MAX = 1024;

function cachedComponents(p: string): readonly string[] {
  const known = componentCache.get(p);
  if (known !== undefined) return known;
  const names = p.split('/').filter((s) => s !== '');
  const out = p.startsWith('/') ? ['/', ...names] : names;
  if (names.length > 0 && p.endsWith('/')) out.push('');
  if (componentCache.size >= COMPONENT_CACHE_MAX) componentCache.clear();
  componentCache.set(p, out);
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
  if (a === b) return 0;
  const ca = cachedComponents(a);
  const cb = cachedComponents(b);
  for (let i = 0; i < ca.length && i < cb.length; i++) {
    const c = compareStrings(ca[i] ?? '', cb[i] ?? '');
    if (c !== 0) return c;
  }
  return ca.length - cb.length;
}

/** Whether sub is dir itself or lies under it, compared by components (no filesystem access). */
export function isWithin(dir: string, sub: string): boolean {
  const cd = cachedComponents(dir);
  const cs = cachedComponents(sub);
  return cd.length <= cs.length && cd.every((c, i) => c === cs[i]);
}

/** A jail name: one relative component, not empty, not starting with '.' (so no '/', '.' or '..'). */
export function isValidName(name: string): boolean {
  return !isAbsolute(name) && cachedComponents(name).length === 1 && !name.startsWith('.');
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
