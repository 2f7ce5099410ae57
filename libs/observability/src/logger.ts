import pino from 'pino';
import type { Logger, LoggerOptions } from 'pino';

import { currentCorrelationId } from './correlation';

export type { Logger } from 'pino';

/** Paths whose values never reach a log line, wherever they appear. */
export const REDACT_PATHS = [
  'token',
  'apiToken',
  'joinToken',
  'adminToken',
  'natsJwt',
  'natsSeed',
  'seed',
  'secret',
  'password',
  'authorization',
  '*.token',
  '*.apiToken',
  '*.joinToken',
  '*.natsJwt',
  '*.natsSeed',
  '*.seed',
  '*.secret',
  '*.password',
  '*.authorization',
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
];

export function loggerOptions(service: string, level = 'info'): LoggerOptions {
  return {
    name: service,
    level,
    base: { service },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    mixin() {
      const correlationId = currentCorrelationId();
      return correlationId ? { correlationId } : {};
    },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
}

/**
 * Structured JSON logs; pretty when stdout is a terminal. `WAGGLE_LOG_LEVEL` is passed in
 * by the app's config, not read here.
 */
export function createLogger(service: string, level = 'info', pretty = process.stdout.isTTY): Logger {
  const options = loggerOptions(service, level);
  if (pretty) {
    return pino({
      ...options,
      transport: { target: 'pino-pretty', options: { colorize: true, ignore: 'pid,hostname,service' } },
    });
  }
  // Written asynchronously: a synchronous write per line blocked the event loop whenever the
  // reader (a pipe to docker or the supervisor) was slow. Lines written while one write is in
  // flight go out together; what is pending is flushed when the process exits.
  return pino(options, pino.destination({ dest: 1, sync: false }));
}
