/** The pino logger: JSON lines on stderr (stdout is for results), level by flag or env. */
import { pino, type Logger } from 'pino';

export type { Logger };
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export function createLogger(level: LogLevel = (process.env.FRAMESIFT_LOG_LEVEL as LogLevel) ?? 'warn'): Logger {
  return pino({ name: 'framesift', level: LOG_LEVELS.includes(level) ? level : 'warn' }, pino.destination(2));
}

/** A logger that drops everything: the default for library use. */
export const silentLogger: Logger = pino({ level: 'silent' });
