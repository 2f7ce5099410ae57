import '@mantine/charts/styles.css';

import { BarChart } from '@mantine/charts';
import {
  Alert,
  Badge,
  Button,
  Card,
  Group,
  Loader,
  Progress,
  SimpleGrid,
  Stack,
  Table,
  Text,
  Title,
} from '@mantine/core';
import { useMutation, useQueries, useQueryClient } from '@tanstack/react-query';

import { api } from '../../api/client';
import { itemsOf, useBreakers, useFailovers, useLlmProviders, useLlmSummary } from '../../api/queries';
import { errorText, useCan } from '../../api/session';
import type { LlmSummary } from '../../api/types';
import { time, usd } from '../../components/format';
import { Pager, useCursorPages } from '../../components/pager';

const BREAKER_COLOURS: Record<string, string> = { closed: 'teal', open: 'red', half_open: 'yellow' };

function lastDays(n: number): string[] {
  const days: string[] = [];
  for (let i = n - 1; i >= 0; i--) {
    days.push(new Date(Date.now() - i * 86_400_000).toISOString().slice(0, 10));
  }
  return days;
}

/** Spend per day over the last 7 UTC days, stacked by provider; and today by machine and by task. */
function Spend() {
  const days = lastDays(7);
  const results = useQueries({
    queries: days.map((day) => ({
      queryKey: ['llm', 'summary', day],
      queryFn: () => api<LlmSummary>('GET', `/api/llm/summary?day=${day}`),
      // A successful call sends no event: read today's figures again on each visit.
      staleTime: day === days[days.length - 1] ? 0 : 30_000,
    })),
  });
  const summaries = results.map((r) => r.data).filter((s): s is LlmSummary => !!s);
  const providers = [...new Set(summaries.flatMap((s) => s.byProvider.map((p) => p.provider)))];
  const byDay = summaries.map((s) => ({
    day: s.day.slice(5),
    ...Object.fromEntries(s.byProvider.map((p) => [p.provider, Number(p.costUsd.toFixed(4))])),
  }));
  const today = summaries[summaries.length - 1];
  const machines = new Map<string, number>();
  summaries.forEach((s) => s.byMachine.forEach((m) => machines.set(m.name, (machines.get(m.name) ?? 0) + m.costUsd)));
  const colours = ['yellow.6', 'blue.6', 'teal.6', 'grape.6', 'orange.6', 'cyan.6'];
  if (results.some((r) => r.error)) {
    return <Alert color="red">{errorText(results.find((r) => r.error)?.error)}</Alert>;
  }
  if (summaries.length < days.length) {
    return <Loader />;
  }
  return (
    <Stack>
      <Card withBorder data-testid="spend">
        <Group justify="space-between" mb="xs">
          <Title order={4}>Spend, last 7 days</Title>
          <Text fw={700} data-testid="spend-today">
            today {usd(today?.total.costUsd)} · {today?.total.requests ?? 0} calls
          </Text>
        </Group>
        {providers.length === 0 ? (
          <Text c="dimmed">No LLM calls in the last 7 days.</Text>
        ) : (
          <BarChart
            h={220}
            data={byDay}
            dataKey="day"
            type="stacked"
            withLegend
            valueFormatter={(v) => usd(v)}
            yAxisProps={{ width: 64 }}
            series={providers.map((p, i) => ({ name: p, color: colours[i % colours.length]! }))}
          />
        )}
      </Card>
      <SimpleGrid cols={{ base: 1, md: 2 }}>
        <Card withBorder>
          <Title order={5} mb="xs">
            By machine (7 days)
          </Title>
          {[...machines]
            .sort((a, b) => b[1] - a[1])
            .slice(0, 10)
            .map(([name, cost]) => (
              <Group key={name} justify="space-between">
                <Text size="sm">{name}</Text>
                <Text size="sm">{usd(cost)}</Text>
              </Group>
            ))}
          {machines.size === 0 && (
            <Text c="dimmed" size="sm">
              None.
            </Text>
          )}
        </Card>
        <Card withBorder>
          <Title order={5} mb="xs">
            By task (today)
          </Title>
          {today?.byTask.slice(0, 10).map((t) => (
            <Group key={t.taskId} justify="space-between">
              <Text size="sm" component="a" href={`/tasks/${t.taskId}`}>
                {t.taskId.slice(0, 8)}
              </Text>
              <Text size="sm">{usd(t.costUsd)}</Text>
            </Group>
          ))}
          {!today?.byTask.length && (
            <Text c="dimmed" size="sm">
              None.
            </Text>
          )}
        </Card>
      </SimpleGrid>
      {today && <Budgets s={today} />}
    </Stack>
  );
}

