import {
  ActionIcon,
  Anchor,
  AppShell,
  Badge,
  Burger,
  Button,
  Group,
  Menu,
  NavLink,
  Text,
  Title,
  useComputedColorScheme,
  useMantineColorScheme,
} from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import type { ReactNode } from 'react';
import { Link, useLocation } from 'react-router';

import { useLive } from '../api/live';
import { useSession } from '../api/session';
import { IdleWarning } from './IdleWarning';

const NAV = [
  { to: '/', label: 'Overview' },
  { to: '/machines', label: 'Machines' },
  { to: '/chat', label: 'Chat' },
  { to: '/tasks', label: 'Tasks' },
  { to: '/llm', label: 'LLM' },
  { to: '/github', label: 'GitHub' },
];

function LiveBadge() {
  const { connected } = useLive();
  return (
    <Badge
      data-testid="live"
      variant="dot"
      color={connected ? 'teal' : 'gray'}
      title={connected ? 'Live updates from the hub' : 'Reconnecting to the hub'}
    >
      {connected ? 'live' : 'reconnecting'}
    </Badge>
  );
}

function ThemeToggle() {
  const { setColorScheme } = useMantineColorScheme();
  const scheme = useComputedColorScheme('light');
  const next = scheme === 'dark' ? 'light' : 'dark';
  return (
    <ActionIcon variant="default" size="lg" aria-label={`Switch to ${next} theme`} onClick={() => setColorScheme(next)}>
      {scheme === 'dark' ? '☀' : '☾'}
    </ActionIcon>
  );
}

function UserMenu() {
  const { state, signOut } = useSession();
  if (state.status !== 'signed-in') {
    return null;
  }
  return (
    <Menu position="bottom-end">
      <Menu.Target>
        <Button
          variant="default"
          size="sm"
          data-testid="user-menu"
          aria-label={`${state.user.name}, ${state.user.role}: account menu`}
        >
          {state.user.name}
          <Text span size="sm" c="dimmed" visibleFrom="xs" ml={4}>
            · {state.user.role}
          </Text>
        </Button>
      </Menu.Target>
      <Menu.Dropdown>
        <Menu.Label>
          {state.user.name} ({state.user.role}), {state.mode === 'token' ? 'with an API token' : 'signed in'}
        </Menu.Label>
        <Menu.Item onClick={() => void signOut()} data-testid="sign-out">
          Sign out
        </Menu.Item>
      </Menu.Dropdown>
    </Menu>
  );
}

export function Shell({ children }: { children: ReactNode }) {
  const [opened, { toggle, close }] = useDisclosure();
  const { pathname } = useLocation();
  const active = (to: string) => (to === '/' ? pathname === '/' : pathname === to || pathname.startsWith(`${to}/`));
  return (
    <AppShell
      header={{ height: 56 }}
      navbar={{ width: 200, breakpoint: 'sm', collapsed: { mobile: !opened } }}
      padding="md"
    >
      <AppShell.Header>
        <Group h="100%" px="md" justify="space-between" wrap="nowrap">
          <Group gap="sm" wrap="nowrap">
            <Burger opened={opened} onClick={toggle} hiddenFrom="sm" size="sm" aria-label="Menu" />
            <Anchor component={Link} to="/" c="inherit" underline="never">
              <Title order={3} fz={{ base: 'h4', xs: 'h3' }}>
                Waggle
              </Title>
            </Anchor>
            <LiveBadge />
          </Group>
          <Group gap="xs" wrap="nowrap">
            <ThemeToggle />
            <UserMenu />
          </Group>
        </Group>
      </AppShell.Header>
      <AppShell.Navbar p="xs" aria-label="Pages">
        {NAV.map((n) => (
          <NavLink key={n.to} component={Link} to={n.to} label={n.label} active={active(n.to)} onClick={close} />
        ))}
        <Text size="xs" c="dimmed" mt="auto" p="xs">
          Waggle hub
        </Text>
      </AppShell.Navbar>
      <AppShell.Main>
        {children}
        <IdleWarning />
      </AppShell.Main>
    </AppShell>
  );
}
