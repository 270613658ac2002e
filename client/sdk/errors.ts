// Errors the client library reports: one class, a stable `code` per cause. Daemon refusals carry the daemon's
// ErrorCode name (proto/jai.proto); the rest are the client's own.
import type { ErrorCodeName } from '../../proto/client-codec';

/** The daemon's stable error codes, as named in proto/jai.proto (`POLICY_DENIED`, `EXEC_FAILED`, …). */
export type DaemonErrorCode = Exclude<ErrorCodeName, 'ERROR_UNSPECIFIED'>;

/** Codes the client library itself reports. */
export const CLIENT_ERROR_CODES = [
  /** jaid's socket cannot be reached (not running, wrong path, no permission). */
  'DAEMON_UNAVAILABLE',
  /** The connection ended before the request's final message (jaid stopped or crashed). */
  'DAEMON_LOST',
  /** jaid answered something the protocol does not allow here. */
  'DAEMON_PROTOCOL',
  /** The request does not fit in one packet (usually a huge environment). */
  'REQUEST_TOO_LARGE',
  /** The cwd or a grant cannot be opened by this user. */
  'PATH_UNUSABLE',
  /** kill() with a signal the protocol does not forward (only SIGHUP, SIGINT, SIGQUIT, SIGTERM). */
  'SIGNAL_NOT_ALLOWED',
  /** resize() on a session without a PTY. */
  'NOT_A_PTY',
  /** resize() after the PTY master was closed. */
  'SESSION_ENDED',
  /** A bad argument (stdio spec, window size, option value). */
  'INVALID_ARGUMENT',
  /** The JaiClient was closed; queued and later spawns are refused. */
  'CLIENT_CLOSED',
  /** run(): the output went over maxBuffer (the program was sent SIGTERM). */
  'OUTPUT_TOO_LARGE',
] as const;

export type ClientOnlyErrorCode = (typeof CLIENT_ERROR_CODES)[number];
/** Every code a JaiClientError may carry (`string & {}`: codes a newer daemon may add). */
export type ClientErrorCode = ClientOnlyErrorCode | DaemonErrorCode | 'ERROR_UNSPECIFIED' | (string & {});

export class JaiClientError extends Error {
  constructor(
    readonly code: ClientErrorCode,
    message: string,
    /** What a CLI should exit with: 1 for refusals, 125 (sandbox setup failed), 126/127 (cannot execute / not found). */
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = 'JaiClientError';
  }
}

/** Whether `e` is a JaiClientError (with this code, when given). */
export function isJaiClientError(e: unknown, code?: ClientErrorCode): e is JaiClientError {
  return e instanceof JaiClientError && (code === undefined || e.code === code);
}
