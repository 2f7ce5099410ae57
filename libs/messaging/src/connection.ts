import { connect, credsAuthenticator, jwtAuthenticator } from 'nats';
import type { Authenticator, ConnectionOptions, NatsConnection } from 'nats';

export interface NatsCredentials {
  /** User JWT signed by the hub's account. */
  jwt: string;
  /** The user's NKey seed. */
  seed: string;
}

export interface ConnectOptions {
  servers: string | string[];
  /** Shown in the server's connection list (`registry`, `agent:soda-yeti`). */
  name: string;
  /** Contents of a `.creds` file, or a JWT and seed; none when the server has no auth. */
  creds?: string;
  credentials?: NatsCredentials;
  /** Reply subject prefix; a machine's credential only allows its own. */
  inboxPrefix?: string;
  /** Fail the first connect instead of waiting for the server (CLI one-shots). */
  failFast?: boolean;
  onStatus?: (status: { type: string; data?: unknown }) => void;
}

function authenticator(options: ConnectOptions): Authenticator | undefined {
  if (options.creds) {
    return credsAuthenticator(new TextEncoder().encode(options.creds));
  }
  if (options.credentials?.jwt) {
    return jwtAuthenticator(options.credentials.jwt, new TextEncoder().encode(options.credentials.seed));
  }
  return undefined;
}

/**
 * Connects and keeps reconnecting forever: a hub service or agent outlives any NATS
 * restart. Status changes (disconnect, reconnect, errors) go to `onStatus`.
 */
export async function connectNats(options: ConnectOptions): Promise<NatsConnection> {
  const connectionOptions: ConnectionOptions = {
    servers: options.servers,
    name: options.name,
    authenticator: authenticator(options),
    inboxPrefix: options.inboxPrefix,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
    reconnectJitter: 250,
    waitOnFirstConnect: !options.failFast,
    timeout: 5_000,
    pingInterval: 10_000,
    // No stack captured per request: a timeout still says which subject, and the hot paths save the cost.
    noAsyncTraces: true,
  };
  const nc = await connect(connectionOptions);
  if (options.onStatus) {
    const onStatus = options.onStatus;
    void (async () => {
      for await (const status of nc.status()) {
        onStatus({ type: status.type, data: status.data });
      }
    })();
  }
  return nc;
}

/** Whether the server answers a ping within `timeoutMs`: for readiness checks, never hangs. */
export async function natsReachable(nc: NatsConnection, timeoutMs = 1_000): Promise<boolean> {
  if (nc.isClosed()) {
    return false;
  }
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  try {
    return await Promise.race([
      nc.rtt().then(
        () => true,
        () => false,
      ),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
