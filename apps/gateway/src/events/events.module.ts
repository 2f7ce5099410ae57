import { Module } from '@nestjs/common';

import { AuthModule } from '../auth/auth.module';
import { EventsController } from './events.controller';
import { EventsGateway } from './events.gateway';
import { EventsService } from './events.service';
import { SessionFollows } from './session-follows.service';

@Module({
  imports: [AuthModule],
  controllers: [EventsController],
  providers: [EventsService, EventsGateway, SessionFollows],
})
export class EventsModule {}
