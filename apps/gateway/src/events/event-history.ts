import type { MachineMetrics, MetricSample, WaggleEvent } from '@waggle/contracts';

/** Events the gateway keeps for the visor's activity feed (heartbeats are not kept here). */
export const EVENT_HISTORY_SIZE = 2_000;
/** How far back a machine's heartbeat samples reach, and how far apart kept samples are at least. */
export const METRIC_HISTORY_MS = 60 * 60 * 1000;
export const METRIC_SAMPLE_SPACING_MS = 10_000;
/** Machines whose samples are kept (the oldest-updated is dropped past this). */
export const METRIC_HISTORY_MACHINES = 5_000;

/**
 * The last EVENT_HISTORY_SIZE events, oldest first: a bounded ring, fed at start-up from the
 * tail of the EVENTS stream and then by the same feed /ws uses.
 */
export class EventHistory {
  private readonly events: WaggleEvent[] = [];
  private readonly ids = new Set<string>();

  constructor(private readonly size = EVENT_HISTORY_SIZE) {}

  add(event: WaggleEvent) {
    // JetStream is at-least-once: a redelivered event is kept once.
    if (this.ids.has(event.id)) {
      return;
    }
    this.events.push(event);
    this.ids.add(event.id);
    while (this.events.length > this.size) {
      this.ids.delete(this.events.shift()!.id);
    }
  }

  /** Newest first: up to `limit` events older than the event `before` (or the newest), that `visible` accepts. */
  page(limit: number, before: string | undefined, visible: (event: WaggleEvent) => boolean) {
    let end = this.events.length;
    if (before) {
      const at = this.events.findIndex((e) => e.id === before);
      // An id that has left the ring: nothing older is kept.
      end = at < 0 ? 0 : at;
    }
    const items: WaggleEvent[] = [];
    let i = end - 1;
    for (; i >= 0 && items.length < limit; i--) {
      if (visible(this.events[i]!)) {
        items.push(this.events[i]!);
      }
    }
    const more = items.length === limit && this.events.slice(0, i + 1).some(visible);
    return { items, nextCursor: more ? items[items.length - 1]!.id : undefined };
  }
}

/** Per machine, heartbeat samples of the last hour, at least METRIC_SAMPLE_SPACING_MS apart. */
export class MetricHistory {
  private readonly samples = new Map<string, MetricSample[]>();

  constructor(
    private readonly spacingMs = METRIC_SAMPLE_SPACING_MS,
    private readonly keepMs = METRIC_HISTORY_MS,
    private readonly machines = METRIC_HISTORY_MACHINES,
  ) {}

  add(machineId: string, metrics: MachineMetrics, now = Date.now()) {
    let list = this.samples.get(machineId);
    if (!list) {
      list = [];
      if (this.samples.size >= this.machines) {
        // Map order is insertion order: the first key is the machine heard from least recently.
        this.samples.delete(this.samples.keys().next().value!);
      }
    } else {
      // Re-inserted below, so the map stays ordered by last heartbeat.
      this.samples.delete(machineId);
    }
    this.samples.set(machineId, list);
    const last = list[list.length - 1];
    if (last && now - Date.parse(last.at) < this.spacingMs) {
      return;
    }
    list.push(sampleOf(metrics, now));
    while (list.length > 0 && now - Date.parse(list[0]!.at) > this.keepMs) {
      list.shift();
    }
  }

  of(machineId: string, now = Date.now()): MetricSample[] {
    return (this.samples.get(machineId) ?? []).filter((s) => now - Date.parse(s.at) <= this.keepMs);
  }
}

function sampleOf(m: MachineMetrics, now: number): MetricSample {
  return {
    at: new Date(now).toISOString(),
    cpuPercent: m.cpuPercent ?? null,
    memoryUsedMb: m.memoryUsedMb,
    memoryTotalMb: m.memoryTotalMb,
    diskUsedMb: Math.max(0, m.diskTotalMb - m.diskFreeMb),
    diskTotalMb: m.diskTotalMb,
    gpus: (m.gpus ?? []).map((g) => ({
      name: g.name,
      utilizationPercent: g.utilizationPercent ?? null,
      memoryUsedMb: g.memoryUsedMb ?? null,
      memoryTotalMb: g.memoryTotalMb ?? null,
    })),
  };
}
