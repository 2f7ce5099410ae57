import { randomBytes } from 'node:crypto';

import { Inject, Injectable } from '@nestjs/common';
import type { OnApplicationShutdown } from '@nestjs/common';
import type { NatsConnection, Subscription } from 'nats';

import type { WatchedSession } from '@waggle/contracts';
import { decode, SessionOutputChunk, SessionsRpc } from '@waggle/contracts';
import { decodeJson, RpcClient } from '@waggle/messaging';
import type { Logger } from '@waggle/observability';
import { LOGGER, NATS } from '@waggle/service-kit';

/** The lease this replica asks for on a watched session, and how often it renews it. */
export const WATCH_LEASE_MS = 30_000;
const RENEW_MS = 10_000;

export type OutputListener = (chunk: SessionOutputChunk) => void;

/** One watched session on this replica: one lease and one subscription, however many sockets follow it. */
interface Watch {
  watched: WatchedSession;
  listeners: Set<OutputListener>;
  sub: Subscription;
  renew: NodeJS.Timeout;
}

/**
 * Live terminal output of sessions for `/ws` followers. The replica holds one lease per
 * watched session (the machine's agent streams only while some lease is live), renews it
 * while any socket follows, and gives it back when the last one leaves. Output arrives on the
 * machine's own `up.sessions.output.<name>` subject (core NATS) and is fanned out here.
 */
@Injectable()
export class SessionFollows implements OnApplicationShutdown {
  /** This replica's name as a watcher (each process its own lease). */
  private readonly watcher = `gw-${randomBytes(8).toString('hex')}`;
  private readonly watches = new Map<string, Watch>();
  /** Machine names and ids callers used → the machine's id (so one session's requests share a queue). */
  private readonly ids = new Map<string, string>();
  /** The last request queued per watched session. */
  private readonly queues = new Map<string, Promise<void>>();

  constructor(
    private readonly rpc: RpcClient,
    @Inject(NATS) private readonly nc: NatsConnection,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /**
   * Follows a session's output; answers where it comes from and the unfollow. Rejects as the
   * sessions service does (404 no such session, 503 machine away).
   */
  follow(machine: string, session: string, listener: OutputListener): Promise<[WatchedSession, () => void]> {
    return this.inOrder(`${this.ids.get(machine) ?? machine}/${session}`, async () => {
      const watched = await this.rpc.call(SessionsRpc.watch, {
        machine,
        session,
        watcher: this.watcher,
        leaseMs: WATCH_LEASE_MS,
      });
      this.ids.set(machine, watched.machineId);
      this.ids.set(watched.machineId, watched.machineId);
      const key = `${watched.machineId}/${session}`;
      let watch = this.watches.get(key);
      if (!watch) {
        const listeners = new Set<OutputListener>();
        watch = {
          watched,
          listeners,
          sub: this.nc.subscribe(watched.subject, {
            callback: (err, msg) => {
              if (err) {
                return;
              }
              let chunk: SessionOutputChunk;
              try {
                chunk = decode(SessionOutputChunk, decodeJson(msg.data));
              } catch (error) {
                this.logger.debug({ err: error }, 'invalid session output dropped');
                return;
              }
              for (const l of listeners) {
                l(chunk);
              }
            },
          }),
          renew: setInterval(() => this.renew(key), RENEW_MS),
        };
        watch.renew.unref();
        this.watches.set(key, watch);
      }
      watch.listeners.add(listener);
      const current = watch;
      const unfollow = () => {
        current.listeners.delete(listener);
        if (current.listeners.size === 0 && this.watches.get(key) === current) {
          this.release(key, current);
        }
      };
      return [watched, unfollow];
    });
  }

  /**
   * Runs one session's watch, renewals and unwatch one after the other: an unwatch for the
   * socket that left cannot overtake (and end) the watch of one that just came.
   */
  private inOrder<T>(key: string, step: () => Promise<T>): Promise<T> {
    const next = (this.queues.get(key) ?? Promise.resolve()).then(step, step);
    const settled = next.then(
      () => undefined,
      () => undefined,
    );
    this.queues.set(key, settled);
    void settled.then(() => this.queues.get(key) === settled && this.queues.delete(key));
    return next;
  }

  private renew(key: string): void {
    const watch = this.watches.get(key);
    if (!watch) {
      return;
    }
    const { machineId, session } = watch.watched;
    this.inOrder(key, () =>
      this.rpc.call(SessionsRpc.watch, { machine: machineId, session, watcher: this.watcher, leaseMs: WATCH_LEASE_MS }),
    ).catch((error: unknown) => this.logger.debug({ err: error, session }, 'session watch not renewed; will retry'));
  }

  private release(key: string, watch: Watch): void {
    this.watches.delete(key);
    clearInterval(watch.renew);
    watch.sub.unsubscribe();
    const { machineId, session } = watch.watched;
    // The lease would end by itself; saying so stops the agent's stream now.
    this.inOrder(key, () =>
      this.rpc.call(SessionsRpc.unwatch, { machine: machineId, session, watcher: this.watcher }),
    ).catch((error: unknown) => this.logger.debug({ err: error, session }, 'session unwatch not delivered'));
  }

  onApplicationShutdown(): void {
    for (const [key, watch] of [...this.watches]) {
      this.release(key, watch);
    }
  }
}
