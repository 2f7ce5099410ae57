import { randomUUID } from 'node:crypto';

import type { EventType, TaskEventData, TaskState } from '@waggle/contracts';
import type { OutboxEntry } from '@waggle/outbox';
import { event } from '@waggle/outbox';

const EVENT_OF: Record<TaskState, EventType> = {
  queued: 'task.queued',
  assigned: 'task.assigned',
  running: 'task.running',
  succeeded: 'task.succeeded',
  failed: 'task.failed',
  cancelled: 'task.cancelled',
  timed_out: 'task.timed_out',
};

/** The event announcing that a task reached `state` (or `task.retried`). */
export function taskEvent(
  task: { id: string; title: string; state: TaskState; attempt: number; machineId?: string | null },
  retried = false,
  reason?: string,
): OutboxEntry {
  const data: TaskEventData = {
    taskId: task.id,
    title: task.title,
    state: task.state,
    attempt: task.attempt,
    machineId: task.machineId ?? undefined,
    reason,
  };
  return event(randomUUID(), retried ? 'task.retried' : (EVENT_OF[task.state] as 'task.queued'), data);
}
