import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';

import { RateLimiter } from '../rate-limit/rate-limiter';
import { ApiTokenRepository } from './api-token.repository';
import { AuthThrottle } from './auth-throttle';
import { AuthGuard } from './auth.guard';
import { AuthService } from './auth.service';

@Module({
  providers: [ApiTokenRepository, AuthService, AuthThrottle, RateLimiter, { provide: APP_GUARD, useClass: AuthGuard }],
  exports: [AuthService, AuthThrottle],
})
export class AuthModule {}
