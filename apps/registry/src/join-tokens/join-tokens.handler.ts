import { Controller } from '@nestjs/common';

import { CreateJoinTokenRequest, RegistryRpc } from '@waggle/contracts';
import { HandleRpc } from '@waggle/service-kit';

import { JoinTokensService } from './join-tokens.service';

@Controller()
export class JoinTokensHandler {
  constructor(private readonly joinTokens: JoinTokensService) {}

  @HandleRpc(RegistryRpc.createJoinToken)
  create(req: CreateJoinTokenRequest) {
    return this.joinTokens.create(req);
  }
}
