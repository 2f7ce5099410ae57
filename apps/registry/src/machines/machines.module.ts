import { Module } from '@nestjs/common';

import { JoinTokensModule } from '../join-tokens/join-tokens.module';
import { NatsAccessService } from '../nats-auth/nats-access.service';
import { MachineRepository } from './machine.repository';
import { MachinesHandler } from './machines.handler';
import { MachinesService } from './machines.service';

@Module({
  controllers: [MachinesHandler],
  imports: [JoinTokensModule],
  providers: [MachineRepository, MachinesService, NatsAccessService],
  exports: [MachineRepository, MachinesService],
})
export class MachinesModule {}
