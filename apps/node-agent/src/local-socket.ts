import { chmod, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import type { Server, Socket } from 'node:net';

import type { NatsConnection } from 'nats';

import type { AgentSocketRequest, HelpStatusReply, HelpView, RpcReply } from '@waggle/contracts';
import {
  decode,
  ErrorCode,
  HelpAskRequest,
  HelpStatusRequest,
  SessionHookRequest,
  WaggleError,
} from '@waggle/contracts';
import { machineRequest } from '@waggle/messaging';
import type { Logger } from '@waggle/observability';

/** Longest unix socket path Linux and macOS accept. */
const MAX_SOCKET_PATH = 103;
const MAX_REQUEST_BYTES = 512 * 1024;
/** The router asks peers for up to two seconds before it answers an ask. */
const ASK_TIMEOUT_MS = 15_000;

export interface LocalSocketOptions {
  path: string;
  nc: NatsConnection;
  machineId: string;
  /** Whether this attempt runs on this machine now: only a running task may ask. */
  isRunning: (taskId: string, attempt: number) => boolean;
  /** A CLI hook in one of the agent's sessions (none: sessions are off). */
  onSessionHook?: (req: SessionHookRequest) => Promise<{ recorded: true }>;
  /** Masks an attempt's secrets in what it sends to the hub (a help request's reason and input). */
  mask?: (taskId: string, attempt: number) => { applyJson<T>(value: T): T } | undefined;
  logger: Logger;
}

type SocketReply = HelpView | HelpStatusReply | { recorded: true };

/**
 * The agent's local door for the tasks it runs (`waggle help` inside a task) and the CLI
 * hooks in its sessions (`waggle hooks report`): one JSON line
 * in, one JSON line out, on a unix socket only this user can open. The task never holds the
 * machine's credential; the agent asks the hub on its behalf, with the attempt's fencing token.
 */
export class LocalSocket {
  private server?: Server;

  constructor(private readonly options: LocalSocketOptions) {}

  /** Starts listening; false (and a warning) when the path is too long for a unix socket. */
  async start(): Promise<boolean> {
    const { path, logger } = this.options;
    if (Buffer.byteLength(path) > MAX_SOCKET_PATH) {
      logger.warn(
        { path },
        'state directory path too long for the local socket: `waggle help` is unavailable to tasks',
      );
      return false;
    }
    await rm(path, { force: true });
    // Half-open: the client ends its side after its line and still reads the answer.
    this.server = createServer({ allowHalfOpen: true }, (socket) => this.serve(socket));
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(path, () => resolve());
    });
    await chmod(path, 0o600);
    return true;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    await rm(this.options.path, { force: true }).catch(() => undefined);
  }

  private serve(socket: Socket) {
    let buffer = '';
    socket.setEncoding('utf8');
    socket.on('error', () => undefined);
    socket.on('data', (data: string) => {
      buffer += data;
      if (buffer.length > MAX_REQUEST_BYTES) {
        socket.end(JSON.stringify(this.failure(WaggleError.invalid('request too large'))) + '\n');
        return;
      }
      const newline = buffer.indexOf('\n');
      if (newline < 0) {
        return;
      }
      const line = buffer.slice(0, newline);
      buffer = '';
      void this.answer(line).then((reply) => socket.end(JSON.stringify(reply) + '\n'));
    });
  }

  private async answer(line: string): Promise<RpcReply<SocketReply>> {
    try {
      let parsed: Partial<AgentSocketRequest>;
      try {
        parsed = JSON.parse(line) as Partial<AgentSocketRequest>;
      } catch {
        throw WaggleError.invalid('not JSON');
      }
      return { ok: true, data: await this.dispatch(parsed) };
    } catch (error) {
      return this.failure(error);
    }
  }

  private async dispatch(req: Partial<AgentSocketRequest>): Promise<SocketReply> {
    const { nc, machineId } = this.options;
    switch (req.op) {
      case 'help': {
        const asked = decode(HelpAskRequest, req.body);
        this.requireRunning(asked.taskId, asked.attempt);
        const body = this.options.mask?.(asked.taskId, asked.attempt)?.applyJson(asked) ?? asked;
        this.options.logger.info({ taskId: body.taskId, reason: body.reason }, 'task asks for help');
        return machineRequest(nc, 'helpAsk', machineId, body, ASK_TIMEOUT_MS);
      }
      case 'help-status': {
        const body = decode(HelpStatusRequest, req.body);
        this.requireRunning(body.taskId, body.attempt);
        return machineRequest(nc, 'helpStatus', machineId, body);
      }
      case 'session-hook': {
        const body = decode(SessionHookRequest, req.body);
        if (!this.options.onSessionHook) {
          throw new WaggleError(ErrorCode.Forbidden, 'this agent does not run sessions');
        }
        return this.options.onSessionHook(body);
      }
      default:
        throw WaggleError.invalid(`unknown op ${JSON.stringify(req.op)} (expected help, help-status or session-hook)`);
    }
  }

  private requireRunning(taskId: string, attempt: number) {
    if (!this.options.isRunning(taskId, attempt)) {
      throw new WaggleError(ErrorCode.Forbidden, `attempt ${attempt} of task ${taskId} is not running on this machine`);
    }
  }

  private failure(error: unknown): RpcReply<never> {
    if (error instanceof WaggleError) {
      return { ok: false, error: error.toBody() };
    }
    this.options.logger.error({ err: error }, 'local socket request failed');
    return { ok: false, error: { code: ErrorCode.Internal, message: 'the agent could not handle the request' } };
  }
}
