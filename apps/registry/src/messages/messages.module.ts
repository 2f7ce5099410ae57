import { Module } from '@nestjs/common';

import { MachinesModule } from '../machines/machines.module';
import { MessageRepository } from './message.repository';
import { MessagesHandler } from './messages.handler';
import { MessagesService } from './messages.service';

@Module({
  imports: [MachinesModule],
  providers: [MessageRepository, MessagesService, MessagesHandler],
  exports: [MessagesService],
})
export class MessagesModule {}
