import { Alert, Button, Code, CopyButton, Group, Modal, Stack, Text } from '@mantine/core';
import { useMutation } from '@tanstack/react-query';
import { useState } from 'react';

import { api } from '../../api/client';
import { errorText } from '../../api/session';
import type { CreatedJoinToken } from '../../api/types';

/** The hub as other machines reach it: WAGGLE_PUBLIC_URL (the gateway puts it in the page), else the page's own address. */
function hubAddress(): string {
  return (
    document.querySelector<HTMLMetaElement>('meta[name="waggle-hub-url"]')?.content.replace(/\/+$/, '') ||
    location.origin
  );
}

/** Admins: a fresh single-use join token and the exact command to run on the new machine. */
export function JoinMachineButton() {
  const [open, setOpen] = useState(false);
  const create = useMutation({
    mutationFn: () =>
      api<CreatedJoinToken>('POST', '/api/join-tokens', {
        description: 'from the visor',
        maxUses: 1,
        ttlSeconds: 3600,
      }),
  });
  const command = create.data
    ? `npx waggle agent --hub ${hubAddress()} --join-token ${create.data.token} --name NAME`
    : '';
  return (
    <>
      <Button
        onClick={() => {
          setOpen(true);
          create.mutate();
        }}
        data-testid="join-machine"
      >
        Join a machine
      </Button>
      <Modal opened={open} onClose={() => setOpen(false)} title="Join a machine" size="lg">
        <Stack>
          <Text size="sm">
            On the new machine (a clone of Waggle, after <Code>npm ci</Code>), run this. The token works once, for an
            hour; it is shown only now.
          </Text>
          {create.error && <Alert color="red">{errorText(create.error)}</Alert>}
          {create.data && (
            <>
              <Code block data-testid="join-command" style={{ whiteSpace: 'pre-wrap', wordBreak: 'break-all' }}>
                {command}
              </Code>
              <Group justify="space-between">
                <Text size="xs" c="dimmed">
                  Expires {new Date(create.data.expiresAt).toLocaleString()}. Replace NAME with the machine&apos;s name.
                </Text>
                <CopyButton value={command}>
                  {({ copied, copy }) => (
                    <Button size="xs" variant="default" onClick={copy}>
                      {copied ? 'Copied' : 'Copy'}
                    </Button>
                  )}
                </CopyButton>
              </Group>
            </>
          )}
        </Stack>
      </Modal>
    </>
  );
}
