import { ErrorCode, WaggleError } from '@waggle/contracts';
import { DATABASE_RETRY_AFTER_SECONDS, isDatabaseUnavailable } from '@waggle/persistence';

/** A database outage as the error enum says it (UNAVAILABLE, with when to retry); undefined for any other error. */
export function databaseUnavailableError(error: unknown): WaggleError | undefined {
  return isDatabaseUnavailable(error)
    ? new WaggleError(ErrorCode.Unavailable, 'the database is unavailable; try again shortly', {
        retryAfterSeconds: DATABASE_RETRY_AFTER_SECONDS,
      })
    : undefined;
}
