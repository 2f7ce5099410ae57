import { Alert, Anchor, Button, Group, Loader, Select, Stack, Table, Text, TextInput, Title } from '@mantine/core';
import { useState } from 'react';
import { Link, useNavigate, useSearchParams } from 'react-router';

import { useTasks } from '../../api/queries';
import { errorText, useCan } from '../../api/session';
import { TaskStateBadge } from '../../components/badges';
import { ago } from '../../components/format';
import { Pager, useCursorPages } from '../../components/pager';

const STATES = ['queued', 'assigned', 'running', 'succeeded', 'failed', 'cancelled', 'timed_out'];
const KINDS = ['agent', 'command', 'shell', 'github-issue'];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function Component() {
  const [params, setParams] = useSearchParams();
  const navigate = useNavigate();
  const canCreate = useCan('operator');
  const filters = {
    state: params.get('state') ?? undefined,
    kind: params.get('kind') ?? undefined,
    machine: params.get('machine') ?? undefined,
    q: params.get('q') ?? undefined,
  };
  const [search, setSearch] = useState(filters.q ?? '');
  const pages = useCursorPages(JSON.stringify(filters));
  const { data, error, isPending, isFetching } = useTasks({ ...filters, cursor: pages.cursor });
  const set = (key: string, value: string | null) => {
    const next = new URLSearchParams(params);
    if (value) {
      next.set(key, value);
    } else {
      next.delete(key);
    }
    setParams(next);
  };
  const items = data?.items ?? [];
  // A task id goes to the task; other text searches the titles of every task on the hub.
  const runSearch = () => {
    const text = search.trim();
    if (UUID.test(text)) {
      void navigate(`/tasks/${text}`);
    } else if (text !== (filters.q ?? '')) {
      set('q', text || null);
    }
  };
  return (
    <Stack>
      <Group justify="space-between">
        <Title order={2}>Tasks</Title>
        {canCreate && (
          <Button component={Link} to="/tasks/new" data-testid="new-task">
            New task
          </Button>
        )}
      </Group>
      <Group gap="xs" align="flex-end" wrap="wrap">
        <Select
          label="State"
          placeholder="any"
          clearable
          data={STATES}
          value={filters.state ?? null}
          onChange={(v) => set('state', v)}
          w={150}
        />
        <Select
          label="Kind"
          placeholder="any"
          clearable
          data={KINDS}
          value={filters.kind ?? null}
          onChange={(v) => set('kind', v)}
          w={150}
        />
        <TextInput
          label="Machine"
          placeholder="name or id"
          defaultValue={filters.machine}
          onBlur={(e) => set('machine', e.currentTarget.value.trim() || null)}
          onKeyDown={(e) => e.key === 'Enter' && set('machine', e.currentTarget.value.trim() || null)}
          w={160}
        />
        <TextInput
          label="Search"
          placeholder="title, or a task id (Enter)"
          value={search}
          onChange={(e) => setSearch(e.currentTarget.value)}
          onBlur={runSearch}
          onKeyDown={(e) => e.key === 'Enter' && runSearch()}
          data-testid="task-search"
          w={220}
        />
        {isFetching && <Loader size="xs" />}
      </Group>
      {error && <Alert color="red">{errorText(error)}</Alert>}
      {isPending ? (
        <Loader />
      ) : (
        <Table.ScrollContainer minWidth={0}>
          <Table striped highlightOnHover data-testid="task-table">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Title</Table.Th>
                <Table.Th>State</Table.Th>
                <Table.Th visibleFrom="sm">Kind</Table.Th>
                <Table.Th visibleFrom="sm">Machine</Table.Th>
                <Table.Th visibleFrom="md">Updated</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {items.map((t) => (
                <Table.Tr key={t.id} data-task={t.title}>
                  <Table.Td>
                    <Anchor component={Link} to={`/tasks/${t.id}`} style={{ overflowWrap: 'anywhere' }}>
                      {t.title}
                    </Anchor>
                  </Table.Td>
                  <Table.Td>
                    <TaskStateBadge state={t.state} />
                  </Table.Td>
                  <Table.Td visibleFrom="sm">{t.kind}</Table.Td>
                  <Table.Td visibleFrom="sm">
                    {t.machine ? (
                      <Anchor component={Link} to={`/machines/${t.machine.machineId}`}>
                        {t.machine.name}
                      </Anchor>
                    ) : (
                      (t.target?.name ?? '—')
                    )}
                  </Table.Td>
                  <Table.Td visibleFrom="md">{ago(t.updatedAt)}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
      {data && items.length === 0 && <Text c="dimmed">No tasks match.</Text>}
      <Pager page={pages.page} nextCursor={data?.nextCursor} onNext={pages.next} onPrevious={pages.previous} />
    </Stack>
  );
}
