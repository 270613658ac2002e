// Shell-style `*` patterns, as upstream jai's --unsetenv uses them; shared by the client and the policy. Pure.
type Token = { star: true } | { star: false; char: string };

/** `*` matches any sequence, `\` quotes the next character; a pattern ending in a lone `\` matches nothing. */
export function glob(pattern: string, target: string): boolean {
  const tokens: Token[] = [];
  for (let i = 0; i < pattern.length; i++) {
    let c = pattern[i] ?? '';
    if (c === '*') {
      tokens.push({ star: true });
      continue;
    }
    if (c === '\\') {
      if (i + 1 >= pattern.length) return false;
      c = pattern[++i] ?? '';
    }
    tokens.push({ star: false, char: c });
  }
  // Greedy matching with backtracking to the last star: linear in practice, no recursion.
  let t = 0;
  let s = 0;
  let starToken = -1;
  let starTarget = 0;
  while (s < target.length) {
    const tok = tokens[t];
    if (tok !== undefined && !tok.star && tok.char === target[s]) {
      t++;
      s++;
    } else if (tok?.star === true) {
      starToken = t++;
      starTarget = s;
    } else if (starToken >= 0) {
      t = starToken + 1;
      s = ++starTarget;
    } else {
      return false;
    }
  }
  while (tokens[t]?.star === true) t++;
  return t === tokens.length;
}

/**
 * glob(pattern, ·) as a function of the target, for one pattern tried on many names (the environment against each
 * --unsetenv pattern: ~40 × ~30 calls per `jai` start, in code that runs once). The pattern is split at its stars
 * once; a target matches when it starts with the first piece, ends with the last, and holds the others in order
 * between them (the leftmost place for each is as good as any). Same results as glob (test/unit/cli-env.test.ts).
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
