import { randomBytes, randomUUID } from 'node:crypto';

import { Inject, Injectable } from '@nestjs/common';
import type { OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { parseCookie, stringifySetCookie } from 'cookie';
import type { FastifyReply } from 'fastify';
import { Counter } from 'prom-client';
import type { Registry } from 'prom-client';

import type { SessionView } from '@waggle/contracts';
import { ErrorCode, WaggleError } from '@waggle/contracts';
import { hashToken } from '@waggle/credentials';
import type { Logger } from '@waggle/observability';
import { LOGGER, METRICS } from '@waggle/service-kit';

import { GatewayConfig } from '../gateway.config';
import { AuthThrottle } from './auth-throttle';
import { verifyDecoy, verifyPassword } from './password';
import type { Principal } from './principal';
import type { LiveSession } from './session.repository';
import { SessionRepository } from './session.repository';
import { UserRepository } from './user.repository';

export const SESSION_COOKIE = 'waggle_session';
/** On every answer to a cookie-authenticated request: when the session ends unless another request comes. */
export const SESSION_EXPIRES_HEADER = 'x-waggle-session-expires';
/** How often sessions that ended are deleted (a lookup never accepts one anyway). */
const PRUNE_INTERVAL_MS = 10 * 60_000;
/** A cookie value longer than this is not one of ours (ours are 43 characters). */
const MAX_COOKIE_VALUE = 100;

export type UserPrincipal = Extract<Principal, { kind: 'user' }>;

/**
 * People's sign-in sessions: a random cookie value (256 bits) whose SHA-256 is the key of a
 * row in `gateway.sessions`, so signing out, a password change or disabling an account ends
 * a session at once on every replica. A session lasts WAGGLE_SESSION_IDLE_SECONDS past its
 * latest request.
 */
@Injectable()
export class SessionService implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer?: NodeJS.Timeout;
  private readonly signIns: Counter<'outcome'>;

  constructor(
    private readonly users: UserRepository,
    private readonly sessions: SessionRepository,
    private readonly throttle: AuthThrottle,
    private readonly config: GatewayConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(METRICS) registry: Registry,
  ) {
    this.signIns = new Counter({
      name: 'waggle_gateway_sign_ins_total',
      help: 'Sign-in attempts by outcome: signed_in, refused (wrong name or password, or disabled), throttled (429)',
      labelNames: ['outcome'],
      registers: [registry],
    });
  }

  onApplicationBootstrap() {
    this.timer = setInterval(() => {
      this.sessions.pruneExpired().then(
        (count) => count && this.logger.debug({ count }, 'ended sessions deleted'),
        (error: unknown) => this.logger.warn({ err: error }, 'ended sessions could not be deleted'),
      );
    }, PRUNE_INTERVAL_MS);
    this.timer.unref();
  }

  onApplicationShutdown() {
    clearInterval(this.timer);
  }

  get idleSeconds(): number {
    return this.config.WAGGLE_SESSION_IDLE_SECONDS;
  }

  /**
   * Checks a name and password and starts a session. A wrong name and a wrong password get
   * the same answer in about the same time; failures count per account name and per
   * address, and past the limit every attempt is 429 until the minute ends.
   */
  async login(
    name: string,
    password: string,
    address: string | undefined,
  ): Promise<{ cookie: string; session: UserPrincipal }> {
    try {
      this.throttle.refuseLogin(name, address);
    } catch (error) {
      this.signIns.inc({ outcome: 'throttled' });
      throw error;
    }
    const user = await this.users.findByName(name);
    const ok = user ? await verifyPassword(password, user.passwordHash) : await verifyDecoy(password);
    if (!user || !ok || user.disabledAt) {
      this.throttle.loginFailed(name, address);
      this.signIns.inc({ outcome: 'refused' });
      throw new WaggleError(ErrorCode.Unauthenticated, 'wrong name or password');
    }
    const cookie = randomBytes(32).toString('base64url');
    const sessionId = randomUUID();
    const expiresAt = await this.sessions.start(sessionId, hashToken(cookie), user.id, this.idleSeconds);
    this.signIns.inc({ outcome: 'signed_in' });
    this.logger.info({ user: user.name, sessionId }, 'signed in');
    return {
      cookie,
      session: { kind: 'user', role: user.role, userId: user.id, sessionId, name: user.name, expiresAt },
    };
  }

  /** The session cookie's value in a Cookie header, if any. */
  cookieOf(header: string | undefined): string | undefined {
    if (!header) {
      return undefined;
    }
    const value = parseCookie(header)[SESSION_COOKIE];
    return value && value.length <= MAX_COOKIE_VALUE ? value : undefined;
  }

  /**
   * The person a session cookie belongs to, or UNAUTHENTICATED. `extend` moves the end of
   * the session to WAGGLE_SESSION_IDLE_SECONDS from now (every request but a look at the session).
   */
  async resume(cookie: string, extend: boolean): Promise<UserPrincipal> {
    const hash = hashToken(cookie);
    const live = extend ? await this.sessions.extendLive(hash, this.idleSeconds) : await this.sessions.findLive(hash);
    if (!live) {
      throw new WaggleError(ErrorCode.Unauthenticated, 'not signed in, or the session ended: sign in again');
    }
    return principalOf(live);
  }

  /** Signs out: the session's row is deleted (nothing to do when there is none). */
  async logout(cookie: string | undefined): Promise<void> {
    if (cookie) {
      await this.sessions.endByHash(hashToken(cookie));
    }
  }

  view(session: UserPrincipal): SessionView {
    return {
      user: { id: session.userId, name: session.name, role: session.role },
      idleSeconds: this.idleSeconds,
      expiresAt: session.expiresAt.toISOString(),
    };
  }

  /** Sets the session cookie: HttpOnly, SameSite=Strict, Path=/, and Secure when the hub is reached over https. */
  setCookie(reply: FastifyReply, value: string, https: boolean): void {
    void reply.header('set-cookie', this.cookieHeader(value, https));
  }

  /** Clears the session cookie in the browser. */
  clearCookie(reply: FastifyReply, https: boolean): void {
    void reply.header('set-cookie', this.cookieHeader('', https, 0));
  }

  /** Whether the browser reaches the hub over https (the request itself, or WAGGLE_PUBLIC_URL behind a proxy). */
  isHttps(protocol: string): boolean {
    return protocol === 'https' || !!this.config.WAGGLE_PUBLIC_URL?.startsWith('https://');
  }

  private cookieHeader(value: string, secure: boolean, maxAge?: number): string {
    // No Max-Age on a live session: the browser keeps it until it closes; the hub decides when it ends.
    return stringifySetCookie({
      name: SESSION_COOKIE,
      value,
      httpOnly: true,
      sameSite: 'strict',
      path: '/',
      secure,
      ...(maxAge !== undefined ? { maxAge } : {}),
    });
  }
}

function principalOf(live: LiveSession): UserPrincipal {
  return {
    kind: 'user',
    role: live.role,
    userId: live.userId,
    sessionId: live.sessionId,
    name: live.name,
    expiresAt: live.expiresAt,
  };
}
