import { Injectable } from '@nestjs/common';

import type { MachineView } from '@waggle/contracts';
import { ErrorCode, RegistryRpc, WaggleError } from '@waggle/contracts';
import { RpcClient } from '@waggle/messaging';

const CACHE_MS = 250;

/** The fleet as the registry reports it (the task-router never reads the registry's tables). */
@Injectable()
export class FleetService {
  private cached?: { at: number; machines: MachineView[] };

  constructor(private readonly rpc: RpcClient) {}

  /** Every machine that is not revoked, fresh within a quarter second (or read now, with `fresh`). */
  async machines(fresh = false): Promise<MachineView[]> {
    if (!fresh && this.cached && Date.now() - this.cached.at < CACHE_MS) {
      return this.cached.machines;
    }
    const machines: MachineView[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.rpc.call(RegistryRpc.listMachines, { limit: 500, cursor });
      machines.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor);
    this.cached = { at: Date.now(), machines };
    return machines;
  }

  /** One machine as the registry knows it this moment (no cache), or undefined if unknown. */
  async current(machineId: string): Promise<MachineView | undefined> {
    try {
      return await this.rpc.call(RegistryRpc.getMachine, { machine: machineId });
    } catch (error) {
      if (error instanceof WaggleError && error.code === ErrorCode.NotFound) {
        return undefined;
      }
      throw error;
    }
  }

  async find(ref: string): Promise<MachineView | undefined> {
    return (await this.machines()).find((m) => m.id === ref || m.name === ref);
  }
}
