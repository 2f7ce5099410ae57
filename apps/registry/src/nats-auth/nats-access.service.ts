import { Inject, Injectable } from '@nestjs/common';
import type { OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import type { NatsConnection } from 'nats';

import { issueMachineJwt, signAccountJwt } from '@waggle/credentials';
import { connectNats } from '@waggle/messaging';
import type { Logger } from '@waggle/observability';
import { LOGGER } from '@waggle/service-kit';

import { MachineRepository } from '../machines/machine.repository';
import { RegistryConfig } from '../registry.config';

/**
 * Per-machine NATS credentials: signs each machine's user JWT, and pushes the account's
 * revocation list to the server's full resolver (no restart). A no-op when the hub's
 * NATS runs without auth (development), which is logged loudly at start.
 */
@Injectable()
export class NatsAccessService implements OnApplicationBootstrap, OnApplicationShutdown {
  private system?: NatsConnection;

  constructor(
    private readonly config: RegistryConfig,
    private readonly machines: MachineRepository,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  get enabled(): boolean {
    return !!this.config.WAGGLE_NATS_CREDS;
  }

  async onApplicationBootstrap() {
    if (!this.enabled) {
      this.logger.warn(
        'NATS has no auth (WAGGLE_NATS_CREDS unset): machines are NOT isolated from each other. Development only.',
      );
      return;
    }
    this.system = await connectNats({
      servers: this.config.WAGGLE_NATS_URL.split(','),
      name: 'registry-system',
      creds: this.config.WAGGLE_NATS_SYSTEM_CREDS,
    });
    // A NATS server restored from an old store would forget revocations: push them again.
    await this.pushRevocations();
  }

  async onApplicationShutdown() {
    await this.system?.drain();
  }

  async issue(machineId: string, publicKey: string): Promise<string> {
    return this.enabled ? issueMachineJwt(this.config.WAGGLE_NATS_ACCOUNT_SEED!, machineId, publicKey) : '';
  }

  /** Re-signs the account with every revoked machine's key and pushes it to the resolver. */
  async pushRevocations(): Promise<void> {
    if (!this.enabled || !this.system) {
      return;
    }
    const revoked = await this.machines.findRevokedPublicKeys();
    const revocations = Object.fromEntries(
      revoked.map((r) => [r.natsPublicKey, Math.floor(r.revokedAt.getTime() / 1000) + 1]),
    );
    const jwt = await signAccountJwt(
      this.config.WAGGLE_NATS_OPERATOR_SEED!,
      this.config.WAGGLE_NATS_ACCOUNT_SEED!,
      revocations,
    );
    const reply = await this.system.request('$SYS.REQ.CLAIMS.UPDATE', new TextEncoder().encode(jwt), {
      timeout: 5_000,
    });
    const body = JSON.parse(new TextDecoder().decode(reply.data)) as {
      data?: { code?: number };
      error?: { description?: string };
    };
    if (body.error || body.data?.code !== 200) {
      throw new Error(`account update refused: ${body.error?.description ?? JSON.stringify(body)}`);
    }
    this.logger.info({ revoked: revoked.length }, 'pushed account revocations to NATS');
  }
}
