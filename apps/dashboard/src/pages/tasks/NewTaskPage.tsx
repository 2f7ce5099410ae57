import {
  Alert,
  Badge,
  Button,
  Card,
  Group,
  Select,
  SimpleGrid,
  Stack,
  TagsInput,
  Text,
  Textarea,
  TextInput,
  Title,
} from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { keepPreviousData, useMutation, useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { useNavigate } from 'react-router';

import { api } from '../../api/client';
import { useAllMachines } from '../../api/queries';
import { errorText } from '../../api/session';
import type { PlacementCheck, TaskKind, TaskView } from '../../api/types';

/** Arguments as typed: split on spaces, with "double quotes" keeping spaces together. */
function splitArgs(line: string): string[] {
  return [...line.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2] ?? '');
}

export function Component() {
  const navigate = useNavigate();
  const { data: fleet } = useAllMachines();
  const [title, setTitle] = useState('');
  const [kind, setKind] = useState<TaskKind>('command');
  const [prompt, setPrompt] = useState('');
  const [cli, setCli] = useState<string | null>(null);
  const [program, setProgram] = useState('');
  const [args, setArgs] = useState('');
  const [script, setScript] = useState('');
  const [target, setTarget] = useState<string | null>(null);
  const [capabilities, setCapabilities] = useState<string[]>([]);
  const [labels, setLabels] = useState<string[]>([]);

  const machines = fleet?.items ?? [];
  // The task-router's own answer (a dry run), asked again when the draft settles.
  const [draft] = useDebouncedValue(
    {
      kind,
      ...(target ? { target } : {}),
      input: kind === 'agent' && cli ? { cli } : {},
      requires: { capabilities, labels },
    },
    250,
  );
  const check = useQuery({
    queryKey: ['placement', draft],
    queryFn: () => api<PlacementCheck>('POST', '/api/tasks/placement', draft),
    placeholderData: keepPreviousData,
    staleTime: 0,
  });
  const able = check.data?.machines.filter((m) => m.reasons.length === 0) ?? [];
  const unable = check.data?.machines.filter((m) => m.reasons.length > 0) ?? [];
  const online = able.filter((m) => m.status === 'online');

  const create = useMutation({
    mutationFn: () => {
      const input =
        kind === 'agent'
          ? { prompt, ...(cli ? { cli } : {}) }
          : kind === 'command'
            ? { program, args: splitArgs(args) }
            : { script };
      return api<TaskView>('POST', '/api/tasks', {
        title,
        kind,
        input,
        ...(target ? { target } : {}),
        requires: { capabilities, labels },
      });
    },
    onSuccess: (task) => void navigate(`/tasks/${task.id}`),
  });

  return (
    <Stack maw={900}>
      <Title order={2}>New task</Title>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          create.mutate();
        }}
      >
        <Stack>
          <TextInput
            label="Title"
            required
            value={title}
            onChange={(e) => setTitle(e.currentTarget.value)}
            data-testid="task-title"
            maxLength={300}
          />
          <SimpleGrid cols={{ base: 1, sm: 2 }}>
            <Select
              label="Kind"
              data={[
                { value: 'agent', label: 'agent (a prompt for Claude Code, Codex, Gemini, Ollama)' },
                { value: 'command', label: 'command (a program and its arguments)' },
                { value: 'shell', label: 'shell (a script, where allowed)' },
              ]}
              value={kind}
              onChange={(v) => v && setKind(v as TaskKind)}
              allowDeselect={false}
              data-testid="task-kind"
            />
            <Select
              label="Machine"
              placeholder="any machine that can"
              clearable
              searchable
              data={machines
                .filter((m) => m.status !== 'revoked')
                .map((m) => ({ value: m.name, label: `${m.name} (${m.status})` }))}
              value={target}
              onChange={setTarget}
              data-testid="task-target"
            />
          </SimpleGrid>
          {kind === 'agent' && (
            <>
              <Select
                label="Agent CLI"
                placeholder="the first the machine has"
                clearable
                data={['claude', 'codex', 'gemini', 'ollama']}
                value={cli}
                onChange={setCli}
              />
              <Textarea
                label="Prompt"
                required
                autosize
                minRows={4}
                value={prompt}
                onChange={(e) => setPrompt(e.currentTarget.value)}
              />
            </>
          )}
          {kind === 'command' && (
            <SimpleGrid cols={{ base: 1, sm: 2 }}>
              <TextInput
                label="Program"
                required
                value={program}
                onChange={(e) => setProgram(e.currentTarget.value)}
                data-testid="task-program"
              />
              <TextInput
                label="Arguments"
                description='Split on spaces; "quote" to keep spaces. Never run through a shell.'
                value={args}
                onChange={(e) => setArgs(e.currentTarget.value)}
                data-testid="task-args"
              />
            </SimpleGrid>
          )}
          {kind === 'shell' && (
            <Textarea
              label="Script"
              required
              autosize
              minRows={4}
              ff="monospace"
              value={script}
              onChange={(e) => setScript(e.currentTarget.value)}
            />
          )}
          <SimpleGrid cols={{ base: 1, sm: 2 }}>
            <TagsInput
              label="Required capabilities"
              placeholder="claude, gpu, git…"
              value={capabilities}
              onChange={setCapabilities}
            />
            <TagsInput label="Required labels" placeholder="gpu=4090…" value={labels} onChange={setLabels} />
          </SimpleGrid>
          <Card withBorder data-testid="eligible">
            {check.error ? (
              <Text size="sm" c="red">
                {errorText(check.error)}
              </Text>
            ) : (
              <Text fw={600} size="sm">
                {!check.data
                  ? 'Asking the hub which machines could run it…'
                  : able.length === 0
                    ? 'No machine could run this task: the hub would refuse it.'
                    : `${able.length} machine${able.length === 1 ? '' : 's'} could run it (${online.length} online now)`}
              </Text>
            )}
            <Group gap={4} mt="xs">
              {able.slice(0, 30).map((m) => (
                <Badge
                  key={m.machineId}
                  color={m.status === 'online' ? 'teal' : 'gray'}
                  variant="light"
                  data-eligible={m.name}
                >
                  {m.name} · {m.status}
                </Badge>
              ))}
            </Group>
            {unable.length > 0 && (
              <Text size="xs" c="dimmed" mt="xs">
                Not:{' '}
                {unable
                  .slice(0, 10)
                  .map((m) => `${m.name} (${m.reasons.join(', ')})`)
                  .join('; ')}
              </Text>
            )}
          </Card>
          {create.error && <Alert color="red">{errorText(create.error)}</Alert>}
          <Group justify="flex-end">
            <Button type="submit" loading={create.isPending} data-testid="create-task">
              Create task
            </Button>
          </Group>
        </Stack>
      </form>
    </Stack>
  );
}
