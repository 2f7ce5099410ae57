import { Controller, Inject } from '@nestjs/common';
import type { OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { Ctx, NatsContext, Payload } from '@nestjs/microservices';
import type { NatsConnection } from 'nats';

import { HeartbeatPayload } from '@waggle/contracts';
import { publishLive } from '@waggle/messaging';
import type { Logger } from '@waggle/observability';
import { HandleMachine, LOGGER, machineOf, NATS, OnMachineEvent } from '@waggle/service-kit';

import { RegistryMetrics } from '../infrastructure/registry.metrics';
import { MachinesService } from '../machines/machines.service';
import { MessagesService } from '../messages/messages.service';
import { RegistryConfig } from '../registry.config';

/** Heartbeats are buffered and written in one statement per flush: the hot path of a big fleet. */
const HEARTBEAT_FLUSH_MS = 250;

/**
 * Presence: a machine's hello (it is back: mark it online, re-send what JetStream lost),
 * its heartbeats, and the sweep that marks silent machines offline.
 */
@Controller()
export class PresenceHandler implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly pending = new Map<string, HeartbeatPayload>();
  private timers: NodeJS.Timeout[] = [];

  constructor(
    private readonly machines: MachinesService,
    private readonly messages: MessagesService,
    private readonly config: RegistryConfig,
    private readonly metrics: RegistryMetrics,
    @Inject(NATS) private readonly nc: NatsConnection,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** A machine (re)introduces itself: mark it online, re-send what JetStream lost. */
  @HandleMachine('hello')
  async hello(@Payload() req: HeartbeatPayload, @Ctx() context: NatsContext) {
    const machineId = machineOf(context);
    const reply = await this.machines.hello(machineId, req);
    await this.messages.reconcileInbox(machineId);
    return reply;
  }

  /** Buffered: the flush writes every pending heartbeat in one statement. */
  @OnMachineEvent('heartbeat')
  heartbeat(@Payload() payload: HeartbeatPayload, @Ctx() context: NatsContext) {
    this.pending.set(machineOf(context), payload);
    this.metrics.heartbeats.inc();
  }

  onApplicationBootstrap() {
    const sweepEvery = Math.max(100, Math.floor(this.config.WAGGLE_HEARTBEAT_INTERVAL_MS / 2));
    this.timers = [
      setInterval(() => void this.flushHeartbeats(), HEARTBEAT_FLUSH_MS),
      setInterval(() => void this.guard('presence sweep', () => this.machines.sweepPresence()), sweepEvery),
    ];
  }

  private async guard(what: string, work: () => Promise<unknown>) {
    try {
      await work();
    } catch (error) {
      this.logger.warn({ err: error }, `${what} failed; will retry`);
    }
  }

  private async flushHeartbeats() {
    if (!this.pending.size) {
      return;
    }
    const beats = [...this.pending].map(([machineId, payload]) => ({ machineId, payload }));
    this.pending.clear();
    await this.guard('heartbeat flush', async () => {
      const seen = await this.machines.recordHeartbeats(beats);
      const byId = new Map(beats.map((b) => [b.machineId, b.payload]));
      for (const m of seen) {
        publishLive(this.nc, 'heartbeat', { machineId: m.id, name: m.name, metrics: byId.get(m.id)!.metrics });
      }
    });
  }

  async onApplicationShutdown() {
    for (const t of this.timers) {
      clearInterval(t);
    }
    await this.flushHeartbeats();
  }
}
