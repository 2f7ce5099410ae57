import { Injectable } from '@nestjs/common';
import type { CanActivate, ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyReply } from 'fastify';

import { ErrorCode, WaggleError } from '@waggle/contracts';

import { AuthThrottle, rateLimited } from './auth-throttle';
import type { Access, AuthenticatedRequest } from './auth.decorators';
import { ACCESS_KEY } from './auth.decorators';
import { AuthService } from './auth.service';

/** Global guard. Fails closed: a route without @Public or @Auth is refused (and a test lists such routes). */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly auth: AuthService,
    private readonly throttle: AuthThrottle,
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
    // Anthropic's SDKs send the key as `x-api-key`: accepted the same as a bearer token.
    const apiKey = request.headers['x-api-key'];
    const principal = await this.auth.authenticate(
      this.auth.bearerOf(request.headers.authorization) ?? (typeof apiKey === 'string' ? apiKey : undefined),
      request.ip,
    );
    // Every request of a credential counts, on whichever replica it lands; the headers say how many are left.
    const decision = this.throttle.request(principal);
    if (decision.limit > 0) {
      const reply = context.switchToHttp().getResponse<FastifyReply>();
      void reply.header('ratelimit-policy', `"requests";q=${decision.limit};w=60`);
      void reply.header('ratelimit', `"requests";r=${decision.remaining};t=${decision.resetSeconds}`);
    }
    if (!decision.allowed) {
      throw rateLimited('too many requests with this credential', decision);
    }
    if (!access.roles.includes(principal.kind)) {
      throw new WaggleError(ErrorCode.Forbidden, `this needs ${access.roles.join(' or ')} credentials`);
    }
    request.principal = principal;
    return true;
  }
}
