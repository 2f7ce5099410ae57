import { createParamDecorator, SetMetadata } from '@nestjs/common';
import type { ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';

import type { Caller, Principal } from './principal';

export const ACCESS_KEY = 'waggle:access';

/** What a route declares: which callers may use it. Every route must declare one. */
export type Access = { public: true } | { public: false; callers: Caller[] };

/** Anyone may call (health, joining with a join token checked by the registry, signing in). */
export const Public = () => SetMetadata(ACCESS_KEY, { public: true } satisfies Access);

/**
 * Who may call: `@Auth('viewer', 'machine')` admits every person and token (viewer is the
 * lowest role) and machines; `@Auth('operator')` admits operators and admins, no machine.
 * Naming one role admits every role above it.
 */
export const Auth = (...callers: Caller[]) => SetMetadata(ACCESS_KEY, { public: false, callers } satisfies Access);

export type AuthenticatedRequest = FastifyRequest & { principal?: Principal };

/** The authenticated caller of the current request. */
export const CurrentPrincipal = createParamDecorator((_: unknown, ctx: ExecutionContext): Principal => {
  const principal = ctx.switchToHttp().getRequest<AuthenticatedRequest>().principal;
  if (!principal) {
    throw new Error('CurrentPrincipal used on a route without @Auth');
  }
  return principal;
});
