import { Module } from '@nestjs/common';

import { JoinTokenRepository } from './join-token.repository';
import { JoinTokensHandler } from './join-tokens.handler';
import { JoinTokensService } from './join-tokens.service';

@Module({
  providers: [JoinTokenRepository, JoinTokensService, JoinTokensHandler],
  exports: [JoinTokenRepository],
})
export class JoinTokensModule {}
