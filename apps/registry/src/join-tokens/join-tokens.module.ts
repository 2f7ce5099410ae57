import { Module } from '@nestjs/common';

import { JoinTokenRepository } from './join-token.repository';
import { JoinTokensHandler } from './join-tokens.handler';
import { JoinTokensService } from './join-tokens.service';

@Module({
  controllers: [JoinTokensHandler],
  providers: [JoinTokenRepository, JoinTokensService],
  exports: [JoinTokenRepository],
})
export class JoinTokensModule {}
