import { Badge } from '@mantine/core';

import type { TaskState } from '../api/types';

const MACHINE_COLOURS: Record<string, string> = { online: 'teal', offline: 'gray', revoked: 'red' };

/** A machine's status: the word is always shown (never colour alone). */
export function MachineStatusBadge({ status }: { status: string }) {
  return (
    <Badge color={MACHINE_COLOURS[status] ?? 'gray'} variant="light" data-status={status}>
      {status}
    </Badge>
  );
}

const TASK_COLOURS: Record<TaskState, string> = {
  queued: 'gray',
  assigned: 'blue',
  running: 'blue',
  succeeded: 'teal',
  failed: 'red',
  cancelled: 'orange',
  timed_out: 'red',
};

export function TaskStateBadge({ state }: { state: TaskState }) {
  return (
    <Badge color={TASK_COLOURS[state]} variant="light" data-state={state}>
      {state.replace('_', ' ')}
    </Badge>
  );
}

const DELIVERY_COLOURS: Record<string, string> = { queued: 'gray', delivered: 'blue', read: 'teal' };

export function DeliveryBadge({ name, state }: { name: string; state: string }) {
  return (
    <Badge size="sm" variant="outline" color={DELIVERY_COLOURS[state] ?? 'gray'} data-delivery={state}>
      {name}: {state}
    </Badge>
  );
}

const LINK_COLOURS: Record<string, string> = { queued: 'gray', in_progress: 'blue', done: 'teal', failed: 'red' };

export function LinkStatusBadge({ status }: { status: string }) {
  return (
    <Badge color={LINK_COLOURS[status] ?? 'gray'} variant="light" data-link-status={status}>
      {status.replace('_', ' ')}
    </Badge>
  );
}
