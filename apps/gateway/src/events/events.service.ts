import { Inject, Injectable } from '@nestjs/common';
import type { OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { DeliverPolicy } from 'nats';
import type { NatsConnection, Subscription } from 'nats';

import type { Constructor, LogChunkView, WaggleEvent } from '@waggle/contracts';
import { decode, EventEnvelope, LiveHeartbeat, LiveSubjects, LogChunk, Streams } from '@waggle/contracts';
import { decodeJson } from '@waggle/messaging';
import type { Logger } from '@waggle/observability';
import { LOGGER, NATS } from '@waggle/service-kit';

import { EVENT_HISTORY_SIZE, EventHistory, MetricHistory } from './event-history';

export type EventListener = (event: WaggleEvent) => void;

/**
 * Follows the EVENTS stream (an ordered consumer per gateway replica, so every replica sees
 * every event) and the live heartbeat feed, and fans both out to listeners. The consumer
 * starts EVENT_HISTORY_SIZE events back: those fill the visor's activity history (not sent
 * to sockets, which connect later); heartbeats fill each machine's last hour of samples.
 */
@Injectable()
export class EventsService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly listeners = new Set<EventListener>();
  private liveSub?: Subscription;
  private readonly abort = new AbortController();
  readonly history = new EventHistory();
  readonly metrics = new MetricHistory();
  /** Events up to this stream sequence happened before start-up: history only, not live. */
  private replayUntil = 0;

  constructor(
    @Inject(NATS) private readonly nc: NatsConnection,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** Live output of one task (chunks the task-router accepted); returns the unsubscribe. */
  followLogs(taskId: string, listener: (chunk: LogChunkView) => void): () => void {
    const sub = this.nc.subscribe(LiveSubjects.taskLogs(taskId), {
      callback: (err, msg) => {
        if (err) {
          return;
        }
        const chunk = this.decodeLive(LogChunk, msg.data);
        if (chunk?.taskId === taskId) {
          listener({ seq: chunk.seq, attempt: chunk.attempt, stream: chunk.stream, data: chunk.data, at: chunk.at });
        }
      },
    });
    return () => sub.unsubscribe();
  }

  /** A live feed's payload, validated like any other; a malformed one is dropped (the feed is lossy by design). */
  private decodeLive<T extends object>(type: Constructor<T>, data: Uint8Array): T | undefined {
    try {
      return decode(type, decodeJson(data));
    } catch (error) {
      this.logger.debug({ err: error }, 'invalid live message dropped');
      return undefined;
    }
  }

  subscribe(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(event: WaggleEvent) {
    for (const listener of this.listeners) {
      listener(event);
    }
  }

  async onApplicationBootstrap() {
    this.liveSub = this.nc.subscribe(LiveSubjects.heartbeat, {
      callback: (err, msg) => {
        if (err) {
          return;
        }
        const data = this.decodeLive(LiveHeartbeat, msg.data);
        if (!data) {
          return;
        }
        this.metrics.add(data.machineId, data.metrics);
        this.emit({
          v: 1,
          id: `hb-${data.machineId}-${Date.now()}`,
          type: 'machine.heartbeat',
          at: new Date().toISOString(),
          data,
        });
      },
    });
    const js = this.nc.jetstream();
    const { state } = await (await js.jetstreamManager()).streams.info(Streams.events.name);
    this.replayUntil = state.last_seq;
    const start = Math.max(state.first_seq, state.last_seq - EVENT_HISTORY_SIZE + 1);
    const consumer = await js.consumers.get(
      Streams.events.name,
      state.last_seq === 0 ? { deliver_policy: DeliverPolicy.New } : { opt_start_seq: start },
    );
    void this.follow(consumer);
  }

  private async follow(consumer: Awaited<ReturnType<ReturnType<NatsConnection['jetstream']>['consumers']['get']>>) {
    while (!this.abort.signal.aborted) {
      try {
        const messages = await consumer.consume();
        this.abort.signal.addEventListener('abort', () => void messages.close(), { once: true });
        for await (const m of messages) {
          try {
            const event = decode(EventEnvelope, decodeJson(m.data)) as unknown as WaggleEvent;
            this.history.add(event);
            if (m.seq > this.replayUntil) {
              this.emit(event);
            }
          } catch (error) {
            this.logger.warn({ err: error, subject: m.subject }, 'invalid event skipped');
          }
        }
      } catch (error) {
        if (this.abort.signal.aborted) {
          return;
        }
        this.logger.warn({ err: error }, 'event feed interrupted; resuming');
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  }

  onApplicationShutdown() {
    this.abort.abort();
    this.liveSub?.unsubscribe();
  }
}
