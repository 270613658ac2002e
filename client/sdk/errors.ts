// Errors the client library reports. `code` is the daemon's ErrorCode name, or a client-side code.
export type ClientErrorCode =
  'DAEMON_UNAVAILABLE' | 'DAEMON_LOST' | 'DAEMON_PROTOCOL' | 'REQUEST_TOO_LARGE' | 'PATH_UNUSABLE' | (string & {});

export class JaiClientError extends Error {
  constructor(
    readonly code: ClientErrorCode,
    message: string,
    /** What a CLI should exit with. */
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = 'JaiClientError';
  }
}
