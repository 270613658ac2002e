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
