import {
  Alert,
  Anchor,
  Badge,
  Button,
  Card,
  Group,
  Loader,
  SimpleGrid,
  Stack,
  Table,
  Text,
  Title,
} from '@mantine/core';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { lazy, Suspense } from 'react';
import { Link, useParams } from 'react-router';

import { api } from '../../api/client';
import { useMachine, useMetrics, useTasks } from '../../api/queries';
import { errorText, useCan } from '../../api/session';
import type { MachineView } from '../../api/types';
import { MachineStatusBadge, TaskStateBadge } from '../../components/badges';
import { ago, gb, time } from '../../components/format';
import { MessageThread } from '../../components/MessageThread';
import { Pager, useCursorPages } from '../../components/pager';
import { cpuText } from './MachinesPage';

const MetricCharts = lazy(() => import('./MetricCharts'));

function Field({ label, children }: { label: string; children: React.ReactNode }) {
  return (
    <div>
      <Text size="xs" c="dimmed" tt="uppercase" fw={600}>
        {label}
      </Text>
      <Text size="sm" component="div" style={{ overflowWrap: 'anywhere' }}>
        {children}
      </Text>
    </div>
  );
}

function Facts({ m }: { m: MachineView }) {
  const c = m.capabilities;
  return (
    <Card withBorder>
      <SimpleGrid cols={{ base: 2, sm: 3, md: 4 }} spacing="sm">
        <Field label="Status">
          <MachineStatusBadge status={m.status} />
        </Field>
        <Field label="Last heartbeat">{ago(m.lastSeenAt)}</Field>
        <Field label="CPU">{cpuText(m)}</Field>
        <Field label="Memory">
          {m.metrics ? `${gb(m.metrics.memoryUsedMb)} / ${gb(m.metrics.memoryTotalMb)}` : '—'}
        </Field>
        <Field label="Disk free">
          {m.metrics ? `${gb(m.metrics.diskFreeMb)} of ${gb(m.metrics.diskTotalMb)}` : '—'}
        </Field>
        <Field label="Agent version">{m.agentVersion ?? '—'}</Field>
        <Field label="System">{c ? `${c.os} ${c.arch}` : '—'}</Field>
        <Field label="Slots">{c?.slots ?? 1}</Field>
        <Field label="Joined">{time(m.joinedAt)}</Field>
        <Field label="Permissions">{m.permissions.length ? m.permissions.join(', ') : 'none'}</Field>
      </SimpleGrid>
      <Text size="xs" c="dimmed" tt="uppercase" fw={600} mt="md">
        Capabilities
      </Text>
      <Group gap={4} mt={4}>
        {m.capabilityTags.map((t) => (
          <Badge key={t} variant="outline" size="sm">
            {t}
          </Badge>
        ))}
      </Group>
      {c && (
        <Text size="xs" c="dimmed" mt="xs">
          {[...c.agents, ...c.tools].map((a) => `${a.name} ${a.version}`).join(' · ') || 'no agent CLIs or tools found'}
        </Text>
      )}
      <Text size="xs" c="dimmed" tt="uppercase" fw={600} mt="md">
        Labels
      </Text>
      <Group gap={4} mt={4}>
        {m.labels.length === 0 && <Text size="sm">none</Text>}
        {m.labels.map((l) => (
          <Badge key={l} variant="light" size="sm">
            {l}
          </Badge>
        ))}
      </Group>
    </Card>
  );
}

function MachineTasks({ machine }: { machine: string }) {
  const pages = useCursorPages(machine);
  const { data, error } = useTasks({ machine, cursor: pages.cursor, limit: 10 });
  if (error) {
    return <Alert color="red">{errorText(error)}</Alert>;
  }
  return (
    <>
      <Table.ScrollContainer minWidth={0}>
        <Table>
          <Table.Tbody>
            {data?.items.map((t) => (
              <Table.Tr key={t.id}>
                <Table.Td>
                  <Anchor component={Link} to={`/tasks/${t.id}`} style={{ overflowWrap: 'anywhere' }}>
                    {t.title}
                  </Anchor>
                </Table.Td>
                <Table.Td>
                  <TaskStateBadge state={t.state} />
                </Table.Td>
                <Table.Td visibleFrom="sm">{ago(t.updatedAt)}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
      {data?.items.length === 0 && <Text c="dimmed">No tasks yet.</Text>}
      <Pager page={pages.page} nextCursor={data?.nextCursor} onNext={pages.next} onPrevious={pages.previous} />
    </>
  );
}

function Revoke({ m }: { m: MachineView }) {
  const queries = useQueryClient();
  const revoke = useMutation({
    mutationFn: () => api('DELETE', `/api/machines/${m.id}`),
    onSuccess: () => queries.invalidateQueries({ queryKey: ['machine', m.id] }),
  });
  if (m.status === 'revoked') {
    return null;
  }
  return (
    <>
      <Button
        color="red"
        variant="light"
        loading={revoke.isPending}
        onClick={() => window.confirm(`Revoke ${m.name}? Its credentials stop working at once.`) && revoke.mutate()}
      >
        Revoke
      </Button>
      {revoke.error && <Alert color="red">{errorText(revoke.error)}</Alert>}
    </>
  );
}

export function Component() {
  const { id = '' } = useParams();
  const { data: m, error } = useMachine(id);
  const metrics = useMetrics(m?.id);
  const isAdmin = useCan('admin');
  if (error) {
    return <Alert color="red">{errorText(error)}</Alert>;
  }
  if (!m) {
    return <Loader />;
  }
  return (
    <Stack data-testid="machine-page">
      <Group justify="space-between">
        <Title order={2} style={{ overflowWrap: 'anywhere' }}>
          {m.name}
        </Title>
        {isAdmin && <Revoke m={m} />}
      </Group>
      <Facts m={m} />
      <Card withBorder>
        <Title order={4} mb="sm">
          The last hour
        </Title>
        <Suspense fallback={<Loader />}>{metrics.data ? <MetricCharts history={metrics.data} /> : <Loader />}</Suspense>
      </Card>
      <SimpleGrid cols={{ base: 1, md: 2 }}>
        <Card withBorder>
          <Title order={4} mb="sm">
            Tasks
          </Title>
          <MachineTasks machine={m.id} />
        </Card>
        <Card withBorder>
          <Title order={4} mb="sm">
            Messages
          </Title>
          <MessageThread machine={m.id} name={m.name} />
        </Card>
      </SimpleGrid>
    </Stack>
  );
}
