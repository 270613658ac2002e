// The daemon's logger: pino JSON lines on stderr (journald picks them up under systemd).
import pino from 'pino';

export type Logger = pino.Logger;

export function createLogger(level: string): Logger {
  return pino({ name: 'jaid', level, base: { pid: process.pid } }, pino.destination({ fd: 2, sync: true }));
}
