import { Module } from '@nestjs/common';

import { MachinesModule } from '../machines/machines.module';
import { MessageRepository } from './message.repository';
import { MessagesHandler } from './messages.handler';
import { MessagesService } from './messages.service';

@Module({
  controllers: [MessagesHandler],
  imports: [MachinesModule],
  providers: [MessageRepository, MessagesService],
  exports: [MessagesService],
})
export class MessagesModule {}
