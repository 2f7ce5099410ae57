import { Alert, Button, Group, Loader, Paper, Stack, Text, Textarea } from '@mantine/core';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';

import { api } from '../api/client';
import { useMessages } from '../api/queries';
import { errorText, useCan } from '../api/session';
import type { MessageView } from '../api/types';
import { DeliveryBadge } from './badges';
import { time } from './format';
import { Pager, useCursorPages } from './pager';

function senderName(m: MessageView): string {
  return m.from.kind === 'machine' ? (m.from.name ?? 'a machine') : (m.from.name ?? m.from.kind);
}

export function MessageItem({ m }: { m: MessageView }) {
  const fromMachine = m.from.kind === 'machine';
  return (
    <Paper
      withBorder
      p="xs"
      data-message={m.id}
      bg={fromMachine ? 'var(--mantine-color-default-hover)' : undefined}
      ml={fromMachine ? 0 : 'auto'}
      maw="90%"
    >
      <Text size="xs" c="dimmed">
        #{m.id} · {senderName(m)} → {m.to} · {time(m.createdAt)}
      </Text>
      <Text size="sm" style={{ whiteSpace: 'pre-wrap', overflowWrap: 'anywhere' }}>
        {m.body}
      </Text>
      {m.recipients.length > 0 && (
        <Group gap={4} mt={4}>
          {m.recipients.slice(0, 20).map((r) => (
            <DeliveryBadge key={r.machineId} name={r.name} state={r.state} />
          ))}
          {m.recipients.length > 20 && (
            <Text size="xs" c="dimmed">
              +{m.recipients.length - 20} more
            </Text>
          )}
        </Group>
      )}
    </Paper>
  );
}

/** Send to a machine (by name), to `all`, or (from a machine's page) to that machine. */
export function SendMessageForm({ to, onSent }: { to: string; onSent?: () => void }) {
  const [body, setBody] = useState('');
  const queries = useQueryClient();
  const send = useMutation({
    mutationFn: () => api<MessageView>('POST', '/api/messages', { to, body }),
    onSuccess: () => {
      setBody('');
      void queries.invalidateQueries({ queryKey: ['messages'] });
      onSent?.();
    },
  });
  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        send.mutate();
      }}
    >
      <Stack gap="xs">
        <Textarea
          label={`Message to ${to}`}
          autosize
          minRows={2}
          maxRows={8}
          value={body}
          onChange={(e) => setBody(e.currentTarget.value)}
          data-testid="message-body"
          required
        />
        {send.error && <Alert color="red">{errorText(send.error)}</Alert>}
        <Group justify="flex-end">
          <Button type="submit" loading={send.isPending} disabled={!body.trim()} data-testid="send-message">
            Send
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

/** A machine's messages (sent to or by it), newest first, live through /ws. */
export function MessageThread({ machine, name }: { machine: string | undefined; name?: string }) {
  const pages = useCursorPages(machine ?? 'all');
  const { data, error, isPending } = useMessages({ machine, cursor: pages.cursor, limit: 20 });
  const canSend = useCan('operator');
  return (
    <Stack gap="xs" data-testid="thread">
      {canSend && <SendMessageForm to={name ?? machine ?? 'all'} />}
      {error && <Alert color="red">{errorText(error)}</Alert>}
      {isPending && <Loader />}
      {data?.items.length === 0 && <Text c="dimmed">No messages yet.</Text>}
      {data?.items.map((m) => (
        <MessageItem key={m.id} m={m} />
      ))}
      <Pager page={pages.page} nextCursor={data?.nextCursor} onNext={pages.next} onPrevious={pages.previous} />
    </Stack>
  );
}
