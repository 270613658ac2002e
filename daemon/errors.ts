// The daemon's coded errors. Names match the ErrorCode enum of proto/jai.proto.
import { v1 } from '../proto/codec';

export const ERROR_CODES = [
  'PROTO_BAD_FRAME',
  'PROTO_FRAME_TOO_LARGE',
  'PROTO_UNEXPECTED',
  'PROTO_VERSION',
  'REQUEST_INVALID',
  'REQUEST_FDS',
  'USER_UNKNOWN',
  'POLICY_DENIED',
  'MODE_UNSUPPORTED',
  'HELPER_FAILED',
  'EXEC_FAILED',
  'SESSION_LIMIT',
  'INTERNAL',
  'DAEMON_STOPPING',
  'GRANT_REFUSED',
  'RATE_LIMITED',
  'CONNECTION_LIMIT',
  'REQUEST_TIMEOUT',
  'BUSY',
  'AUDIT_UNAVAILABLE',
] as const;

export type ErrorCodeName = (typeof ERROR_CODES)[number];

/** An expected refusal or failure, reported to the client as Error{code, message, exit_code}. */
export interface Failure {
  ok: false;
  code: ErrorCodeName;
  message: string;
  /** The client's exit status: 1 for refusals, 125-127 for helper/exec failures. */
  exitCode: number;
}

export function failure(code: ErrorCodeName, message: string, exitCode = 1): Failure {
  return { ok: false, code, message, exitCode };
}

export function toWireCode(code: ErrorCodeName): v1.ErrorCode {
  return v1.ErrorCode[code];
}
