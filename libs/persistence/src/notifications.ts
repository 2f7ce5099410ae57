import { Client } from 'pg';

export interface NotificationListenerOptions {
  url: string;
  /** A channel name made of lower-case letters, digits and `_` (it is quoted as an identifier). */
  channel: string;
  /** A notification arrived on the channel. */
  onNotify: () => void;
  /** Listening (again): anything sent while nobody listened was missed, so look now. */
  onListening?: () => void;
  /** The connection failed or dropped; it is retried with a growing delay. */
  onError?: (error: unknown) => void;
  applicationName?: string;
}

const CHANNEL = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * LISTEN on one channel over a connection of its own (outside the pool), for as long as it
 * runs: reconnects after Postgres restarts, and says when it listens again so the caller can
 * catch up on what it missed meanwhile.
 */
export class NotificationListener {
  private client?: Client;
  private stopped = false;
  private retry?: NodeJS.Timeout;

  constructor(private readonly options: NotificationListenerOptions) {
    if (!CHANNEL.test(options.channel)) {
      throw new Error(`invalid notification channel "${options.channel}"`);
    }
  }

  start(): void {
    void this.connect(500);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retry);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  private async connect(delayMs: number): Promise<void> {
    if (this.stopped) {
      return;
    }
    const client = new Client({
      connectionString: this.options.url,
      connectionTimeoutMillis: 5_000,
      application_name: this.options.applicationName,
      keepAlive: true,
    });
    client.on('notification', () => this.options.onNotify());
    client.on('error', (error) => this.options.onError?.(error));
    try {
      await client.connect();
      await client.query(`LISTEN "${this.options.channel}"`);
    } catch (error) {
      this.options.onError?.(error);
      await client.end().catch(() => undefined);
      this.retry = setTimeout(() => void this.connect(Math.min(delayMs * 2, 10_000)), delayMs);
      return;
    }
    if (this.stopped) {
      await client.end().catch(() => undefined);
      return;
    }
    this.client = client;
    client.once('end', () => {
      if (this.client === client && !this.stopped) {
        this.client = undefined;
        this.retry = setTimeout(() => void this.connect(500), 500);
      }
    });
    this.options.onListening?.();
  }
}
