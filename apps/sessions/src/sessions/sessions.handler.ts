import { Controller } from '@nestjs/common';
import { Ctx, NatsContext, Payload } from '@nestjs/microservices';

import {
  CaptureSessionRequest,
  CreateSessionRequest,
  ListAttentionRequest,
  ListSessionsRequest,
  ResizeSessionRequest,
  SendToSessionRequest,
  SessionRefRequest,
  SessionsReportRequest,
  SessionsRpc,
  UnwatchSessionRequest,
  WatchSessionRequest,
} from '@waggle/contracts';
import { HandleMachine, HandleRpc, machineOf } from '@waggle/service-kit';

import { SessionsService } from './sessions.service';

@Controller()
export class SessionsHandler {
  constructor(private readonly sessions: SessionsService) {}

  @HandleRpc(SessionsRpc.list)
  list(req: ListSessionsRequest) {
    return this.sessions.list(req);
  }

  @HandleRpc(SessionsRpc.get)
  get(req: SessionRefRequest) {
    return this.sessions.get(req);
  }

  @HandleRpc(SessionsRpc.create)
  create(req: CreateSessionRequest) {
    return this.sessions.create(req);
  }

  @HandleRpc(SessionsRpc.send)
  send(req: SendToSessionRequest) {
    return this.sessions.send(req);
  }

  @HandleRpc(SessionsRpc.capture)
  capture(req: CaptureSessionRequest) {
    return this.sessions.capture(req);
  }

  @HandleRpc(SessionsRpc.watch)
  watch(req: WatchSessionRequest) {
    return this.sessions.watch(req);
  }

  @HandleRpc(SessionsRpc.unwatch)
  unwatch(req: UnwatchSessionRequest) {
    return this.sessions.unwatch(req);
  }

  @HandleRpc(SessionsRpc.resize)
  resize(req: ResizeSessionRequest) {
    return this.sessions.resize(req);
  }

  @HandleRpc(SessionsRpc.kill)
  kill(req: SessionRefRequest) {
    return this.sessions.kill(req);
  }

  @HandleRpc(SessionsRpc.listAttention)
  listAttention(req: ListAttentionRequest) {
    return this.sessions.listAttention(req);
  }

  @HandleRpc(SessionsRpc.dismissAttention)
  dismiss(req: SessionRefRequest) {
    return this.sessions.dismiss(req);
  }

  /** A machine's snapshot of its sessions, on its own subject (NATS permissions vouch for the id). */
  @HandleMachine('sessionsReport')
  report(@Payload() req: SessionsReportRequest, @Ctx() context: NatsContext) {
    return this.sessions.report(machineOf(context), req.sessions);
  }
}
