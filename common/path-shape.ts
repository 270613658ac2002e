// The two path shapes jai accepts from files and clients. Pure: shape only, nothing is looked up.

const isPlainComponent = (part: string): boolean => part !== '' && part !== '.' && part !== '..';

/** Absolute, canonical: no `.`, `..` or empty components, no trailing `/` (except `/` itself). */
export function isCanonicalAbsolute(path: string): boolean {
  return path === '/' || (path.startsWith('/') && path.slice(1).split('/').every(isPlainComponent));
}

/** Relative, without `.`, `..` or empty components (a mask below $HOME). */
export function isPlainRelative(path: string): boolean {
  return !path.startsWith('/') && path.split('/').every(isPlainComponent);
}
