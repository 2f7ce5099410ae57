import { join, resolve } from 'node:path';

import { readIdentity } from '@waggle/agent-state';
import type { ErrorBody } from '@waggle/contracts';

import type { CliConfig } from './cli.config';

export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

export interface ConnectionFlags {
  hub?: string;
  token?: string;
  stateDir?: string;
}

/** The agent's state dir: the one the agent gave its tasks and sessions, else WAGGLE_HOME's. */
export function defaultStateDir(config: CliConfig): string {
  return resolve(config.WAGGLE_AGENT_STATE_DIR ?? join(config.WAGGLE_HOME, 'agent'));
}

/** Talks to the hub's REST API with the caller's credential. */
export class ApiClient {
  constructor(
    readonly hubUrl: string,
    private readonly token: string | undefined,
  ) {}

  /**
   * Credential order: --token, then an explicit --state-dir's machine credential, then
   * WAGGLE_TOKEN, then this machine's own credential from the default state dir. Hub: --hub,
   * WAGGLE_HUB_URL, the machine's hub, then the local gateway. A --state-dir that holds no
   * machine is an error, not a silent fall back to another identity.
   */
  static async fromFlags(flags: ConnectionFlags, config: CliConfig): Promise<ApiClient> {
    const identity = await readIdentity(flags.stateDir ?? defaultStateDir(config)).catch(() => undefined);
    if (flags.stateDir && !flags.token && !identity) {
      throw new CliError(`no machine has joined with state dir ${resolve(flags.stateDir)}`);
    }
    const token =
      flags.token ?? (flags.stateDir ? identity?.apiToken : undefined) ?? config.WAGGLE_TOKEN ?? identity?.apiToken;
    const hub = flags.hub ?? config.WAGGLE_HUB_URL ?? identity?.hubUrl ?? `http://127.0.0.1:${config.WAGGLE_PORT}`;
    return new ApiClient(hub, token);
  }

  async call<T>(method: string, path: string, body?: unknown, timeoutMs = 15_000): Promise<T> {
    let response: Response;
    try {
      response = await fetch(new URL(path, this.hubUrl), {
        method,
        headers: {
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
        },
        body: body !== undefined ? JSON.stringify(body) : undefined,
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      throw new CliError(`cannot reach the hub at ${this.hubUrl}: ${String((error as Error).cause ?? error)}`);
    }
    const text = await response.text();
    const parsed = text ? (JSON.parse(text) as unknown) : undefined;
    if (!response.ok) {
      const err = parsed as ErrorBody | undefined;
      const fields = (err?.details as { fields?: { field: string; errors: string[] }[] } | undefined)?.fields;
      const detail = fields?.map((f) => `\n  ${f.field}: ${f.errors.join('; ')}`).join('') ?? '';
      const hint =
        response.status === 401
          ? "\n(set WAGGLE_TOKEN or pass --token; an admin token is printed on the hub's first start)"
          : '';
      throw new CliError(`${response.status} ${err?.code ?? ''}: ${err?.message ?? text}${detail}${hint}`);
    }
    return parsed as T;
  }

  /**
   * The hub's live events (/ws, authenticated by the first message): `onEvent` gets each
   * event's type; `onClose` why the socket ended when it was not closed from here.
   */
  events(onEvent: (type: string) => void, onClose: (why: string) => void): { close(): void } {
    const url = new URL('/ws', this.hubUrl);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    const socket = new WebSocket(url);
    let closing = false;
    socket.addEventListener('open', () => socket.send(JSON.stringify({ type: 'auth', token: this.token ?? '' })));
    socket.addEventListener('message', (message: MessageEvent) => {
      const frame = JSON.parse(String(message.data)) as { type?: string; event?: { type?: unknown } };
      if (frame.type === 'event' && typeof frame.event?.type === 'string') {
        onEvent(frame.event.type);
      }
    });
    socket.addEventListener('close', (event: CloseEvent) => {
      if (!closing) {
        onClose(`${event.code} ${event.reason || 'closed'}`);
      }
    });
    socket.addEventListener('error', () => undefined);
    return {
      close() {
        closing = true;
        socket.close();
      },
    };
  }

  /**
   * A /ws socket, authenticated by the first message: every frame the hub sends goes to
   * `onFrame` (after `{"type":"ready"}`); `onClose` says why it ended when not closed from here.
   */
  socket(
    onFrame: (frame: Record<string, unknown> & { type?: string }) => void,
    onClose: (why: string) => void,
  ): { send(frame: object): void; close(): void } {
    const url = new URL('/ws', this.hubUrl);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    const socket = new WebSocket(url);
    let closing = false;
    socket.addEventListener('open', () => socket.send(JSON.stringify({ type: 'auth', token: this.token ?? '' })));
    socket.addEventListener('message', (message: MessageEvent) => {
      onFrame(JSON.parse(String(message.data)) as Record<string, unknown>);
    });
    socket.addEventListener('close', (event: CloseEvent) => {
      if (!closing) {
        onClose(`${event.code} ${event.reason || 'closed'}`);
      }
    });
    socket.addEventListener('error', () => undefined);
    return {
      send(frame: object) {
        if (socket.readyState === WebSocket.OPEN) {
          socket.send(JSON.stringify(frame));
        }
      },
      close() {
        closing = true;
        socket.close();
      },
    };
  }

  /** Every page of a paginated list. */
  async all<T>(path: string, query: Record<string, string | undefined>): Promise<T[]> {
    const items: T[] = [];
    let cursor: string | undefined;
    do {
      const params = new URLSearchParams(
        Object.entries({ ...query, cursor, limit: '500' }).filter((e): e is [string, string] => e[1] !== undefined),
      );
      const page = await this.call<{ items: T[]; nextCursor?: string }>('GET', `${path}?${params.toString()}`);
      items.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor);
    return items;
  }
}
