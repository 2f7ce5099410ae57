import { Button, Group, Modal, Text } from '@mantine/core';
import { useEffect, useState } from 'react';

import { errorText, useSession } from '../api/session';

/** Warn this long before an idle session ends. */
const WARN_MS = 2 * 60 * 1000;

/**
 * The idle-timeout warning: every cookie-authenticated response says when the session ends
 * (X-Waggle-Session-Expires); shortly before, this asks whether to stay signed in.
 */
export function IdleWarning() {
  const { state, extend, signOut } = useSession();
  const expiresAt = state.status === 'signed-in' && state.mode === 'cookie' ? state.expiresAt : null;
  const [now, setNow] = useState(() => Date.now());
  const [error, setError] = useState<string>();
  useEffect(() => {
    if (!expiresAt) {
      return;
    }
    const end = Date.parse(expiresAt);
    const tick = () => setNow(Date.now());
    // Wake when the warning is due, then every second while it shows.
    const wait = Math.max(0, end - WARN_MS - Date.now());
    let interval: ReturnType<typeof setInterval> | undefined;
    const timer = setTimeout(() => {
      tick();
      interval = setInterval(tick, 1000);
    }, wait);
    return () => {
      clearTimeout(timer);
      clearInterval(interval);
    };
  }, [expiresAt]);
  useEffect(() => {
    if (expiresAt && now >= Date.parse(expiresAt)) {
      void signOut('You were signed out after a while without activity.');
    }
  }, [now, expiresAt, signOut]);
  if (!expiresAt) {
    return null;
  }
  const left = Math.max(0, Math.round((Date.parse(expiresAt) - now) / 1000));
  const open = Date.parse(expiresAt) - now <= WARN_MS;
  return (
    <Modal opened={open} onClose={() => undefined} withCloseButton={false} title="Still there?" centered>
      <Text mb="md" data-testid="idle-warning">
        You will be signed out in {left} s for inactivity.
      </Text>
      {error && (
        <Text c="red" mb="sm">
          {error}
        </Text>
      )}
      <Group justify="flex-end">
        <Button variant="default" onClick={() => void signOut()}>
          Sign out
        </Button>
        <Button onClick={() => extend().catch((e: unknown) => setError(errorText(e)))}>Stay signed in</Button>
      </Group>
    </Modal>
  );
}
