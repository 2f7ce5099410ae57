import type { IncomingMessage } from 'node:http';

import { WebSocketGateway } from '@nestjs/websockets';
import type { OnGatewayConnection } from '@nestjs/websockets';
import type { WebSocket } from 'ws';

import type { WaggleEvent } from '@waggle/contracts';
import { ErrorCode, SESSION_NAME_PATTERN, TaskRouterRpc, taskVisibleTo, WaggleError } from '@waggle/contracts';
import { RpcClient } from '@waggle/messaging';

import { AuthThrottle } from '../auth/auth-throttle';
import { AuthService } from '../auth/auth.service';
import { isCrossSite } from '../auth/cross-site';
import type { Principal } from '../auth/principal';
import type { UserPrincipal } from '../auth/session.service';
import { SessionService } from '../auth/session.service';
import { GatewayConfig } from '../gateway.config';
import { EventsService } from './events.service';
import { SessionFollows } from './session-follows.service';

/** A socket must authenticate this soon after the upgrade. */
const AUTH_TIMEOUT_MS = 5_000;
/**
 * Largest frame a client may send. Clients only send small control messages (auth,
 * follow-logs); `ws` would otherwise buffer frames of up to 100 MiB before anyone looks.
 */
export const WS_MAX_FRAME_BYTES = 16 * 1024;
/** Sockets from one address that may wait unauthenticated at once; more are closed at once. */
export const WS_MAX_PENDING_PER_ADDRESS = 20;
const MAX_FOLLOWS = 50;
/** A socket that has this much unsent already gets no more terminal output until it drains (the rest is counted as dropped). */
export const WS_MAX_BUFFERED_BYTES = 1024 * 1024;
/** Session follows a socket may start a minute (each asks the machine's agent to stream). */
export const WS_MAX_SESSION_FOLLOWS_PER_MINUTE = 30;
/** A long session is looked at again at least this often (a timer cannot wait weeks). */
const MAX_SESSION_CHECK_MS = 86_400_000;
/** When a session could not be looked at (database away), the next look comes this soon. */
const SESSION_RECHECK_MS = 5_000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Whether a principal may see an event: people and API tokens (every role reads) see all, a machine only events about itself. */
export function eventVisibleTo(principal: Principal, event: WaggleEvent): boolean {
  if (principal.kind !== 'machine') {
    return true;
  }
  return (event.data as { machineId?: string }).machineId === principal.machineId;
}

/**
 * `/ws`: authenticate with `Authorization: Bearer …` on the upgrade, or by sending
 * `{"type":"auth","token":"…"}` first (browsers cannot set headers), or with the session cookie of a person signed in
 * on the hub's page (the socket closes when that session ends). Then every visible
 * event arrives as `{"type":"event","event":{…}}`; `{"type":"follow-logs","taskId":"…"}`
 * adds a task's live output as `{"type":"log","taskId":"…","chunk":{…}}`, and
 * `{"type":"follow-session","machine":"…","session":"…"}` a session's live terminal output.
 */
@WebSocketGateway({ path: '/ws', maxPayload: WS_MAX_FRAME_BYTES })
export class EventsGateway implements OnGatewayConnection {
  /** Unauthenticated sockets per remote address. */
  private readonly pending = new Map<string, number>();

  constructor(
    private readonly auth: AuthService,
    private readonly sessions: SessionService,
    private readonly events: EventsService,
    private readonly throttle: AuthThrottle,
    private readonly rpc: RpcClient,
    private readonly config: GatewayConfig,
    private readonly sessionFollows: SessionFollows,
  ) {}

