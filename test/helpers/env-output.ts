// Parses what `env -0` printed inside a jail.

/** NAME → VALUE of `env -0` output (NUL-separated NAME=VALUE entries). */
export function envOf(stdout: string): Map<string, string> {
  return new Map(
    stdout
      .split('\0')
      .filter((e) => e.includes('='))
      .map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]),
  );
}
