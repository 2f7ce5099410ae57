import { Controller } from '@nestjs/common';
import { Ctx, NatsContext, Payload } from '@nestjs/microservices';

import {
  CreateIngestKeyRequest,
  ErrorBugRequest,
  ErrorGroupRefRequest,
  ErrorsRpc,
  FixErrorGroupRequest,
  IngestErrorsRequest,
  IngestKeyRefRequest,
  ListErrorEventsRequest,
  ListErrorGroupsRequest,
  ListIngestKeysRequest,
  MachineErrorReport,
  MergeErrorGroupsRequest,
  UpdateErrorGroupRequest,
} from '@waggle/contracts';
import { HandleMachine, HandleRpc, machineOf } from '@waggle/service-kit';

import { ErrorsService } from './errors.service';
import { IngestService } from './ingest.service';

@Controller()
export class ErrorsHandler {
  constructor(
    private readonly ingestion: IngestService,
    private readonly errors: ErrorsService,
  ) {}

  @HandleRpc(ErrorsRpc.ingest)
  ingest(req: IngestErrorsRequest) {
    return this.ingestion.ingest(req);
  }

  /** A node-agent's own failure or its task's crash; the machine's id comes from the subject. */
  @HandleMachine('errors')
  machineError(@Payload() req: MachineErrorReport, @Ctx() context: NatsContext) {
    return this.ingestion.reportFromMachine(machineOf(context), req);
  }

  @HandleRpc(ErrorsRpc.list)
  list(req: ListErrorGroupsRequest) {
    return this.errors.list(req);
  }

  @HandleRpc(ErrorsRpc.get)
  get(req: ErrorGroupRefRequest) {
    return this.errors.get(req);
  }

  @HandleRpc(ErrorsRpc.events)
  events(req: ListErrorEventsRequest) {
    return this.errors.events(req);
  }

  @HandleRpc(ErrorsRpc.update)
  update(req: UpdateErrorGroupRequest) {
    return this.errors.update(req);
  }

  @HandleRpc(ErrorsRpc.merge)
  merge(req: MergeErrorGroupsRequest) {
    return this.errors.merge(req);
  }

  @HandleRpc(ErrorsRpc.bug)
  bug(req: ErrorBugRequest) {
    return this.errors.bug(req);
  }

  @HandleRpc(ErrorsRpc.fix)
  fix(req: FixErrorGroupRequest) {
    return this.errors.fix(req);
  }

  @HandleRpc(ErrorsRpc.createKey)
  createKey(req: CreateIngestKeyRequest) {
    return this.ingestion.createKey(req);
  }

  @HandleRpc(ErrorsRpc.listKeys)
  listKeys(req: ListIngestKeysRequest) {
    return this.ingestion.listKeys(req);
  }

  @HandleRpc(ErrorsRpc.revokeKey)
  revokeKey(req: IngestKeyRefRequest) {
    return this.ingestion.revokeKey(req);
  }
}
