import { Module } from '@nestjs/common';

import { MachinesModule } from '../machines/machines.module';
import { MessagesModule } from '../messages/messages.module';
import { PresenceHandler } from './presence.handler';

@Module({
  imports: [MachinesModule, MessagesModule],
  controllers: [PresenceHandler],
})
export class PresenceModule {}
