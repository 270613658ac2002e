// The client library's public entry: `import { connect, spawn } from 'jai-sandbox/client'`. See docs/sdk.md.
export { DEFAULT_SOCKET, JaiClient, connect } from './client';
export type { ClientOptions, ClientStats, RunOptions, RunResult } from './client';
export { spawn, teardown } from './spawn';
export type { SpawnOnceOptions } from './spawn';
export type { Mode, NoticeHandler, NoticeKind, SpawnOptions, StdioOption, StdioSpec } from './request';
export type { ExitStatus, JaiSession } from './session';
export type { TeardownOptions } from './teardown';
export { CLIENT_ERROR_CODES, JaiClientError, isJaiClientError } from './errors';
export type { ClientErrorCode, ClientOnlyErrorCode, DaemonErrorCode } from './errors';
export { FORWARDABLE_SIGNALS } from './signals';
export type { ForwardableSignal, SignalSpec } from './signals';
