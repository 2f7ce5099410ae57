import { Module } from '@nestjs/common';

import { SessionsModule } from '../sessions/sessions.module';
import { AssignerService } from './assigner.service';
import { AssignmentRepository } from './assignment.repository';
import { AssignmentsHandler } from './assignments.handler';
import { AssignmentsService } from './assignments.service';

@Module({
  imports: [SessionsModule],
  controllers: [AssignmentsHandler],
  providers: [AssignmentRepository, AssignmentsService, AssignerService],
})
export class AssignmentsModule {}
