import {
  Alert,
  Anchor,
  Button,
  Card,
  Code,
  Group,
  List,
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
import { useTask } from '../../api/queries';
import { errorText, useCan } from '../../api/session';
import type { TaskView } from '../../api/types';
import { TaskStateBadge } from '../../components/badges';
import { duration, time } from '../../components/format';

const TaskLogView = lazy(() => import('./TaskLogView'));

const FINAL = new Set(['succeeded', 'failed', 'cancelled', 'timed_out']);

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

function Actions({ task }: { task: TaskView }) {
  const queries = useQueryClient();
  const act = useMutation({
    mutationFn: (what: 'cancel' | 'retry') => api<TaskView>('POST', `/api/tasks/${task.id}/${what}`, {}),
    onSuccess: (t) => {
      queries.setQueryData(['task', task.id], t);
      void queries.invalidateQueries({ queryKey: ['tasks'] });
    },
  });
  return (
    <Group gap="xs">
      {!FINAL.has(task.state) && (
        <Button
          color="red"
          variant="light"
          loading={act.isPending && act.variables === 'cancel'}
          onClick={() => act.mutate('cancel')}
          data-testid="cancel-task"
        >
          Cancel
        </Button>
      )}
      {FINAL.has(task.state) && task.state !== 'succeeded' && (
        <Button
          variant="light"
          loading={act.isPending && act.variables === 'retry'}
          onClick={() => act.mutate('retry')}
          data-testid="retry-task"
        >
          Retry
        </Button>
      )}
      {act.error && (
        <Text c="red" size="sm">
          {errorText(act.error)}
        </Text>
      )}
    </Group>
  );
}

function what(task: TaskView): string {
  const i = task.input;
  if (task.kind === 'command') {
    // Arguments with spaces or quotes are shown quoted: each is one argument, never split by a shell.
    return [i.program, ...(i.args ?? [])].map((a) => (a && !/[\s"'\\]/.test(a) ? a : JSON.stringify(a))).join(' ');
  }
  if (task.kind === 'shell') {
    return i.script ?? '';
  }
  return i.prompt ?? '';
}

export function Component() {
  const { id = '' } = useParams();
  const { data: task, error } = useTask(id);
  const canAct = useCan('operator');
  if (error) {
    return <Alert color="red">{errorText(error)}</Alert>;
  }
  if (!task) {
    return <Loader />;
  }
  return (
    <Stack data-testid="task-page" data-state={task.state}>
      <Group justify="space-between" align="flex-start">
        <div style={{ minWidth: 0 }}>
          <Title order={2} style={{ overflowWrap: 'anywhere' }}>
            {task.title}
          </Title>
          <Group gap="xs" mt={4}>
            <TaskStateBadge state={task.state} />
            <Text size="sm" c="dimmed">
              {task.kind} · attempt {task.attempt} of {task.maxAttempts}
            </Text>
          </Group>
        </div>
        {canAct && <Actions task={task} />}
      </Group>
      {task.waiting && (
        <Alert color="yellow" title="Why it waits" data-testid="waiting">
          <Text size="sm">{task.waiting.summary}</Text>
          <List size="sm" mt="xs">
            {task.waiting.candidates.slice(0, 20).map((c) => (
              <List.Item key={c.machineId}>
                <Anchor component={Link} to={`/machines/${c.machineId}`}>
                  {c.name}
                </Anchor>
                : {c.reasons.join(', ')}
              </List.Item>
            ))}
          </List>
        </Alert>
      )}
      <Card withBorder>
        <SimpleGrid cols={{ base: 2, sm: 3, md: 4 }} spacing="sm">
          <Field label="Machine">
            {task.machine ? (
              <Anchor component={Link} to={`/machines/${task.machine.machineId}`}>
                {task.machine.name}
              </Anchor>
            ) : (
              '—'
            )}
          </Field>
          <Field label="Target">{task.target?.name ?? 'any'}</Field>
          <Field label="Created by">{task.createdBy.name}</Field>
          <Field label="Created">{time(task.createdAt)}</Field>
          <Field label="Priority">{task.priority}</Field>
          <Field label="Timeout">{duration(task.timeoutSeconds * 1000)}</Field>
          <Field label="Requires">
            {[...(task.requires.capabilities ?? []), ...(task.requires.labels ?? [])].join(', ') || 'nothing'}
          </Field>
          <Field label="Parent">
            {task.parentTaskId ? (
              <Anchor component={Link} to={`/tasks/${task.parentTaskId}`}>
                the task it helps
              </Anchor>
            ) : (
              '—'
            )}
          </Field>
        </SimpleGrid>
        <Text size="xs" c="dimmed" tt="uppercase" fw={600} mt="md">
          Runs
        </Text>
        <Code block style={{ whiteSpace: 'pre-wrap', wordBreak: 'break-word' }}>
          {what(task)}
        </Code>
      </Card>
      {task.help.length > 0 && (
        <Card withBorder>
          <Title order={4} mb="xs">
            Help it asked for
          </Title>
          <List size="sm">
            {task.help.map((h) => (
              <List.Item key={h.id}>
                {h.reason} — {h.state}
                {h.childTaskId && (
                  <>
                    {' '}
                    (
                    <Anchor component={Link} to={`/tasks/${h.childTaskId}`}>
                      {h.helper ? `${h.helper.name}'s task` : 'child task'}
                    </Anchor>
                    )
                  </>
                )}
              </List.Item>
            ))}
          </List>
        </Card>
      )}
      {task.result && (
        <Card withBorder data-testid="result">
          <Title order={4} mb="xs">
            Result
          </Title>
          <Text size="sm">
            {task.result.outcome} · exit code {task.result.exitCode ?? '—'} · {duration(task.result.durationMs)}
          </Text>
          {task.result.error && (
            <Text size="sm" c="red">
              {task.result.error}
            </Text>
          )}
          {task.result.structured !== undefined && (
            <Code block mt="xs">
              {JSON.stringify(task.result.structured, null, 2)}
            </Code>
          )}
        </Card>
      )}
      <Card withBorder p="xs">
        <Title order={4} mb="xs" px="xs">
          Output
        </Title>
        <Suspense fallback={<Loader />}>
          <TaskLogView taskId={task.id} final={FINAL.has(task.state)} />
        </Suspense>
      </Card>
      {task.attempts.length > 0 && (
        <Card withBorder>
          <Title order={4} mb="xs">
            Attempts
          </Title>
          <Table.ScrollContainer minWidth={0}>
            <Table data-testid="attempts">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>#</Table.Th>
                  <Table.Th>Machine</Table.Th>
                  <Table.Th>State</Table.Th>
                  <Table.Th visibleFrom="sm">Started</Table.Th>
                  <Table.Th visibleFrom="sm">Ended</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {task.attempts.map((a) => (
                  <Table.Tr key={a.attempt}>
                    <Table.Td>{a.attempt}</Table.Td>
                    <Table.Td>
                      <Anchor component={Link} to={`/machines/${a.machineId}`}>
                        {a.machineName}
                      </Anchor>
                    </Table.Td>
                    <Table.Td>{a.state}</Table.Td>
                    <Table.Td visibleFrom="sm">{time(a.startedAt)}</Table.Td>
                    <Table.Td visibleFrom="sm">{time(a.endedAt)}</Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        </Card>
      )}
    </Stack>
  );
}
