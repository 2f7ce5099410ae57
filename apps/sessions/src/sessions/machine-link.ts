import { Inject, Injectable } from '@nestjs/common';
import type { NatsConnection } from 'nats';

import type { SessionOp, SessionOpMap } from '@waggle/contracts';
import { ErrorCode, MachineSubjects, RegistryRpc, WaggleError } from '@waggle/contracts';
import { request, RpcClient } from '@waggle/messaging';
import { NATS } from '@waggle/service-kit';

import { SessionsConfig } from '../sessions.config';

export interface MachineRef {
  id: string;
  name: string;
}

/** A machine's name, looked up again after this long (a renamed or revoked machine shows soon). */
const NAME_TTL_MS = 30_000;

/**
 * The hub's side of a machine's sessions: finds the machine (through the registry, never its
 * tables) and asks its agent on the machine's own `down.sessions.<op>` subject, which only
 * that machine's credential may subscribe to.
 */
@Injectable()
export class MachineLink {
  private readonly names = new Map<string, { ref: MachineRef; at: number }>();

  constructor(
    private readonly rpc: RpcClient,
    @Inject(NATS) private readonly nc: NatsConnection,
    private readonly config: SessionsConfig,
  ) {}

  /** A machine by name or id, as the registry knows it now; 404 when unknown, 409 when revoked. */
  async resolve(ref: string): Promise<MachineRef> {
    const cached = this.names.get(ref);
    if (cached && Date.now() - cached.at < NAME_TTL_MS) {
      return cached.ref;
    }
    const machine = await this.rpc.call(RegistryRpc.getMachine, { machine: ref });
    if (machine.status === 'revoked') {
      throw new WaggleError(ErrorCode.Conflict, `machine ${machine.name} was revoked`);
    }
    const found = { id: machine.id, name: machine.name };
    this.names.set(ref, { ref: found, at: Date.now() });
    this.names.set(machine.id, { ref: found, at: Date.now() });
    return found;
  }

  /** The name of a machine that reported on its own subject. */
  async nameOf(machineId: string): Promise<string> {
    return (await this.resolve(machineId)).name;
  }

  /** Asks the machine's agent; a machine that does not answer is 503 with why it may be. */
  async ask<O extends SessionOp>(machine: MachineRef, op: O, payload: SessionOpMap[O][0]): Promise<SessionOpMap[O][1]> {
    try {
      return await request<SessionOpMap[O][1]>(
        this.nc,
        MachineSubjects.sessions(machine.id, op),
        payload,
        this.config.WAGGLE_SESSIONS_MACHINE_TIMEOUT_MS,
      );
    } catch (error) {
      if (error instanceof WaggleError && (error.code === ErrorCode.Unavailable || error.code === ErrorCode.Timeout)) {
        throw new WaggleError(
          ErrorCode.Unavailable,
          `machine ${machine.name} does not answer for its sessions (offline, or its agent was started without sessions)`,
        );
      }
      throw error;
    }
  }
}
