import { Module } from '@nestjs/common';

import { AuthModule } from '../auth/auth.module';
import { MachinesController } from './machines.controller';

@Module({ imports: [AuthModule], controllers: [MachinesController] })
export class MachinesModule {}
