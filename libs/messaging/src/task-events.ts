import { DeliverPolicy } from 'nats';
import type { NatsConnection } from 'nats';

import type { TaskEventData } from '@waggle/contracts';
import { EventEnvelope, Streams, TASK_EVENTS_FILTER } from '@waggle/contracts';
import type { Logger } from '@waggle/observability';

import { consumeDurable } from './consume';

/**
 * Task events as the task ids they are about, a batch at a time, for a service that keeps
 * something in step with tasks (the GitHub bot's issues, the tracker's items). One durable
 * consumer, shared by the service's replicas, that starts at new events: what was linked
 * before it first started is the business of the service's own sweep.
 */
export function consumeTaskEvents(
  nc: NatsConnection,
  options: { durable: string; logger: Logger; signal: AbortSignal; onTasks: (taskIds: string[]) => Promise<void> },
): Promise<void> {
  return consumeDurable(
    nc,
    {
      stream: Streams.events.name,
      durable: options.durable,
      filter: TASK_EVENTS_FILTER,
      deliverPolicy: DeliverPolicy.New,
      maxDeliver: 10,
    },
    {
      type: EventEnvelope,
      batchSize: 200,
      logger: options.logger,
      signal: options.signal,
      handleBatch: async (batch) => {
        const taskIds = new Set(
          batch
            .map((i) => (i.payload.data as Partial<TaskEventData>).taskId)
            .filter((id): id is string => typeof id === 'string'),
        );
        if (taskIds.size) {
          await options.onTasks([...taskIds]);
        }
      },
    },
  );
}
