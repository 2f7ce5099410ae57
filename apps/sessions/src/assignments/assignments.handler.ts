import { Controller } from '@nestjs/common';

import {
  AssignmentRefRequest,
  AssignmentsRpc,
  ClearAssignmentsRequest,
  CreateAssignmentRequest,
  ListAssignmentsRequest,
  ReassignRequest,
} from '@waggle/contracts';
import { HandleRpc } from '@waggle/service-kit';

import { AssignmentsService } from './assignments.service';

@Controller()
export class AssignmentsHandler {
  constructor(private readonly assignments: AssignmentsService) {}

  @HandleRpc(AssignmentsRpc.create)
  create(req: CreateAssignmentRequest) {
    return this.assignments.create(req);
  }

  @HandleRpc(AssignmentsRpc.list)
  list(req: ListAssignmentsRequest) {
    return this.assignments.list(req);
  }

  @HandleRpc(AssignmentsRpc.get)
  get(req: AssignmentRefRequest) {
    return this.assignments.get(req);
  }

  @HandleRpc(AssignmentsRpc.cancel)
  cancel(req: AssignmentRefRequest) {
    return this.assignments.cancel(req);
  }

  @HandleRpc(AssignmentsRpc.retry)
  retry(req: AssignmentRefRequest) {
    return this.assignments.retry(req);
  }

  @HandleRpc(AssignmentsRpc.reassign)
  reassign(req: ReassignRequest) {
    return this.assignments.reassign(req);
  }

  @HandleRpc(AssignmentsRpc.clear)
  clear(req: ClearAssignmentsRequest) {
    return this.assignments.clear(req);
  }
}
