import { Controller } from '@nestjs/common';
import { Ctx, NatsContext, Payload } from '@nestjs/microservices';

import { ImportProjectsRequest, ListCheckoutsRequest, ReposReport, TrackerRpc } from '@waggle/contracts';
import { HandleMachine, HandleRpc, machineOf } from '@waggle/service-kit';

import { CheckoutsService } from './checkouts.service';

@Controller()
export class CheckoutsHandler {
  constructor(private readonly checkouts: CheckoutsService) {}

  /** A machine's repositories under its source folders; its id comes from the subject. */
  @HandleMachine('repos')
  report(@Payload() req: ReposReport, @Ctx() context: NatsContext) {
    return this.checkouts.report(machineOf(context), req);
  }

  @HandleRpc(TrackerRpc.listCheckouts)
  list(req: ListCheckoutsRequest) {
    return this.checkouts.list(req);
  }

  @HandleRpc(TrackerRpc.importProjects)
  import(req: ImportProjectsRequest) {
    return this.checkouts.import(req);
  }
}
