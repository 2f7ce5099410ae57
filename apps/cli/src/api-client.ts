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

export function defaultStateDir(config: CliConfig): string {
  return resolve(join(config.WAGGLE_HOME, 'agent'));
}

/** Talks to the hub's REST API with the caller's credential. */
export class ApiClient {
  constructor(
    readonly hubUrl: string,
    private readonly token: string | undefined,
  ) {}

  /**
   * Credential order: --token, WAGGLE_TOKEN, then this machine's own credential from its
   * state dir. Hub: --hub, WAGGLE_HUB_URL, the machine's hub, then the local gateway.
   */
  static async fromFlags(flags: ConnectionFlags, config: CliConfig): Promise<ApiClient> {
    const identity = await readIdentity(flags.stateDir ?? defaultStateDir(config)).catch(() => undefined);
    const token = flags.token ?? config.WAGGLE_TOKEN ?? identity?.apiToken;
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
