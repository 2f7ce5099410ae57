import { Inject, Injectable } from '@nestjs/common';
import { Counter, Gauge } from 'prom-client';
import type { Registry } from 'prom-client';

import type { MachineStatus } from '@waggle/contracts';
import { MACHINE_STATUSES } from '@waggle/contracts';
import { METRICS } from '@waggle/service-kit';

/** Registry metrics. Labels come from bounded sets only (never ids or names). */
@Injectable()
export class RegistryMetrics {
  readonly messagesSent: Counter<'recipient'>;
  readonly receipts: Counter<'kind'>;
  readonly heartbeats: Counter;
  readonly machines: Gauge<'status'>;
  private countMachines?: () => Promise<Partial<Record<MachineStatus, number>>>;

  /** Where the machines-by-status gauge reads its counts at scrape time. */
  countMachinesWith(source: () => Promise<Partial<Record<MachineStatus, number>>>): void {
    this.countMachines = source;
  }

  constructor(@Inject(METRICS) readonly registry: Registry) {
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
    this.heartbeats = new Counter({
      name: 'waggle_registry_heartbeats_total',
      help: 'Heartbeats received',
      registers: [registry],
    });
    this.machines = new Gauge({
      name: 'waggle_registry_machines',
      help: 'Machines by status',
      labelNames: ['status'],
      registers: [registry],
      // Counted when Prometheus scrapes, not on any hot path.
      collect: async () => {
        const counts = (await this.countMachines?.()) ?? {};
        for (const status of MACHINE_STATUSES) {
          this.machines.set({ status }, counts[status] ?? 0);
        }
      },
    });
  }
}
