import { Injectable } from '@nestjs/common';
import type { OnApplicationBootstrap } from '@nestjs/common';

import { JoinRequest, ListMachinesRequest, MachineRefRequest, RegistryRpc, VerifyMachineTokenRequest } from '@waggle/contracts';

import { RpcServerService } from '../infrastructure/rpc-server.service';
import { MachinesService } from './machines.service';

@Injectable()
export class MachinesHandler implements OnApplicationBootstrap {
  constructor(
    private readonly rpc: RpcServerService,
    private readonly machines: MachinesService,
  ) {}

  onApplicationBootstrap() {
    this.rpc.handle(RegistryRpc.join, JoinRequest, (req) => this.machines.join(req));
    this.rpc.handle(RegistryRpc.listMachines, ListMachinesRequest, (req) => this.machines.list(req));
    this.rpc.handle(RegistryRpc.getMachine, MachineRefRequest, (req) => this.machines.get(req.machine));
    this.rpc.handle(RegistryRpc.revokeMachine, MachineRefRequest, (req) => this.machines.revoke(req.machine));
    this.rpc.handle(RegistryRpc.verifyMachineToken, VerifyMachineTokenRequest, (req) => this.machines.verifyToken(req.token));
  }
}
