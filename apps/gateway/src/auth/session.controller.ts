import { Body, Controller, Get, HttpCode, Ip, Post, Req, Res } from '@nestjs/common';
import { ApiCookieAuth, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';

import { ErrorCode, LoginBody, SessionView, WaggleError } from '@waggle/contracts';

import { ApiErrors } from '../common/api-errors';
import { ApiBodyOf, schemaRef } from '../common/contract-schema';
import { Auth, CurrentPrincipal, Public } from './auth.decorators';
import type { Principal } from './principal';
import { SESSION_COOKIE, SESSION_EXPIRES_HEADER, SessionService } from './session.service';

/** People sign in here; the session cookie then authenticates /api and /ws like a bearer token with their role. */
@ApiTags('auth')
@Controller('api/auth')
export class SessionController {
  constructor(private readonly sessions: SessionService) {}

  @Post('login')
  @HttpCode(200)
  @Public()
  @ApiOperation({
    summary: `Sign in with a name and password: sets the ${SESSION_COOKIE} cookie (HttpOnly, SameSite=Strict). A wrong name or password is 401; past WAGGLE_LOGIN_FAILURES_PER_MINUTE failures for the account (5) or WAGGLE_LOGIN_FAILURES_PER_ADDRESS_PER_MINUTE from the address (20), 429 with Retry-After until the minute ends`,
  })
  @ApiBodyOf(LoginBody)
  @ApiOkResponse({ schema: schemaRef(SessionView) })
  @ApiErrors(400, 401, 429)
  async login(
    @Body() body: LoginBody,
    @Ip() address: string,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<SessionView> {
    const { cookie, session } = await this.sessions.login(body.name, body.password, address);
    this.sessions.setCookie(reply, cookie, this.sessions.isHttps(request.protocol));
    void reply.header(SESSION_EXPIRES_HEADER, session.expiresAt.toISOString());
    return this.sessions.view(session);
  }

  @Get('session')
  @Public()
  @ApiCookieAuth(SESSION_COOKIE)
  @ApiOperation({
    summary: 'The signed-in person and when the session ends (does not extend it); 401 when not signed in',
  })
  @ApiOkResponse({ schema: schemaRef(SessionView) })
  @ApiErrors(401)
  async session(@Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply): Promise<SessionView> {
    const cookie = this.sessions.cookieOf(request.headers.cookie);
    if (!cookie) {
      throw new WaggleError(ErrorCode.Unauthenticated, 'not signed in');
    }
    const session = await this.sessions.resume(cookie, false);
    void reply.header(SESSION_EXPIRES_HEADER, session.expiresAt.toISOString());
    return this.sessions.view(session);
  }

  @Post('session/extend')
  @HttpCode(200)
  @Auth('viewer')
  @ApiCookieAuth(SESSION_COOKIE)
  @ApiOperation({ summary: 'Extend the session by its idle timeout (any request with the cookie does the same)' })
  @ApiOkResponse({ schema: schemaRef(SessionView) })
  @ApiErrors(401)
  extend(@CurrentPrincipal() principal: Principal): SessionView {
    // The guard extended it already, as for every request with the cookie.
    if (principal.kind !== 'user') {
      throw new WaggleError(ErrorCode.Unauthenticated, 'no session to extend: sign in with POST /api/auth/login');
    }
    return this.sessions.view(principal);
  }

  @Post('logout')
  @HttpCode(204)
  @Public()
  @ApiCookieAuth(SESSION_COOKIE)
  @ApiOperation({ summary: 'Sign out: the session ends on the hub and the cookie is cleared' })
  @ApiNoContentResponse()
  async logout(@Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply): Promise<void> {
    await this.sessions.logout(this.sessions.cookieOf(request.headers.cookie));
    this.sessions.clearCookie(reply, this.sessions.isHttps(request.protocol));
  }
}