  handleConnection(socket: WebSocket, request: IncomingMessage) {
    const address = request.socket.remoteAddress ?? 'unknown';
    const waiting = this.pending.get(address) ?? 0;
    if (waiting >= WS_MAX_PENDING_PER_ADDRESS) {
      socket.close(4429, 'too many unauthenticated connections from this address');
      return;
    }
    this.pending.set(address, waiting + 1);
    let settled = false;
    const settle = () => {
      if (settled) {
        return;
      }
      settled = true;
      clearTimeout(timer);
      const left = (this.pending.get(address) ?? 1) - 1;
      if (left > 0) {
        this.pending.set(address, left);
      } else {
        this.pending.delete(address);
      }
    };
    const timer = setTimeout(() => socket.close(4401, 'authentication timeout'), AUTH_TIMEOUT_MS);
    socket.once('close', settle);
    const header = this.auth.bearerOf(request.headers.authorization);
    if (header) {
      void this.admit(socket, () => this.auth.authenticate(header, address)).finally(settle);
      return;
    }
    // A signed-in page: its session cookie, from the hub's own origin only (a page elsewhere could open a socket with it).
    const cookie = this.sessions.cookieOf(request.headers.cookie);
    if (cookie) {
      if (isCrossSite(request.headers, this.config.WAGGLE_PUBLIC_URL)) {
        socket.close(4403, "a signed-in socket must come from the hub's own page");
        settle();
        return;
      }
      void this.admit(socket, () => this.sessions.resume(cookie, true))
        .then((session) => session && this.endWithSession(socket, cookie, session))
        .finally(settle);
      return;
    }
    socket.once('message', (raw: Buffer) => {
      let token: string | undefined;
      try {
        const msg = JSON.parse(raw.toString('utf8')) as { type?: string; token?: unknown };
        if (msg.type === 'auth' && typeof msg.token === 'string') {
          token = msg.token;
        }
      } catch {
        // handled below
      }
      if (!token) {
        socket.close(4400, 'first message must be {"type":"auth","token":"…"}');
        return;
      }
      const presented = token;
      void this.admit(socket, () => this.auth.authenticate(presented, address)).finally(settle);
    });
  }

  /**
   * Closes a cookie socket when its session ends (expired, signed out, password changed):
   * looked at when the session would end, and again at its new end if requests extended it.
   */
  private endWithSession(socket: WebSocket, cookie: string, session: UserPrincipal) {
    let timer: NodeJS.Timeout | undefined;
    const check = (at: Date) => {
      timer = setTimeout(
        () => {
          this.sessions.resume(cookie, false).then(
            (live) => socket.readyState === socket.OPEN && check(live.expiresAt),
            (error: unknown) =>
              error instanceof WaggleError && error.code === ErrorCode.Unauthenticated
                ? socket.close(4401, 'the session ended')
                : // Postgres away for a moment: look again soon rather than close a live session's socket.
                  check(new Date(Date.now() + SESSION_RECHECK_MS)),
          );
        },
        Math.min(Math.max(at.getTime() - Date.now() + 50, 50), MAX_SESSION_CHECK_MS),
      );
      timer.unref();
    };
    check(session.expiresAt);
    socket.once('close', () => clearTimeout(timer));
  }

  /** Admits a socket once `authenticate` names its caller; answers the principal, or undefined when closed. */
  private async admit<P extends Principal>(socket: WebSocket, authenticate: () => Promise<P>): Promise<P | undefined> {
    let principal: P;
    try {
      principal = await authenticate();
    } catch (error) {
      socket.close(4401, error instanceof WaggleError ? error.message.slice(0, 100) : 'unauthenticated');
      return undefined;
    }
    // A socket counts as one request of its credential (the same limit as REST).
    if (!this.throttle.request(principal).allowed) {
      socket.close(4429, 'too many requests with this credential');
      return undefined;
    }
    const unsubscribe = this.events.subscribe((event) => {
      if (socket.readyState === socket.OPEN && eventVisibleTo(principal, event)) {
        socket.send(JSON.stringify({ type: 'event', event }));
      }
    });
    const follows = new Map<string, () => void>();
    const sessionFollowTimes: number[] = [];
    socket.on('message', (raw: Buffer) => {
      let msg: { type?: unknown; taskId?: unknown; machine?: unknown; session?: unknown };
      try {
        msg = JSON.parse(raw.toString('utf8')) as typeof msg;
      } catch {
        return;
      }
      if (msg.type === 'follow-session' || msg.type === 'unfollow-session') {
        this.onSessionMessage(socket, principal, follows, sessionFollowTimes, msg);
        return;
      }
      if (
        msg.type !== 'follow-logs' ||
        typeof msg.taskId !== 'string' ||
        !UUID.test(msg.taskId) ||
        follows.has(msg.taskId) ||
        follows.size >= MAX_FOLLOWS
      ) {
        return;
      }
      const taskId = msg.taskId;
      // Held while visibility is checked, so a repeat is ignored and a close in between stops nothing live.
      const pending = () => undefined;
      follows.set(taskId, pending);
      void this.mayFollow(principal, taskId).then((allowed) => {
        if (follows.get(taskId) !== pending || socket.readyState !== socket.OPEN) {
          return;
        }
        if (!allowed) {
          follows.delete(taskId);
          // What GET /api/tasks/:id/logs answers a machine for a task that is not its own.
          socket.send(JSON.stringify({ type: 'error', taskId, code: 'NOT_FOUND', message: 'task not found' }));
          return;
        }
        follows.set(
          taskId,
          this.events.followLogs(taskId, (chunk) => {
            if (socket.readyState === socket.OPEN) {
              socket.send(JSON.stringify({ type: 'log', taskId, chunk }));
            }
          }),
        );
      });
    });
    socket.on('close', () => {
      unsubscribe();
      for (const stop of follows.values()) {
        stop();
      }
    });
    socket.send(JSON.stringify({ type: 'ready', principal: { kind: principal.kind, name: principal.name } }));
    return principal;
  }

