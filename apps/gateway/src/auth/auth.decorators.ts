import { createParamDecorator, SetMetadata } from '@nestjs/common';
import type { ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';

import type { Principal, Role } from './principal';

export const ACCESS_KEY = 'waggle:access';

/** What a route declares: which callers may use it. Every route must declare one. */
export type Access = { public: true } | { public: false; roles: Role[] };

/** Anyone may call (health, joining with a join token checked by the registry). */
export const Public = () => SetMetadata(ACCESS_KEY, { public: true } satisfies Access);

/** Callers holding one of these credentials may call. */
export const Auth = (...roles: Role[]) => SetMetadata(ACCESS_KEY, { public: false, roles } satisfies Access);

export type AuthenticatedRequest = FastifyRequest & { principal?: Principal };

/** The authenticated caller of the current request. */
export const CurrentPrincipal = createParamDecorator((_: unknown, ctx: ExecutionContext): Principal => {
  const principal = ctx.switchToHttp().getRequest<AuthenticatedRequest>().principal;
  if (!principal) {
    throw new Error('CurrentPrincipal used on a route without @Auth');
  }
  return principal;
});
