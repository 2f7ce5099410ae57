import { Events } from 'nats';
import type { NatsConnection } from 'nats';

import type { Logger } from '@waggle/observability';

import type { StreamOptions } from './streams';
import { provisionStreams, streamConfigs } from './streams';

export interface StreamKeeperOptions extends StreamOptions {
  logger: Logger;
  /** How often the streams are looked for when nothing else prompted a look (default 2 s). */
  checkIntervalMs?: number;
}

/**
 * Keeps a service's streams in place while it runs. JetStream can lose its store (a server
 * restarted on an empty disk, a stream deleted by hand); the services then provision again by
 * themselves instead of waiting for a restart. A look is one STREAM.NAMES request: after every
 * reconnect, whenever a publish failed (`kick`), and every couple of seconds otherwise. `ready`
 * is false from a failed look until one succeeds: the service cannot publish meanwhile.
 */
export class StreamKeeper {
  private timer?: NodeJS.Timeout;
  private checking?: Promise<void>;
  private again = false;
  private ok = true;
  private readonly restored: (() => void)[] = [];
  private readonly declared: string[];

  constructor(
    private readonly nc: NatsConnection,
    private readonly options: StreamKeeperOptions,
  ) {
    this.declared = streamConfigs(options).map((c) => c.name!);
  }

  /** Whether the last look found JetStream answering and every stream in place. */
  get ready(): boolean {
    return this.ok;
  }

  /** Called after streams had to be provisioned again: consumers and relays catch up at once. */
  onRestored(listener: () => void): void {
    this.restored.push(listener);
  }

  start(): void {
    this.timer = setInterval(() => this.kick(), this.options.checkIntervalMs ?? 2_000);
    this.timer.unref();
    void this.watchReconnects();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Look now (a publish failed, the connection came back); concurrent calls share one look. */
  kick(): Promise<void> {
    if (this.checking) {
      this.again = true;
      return this.checking;
    }
    this.checking = this.check().finally(() => {
      this.checking = undefined;
      if (this.again) {
        this.again = false;
        void this.kick();
      }
    });
    return this.checking;
  }

  private async check(): Promise<void> {
    if (this.nc.isClosed()) {
      return;
    }
    try {
      const jsm = await this.nc.jetstreamManager();
      const present = new Set(await jsm.streams.names().next());
      const missing = this.declared.filter((name) => !present.has(name));
      if (missing.length) {
        this.ok = false;
        await provisionStreams(jsm, this.options);
        this.options.logger.warn({ streams: missing }, 'JetStream lost streams; provisioned them again');
        for (const listener of this.restored) {
          listener();
        }
      }
      this.ok = true;
    } catch (error) {
      if (this.ok) {
        this.options.logger.warn({ err: error }, 'JetStream unavailable; will look again');
      }
      this.ok = false;
    }
  }

  private async watchReconnects(): Promise<void> {
    for await (const status of this.nc.status()) {
      if (status.type === Events.Reconnect) {
        void this.kick();
      }
    }
  }
}
