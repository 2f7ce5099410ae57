import { Injectable } from '@nestjs/common';

import { ErrorCode, WaggleError } from '@waggle/contracts';

import { GatewayConfig } from '../gateway.config';
import type { RateDecision } from '../rate-limit/rate-limiter';
import { RateLimiter } from '../rate-limit/rate-limiter';
import type { Principal } from './principal';
import { principalKey } from './principal';

/** The answer past a limit: 429 RATE_LIMITED, Retry-After at the end of the window. */
export function rateLimited(what: string, decision: RateDecision): WaggleError {
  return new WaggleError(ErrorCode.RateLimited, `${what}; try again in ${decision.resetSeconds} s`, {
    retryAfterSeconds: decision.resetSeconds,
  });
}

/**
 * The gateway's limits on who may knock and how often, on the RateLimiter (counted per
 * replica, shared through NATS KV):
 * - failed authentications per address and per presented token, and failed joins per
 *   address and per join token (WAGGLE_AUTH_FAILURES_PER_MINUTE): guessing gets 429, and a
 *   token that keeps failing (a revoked machine retrying) is refused before any lookup;
 * - join attempts per address and per join token (WAGGLE_JOINS_PER_MINUTE);
 * - requests per credential (WAGGLE_RATE_LIMIT_PER_MINUTE).
 * Only failures count toward the failure limits, so a valid credential from a noisy address
 * still works.
 */
@Injectable()
export class AuthThrottle {
  constructor(
    private readonly limiter: RateLimiter,
    private readonly config: GatewayConfig,
  ) {}

  /** Refuses a token or join token that has failed too often this minute, before it is looked up. */
  refuseWornOut(kind: 'auth' | 'join', credential: string): void {
    const decision = this.limiter.peek(`${kind}-failures-credential`, credential, this.failureLimit);
    if (!decision.allowed) {
      throw rateLimited(`this ${kind === 'join' ? 'join token' : 'credential'} failed too often`, decision);
    }
  }

  /** Counts a failure of `credential` from `address`; throws RATE_LIMITED once either is past the limit. */
  failed(kind: 'auth' | 'join', credential: string, address: string | undefined): void {
    const what = kind === 'join' ? 'joins' : 'authentications';
    const byAddress = this.limiter.hit(`${kind}-failures-address`, address ?? 'unknown', this.failureLimit);
    if (!byAddress.allowed) {
      throw rateLimited(`too many failed ${what} from this address`, byAddress);
    }
    const byCredential = this.limiter.hit(`${kind}-failures-credential`, credential, this.failureLimit);
    if (!byCredential.allowed) {
      throw rateLimited(
        `too many failed ${what} with this ${kind === 'join' ? 'join token' : 'credential'}`,
        byCredential,
      );
    }
  }

  /** Counts a join attempt per address and per join token; throws RATE_LIMITED past WAGGLE_JOINS_PER_MINUTE. */
  joinAttempt(joinToken: string, address: string | undefined): void {
    this.refuseWornOut('join', joinToken);
    const limit = this.config.WAGGLE_JOINS_PER_MINUTE;
    const byAddress = this.limiter.hit('joins-address', address ?? 'unknown', limit);
    if (!byAddress.allowed) {
      throw rateLimited('too many joins from this address', byAddress);
    }
    const byToken = this.limiter.hit('joins-token', joinToken, limit);
    if (!byToken.allowed) {
      throw rateLimited('too many joins with this join token', byToken);
    }
  }

  /**
   * Refuses a sign-in while its account name or its address is at the limit of failures
   * this minute: the right password is refused too, so guessing cannot tell it was right.
   */
  refuseLogin(account: string, address: string | undefined): void {
    const byAccount = this.limiter.peek(
      'login-failures-account',
      account.toLowerCase(),
      this.config.WAGGLE_LOGIN_FAILURES_PER_MINUTE,
    );
    if (!byAccount.allowed) {
      throw rateLimited('too many failed sign-ins for this account', byAccount);
    }
    const byAddress = this.limiter.peek(
      'login-failures-address',
      address ?? 'unknown',
      this.config.WAGGLE_LOGIN_FAILURES_PER_ADDRESS_PER_MINUTE,
    );
    if (!byAddress.allowed) {
      throw rateLimited('too many failed sign-ins from this address', byAddress);
    }
  }

  /** Counts a failed sign-in against its account name and its address. */
  loginFailed(account: string, address: string | undefined): void {
    this.limiter.hit('login-failures-account', account.toLowerCase(), this.config.WAGGLE_LOGIN_FAILURES_PER_MINUTE);
    this.limiter.hit(
      'login-failures-address',
      address ?? 'unknown',
      this.config.WAGGLE_LOGIN_FAILURES_PER_ADDRESS_PER_MINUTE,
    );
  }

  /** Counts a request of an authenticated caller; the decision is also what the RateLimit headers say. */
  request(principal: Principal): RateDecision {
    return this.limiter.hit('requests', principalKey(principal), this.config.WAGGLE_RATE_LIMIT_PER_MINUTE);
  }

  private get failureLimit(): number {
    return this.config.WAGGLE_AUTH_FAILURES_PER_MINUTE;
  }
}
