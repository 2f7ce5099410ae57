import {
  Alert,
  Anchor,
  Button,
  Card,
  Code,
  Group,
  Modal,
  Select,
  Stack,
  Table,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Link } from 'react-router';

import { api } from '../../api/client';
import { useLinks, useRepos } from '../../api/queries';
import { errorText, useCan } from '../../api/session';
import type { WatchedRepoCreated } from '../../api/types';
import { LinkStatusBadge } from '../../components/badges';
import { ago, time } from '../../components/format';
import { Pager, useCursorPages } from '../../components/pager';

function AddRepo() {
  const [repo, setRepo] = useState('');
  const [created, setCreated] = useState<WatchedRepoCreated>();
  const queries = useQueryClient();
  const add = useMutation({
    mutationFn: () => api<WatchedRepoCreated>('POST', '/api/github/repos', { repo: repo.trim() }),
    onSuccess: (r) => {
      setCreated(r);
      setRepo('');
      void queries.invalidateQueries({ queryKey: ['github'] });
    },
  });
  return (
    <>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          add.mutate();
        }}
      >
        <Group align="flex-end" gap="xs">
          <TextInput
            label="Watch a repository"
            placeholder="owner/name"
            value={repo}
            onChange={(e) => setRepo(e.currentTarget.value)}
            required
          />
          <Button type="submit" loading={add.isPending}>
            Watch
          </Button>
        </Group>
        {add.error && (
          <Alert color="red" mt="xs">
            {errorText(add.error)}
          </Alert>
        )}
      </form>
      <Modal opened={!!created} onClose={() => setCreated(undefined)} title={`Watching ${created?.repo ?? ''}`}>
        {created?.webhookSecret ? (
          <Stack>
            <Text size="sm">
              Add a webhook on GitHub for <b>issues</b> events to <Code>{location.origin + created.webhookPath}</Code>,
              content type application/json, with this secret. It is shown only now.
            </Text>
            <Code block data-testid="webhook-secret" style={{ wordBreak: 'break-all' }}>
              {created.webhookSecret}
            </Code>
          </Stack>
        ) : (
          <Text size="sm">Watching. Issues labelled {created?.label} become tasks.</Text>
        )}
      </Modal>
    </>
  );
}

function Repos() {
  const pages = useCursorPages('');
  const { data, error } = useRepos(pages.cursor);
  const isAdmin = useCan('admin');
  const queries = useQueryClient();
  const remove = useMutation({
    mutationFn: (repo: string) => api('DELETE', `/api/github/repos/${repo}`),
    onSuccess: () => queries.invalidateQueries({ queryKey: ['github'] }),
  });
  return (
    <Card withBorder>
      <Title order={4} mb="xs">
        Watched repositories
      </Title>
      {isAdmin && <AddRepo />}
      {error && <Alert color="red">{errorText(error)}</Alert>}
      <Table.ScrollContainer minWidth={0}>
        <Table mt="sm" data-testid="repos">
          <Table.Tbody>
            {data?.items.map((r) => (
              <Table.Tr key={r.repo}>
                <Table.Td>
                  <Text size="sm" fw={600} style={{ overflowWrap: 'anywhere' }}>
                    {r.repo}
                  </Text>
                  <Text size="xs" c="dimmed">
                    label {r.label} · {r.poll ? `polled ${ago(r.lastPolledAt)}` : 'webhook only'}
                    {r.rateLimitedUntil ? ` · rate-limited until ${time(r.rateLimitedUntil)}` : ''}
                  </Text>
                  {(r.lastError ?? r.linkProblem) && (
                    <Text size="xs" c="red">
                      {r.lastError ?? r.linkProblem}
                    </Text>
                  )}
                </Table.Td>
                {isAdmin && (
                  <Table.Td align="right">
                    <Button
                      size="xs"
                      variant="subtle"
                      color="red"
                      onClick={() => window.confirm(`Stop watching ${r.repo}?`) && remove.mutate(r.repo)}
                    >
                      Remove
                    </Button>
                  </Table.Td>
                )}
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
      {data?.items.length === 0 && <Text c="dimmed">No repository is watched.</Text>}
      <Pager page={pages.page} nextCursor={data?.nextCursor} onNext={pages.next} onPrevious={pages.previous} />
    </Card>
  );
}

function Links() {
  const [status, setStatus] = useState<string | null>(null);
  const pages = useCursorPages(status ?? '');
  const { data, error } = useLinks({ status: status ?? undefined, cursor: pages.cursor });
  return (
    <Card withBorder>
      <Group justify="space-between" mb="xs">
        <Title order={4}>Issues → tasks → pull requests</Title>
        <Select
          placeholder="any status"
          clearable
          data={['queued', 'in_progress', 'done', 'failed']}
          value={status}
          onChange={setStatus}
          w={150}
          aria-label="Status"
        />
      </Group>
      {error && <Alert color="red">{errorText(error)}</Alert>}
      <Table.ScrollContainer minWidth={0}>
        <Table data-testid="links">
          <Table.Tbody>
            {data?.items.map((l) => (
              <Table.Tr key={l.id} data-link={`${l.repo}#${l.issueNumber}`}>
                <Table.Td>
                  <Anchor
                    href={l.issueUrl}
                    target="_blank"
                    rel="noreferrer"
                    size="sm"
                    style={{ overflowWrap: 'anywhere' }}
                  >
                    {l.repo}#{l.issueNumber} {l.issueTitle}
                  </Anchor>
                  <Text size="xs" c="dimmed" component="div">
                    <LinkStatusBadge status={l.status} />{' '}
                    {l.taskId ? (
                      <Anchor component={Link} to={`/tasks/${l.taskId}`} size="xs">
                        task
                      </Anchor>
                    ) : (
                      (l.error ?? 'no task')
                    )}
                    {l.claimedBy ? ` · ${l.claimedBy}` : ''}
                    {l.outcome ? ` · ${l.outcome.replace('_', ' ')}` : ''}
                    {l.pullRequest && (
                      <>
                        {' · '}
                        <Anchor href={l.pullRequest.url} target="_blank" rel="noreferrer" size="xs">
                          PR #{l.pullRequest.number}
                        </Anchor>
                      </>
                    )}
                  </Text>
                  {l.problem && (
                    <Text size="xs" c="red" data-testid="link-problem">
                      {l.problem}
                    </Text>
                  )}
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
      {data?.items.length === 0 && <Text c="dimmed">No issue has become a task yet.</Text>}
      <Pager page={pages.page} nextCursor={data?.nextCursor} onNext={pages.next} onPrevious={pages.previous} />
    </Card>
  );
}

export function Component() {
  return (
    <Stack>
      <Title order={2}>GitHub</Title>
      <Repos />
      <Links />
    </Stack>
  );
}
