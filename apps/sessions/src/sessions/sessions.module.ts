import { Module } from '@nestjs/common';

import { MachineLink } from './machine-link';
import { SessionSignals } from './session-signals';
import { SessionRepository } from './session.repository';
import { SessionsHandler } from './sessions.handler';
import { SessionsService } from './sessions.service';

@Module({
  controllers: [SessionsHandler],
  providers: [SessionRepository, SessionsService, MachineLink, SessionSignals],
  exports: [SessionRepository, SessionsService, MachineLink, SessionSignals],
})
export class SessionsModule {}
