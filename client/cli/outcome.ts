// How the command-line and config-file modules report an expected failure: as a value, converted to exit codes and
// messages only at the top of resolveInvocation. The kinds follow upstream jai's two exception families.

export type Problem =
  /** An option error (upstream's Options::Error): wrapped as `FILE:LINE: …` inside config files; on the first
   *  command-line pass it is a usage error (exit 2, with the "Try jai --help" line). */
  | { kind: 'usage'; message: string }
  /** Anything else (filesystem, ownership, missing -C file): `jai: MESSAGE`, exit 1, never wrapped. */
  | { kind: 'fatal'; message: string }
  /** A complete answer to print as is (--help, --version, --print-defaults, the -u incompatibility). */
  | { kind: 'output'; stdout: string; stderr: string; exitCode: number };

export type Result<T> = { ok: true; value: T } | { ok: false; problem: Problem };

export function usage(message: string): Problem {
  return { kind: 'usage', message };
}

export function fatal(message: string): Problem {
  return { kind: 'fatal', message };
}

export function fail(problem: Problem): { ok: false; problem: Problem } {
  return { ok: false, problem };
}

/** Option errors that happen outside the first command-line pass exit 1 without the "Try" line, as upstream's do. */
export function asFatal(problem: Problem): Problem {
  return problem.kind === 'usage' ? fatal(problem.message) : problem;
}
