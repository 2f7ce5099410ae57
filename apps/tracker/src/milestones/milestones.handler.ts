import { Controller } from '@nestjs/common';

import {
  CreateMilestoneRequest,
  ListMilestonesRequest,
  MilestoneRefRequest,
  TrackerRpc,
  UpdateMilestoneRequest,
} from '@waggle/contracts';
import { HandleRpc } from '@waggle/service-kit';

import { MilestonesService } from './milestones.service';

@Controller()
export class MilestonesHandler {
  constructor(private readonly milestones: MilestonesService) {}

  @HandleRpc(TrackerRpc.createMilestone)
  create(req: CreateMilestoneRequest) {
    return this.milestones.create(req);
  }

  @HandleRpc(TrackerRpc.listMilestones)
  list(req: ListMilestonesRequest) {
    return this.milestones.list(req);
  }

  @HandleRpc(TrackerRpc.getMilestone)
  get(req: MilestoneRefRequest) {
    return this.milestones.get(req.milestoneId);
  }

  @HandleRpc(TrackerRpc.updateMilestone)
  update(req: UpdateMilestoneRequest) {
    return this.milestones.update(req);
  }

  @HandleRpc(TrackerRpc.deleteMilestone)
  delete(req: MilestoneRefRequest) {
    return this.milestones.delete(req.milestoneId);
  }
}
