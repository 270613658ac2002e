// The signals a client may forward to its session: the protocol allows SIGHUP, SIGINT, SIGQUIT and SIGTERM only
// (jaid drops any other; a jailed program cannot be SIGKILLed from outside its PID namespace by a client, only hung
// up by closing the connection).
import { JaiClientError } from './errors';

export const FORWARDABLE_SIGNALS = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGTERM: 15 } as const;

export type ForwardableSignal = keyof typeof FORWARDABLE_SIGNALS;
/** A name (`'SIGTERM'`) or number (15) of a forwardable signal. */
export type SignalSpec = ForwardableSignal | (string & {}) | number;

const BY_NUMBER: ReadonlyMap<number, ForwardableSignal> = new Map(
  Object.entries(FORWARDABLE_SIGNALS).map(([name, n]) => [n, name as ForwardableSignal]),
);

/** The signal's number; throws SIGNAL_NOT_ALLOWED for anything jaid would not forward. */
export function forwardableSignal(signal: SignalSpec): number {
  if (typeof signal === 'number') {
    if (BY_NUMBER.has(signal)) return signal;
  } else if (Object.hasOwn(FORWARDABLE_SIGNALS, signal)) {
    return FORWARDABLE_SIGNALS[signal as ForwardableSignal];
  }
  throw new JaiClientError(
    'SIGNAL_NOT_ALLOWED',
    `signal ${String(signal)} cannot be sent to a session (only ${Object.keys(FORWARDABLE_SIGNALS).join(', ')})`,
  );
}
