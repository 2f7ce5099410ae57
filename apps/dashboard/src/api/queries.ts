import { keepPreviousData, useQuery } from '@tanstack/react-query';

import { api, ApiError, qs } from './client';
import type {
  BreakerView,
  FailoverView,
  GithubLinkView,
  LlmProviderView,
  LlmSummary,
  MachineView,
  MessageView,
  MetricHistoryView,
  Page,
  TaskView,
  WaggleEvent,
  WatchedRepoView,
} from './types';

/** Query keys start with the family an event invalidates (live.tsx: invalidatedBy). */

export function useMachines(params: { status?: string; cursor?: string; limit?: number } = {}) {
  return useQuery({
    queryKey: ['machines', params],
    queryFn: () => api<Page<MachineView>>('GET', `/api/machines${qs({ limit: params.limit ?? 50, ...params })}`),
    placeholderData: keepPreviousData,
  });
}

/** Every machine (up to 2000, in pages of 500): names for ids, the network picture, the stats. */
export function useAllMachines() {
  return useQuery({
    queryKey: ['machines', 'all'],
    queryFn: async () => {
      const all: MachineView[] = [];
      let cursor: string | undefined;
      do {
        const page = await api<Page<MachineView>>('GET', `/api/machines${qs({ limit: 500, cursor })}`);
        all.push(...page.items);
        cursor = page.nextCursor;
      } while (cursor && all.length < 2000);
      return { items: all, nextCursor: cursor };
    },
  });
}

export function useMachineNames(): (id: string | undefined | null) => string | undefined {
  const { data } = useAllMachines();
  const names = new Map(data?.items.map((m) => [m.id, m.name]));
  return (id) => (id ? names.get(id) : undefined);
}

export function useMachine(id: string) {
  return useQuery({
    queryKey: ['machine', id],
    queryFn: () => api<MachineView>('GET', `/api/machines/${encodeURIComponent(id)}`),
  });
}

export function useMetrics(id: string | undefined) {
  return useQuery({
    queryKey: ['metrics', id],
    enabled: !!id,
    queryFn: () => api<MetricHistoryView>('GET', `/api/machines/${encodeURIComponent(id!)}/metrics`),
  });
}

export interface TaskFilters {
  state?: string;
  kind?: string;
  machine?: string;
  cursor?: string;
  limit?: number;
}

export function useTasks(filters: TaskFilters) {
  return useQuery({
    queryKey: ['tasks', filters],
    queryFn: () => api<Page<TaskView>>('GET', `/api/tasks${qs({ limit: 50, ...filters })}`),
    placeholderData: keepPreviousData,
  });
}

export function useTask(id: string) {
  return useQuery({
    queryKey: ['task', id],
    queryFn: () => api<TaskView>('GET', `/api/tasks/${encodeURIComponent(id)}`),
  });
}

export function useMessages(params: { machine?: string; cursor?: string; limit?: number }) {
  return useQuery({
    queryKey: ['messages', params],
    queryFn: () => api<Page<MessageView>>('GET', `/api/messages${qs({ limit: 50, ...params })}`),
    placeholderData: keepPreviousData,
  });
}

export function useEvents(cursor: string | undefined) {
  return useQuery({
    queryKey: ['events', cursor],
    queryFn: () => api<Page<WaggleEvent>>('GET', `/api/events${qs({ limit: 50, cursor })}`),
    staleTime: Infinity,
  });
}

export function useLlmSummary(day?: string) {
  return useQuery({
    queryKey: ['llm', 'summary', day ?? 'today'],
    queryFn: () => api<LlmSummary>('GET', `/api/llm/summary${qs({ day })}`),
  });
}

export function useLlmProviders() {
  return useQuery({
    queryKey: ['llm', 'providers'],
    queryFn: () => api<LlmProviderView[] | Page<LlmProviderView>>('GET', '/api/llm/providers'),
  });
}

export function useBreakers() {
  return useQuery({
    queryKey: ['llm', 'breakers'],
    queryFn: () => api<BreakerView[] | Page<BreakerView>>('GET', '/api/llm/circuit-breakers'),
  });
}

