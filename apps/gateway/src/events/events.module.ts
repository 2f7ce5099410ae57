import { Module } from '@nestjs/common';

import { AuthModule } from '../auth/auth.module';
import { EventsGateway } from './events.gateway';
import { EventsService } from './events.service';

@Module({ imports: [AuthModule], providers: [EventsService, EventsGateway] })
export class EventsModule {}
