import { Card, Grid, NavLink, ScrollArea, Select, Stack, Text, Title } from '@mantine/core';
import { useNavigate, useParams } from 'react-router';

import { useAllMachines } from '../../api/queries';
import { MachineStatusBadge } from '../../components/badges';
import { MessageThread } from '../../components/MessageThread';

/** A thread per machine (what was sent to it, and what it sent, to the hub or to all), and "everyone". */
export function Component() {
  const { machine } = useParams();
  const navigate = useNavigate();
  const { data } = useAllMachines();
  const machines = (data?.items ?? [])
    .filter((m) => m.status !== 'revoked')
    .sort((a, b) => a.name.localeCompare(b.name));
  const current = machines.find((m) => m.id === machine || m.name === machine);
  const go = (to: string | null) => void navigate(to && to !== 'all' ? `/chat/${to}` : '/chat');
  return (
    <Stack>
      <Title order={2}>Chat</Title>
      <Grid>
        <Grid.Col span={{ base: 12, sm: 4, md: 3 }}>
          <Select
            hiddenFrom="sm"
            label="Thread"
            value={current?.id ?? 'all'}
            onChange={go}
            data={[
              { value: 'all', label: 'Everyone (all messages)' },
              ...machines.map((m) => ({ value: m.id, label: `${m.name} (${m.status})` })),
            ]}
            searchable
          />
          <Card withBorder p={0} visibleFrom="sm">
            <ScrollArea.Autosize mah="70vh">
              <NavLink
                label="Everyone"
                description="all messages, broadcasts"
                active={!current}
                onClick={() => go(null)}
              />
              {machines.map((m) => (
                <NavLink
                  key={m.id}
                  label={m.name}
                  active={current?.id === m.id}
                  onClick={() => go(m.id)}
                  rightSection={<MachineStatusBadge status={m.status} />}
                  data-thread={m.name}
                />
              ))}
            </ScrollArea.Autosize>
          </Card>
        </Grid.Col>
        <Grid.Col span={{ base: 12, sm: 8, md: 9 }}>
          <Card withBorder>
            <Text fw={600} mb="sm">
              {current ? `Thread with ${current.name}` : 'Everyone'}
            </Text>
            <MessageThread key={current?.id ?? 'all'} machine={current?.id} name={current?.name ?? 'all'} />
          </Card>
        </Grid.Col>
      </Grid>
    </Stack>
  );
}
