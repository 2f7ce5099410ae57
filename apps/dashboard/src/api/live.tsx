import { useQueryClient } from '@tanstack/react-query';
import type { QueryClient } from '@tanstack/react-query';
import { createContext, useContext, useEffect, useRef, useState } from 'react';
import type { ReactNode } from 'react';

import { tokenStore } from './client';
import type { LogChunkView, MachineView, MetricHistoryView, Page, WaggleEvent } from './types';

type EventListener = (event: WaggleEvent) => void;
type LogListener = (chunk: LogChunkView) => void;

/** The one /ws connection: events invalidate (or patch) the queries they concern; pages add listeners. */
class LiveFeed {
  private socket?: WebSocket;
  private readonly eventListeners = new Set<EventListener>();
  private readonly logListeners = new Map<string, Set<LogListener>>();
  private heartbeats = new Map<string, WaggleEvent<'machine.heartbeat'>>();
  private flushTimer?: ReturnType<typeof setTimeout>;
  private retryMs = 1000;
  private stopped = false;
  connected = false;
  onStatus?: (connected: boolean) => void;

  constructor(private readonly queries: QueryClient) {}

  start() {
    this.stopped = false;
    this.open();
  }

  stop() {
    this.stopped = true;
    this.socket?.close();
    clearTimeout(this.flushTimer);
  }

  private open() {
    const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`;
    const socket = new WebSocket(url);
    this.socket = socket;
    socket.onopen = () => {
      const token = tokenStore.get();
      // A token sign-in authenticates with its first message; a cookie session already did on the upgrade.
      if (token) {
        socket.send(JSON.stringify({ type: 'auth', token }));
      }
    };
    socket.onmessage = (e: MessageEvent<string>) => this.receive(e.data);
    socket.onclose = () => {
      const was = this.connected;
      this.setConnected(false);
      if (this.stopped) {
        return;
      }
      if (was) {
        this.retryMs = 1000;
      }
      setTimeout(() => this.open(), this.retryMs);
      this.retryMs = Math.min(this.retryMs * 2, 30_000);
    };
  }

  private setConnected(connected: boolean) {
    if (this.connected === connected) {
      return;
    }
    this.connected = connected;
    this.onStatus?.(connected);
  }

  private receive(raw: string) {
    let msg: { type?: string; event?: WaggleEvent; taskId?: string; chunk?: LogChunkView };
    try {
      msg = JSON.parse(raw) as typeof msg;
    } catch {
      return;
    }
    if (msg.type === 'ready') {
      this.setConnected(true);
      // Whatever happened while the socket was away: load it again once.
      void this.queries.invalidateQueries();
      for (const taskId of this.logListeners.keys()) {
        this.socket?.send(JSON.stringify({ type: 'follow-logs', taskId }));
      }
      return;
    }
    if (msg.type === 'log' && msg.taskId && msg.chunk) {
      this.logListeners.get(msg.taskId)?.forEach((l) => l(msg.chunk!));
      return;
    }
    if (msg.type === 'event' && msg.event) {
      this.handle(msg.event);
    }
  }

  private handle(event: WaggleEvent) {
    if (event.type === 'machine.heartbeat') {
      // Hundreds of machines beat every few seconds: patch the caches once a second, not per beat.
      this.heartbeats.set(
        (event as WaggleEvent<'machine.heartbeat'>).data.machineId,
        event as WaggleEvent<'machine.heartbeat'>,
      );
      this.flushTimer ??= setTimeout(() => this.flushHeartbeats(), 1000);
      return;
    }
    this.eventListeners.forEach((l) => l(event));
    const keys = invalidatedBy(event);
    for (const key of keys) {
      void this.queries.invalidateQueries({ queryKey: key });
    }
  }

  private flushHeartbeats() {
    this.flushTimer = undefined;
    const beats = this.heartbeats;
    this.heartbeats = new Map();
    const patch = (m: MachineView): MachineView => {
      const beat = beats.get(m.id);
      return beat ? { ...m, metrics: beat.data.metrics, lastSeenAt: beat.at, status: 'online' } : m;
    };
    this.queries.setQueriesData<Page<MachineView>>({ queryKey: ['machines'] }, (page) =>
      page ? { ...page, items: page.items.map(patch) } : page,
    );
    for (const [id, beat] of beats) {
      this.queries.setQueryData<MachineView>(['machine', id], (m) => (m ? patch(m) : m));
      this.queries.setQueryData<MetricHistoryView>(['metrics', id], (h) => {
        if (!h) {
          return h;
        }
        const last = h.samples[h.samples.length - 1];
        if (last && Date.parse(beat.at) - Date.parse(last.at) < h.spacingSeconds * 1000) {
          return h;
        }
        const m = beat.data.metrics;
        const cutoff = Date.parse(beat.at) - 3600_000;
        const sample = {
          at: beat.at,
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
        return { ...h, samples: [...h.samples.filter((s) => Date.parse(s.at) >= cutoff), sample] };
      });
    }
  }

  onEvent(listener: EventListener): () => void {
    this.eventListeners.add(listener);
    return () => this.eventListeners.delete(listener);
  }

  followLogs(taskId: string, listener: LogListener): () => void {
    let set = this.logListeners.get(taskId);
    if (!set) {
      set = new Set();
      this.logListeners.set(taskId, set);
      if (this.connected) {
        this.socket?.send(JSON.stringify({ type: 'follow-logs', taskId }));
      }
    }
    set.add(listener);
    return () => {
      set.delete(listener);
      // The server keeps following until the socket closes (there is no unfollow message); chunks for nobody are dropped.
    };
  }
}

/** Which queries an event makes stale. */
export function invalidatedBy(event: WaggleEvent): unknown[][] {
  const data = event.data as { machineId?: string; taskId?: string; childTaskId?: string };
  const [family] = event.type.split('.');
  switch (family) {
    case 'machine':
      return [['machines'], ['machine', data.machineId], ['overview']];
    case 'message':
      return [['messages'], ['overview']];
    case 'task':
      return [
        ['tasks'],
        ['task', data.taskId],
        ...(data.childTaskId ? [['task', data.childTaskId]] : []),
        ['overview'],
      ];
    case 'llm':
      return [['llm'], ['overview']];
    case 'github':
      return [['github'], ['overview']];
    default:
      return [];
  }
}

const LiveContext = createContext<{ feed: LiveFeed; connected: boolean } | null>(null);

export function LiveProvider({ children }: { children: ReactNode }) {
  const queries = useQueryClient();
  const feed = useRef<LiveFeed>(null);
  feed.current ??= new LiveFeed(queries);
  const [connected, setConnected] = useState(false);
  useEffect(() => {
    const f = feed.current!;
    f.onStatus = (c) => {
      setConnected(c);
      // Nothing polls while /ws is connected; without it, lists refresh every 15 s.
      queries.setDefaultOptions({
        queries: { ...queries.getDefaultOptions().queries, refetchInterval: c ? false : 15_000 },
      });
    };
    f.start();
    return () => f.stop();
  }, [queries]);
  return <LiveContext.Provider value={{ feed: feed.current, connected }}>{children}</LiveContext.Provider>;
}

export function useLive() {
  const live = useContext(LiveContext);
  if (!live) {
    throw new Error('useLive outside LiveProvider');
  }
  return live;
}

/** Calls `listener` with every live event while the component is mounted. */
export function useLiveEvents(listener: EventListener) {
  const { feed } = useLive();
  const ref = useRef(listener);
  ref.current = listener;
  useEffect(() => feed.onEvent((e) => ref.current(e)), [feed]);
}