function Budgets({ s }: { s: LlmSummary }) {
  const daily = s.budgets.dailyUsd;
  const topMachine = Math.max(0, ...s.byMachine.map((m) => m.costUsd));
  const topTask = Math.max(0, ...s.byTask.map((t) => t.costUsd));
  const row = (label: string, used: number, budget: number | null) => (
    <div key={label}>
      <Group justify="space-between">
        <Text size="sm">{label}</Text>
        <Text size="sm">{budget === null ? `${usd(used)} (no budget)` : `${usd(used)} of ${usd(budget)}`}</Text>
      </Group>
      {budget !== null && (
        <Progress value={Math.min(100, (100 * used) / budget)} color={used >= budget ? 'red' : 'yellow'} />
      )}
    </div>
  );
  return (
    <Card withBorder>
      <Title order={5} mb="xs">
        Budgets today
      </Title>
      <Stack gap="xs">
        {row('Whole hub', s.total.costUsd, daily)}
        {row('Busiest machine', topMachine, s.budgets.perMachineDailyUsd)}
        {row('Costliest task', topTask, s.budgets.perTaskUsd)}
      </Stack>
    </Card>
  );
}

function Providers() {
  const providers = useLlmProviders();
  const breakers = useBreakers();
  const isAdmin = useCan('admin');
  const queries = useQueryClient();
  const reset = useMutation({
    mutationFn: (provider?: string) => api('POST', '/api/llm/circuit-breakers/reset', provider ? { provider } : {}),
    onSuccess: () => queries.invalidateQueries({ queryKey: ['llm'] }),
  });
  const breakerOf = new Map(itemsOf(breakers.data).map((b) => [b.provider, b]));
  if (providers.error) {
    return <Alert color="red">{errorText(providers.error)}</Alert>;
  }
  return (
    <Card withBorder>
      <Group justify="space-between" mb="xs">
        <Title order={4}>Providers</Title>
        {isAdmin && (
          <Button size="xs" variant="light" onClick={() => reset.mutate(undefined)} loading={reset.isPending}>
            Reset all breakers
          </Button>
        )}
      </Group>
      <Table.ScrollContainer minWidth={0}>
        <Table data-testid="providers">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Provider</Table.Th>
              <Table.Th>Breaker</Table.Th>
              <Table.Th visibleFrom="sm">Calls 24 h</Table.Th>
              <Table.Th visibleFrom="sm">p95</Table.Th>
              <Table.Th>Cost 24 h</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {itemsOf(providers.data).map((p) => {
              const b = breakerOf.get(p.name);
              return (
                <Table.Tr key={p.name}>
                  <Table.Td>
                    <Text size="sm" fw={600}>
                      {p.name}
                    </Text>
                    <Text size="xs" c="dimmed">
                      {p.kind}
                      {p.local ? ' · local' : ''}
                    </Text>
                  </Table.Td>
                  <Table.Td>
                    <Badge
                      color={BREAKER_COLOURS[p.breaker] ?? 'gray'}
                      variant="light"
                      title={b?.lastError ?? undefined}
                    >
                      {p.breaker.replace('_', ' ')}
                    </Badge>
                    {isAdmin && p.breaker !== 'closed' && (
                      <Button size="compact-xs" variant="subtle" onClick={() => reset.mutate(p.name)}>
                        reset
                      </Button>
                    )}
                  </Table.Td>
                  <Table.Td visibleFrom="sm">
                    {p.requests}
                    {p.successRate !== null ? ` (${Math.round(p.successRate * 100)}% ok)` : ''}
                  </Table.Td>
                  <Table.Td visibleFrom="sm">{p.latencyMs.p95 === null ? '—' : `${p.latencyMs.p95} ms`}</Table.Td>
                  <Table.Td>{usd(p.costUsd)}</Table.Td>
                </Table.Tr>
              );
            })}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
      {reset.error && <Alert color="red">{errorText(reset.error)}</Alert>}
    </Card>
  );
}

function Failovers() {
  const pages = useCursorPages('');
  const { data } = useFailovers(pages.cursor);
  return (
    <Card withBorder data-testid="failovers">
      <Title order={4} mb="xs">
        Failovers
      </Title>
      {data?.items.length === 0 && <Text c="dimmed">None.</Text>}
      <Stack gap={4}>
        {data?.items.map((f) => (
          <Text key={f.id} size="sm" style={{ overflowWrap: 'anywhere' }}>
            {time(f.at)} · {f.from} → {f.to ?? 'nothing left'} · {f.reason}
          </Text>
        ))}
      </Stack>
      <Pager page={pages.page} nextCursor={data?.nextCursor} onNext={pages.next} onPrevious={pages.previous} />
    </Card>
  );
}

export function Component() {
  const summary = useLlmSummary();
  if (summary.error) {
    return <Alert color="red">{errorText(summary.error)}</Alert>;
  }
  return (
    <Stack>
      <Title order={2}>LLM</Title>
      <Providers />
      <Spend />
      <Failovers />
    </Stack>
  );
}
