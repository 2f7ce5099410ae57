import { Module } from '@nestjs/common';

import { AssignmentsController } from './assignments.controller';
import { AttentionController, SessionsController } from './sessions.controller';

@Module({ controllers: [SessionsController, AttentionController, AssignmentsController] })
export class SessionsModule {}
