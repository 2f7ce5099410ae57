import { Alert, Anchor, Badge, Button, Group, Loader, Stack, Table, Tabs, Text, Title } from '@mantine/core';
import { lazy, Suspense, useState } from 'react';
import { Link, useSearchParams } from 'react-router';

import { useAllMachines, useMachines } from '../../api/queries';
import { errorText, useCan } from '../../api/session';
import type { MachineView } from '../../api/types';
import { MachineStatusBadge } from '../../components/badges';
import { ago, percent } from '../../components/format';
import { Pager, useCursorPages } from '../../components/pager';
import { JoinMachineButton } from './JoinMachine';

const NetworkView = lazy(() => import('./NetworkView'));

const HIDDEN_TAGS = /^(os|arch):/;

export function cpuText(m: MachineView): string {
  if (!m.metrics) {
    return '—';
  }
  return m.metrics.cpuPercent !== undefined
    ? `${Math.round(m.metrics.cpuPercent)}%`
    : `load ${m.metrics.cpuLoad.toFixed(2)}`;
}

function MachineTable() {
  const [params, setParams] = useSearchParams();
  const status = params.get('status') ?? undefined;
  const pages = useCursorPages(status ?? '');
  const { data, error, isPending } = useMachines({ status, cursor: pages.cursor });
  if (error) {
    return <Alert color="red">{errorText(error)}</Alert>;
  }
  return (
    <>
      <Group gap="xs" mb="xs">
        {['all', 'online', 'offline', 'revoked'].map((s) => (
          <Button
            key={s}
            size="xs"
            variant={(status ?? 'all') === s ? 'filled' : 'default'}
            onClick={() => setParams(s === 'all' ? {} : { status: s })}
          >
            {s}
          </Button>
        ))}
      </Group>
      {isPending ? (
        <Loader />
      ) : (
        <Table.ScrollContainer minWidth={0}>
          <Table striped highlightOnHover data-testid="machine-table">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Name</Table.Th>
                <Table.Th>Status</Table.Th>
                <Table.Th visibleFrom="sm">Last heartbeat</Table.Th>
                <Table.Th>CPU</Table.Th>
                <Table.Th visibleFrom="sm">Memory</Table.Th>
                <Table.Th visibleFrom="md">Capabilities</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {data.items.map((m) => (
                <Table.Tr key={m.id} data-machine={m.name}>
                  <Table.Td>
                    <Anchor component={Link} to={`/machines/${m.id}`} style={{ overflowWrap: 'anywhere' }}>
                      {m.name}
                    </Anchor>
                  </Table.Td>
                  <Table.Td>
                    <MachineStatusBadge status={m.status} />
                  </Table.Td>
                  <Table.Td visibleFrom="sm">{ago(m.lastSeenAt)}</Table.Td>
                  <Table.Td>{cpuText(m)}</Table.Td>
                  <Table.Td visibleFrom="sm">
                    {m.metrics ? `${percent(m.metrics.memoryUsedMb, m.metrics.memoryTotalMb)}%` : '—'}
                  </Table.Td>
                  <Table.Td visibleFrom="md">
                    <Group gap={4}>
                      {m.capabilityTags
                        .filter((t) => !HIDDEN_TAGS.test(t))
                        .map((t) => (
                          <Badge key={t} size="xs" variant="outline">
                            {t}
                          </Badge>
                        ))}
                    </Group>
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
      {data && data.items.length === 0 && (
        <Text c="dimmed" mt="sm">
          No machines{status ? ` ${status}` : ''} yet. Join one with the button above.
        </Text>
      )}
      <Pager page={pages.page} nextCursor={data?.nextCursor} onNext={pages.next} onPrevious={pages.previous} />
    </>
  );
}

function Network() {
  const { data, error } = useAllMachines();
  if (error) {
    return <Alert color="red">{errorText(error)}</Alert>;
  }
  return <Suspense fallback={<Loader />}>{data ? <NetworkView machines={data.items} /> : <Loader />}</Suspense>;
}

export function Component() {
  const isAdmin = useCan('admin');
  const [tab, setTab] = useState<string | null>('table');
  return (
    <Stack>
      <Group justify="space-between">
        <Title order={2}>Machines</Title>
        {isAdmin && <JoinMachineButton />}
      </Group>
      <Tabs value={tab} onChange={setTab} keepMounted={false}>
        <Tabs.List mb="sm">
          <Tabs.Tab value="table">Table</Tabs.Tab>
          <Tabs.Tab value="network" data-testid="network-tab">
            Network
          </Tabs.Tab>
        </Tabs.List>
        <Tabs.Panel value="table">
          <MachineTable />
        </Tabs.Panel>
        <Tabs.Panel value="network">
          <Network />
        </Tabs.Panel>
      </Tabs>
    </Stack>
  );
}
