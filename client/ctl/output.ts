// Where jaictl's commands write, and how they report an expected failure (converted to an exit code in run.ts).
import type { ApiFailure } from './api';
import type { PolicyChecker } from './policy-check';

export interface CtlIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  env: Readonly<Record<string, string | undefined>>;
  /** The width of the terminal stdout is, or null when it is not one. */
  columns: number | null;
  now?: () => Date;
  /** Replaces the daemon's policy loader (tests). */
  checkPolicy?: PolicyChecker;
}

export type CtlFailure =
  | ApiFailure
  /** Exit 2 with the "Try" line. */
  | { kind: 'usage'; message: string }
  /** Exit 2: an id prefix that names more than one session. */
  | { kind: 'ambiguous'; message: string }
  /** Exit 1: no such session, an invalid policy file. */
  | { kind: 'fatal'; message: string };

export type CtlOutcome = { ok: true } | { ok: false; failure: CtlFailure };

export const OK: CtlOutcome = { ok: true };

export function failed(failure: CtlFailure): CtlOutcome {
  return { ok: false, failure };
}

/** Writes and waits for the stream to take more (a pipe to a slow reader holds the audit stream back). */
export function write(stream: NodeJS.WritableStream, text: string): Promise<void> {
  if (text === '' || stream.write(text)) return Promise.resolve();
  return new Promise((resolve) => stream.once('drain', resolve));
}
