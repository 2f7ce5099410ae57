import { Controller, Inject } from '@nestjs/common';
import type { OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { Ctx, NatsContext, Payload } from '@nestjs/microservices';
import type { NatsConnection } from 'nats';

import { GoodbyeRequest, HeartbeatPayload } from '@waggle/contracts';
import { publishLive } from '@waggle/messaging';
import type { Logger } from '@waggle/observability';
import { HandleMachine, LOGGER, machineOf, NATS, OnMachineEvent } from '@waggle/service-kit';

import { RegistryMetrics } from '../infrastructure/registry.metrics';
import { MachinesService } from '../machines/machines.service';
import { MessagesService } from '../messages/messages.service';
import { RegistryConfig } from '../registry.config';

/** Heartbeats are buffered and written in one statement per flush: the hot path of a big fleet. */
const HEARTBEAT_FLUSH_MS = 250;
/** A sweep even when no machine is online (a replica that missed a flush elsewhere). */
const SAFETY_SWEEP_MS = 60_000;
const SWEEP_MARGIN_MS = 20;

/**
 * Presence: a machine's hello (it is back: mark it online, re-send what JetStream lost),
 * its heartbeats, and the sweep that marks silent machines offline.
 */
@Controller()
export class PresenceHandler implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly pending = new Map<string, HeartbeatPayload>();
  private timers: NodeJS.Timeout[] = [];
  private sweepTimer?: NodeJS.Timeout;
  private sweepAt?: Date;
  private stopped = false;

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
    this.sweepBy(new Date(Date.now() + req.intervalMs * this.config.WAGGLE_OFFLINE_AFTER_MISSED));
    await this.messages.reconcileInbox(machineId);
    return reply;
  }

  /**
   * The machine stops: offline at once. A heartbeat of it still buffered here is dropped, so
   * the next flush does not bring it back online.
   */
  @HandleMachine('goodbye')
  goodbye(@Payload() _req: GoodbyeRequest, @Ctx() context: NatsContext) {
    const machineId = machineOf(context);
    this.pending.delete(machineId);
    return this.machines.goodbye(machineId);
  }

  /** Buffered: the flush writes every pending heartbeat in one statement. */
  @OnMachineEvent('heartbeat')
  heartbeat(@Payload() payload: HeartbeatPayload, @Ctx() context: NatsContext) {
    this.pending.set(machineOf(context), payload);
    this.metrics.heartbeats.inc();
  }

  onApplicationBootstrap() {
    this.timers = [setInterval(() => void this.flushHeartbeats(), HEARTBEAT_FLUSH_MS)];
    void this.sweep();
  }

  /**
   * The presence sweep runs when a machine can first have gone silent, not on a clock: each
   * sweep learns the next deadline from the database, and a flush of heartbeats brings it
   * forward if a machine came in whose deadline is sooner. Nothing online: no sweep at all
   * (an idle hub costs no transaction), save a slow safety sweep.
   */
  private async sweep() {
    this.sweepAt = undefined;
    clearTimeout(this.sweepTimer);
    let next: Date | null = null;
    try {
      next = await this.machines.sweepPresence();
    } catch (error) {
      this.logger.warn({ err: error }, 'presence sweep failed; will retry');
      next = new Date(Date.now() + 1000);
    }
    if (!this.stopped) {
      this.sweepBy(next ?? new Date(Date.now() + SAFETY_SWEEP_MS));
    }
  }

  /** Makes sure a sweep runs no later than `at`. */
  private sweepBy(at: Date) {
    if (this.stopped || (this.sweepAt && this.sweepAt <= at)) {
      return;
    }
    clearTimeout(this.sweepTimer);
    this.sweepAt = at;
    // A little after the deadline, so the database agrees it has passed.
    this.sweepTimer = setTimeout(() => void this.sweep(), Math.max(0, at.getTime() - Date.now()) + SWEEP_MARGIN_MS);
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
      const soonest = Math.min(...beats.map((b) => b.payload.intervalMs));
      this.sweepBy(new Date(Date.now() + soonest * this.config.WAGGLE_OFFLINE_AFTER_MISSED));
      for (const m of seen) {
        publishLive(this.nc, 'heartbeat', { machineId: m.id, name: m.name, metrics: byId.get(m.id)!.metrics });
      }
    });
  }

  async onApplicationShutdown() {
    this.stopped = true;
    clearTimeout(this.sweepTimer);
    for (const t of this.timers) {
      clearInterval(t);
    }
    await this.flushHeartbeats();
  }
}
