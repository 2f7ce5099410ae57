import { Controller } from '@nestjs/common';
import { Ctx, NatsContext, Payload } from '@nestjs/microservices';

import { ListMessagesRequest, ReceiptRequest, RegistryRpc, SendMessageRequest } from '@waggle/contracts';
import { HandleMachine, HandleRpc, machineOf } from '@waggle/service-kit';

import { MessagesService } from './messages.service';

@Controller()
export class MessagesHandler {
  constructor(private readonly messages: MessagesService) {}

  @HandleRpc(RegistryRpc.sendMessage)
  send(req: SendMessageRequest) {
    return this.messages.send(req);
  }

  @HandleRpc(RegistryRpc.listMessages)
  list(req: ListMessagesRequest) {
    return this.messages.list(req);
  }

  @HandleMachine('delivered')
  delivered(@Payload() req: ReceiptRequest, @Ctx() context: NatsContext) {
    return this.messages.receipt(machineOf(context), req.ids, 'delivered');
  }

  @HandleMachine('read')
  read(@Payload() req: ReceiptRequest, @Ctx() context: NatsContext) {
    return this.messages.receipt(machineOf(context), req.ids, 'read');
  }
}
