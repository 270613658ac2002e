// Shell-style `*` patterns, as upstream jai's --unsetenv uses them; shared by the client and the policy. Pure.
/**
 * A pattern as a function of the target: `*` matches any sequence, `\` quotes the next character; a pattern ending in
 * a lone `\` matches nothing. Compiled once for one pattern tried on many names (the environment against each
 * --unsetenv pattern: ~40 × ~30 calls per `jai` start). The pattern is split at its stars once; a target matches
 * when it starts with the first piece, ends with the last, and holds the others in order between them (the leftmost
 * place for each is as good as any; test/unit/cli-env.test.ts checks it against a backtracking matcher).
 */
export function compileGlob(pattern: string): (target: string) => boolean {
  const pieces: string[] = [];
  let piece = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] ?? '';
    if (c === '*') {
      pieces.push(piece);
      piece = '';
    } else if (c === '\\') {
      if (i + 1 >= pattern.length) return () => false;
      piece += pattern[++i] ?? '';
    } else piece += c;
  }
  const first = pieces.length === 0 ? piece : (pieces[0] ?? '');
  if (pieces.length === 0) return (target) => target === first;
  const last = piece;
  const middle = pieces.slice(1);
  const least = middle.reduce((n, p) => n + p.length, first.length + last.length);
  return (target) => {
    if (target.length < least || !target.startsWith(first) || !target.endsWith(last)) return false;
    const end = target.length - last.length;
    let pos = first.length;
    for (const p of middle) {
      const at = target.indexOf(p, pos);
      if (at < 0 || at + p.length > end) return false;
      pos = at + p.length;
    }
    return true;
  };
}

/** compileGlob(pattern)(target), for a single match. */
export function glob(pattern: string, target: string): boolean {
  return compileGlob(pattern)(target);
}
