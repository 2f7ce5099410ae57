import { Controller } from '@nestjs/common';

import { ListActivityRequest, TrackerRpc } from '@waggle/contracts';
import { HandleRpc } from '@waggle/service-kit';

import { ActivityService } from './activity.service';

@Controller()
export class ActivityHandler {
  constructor(private readonly activity: ActivityService) {}

  @HandleRpc(TrackerRpc.listActivity)
  list(req: ListActivityRequest) {
    return this.activity.list(req);
  }
}
