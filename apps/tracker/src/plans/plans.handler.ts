import { Controller } from '@nestjs/common';

import { AcceptPlanRequest, PlanRefRequest, PlanRequest, TrackerRpc } from '@waggle/contracts';
import { HandleRpc } from '@waggle/service-kit';

import { PlansService } from './plans.service';

@Controller()
export class PlansHandler {
  constructor(private readonly plans: PlansService) {}

  @HandleRpc(TrackerRpc.plan)
  plan(req: PlanRequest) {
    return this.plans.create(req);
  }

  @HandleRpc(TrackerRpc.getPlan)
  get(req: PlanRefRequest) {
    return this.plans.get(req.planId);
  }

  @HandleRpc(TrackerRpc.acceptPlan)
  accept(req: AcceptPlanRequest) {
    return this.plans.accept(req);
  }
}
