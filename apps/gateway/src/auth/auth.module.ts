import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';

import { RateLimiter } from '../rate-limit/rate-limiter';
import { ApiTokenRepository } from './api-token.repository';
import { ApiTokensController } from './api-tokens.controller';
import { AuthThrottle } from './auth-throttle';
import { AuthGuard } from './auth.guard';
import { AuthService } from './auth.service';
import { SessionController } from './session.controller';
import { SessionRepository } from './session.repository';
import { SessionService } from './session.service';
import { UserRepository } from './user.repository';
import { UsersController } from './users.controller';
import { UsersService } from './users.service';

/** Who may call: API tokens, machines' credentials, people's accounts and sessions, roles and limits. */
@Module({
  controllers: [SessionController, UsersController, ApiTokensController],
  providers: [
    ApiTokenRepository,
    UserRepository,
    SessionRepository,
    AuthService,
    SessionService,
    UsersService,
    AuthThrottle,
    RateLimiter,
    { provide: APP_GUARD, useClass: AuthGuard },
  ],
  exports: [AuthService, SessionService, AuthThrottle],
})
export class AuthModule {}
