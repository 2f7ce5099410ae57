import { Controller } from '@nestjs/common';

import {
  JoinRequest,
  ListMachinesRequest,
  MachineRefRequest,
  RegistryRpc,
  SetMachinePermissionRequest,
  VerifyMachineTokenRequest,
} from '@waggle/contracts';
import { HandleRpc } from '@waggle/service-kit';

import { MachinesService } from './machines.service';

@Controller()
export class MachinesHandler {
  constructor(private readonly machines: MachinesService) {}

  @HandleRpc(RegistryRpc.join)
  join(req: JoinRequest) {
    return this.machines.join(req);
  }

  @HandleRpc(RegistryRpc.listMachines)
  list(req: ListMachinesRequest) {
    return this.machines.list(req);
  }

  @HandleRpc(RegistryRpc.getMachine)
  get(req: MachineRefRequest) {
    return this.machines.get(req.machine);
  }

  @HandleRpc(RegistryRpc.revokeMachine)
  revoke(req: MachineRefRequest) {
    return this.machines.revoke(req.machine);
  }

  @HandleRpc(RegistryRpc.setMachinePermission)
  setPermission(req: SetMachinePermissionRequest) {
    return this.machines.setPermission(req);
  }

  @HandleRpc(RegistryRpc.verifyMachineToken)
  verifyToken(req: VerifyMachineTokenRequest) {
    return this.machines.verifyToken(req.token);
  }
}
