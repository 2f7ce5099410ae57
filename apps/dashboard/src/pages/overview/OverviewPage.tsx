import { Alert, Anchor, Button, Card, Group, Paper, SimpleGrid, Stack, Text, Title } from '@mantine/core';
import { useState } from 'react';
import { Link } from 'react-router';

import { useLiveEvents } from '../../api/live';
import { useEvents, useMachineNames, useOverview } from '../../api/queries';
import { errorText } from '../../api/session';
import type { WaggleEvent } from '../../api/types';
import { clock, usd } from '../../components/format';
import { describeEvent } from './describe';

function Stat({ label, value, to, testId }: { label: string; value: string; to?: string; testId: string }) {
  return (
    <Paper withBorder p="sm" data-testid={testId}>
      <Text size="xs" c="dimmed" tt="uppercase" fw={600}>
        {label}
      </Text>
      <Text fz="xl" fw={700}>
        {to ? (
          <Anchor component={Link} to={to} inherit c="inherit">
            {value}
          </Anchor>
        ) : (
          value
        )}
      </Text>
    </Paper>
  );
}

function StatsBar() {
  const { data, error } = useOverview();
  if (error) {
    return <Alert color="red">{errorText(error)}</Alert>;
  }
  const n = (v: number | null | undefined) => (v === undefined ? '…' : v === null ? '—' : String(v));
  return (
    <Stack gap={4}>
      <SimpleGrid cols={{ base: 2, xs: 3, md: 4, lg: 8 }} spacing="xs">
        <Stat
          testId="stat-machines"
          label="Machines online"
          to="/machines"
          value={data ? `${n(data.machinesOnline)} / ${n(data.machinesTotal)}` : '…'}
        />
        <Stat testId="stat-queued" label="Queued" to="/tasks?state=queued" value={n(data?.tasksQueued)} />
        <Stat testId="stat-running" label="Running" to="/tasks?state=running" value={n(data?.tasksRunning)} />
        <Stat testId="stat-done" label="Done today" to="/tasks?state=succeeded" value={n(data?.tasksDoneToday)} />
        <Stat testId="stat-failed" label="Failed today" to="/tasks?state=failed" value={n(data?.tasksFailedToday)} />
        <Stat testId="stat-messages" label="Messages today" to="/chat" value={n(data?.messagesToday)} />
        <Stat
          testId="stat-llm"
          label="LLM spend today"
          to="/llm"
          value={data ? (data.llmSpendTodayUsd === null ? '—' : usd(data.llmSpendTodayUsd)) : '…'}
        />
        <Stat testId="stat-github" label="Open GitHub links" to="/github" value={n(data?.openGithubLinks)} />
      </SimpleGrid>
      {data && data.unavailable.length > 0 && (
        <Text size="xs" c="dimmed">
          — : no answer from {data.unavailable.join(', ')}
        </Text>
      )}
    </Stack>
  );
}

function EventRow({ event, names }: { event: WaggleEvent; names: ReturnType<typeof useMachineNames> }) {
  return (
    <Group gap="xs" wrap="nowrap" align="flex-start" data-event={event.type}>
      <Text size="xs" c="dimmed" ff="monospace" style={{ flexShrink: 0 }} title={new Date(event.at).toLocaleString()}>
        {clock(event.at)}
      </Text>
      <Text size="sm" style={{ minWidth: 0, overflowWrap: 'anywhere' }}>
        {describeEvent(event, names)}
      </Text>
    </Group>
  );
}

/** Recent history from GET /api/events, then live from /ws (newest first). */
function ActivityFeed() {
  const names = useMachineNames();
  const [live, setLive] = useState<WaggleEvent[]>([]);
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  useLiveEvents((event) => setLive((old) => [event, ...old].slice(0, 200)));
  return (
    <Card withBorder data-testid="activity">
      <Title order={4} mb="sm">
        Activity
      </Title>
      <Stack gap={6}>
        {live.map((e) => (
          <EventRow key={e.id} event={e} names={names} />
        ))}
        {cursors.map((c, i) => (
          <EventPage
            key={c ?? 'first'}
            cursor={c}
            hide={new Set(live.map((e) => e.id))}
            names={names}
            onMore={i === cursors.length - 1 ? (next) => setCursors((old) => [...old, next]) : undefined}
          />
        ))}
      </Stack>
    </Card>
  );
}

function EventPage({
  cursor,
  hide,
  names,
  onMore,
}: {
  cursor: string | undefined;
  hide: Set<string>;
  names: ReturnType<typeof useMachineNames>;
  onMore?: (cursor: string) => void;
}) {
  const { data, error, isPending } = useEvents(cursor);
  if (error) {
    return <Text c="red">{errorText(error)}</Text>;
  }
  if (isPending) {
    return <Text c="dimmed">Loading…</Text>;
  }
  return (
    <>
      {cursor === undefined && data.items.length === 0 && <Text c="dimmed">Nothing has happened yet.</Text>}
      {data.items
        .filter((e) => !hide.has(e.id))
        .map((e) => (
          <EventRow key={e.id} event={e} names={names} />
        ))}
      {onMore && data.nextCursor && (
        <Button variant="subtle" size="xs" onClick={() => onMore(data.nextCursor!)}>
          Older
        </Button>
      )}
    </>
  );
}

export function Component() {
  return (
    <Stack>
      <Title order={2}>Overview</Title>
      <StatsBar />
      <ActivityFeed />
    </Stack>
  );
}
