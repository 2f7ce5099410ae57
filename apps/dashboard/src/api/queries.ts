import { keepPreviousData, useQuery } from '@tanstack/react-query';

import { api, qs } from './client';
import type {
  BreakerView,
  FailoverView,
  GithubLinkView,
  LlmProviderView,
  LlmSummary,
  MachineView,
  MessageView,
  MetricHistoryView,
  OverviewView,
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
  q?: string;
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
    staleTime: 0,
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

/** Today's figures (UTC day), each asked of the service that owns it; null where that service did not answer. */
export function useOverview() {
  // Not every change is announced (a successful LLM call sends no event): read again on each visit.
  return useQuery({ queryKey: ['overview'], queryFn: () => api<OverviewView>('GET', '/api/overview'), staleTime: 0 });
}
