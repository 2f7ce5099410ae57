import { Inject, Injectable } from '@nestjs/common';
import type { OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import type { NatsConnection, Subscription } from 'nats';

import type { EventMap } from '@waggle/contracts';
import { decode, HeartbeatPayload, LiveSubjects, machineIdOf, MachineWildcards, QueueGroups } from '@waggle/contracts';
import { decodeJson, encodeJson } from '@waggle/messaging';
import type { Logger } from '@waggle/observability';

import { RegistryMetrics } from '../infrastructure/registry.metrics';
import { RpcServerService } from '../infrastructure/rpc-server.service';
import { LOGGER, NATS } from '../infrastructure/tokens';
import { TransactionsService } from '../infrastructure/transactions.service';
import { MessagesService } from '../messages/messages.service';
import { RegistryConfig } from '../registry.config';
import { MachinesService } from '../machines/machines.service';

/** Heartbeats are buffered and written in one statement per flush: the hot path of a big fleet. */
const HEARTBEAT_FLUSH_MS = 250;

/**
 * Presence: a machine's hello (it is back: mark it online, re-send what JetStream lost),
 * its heartbeats, and the sweep that marks silent machines offline.
 */
@Injectable()
export class PresenceHandler implements OnApplicationBootstrap, OnApplicationShutdown {
  private heartbeatSub?: Subscription;
  private readonly pending = new Map<string, HeartbeatPayload>();
  private timers: NodeJS.Timeout[] = [];

  constructor(
    private readonly rpc: RpcServerService,
    private readonly machines: MachinesService,
    private readonly messages: MessagesService,
    private readonly config: RegistryConfig,
    private readonly metrics: RegistryMetrics,
    private readonly tx: TransactionsService,
    @Inject(NATS) private readonly nc: NatsConnection,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap() {
    this.rpc.handleMachine(MachineWildcards.hello, HeartbeatPayload, async (machineId, req) => {
      const reply = await this.machines.hello(machineId, req);
      await this.messages.reconcileInbox(machineId);
      return reply;
    });
    this.heartbeatSub = this.nc.subscribe(MachineWildcards.heartbeat, {
      queue: QueueGroups.registry,
      callback: (err, msg) => {
        if (err) return;
        try {
          this.pending.set(machineIdOf(msg.subject), decode(HeartbeatPayload, decodeJson(msg.data)));
          this.metrics.heartbeats.inc();
        } catch (error) {
          this.logger.warn({ err: error, subject: msg.subject }, 'invalid heartbeat dropped');
        }
      },
    });
    const sweepEvery = Math.max(100, Math.floor(this.config.WAGGLE_HEARTBEAT_INTERVAL_MS / 2));
    this.timers = [
      setInterval(() => void this.flushHeartbeats(), HEARTBEAT_FLUSH_MS),
      setInterval(() => void this.guard('presence sweep', () => this.machines.sweepPresence()), sweepEvery),
      setInterval(() => void this.guard('outbox prune', () => this.tx.prune()), 3600_000),
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
    if (!this.pending.size) return;
    const beats = [...this.pending].map(([machineId, payload]) => ({ machineId, payload }));
    this.pending.clear();
    await this.guard('heartbeat flush', async () => {
      const seen = await this.machines.recordHeartbeats(beats);
      const byId = new Map(beats.map((b) => [b.machineId, b.payload]));
      for (const m of seen) {
        const data: EventMap['machine.heartbeat'] = { machineId: m.id, name: m.name, metrics: byId.get(m.id)!.metrics };
        this.nc.publish(LiveSubjects.heartbeat, encodeJson(data));
      }
    });
  }

  async onApplicationShutdown() {
    for (const t of this.timers) clearInterval(t);
    this.heartbeatSub?.unsubscribe();
    await this.flushHeartbeats();
  }
}