  /**
   * `{"type":"follow-session","machine":"…","session":"…"}`: the session's live terminal output
   * as `{"type":"session-output","machine","session","seq","data","dropped"}` after a
   * `{"type":"following",…}`; `unfollow-session` ends it. The same rule as GET
   * /api/sessions/…/screen: every person and token (viewers included; typing stays POST …/send
   * for operators), no machine (one reaches its own sessions through its agent, not the hub).
   * Output the socket cannot take (more than WS_MAX_BUFFERED_BYTES waiting) is dropped and
   * counted in the next piece's `dropped`.
   */
  private onSessionMessage(
    socket: WebSocket,
    principal: Principal,
    follows: Map<string, () => void>,
    followTimes: number[],
    msg: { type?: unknown; machine?: unknown; session?: unknown },
  ): void {
    if (
      typeof msg.machine !== 'string' ||
      typeof msg.session !== 'string' ||
      !/^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/.test(msg.machine) ||
      !SESSION_NAME_PATTERN.test(msg.session)
    ) {
      socket.send(
        JSON.stringify({ type: 'error', code: 'VALIDATION_FAILED', message: 'machine and session are required' }),
      );
      return;
    }
    const { machine, session } = msg;
    const key = `session:${machine}:${session}`;
    const refuse = (code: string, message: string) =>
      socket.readyState === socket.OPEN &&
      socket.send(JSON.stringify({ type: 'error', machine, session, code, message }));
    if (msg.type === 'unfollow-session') {
      follows.get(key)?.();
      follows.delete(key);
      return;
    }
    if (principal.kind === 'machine') {
      refuse('FORBIDDEN', 'a machine cannot follow sessions through the hub');
      return;
    }
    if (follows.has(key) || follows.size >= MAX_FOLLOWS) {
      return;
    }
    const now = Date.now();
    while (followTimes.length && followTimes[0]! <= now - 60_000) {
      followTimes.shift();
    }
    if (followTimes.length >= WS_MAX_SESSION_FOLLOWS_PER_MINUTE) {
      refuse('RATE_LIMITED', `at most ${WS_MAX_SESSION_FOLLOWS_PER_MINUTE} session follows a minute on one socket`);
      return;
    }
    followTimes.push(now);
    let stopped = false;
    let stop: () => void = () => {
      stopped = true;
    };
    follows.set(key, () => stop());
    let dropped = 0;
    this.sessionFollows
      .follow(machine, session, (chunk) => {
        if (socket.readyState !== socket.OPEN) {
          return;
        }
        if (socket.bufferedAmount > WS_MAX_BUFFERED_BYTES) {
          dropped += chunk.data.length + chunk.dropped;
          return;
        }
        socket.send(
          JSON.stringify({
            type: 'session-output',
            machine,
            session,
            seq: chunk.seq,
            data: chunk.data,
            dropped: chunk.dropped + dropped,
          }),
        );
        dropped = 0;
      })
      .then(
        ([watched, unfollow]) => {
          if (stopped || socket.readyState !== socket.OPEN) {
            unfollow();
            return;
          }
          stop = unfollow;
          socket.send(JSON.stringify({ type: 'following', machine, session, machineId: watched.machineId }));
        },
        (error: unknown) => {
          if (follows.get(key) && !stopped) {
            follows.delete(key);
          }
          const known = error instanceof WaggleError;
          refuse(known ? error.code : 'INTERNAL', known ? error.message.slice(0, 300) : 'could not follow the session');
        },
      );
  }

  /** Whether the caller may follow a task's output: the same rule as GET /api/tasks/:id/logs (admins all, a machine its own). */
  private async mayFollow(principal: Principal, taskId: string): Promise<boolean> {
    if (principal.kind !== 'machine') {
      return true;
    }
    try {
      return taskVisibleTo(await this.rpc.call(TaskRouterRpc.get, { taskId }), principal.machineId);
    } catch {
      return false;
    }
  }
}
