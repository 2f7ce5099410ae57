import { Injectable } from '@nestjs/common';
import type { CanActivate, ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyReply } from 'fastify';

import { ErrorCode, roleIncludes, ROLES, WaggleError } from '@waggle/contracts';
import type { Role } from '@waggle/contracts';

import { GatewayConfig } from '../gateway.config';
import { AuthThrottle, rateLimited } from './auth-throttle';
import type { Access, AuthenticatedRequest } from './auth.decorators';
import { ACCESS_KEY } from './auth.decorators';
import { AuthService } from './auth.service';
import { isCrossSite } from './cross-site';
import type { Caller, Principal } from './principal';
import { SESSION_EXPIRES_HEADER, SessionService } from './session.service';

const SAFE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Whether a route's callers admit this principal, or why not. */
export function refusal(callers: Caller[], principal: Principal): string | undefined {
  if (principal.kind === 'machine') {
    return callers.includes('machine') ? undefined : "a machine's credential cannot do this";
  }
  const roles = callers.filter((c): c is Role => c !== 'machine');
  const lowest = ROLES.find((role) => roles.includes(role));
  if (lowest && roleIncludes(principal.role, lowest)) {
    return undefined;
  }
  return lowest ? `needs the ${lowest} role` : 'only machines may do this';
}

/** Global guard. Fails closed: a route without @Public or @Auth is refused (and a test lists such routes). */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly auth: AuthService,
    private readonly sessions: SessionService,
    private readonly throttle: AuthThrottle,
    private readonly config: GatewayConfig,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const access = this.reflector.getAllAndOverride<Access | undefined>(ACCESS_KEY, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (!access) {
      throw new WaggleError(ErrorCode.Internal, 'route declares no access rule');
    }
    if (access.public) {
      return true;
    }
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const reply = context.switchToHttp().getResponse<FastifyReply>();
    const principal = await this.authenticate(request, reply);
    // Every request of a credential counts, on whichever replica it lands; the headers say how many are left.
    const decision = this.throttle.request(principal);
    if (decision.limit > 0) {
      void reply.header('ratelimit-policy', `"requests";q=${decision.limit};w=60`);
      void reply.header('ratelimit', `"requests";r=${decision.remaining};t=${decision.resetSeconds}`);
    }
    if (!decision.allowed) {
      throw rateLimited('too many requests with this credential', decision);
    }
    const refused = refusal(access.callers, principal);
    if (refused) {
      throw new WaggleError(ErrorCode.Forbidden, refused);
    }
    request.principal = principal;
    return true;
  }

  /**
   * A bearer token (or Anthropic's `x-api-key`) when there is one, else the session cookie;
   * a cookie request extends its session and says until when.
   */
  private async authenticate(request: AuthenticatedRequest, reply: FastifyReply): Promise<Principal> {
    const apiKey = request.headers['x-api-key'];
    const token =
      this.auth.bearerOf(request.headers.authorization) ?? (typeof apiKey === 'string' ? apiKey : undefined);
    const cookie = token ? undefined : this.sessions.cookieOf(request.headers.cookie);
    if (!cookie) {
      return this.auth.authenticate(token, request.ip);
    }
    // SameSite=Strict keeps the cookie off other sites' requests; this refuses one a browser marks cross-site anyway.
    if (!SAFE_METHODS.has(request.method) && isCrossSite(request.headers, this.config.WAGGLE_PUBLIC_URL)) {
      throw new WaggleError(ErrorCode.Forbidden, "a signed-in change must come from the hub's own page");
    }
    const session = await this.sessions.resume(cookie, true);
    void reply.header(SESSION_EXPIRES_HEADER, session.expiresAt.toISOString());
    return session;
  }
}
