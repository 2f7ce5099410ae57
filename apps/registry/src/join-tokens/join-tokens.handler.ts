import { Injectable } from '@nestjs/common';
import type { OnApplicationBootstrap } from '@nestjs/common';

import { CreateJoinTokenRequest, RegistryRpc } from '@waggle/contracts';

import { RpcServerService } from '../infrastructure/rpc-server.service';
import { JoinTokensService } from './join-tokens.service';

@Injectable()
export class JoinTokensHandler implements OnApplicationBootstrap {
  constructor(
    private readonly rpc: RpcServerService,
    private readonly joinTokens: JoinTokensService,
  ) {}

  onApplicationBootstrap() {
    this.rpc.handle(RegistryRpc.createJoinToken, CreateJoinTokenRequest, (req) => this.joinTokens.create(req));
  }
}
