import { Anchor, Text } from '@mantine/core';
import type { ReactNode } from 'react';
import { Link } from 'react-router';

import type { WaggleEvent } from '../../api/types';
import { usd } from '../../components/format';

type Names = (id: string | undefined | null) => string | undefined;

const TaskLink = ({ id, title }: { id: string; title?: string }) => (
  <Anchor component={Link} to={`/tasks/${id}`}>
    {title ?? `task ${id.slice(0, 8)}`}
  </Anchor>
);

const MachineLink = ({ id, name }: { id: string | undefined; name: string | undefined }) =>
  id ? (
    <Anchor component={Link} to={`/machines/${id}`}>
      {name ?? id.slice(0, 8)}
    </Anchor>
  ) : (
    <Text span>a machine</Text>
  );

const TASK_VERBS: Record<string, string> = {
  'task.queued': 'was queued',
  'task.assigned': 'was assigned to',
  'task.running': 'started on',
  'task.succeeded': 'succeeded on',
  'task.failed': 'failed on',
  'task.cancelled': 'was cancelled',
  'task.timed_out': 'timed out on',
  'task.retried': 'was queued again',
};

/** An event as a sentence with links: "Run the tests started on soda-yeti". */
export function describeEvent(event: WaggleEvent, names: Names): ReactNode {
  const d = event.data as Record<string, unknown> & { machineId?: string; name?: string; taskId?: string };
  const machine = <MachineLink id={d.machineId} name={d.name ?? names(d.machineId)} />;
  if (event.type in TASK_VERBS) {
    const t = event.data as WaggleEvent<'task.queued'>['data'];
    const withMachine = t.machineId && / (on|to)$/.test(TASK_VERBS[event.type]!);
    return (
      <>
        <TaskLink id={t.taskId} title={t.title} /> {TASK_VERBS[event.type]}
        {withMachine ? (
          <>
            {' '}
            <MachineLink id={t.machineId} name={names(t.machineId)} />
          </>
        ) : null}
        {t.reason ? <Text span c="dimmed">{` (${t.reason})`}</Text> : null}
      </>
    );
  }
  switch (event.type) {
    case 'machine.joined':
      return <>{machine} joined the fleet</>;
    case 'machine.online':
      return <>{machine} came online</>;
    case 'machine.offline':
      return <>{machine} went offline</>;
    case 'machine.revoked':
      return <>{machine} was revoked</>;
    case 'machine.permissions_changed':
      return <>{machine}&apos;s permissions changed</>;
    case 'message.sent': {
      const m = event.data as WaggleEvent<'message.sent'>['data'];
      return (
        <>
          <Anchor component={Link} to={m.machineId ? `/chat/${m.machineId}` : '/chat'}>
            Message #{m.messageId}
          </Anchor>{' '}
          from {m.machineId ? <MachineLink id={m.machineId} name={m.from} /> : m.from} to {m.to}
        </>
      );
    }
    case 'message.delivered':
    case 'message.read': {
      const m = event.data as WaggleEvent<'message.read'>['data'];
      return (
        <>
          <Anchor component={Link} to={`/chat/${m.machineId}`}>
            Message #{m.messageId}
          </Anchor>{' '}
          was {event.type === 'message.read' ? 'read' : 'delivered'} by {machine}
        </>
      );
    }
    case 'task.help_requested': {
      const h = event.data as WaggleEvent<'task.help_requested'>['data'];
      return (
        <>
          <TaskLink id={h.taskId} /> asked for help: {h.reason}
        </>
      );
    }
    case 'task.help_accepted': {
      const h = event.data as WaggleEvent<'task.help_accepted'>['data'];
      return (
        <>
          {h.helper} will help <TaskLink id={h.taskId} /> with <TaskLink id={h.childTaskId} title="a child task" />
        </>
      );
    }
    case 'task.help_unanswered': {
      const h = event.data as WaggleEvent<'task.help_unanswered'>['data'];
      return (
        <>
          No machine could help <TaskLink id={h.taskId} />
        </>
      );
    }
    case 'llm.failover': {
      const f = event.data as WaggleEvent<'llm.failover'>['data'];
      return (
        <>
          An LLM call left <b>{f.from}</b> for <b>{f.to ?? 'nothing'}</b> ({f.reason})
        </>
      );
    }
    case 'llm.circuit_opened': {
      const c = event.data as WaggleEvent<'llm.circuit_opened'>['data'];
      return (
        <>
          The breaker of <b>{c.provider}</b> opened after {c.failures} failures
        </>
      );
    }
    case 'llm.circuit_closed':
      return (
        <>
          The breaker of <b>{(event.data as { provider: string }).provider}</b> closed
        </>
      );
    case 'github.issue_linked':
    case 'github.status_changed':
    case 'github.issue_claimed':
    case 'github.outcome_posted': {
      const g = event.data as WaggleEvent<'github.status_changed'>['data'];
      const what =
        event.type === 'github.issue_linked'
          ? 'became a task'
          : event.type === 'github.status_changed'
            ? `is now ${g.status.replace('_', ' ')}`
            : event.type === 'github.issue_claimed'
              ? `was claimed by ${(event.data as WaggleEvent<'github.issue_claimed'>['data']).machine}`
              : `got its outcome: ${(event.data as WaggleEvent<'github.outcome_posted'>['data']).outcome.replace('_', ' ')}`;
      return (
        <>
          <Anchor component={Link} to="/github">
            {g.repo}#{g.issueNumber}
          </Anchor>{' '}
          {what}
          {g.taskId && (
            <>
              {' '}
              (<TaskLink id={g.taskId} title="task" />)
            </>
          )}
        </>
      );
    }
    case 'github.problem': {
      const g = event.data as WaggleEvent<'github.problem'>['data'];
      return (
        <>
          <Anchor component={Link} to="/github">
            {g.repo}#{g.issueNumber}
          </Anchor>{' '}
          {g.problem ? `: ${g.problem}` : 'is in step with GitHub again'}
        </>
      );
    }
    case 'github.rate_limited': {
      const r = event.data as WaggleEvent<'github.rate_limited'>['data'];
      return <>GitHub&apos;s rate limit holds the bot back until {new Date(r.until).toLocaleTimeString()}</>;
    }
    default:
      return <>{event.type}</>;
  }
}

export { usd };
