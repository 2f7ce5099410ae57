import { Controller } from '@nestjs/common';

import { AssignRequest, TrackerRpc } from '@waggle/contracts';
import { HandleRpc } from '@waggle/service-kit';

import { AssignService } from './assign.service';

@Controller()
export class AssignHandler {
  constructor(private readonly assignments: AssignService) {}

  @HandleRpc(TrackerRpc.assign)
  assign(req: AssignRequest) {
    return this.assignments.assign(req);
  }
}
