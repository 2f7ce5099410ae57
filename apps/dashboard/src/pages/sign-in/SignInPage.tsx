import { Alert, Button, Center, Paper, PasswordInput, Stack, Tabs, Text, TextInput, Title } from '@mantine/core';
import { useState } from 'react';
import type { FormEvent } from 'react';
import { Navigate, useLocation } from 'react-router';

import { ApiError } from '../../api/client';
import { errorText, useSession } from '../../api/session';

function signInError(error: unknown): string {
  if (error instanceof ApiError && error.status === 429) {
    return `Too many attempts. Try again in ${error.retryAfterSeconds ?? 60} s.`;
  }
  if (error instanceof ApiError && error.status === 401) {
    return error.message || 'Wrong name or password.';
  }
  return errorText(error);
}

export function SignInPage() {
  const session = useSession();
  const location = useLocation();
  const from = (location.state as { from?: string } | null)?.from ?? '/';
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const [token, setToken] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();

  if (session.state.status === 'signed-in') {
    return <Navigate to={from.startsWith('/sign-in') ? '/' : from} replace />;
  }
  const reason = session.state.status === 'signed-out' ? session.state.reason : undefined;

  const submit = (run: () => Promise<void>) => async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await run();
    } catch (err) {
      setError(signInError(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Center mih="100vh" p="md">
      <Paper withBorder shadow="sm" p="lg" w="100%" maw={400}>
        <Title order={2} mb="xs">
          Waggle
        </Title>
        <Text c="dimmed" size="sm" mb="md">
          Sign in to see and drive your fleet.
        </Text>
        {reason && (
          <Alert color="yellow" mb="md">
            {reason}
          </Alert>
        )}
        <Tabs defaultValue="password">
          <Tabs.List mb="md" grow>
            <Tabs.Tab value="password">Name and password</Tabs.Tab>
            <Tabs.Tab value="token" data-testid="token-tab">
              API token
            </Tabs.Tab>
          </Tabs.List>
          <Tabs.Panel value="password">
            <form onSubmit={submit(() => session.signInWithPassword(name, password))}>
              <Stack>
                <TextInput
                  label="Name"
                  name="username"
                  autoComplete="username"
                  required
                  value={name}
                  onChange={(e) => setName(e.currentTarget.value)}
                />
                <PasswordInput
                  label="Password"
                  name="password"
                  autoComplete="current-password"
                  required
                  value={password}
                  onChange={(e) => setPassword(e.currentTarget.value)}
                />
                <Button type="submit" loading={busy} data-testid="sign-in">
                  Sign in
                </Button>
              </Stack>
            </form>
          </Tabs.Panel>
          <Tabs.Panel value="token">
            <form onSubmit={submit(() => session.signInWithToken(token.trim()))}>
              <Stack>
                <PasswordInput
                  label="API token"
                  description="For token holders: an admin token from the hub's first start, or one from `waggle token`."
                  name="token"
                  autoComplete="off"
                  required
                  value={token}
                  onChange={(e) => setToken(e.currentTarget.value)}
                />
                <Button type="submit" loading={busy} data-testid="sign-in-token">
                  Sign in with the token
                </Button>
              </Stack>
            </form>
          </Tabs.Panel>
        </Tabs>
        {error && (
          <Alert color="red" mt="md" role="alert" data-testid="sign-in-error">
            {error}
          </Alert>
        )}
      </Paper>
    </Center>
  );
}