export function useFailovers(cursor?: string) {
  return useQuery({
    queryKey: ['llm', 'failovers', cursor],
    queryFn: () => api<Page<FailoverView>>('GET', `/api/llm/failovers${qs({ limit: 20, cursor })}`),
  });
}

export function useRepos(cursor?: string) {
  return useQuery({
    queryKey: ['github', 'repos', cursor],
    queryFn: () => api<Page<WatchedRepoView>>('GET', `/api/github/repos${qs({ limit: 50, cursor })}`),
  });
}

export function useLinks(params: { repo?: string; status?: string; cursor?: string }) {
  return useQuery({
    queryKey: ['github', 'links', params],
    queryFn: () => api<Page<GithubLinkView>>('GET', `/api/github/links${qs({ limit: 50, ...params })}`),
    placeholderData: keepPreviousData,
  });
}

/** A list answer as an array, whether the route pages it or not. */
export function itemsOf<T>(data: T[] | Page<T> | undefined): T[] {
  if (!data) {
    return [];
  }
  return Array.isArray(data) ? data : data.items;
}

export interface Overview {
  machines: { online: number; total: number };
  tasks: { queued: number; running: number; doneToday: number; failedToday: number };
  messagesToday: number;
  llmSpendTodayUsd: number;
  openGithubLinks: number;
  /** Counts that reached the page limit (shown as "500+"). */
  capped: string[];
}

const CAP = 500;

/** Today's figures: GET /api/overview where the gateway has it, else counted from the lists (each capped at 500). */
export function useOverview() {
  return useQuery({
    queryKey: ['overview'],
    queryFn: async (): Promise<Overview> => {
      try {
        return await api<Overview>('GET', '/api/overview', undefined, { quiet401: true });
      } catch (error) {
        if (!(error instanceof ApiError) || error.status !== 404) {
          throw error;
        }
      }
      const today = new Date();
      today.setHours(0, 0, 0, 0);
      const isToday = (iso: string) => Date.parse(iso) >= today.getTime();
      const list = <T>(path: string, params: Record<string, string | number | undefined>) =>
        api<Page<T>>('GET', `${path}${qs({ limit: CAP, ...params })}`);
      const [online, total, queued, running, assigned, succeeded, failed, timedOut, messages, summary, links] =
        await Promise.all([
          list<MachineView>('/api/machines', { status: 'online' }),
          list<MachineView>('/api/machines', {}),
          list<TaskView>('/api/tasks', { state: 'queued' }),
          list<TaskView>('/api/tasks', { state: 'running' }),
          list<TaskView>('/api/tasks', { state: 'assigned' }),
          list<TaskView>('/api/tasks', { state: 'succeeded' }),
          list<TaskView>('/api/tasks', { state: 'failed' }),
          list<TaskView>('/api/tasks', { state: 'timed_out' }),
          list<MessageView>('/api/messages', {}),
          api<LlmSummary>('GET', '/api/llm/summary').catch(() => undefined),
          list<GithubLinkView>('/api/github/links', {}).catch(() => ({
            items: [] as GithubLinkView[],
            nextCursor: undefined,
          })),
        ]);
      const capped: string[] = [];
      const count = (name: string, page: Page<unknown>, n = page.items.length) => {
        if (page.nextCursor) {
          capped.push(name);
        }
        return n;
      };
      return {
        machines: { online: count('online', online), total: count('machines', total) },
        tasks: {
          queued: count('queued', queued),
          running: count('running', running) + count('running', assigned),
          doneToday: count('done', succeeded, succeeded.items.filter((t) => isToday(t.updatedAt)).length),
          failedToday:
            count('failed', failed, failed.items.filter((t) => isToday(t.updatedAt)).length) +
            timedOut.items.filter((t) => isToday(t.updatedAt)).length,
        },
        messagesToday: count('messages', messages, messages.items.filter((m) => isToday(m.createdAt)).length),
        llmSpendTodayUsd: summary?.total.costUsd ?? 0,
        openGithubLinks: count(
          'links',
          links,
          links.items.filter((l) => l.status === 'queued' || l.status === 'in_progress').length,
        ),
        capped,
      };
    },
  });
}
