import { Controller } from '@nestjs/common';
import { Ctx, NatsContext, Payload } from '@nestjs/microservices';

import { OpenSecretsRequest } from '@waggle/contracts';
import { HandleMachine, machineOf } from '@waggle/service-kit';

import { DeliveryService } from './delivery.service';

/** A machine's own request: its id comes from the subject, which NATS permissions vouch for. */
@Controller()
export class DeliveryHandler {
  constructor(private readonly delivery: DeliveryService) {}

  @HandleMachine('secretsOpen')
  open(@Payload() req: OpenSecretsRequest, @Ctx() context: NatsContext) {
    return this.delivery.open(machineOf(context), req);
  }
}
