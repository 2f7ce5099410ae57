import { Injectable } from '@nestjs/common';
import type { OnApplicationBootstrap } from '@nestjs/common';

import { ListMessagesRequest, MachineWildcards, ReceiptRequest, RegistryRpc, SendMessageRequest } from '@waggle/contracts';

import { RpcServerService } from '../infrastructure/rpc-server.service';
import { MessagesService } from './messages.service';

@Injectable()
export class MessagesHandler implements OnApplicationBootstrap {
  constructor(
    private readonly rpc: RpcServerService,
    private readonly messages: MessagesService,
  ) {}

  onApplicationBootstrap() {
    this.rpc.handle(RegistryRpc.sendMessage, SendMessageRequest, (req) => this.messages.send(req));
    this.rpc.handle(RegistryRpc.listMessages, ListMessagesRequest, (req) => this.messages.list(req));
    this.rpc.handleMachine(MachineWildcards.delivered, ReceiptRequest, (machineId, req) => this.messages.receipt(machineId, req.ids, 'delivered'));
    this.rpc.handleMachine(MachineWildcards.read, ReceiptRequest, (machineId, req) => this.messages.receipt(machineId, req.ids, 'read'));
  }
}
