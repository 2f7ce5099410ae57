import { Inject, Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram } from 'prom-client';
import type { Registry } from 'prom-client';

import type { MachineStatus } from '@waggle/contracts';
import { MACHINE_STATUSES } from '@waggle/contracts';

import { METRICS } from './tokens';

/** Registry metrics. Labels come from bounded sets only (never ids or names). */
@Injectable()
export class RegistryMetrics {
  readonly outboxRelayed: Counter;
  readonly messagesSent: Counter<'recipient'>;
  readonly receipts: Counter<'kind'>;
  readonly heartbeats: Counter;
  readonly machines: Gauge<'status'>;
  readonly rpcSeconds: Histogram<'operation' | 'outcome'>;
  private countMachines?: () => Promise<Partial<Record<MachineStatus, number>>>;

  /** Where the machines-by-status gauge reads its counts at scrape time. */
  countMachinesWith(source: () => Promise<Partial<Record<MachineStatus, number>>>): void {
    this.countMachines = source;
  }

  constructor(@Inject(METRICS) readonly registry: Registry) {
    this.outboxRelayed = new Counter({ name: 'waggle_registry_outbox_relayed_total', help: 'Outbox rows published to JetStream', registers: [registry] });
    this.messagesSent = new Counter({
      name: 'waggle_registry_messages_sent_total',
      help: 'Messages accepted, by recipient kind',
      labelNames: ['recipient'],
      registers: [registry],
    });
    this.receipts = new Counter({
      name: 'waggle_registry_receipts_total',
      help: 'Delivery and read receipts applied',
      labelNames: ['kind'],
      registers: [registry],
    });
    this.heartbeats = new Counter({ name: 'waggle_registry_heartbeats_total', help: 'Heartbeats received', registers: [registry] });
    this.machines = new Gauge({
      name: 'waggle_registry_machines',
      help: 'Machines by status',
      labelNames: ['status'],
      registers: [registry],
      // Counted when Prometheus scrapes, not on any hot path.
      collect: async () => {
        const counts = (await this.countMachines?.()) ?? {};
        for (const status of MACHINE_STATUSES) this.machines.set({ status }, counts[status] ?? 0);
      },
    });
    this.rpcSeconds = new Histogram({
      name: 'waggle_registry_rpc_duration_seconds',
      help: 'Time to answer a request',
      labelNames: ['operation', 'outcome'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    });
  }
}
