import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

import { ErrorCode, WaggleError } from '@waggle/contracts';
import { singleRow } from '@waggle/persistence';

import { GatewayConfig } from '../gateway.config';

const WINDOW_SECONDS = 60;
/** Old windows are swept now and then, by whichever failure comes along. */
const SWEEP_EVERY = 500;

/**
 * Counts failed authentications per address in one-minute windows, in Postgres so every
 * gateway replica shares the count. Only failures are counted: a valid credential costs
 * nothing here. Past the limit, a failure is answered 429 with Retry-After instead of 401.
 */
@Injectable()
export class AuthThrottle {
  private failuresSeen = 0;

  constructor(
    private readonly dataSource: DataSource,
    private readonly config: GatewayConfig,
  ) {}

  /** Records a failure of `kind` (auth, join) from `address`; throws RATE_LIMITED once past the limit, else returns. */
  async failed(kind: 'auth' | 'join', address: string | undefined): Promise<void> {
    const rows = await this.dataSource.query<{ failures: number; retry_after: number }[]>(
      `INSERT INTO "gateway"."auth_failures" AS f ("scope", "window_start", "failures") VALUES ($1, now(), 1)
       ON CONFLICT ("scope") DO UPDATE SET
         "failures" = CASE WHEN f."window_start" < now() - make_interval(secs => $2) THEN 1 ELSE f."failures" + 1 END,
         "window_start" = CASE WHEN f."window_start" < now() - make_interval(secs => $2) THEN now() ELSE f."window_start" END
       RETURNING "failures", greatest(1, ceil(extract(epoch FROM "window_start" + make_interval(secs => $2) - now())))::int AS "retry_after"`,
      [`${kind}:${address ?? 'unknown'}`, WINDOW_SECONDS],
    );
    if (++this.failuresSeen % SWEEP_EVERY === 0) {
      await this.dataSource.query(
        `DELETE FROM "gateway"."auth_failures" WHERE "window_start" < now() - make_interval(secs => $1)`,
        [WINDOW_SECONDS],
      );
    }
    const { failures, retry_after } = singleRow(rows, 'auth failure count');
    if (failures > this.config.WAGGLE_AUTH_FAILURES_PER_MINUTE) {
      throw new WaggleError(
        ErrorCode.RateLimited,
        `too many failed ${kind === 'join' ? 'joins' : 'authentications'} from this address; try again in ${retry_after} s`,
        {
          retryAfterSeconds: retry_after,
        },
      );
    }
  }
}
