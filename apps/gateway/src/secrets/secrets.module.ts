import { Module } from '@nestjs/common';

import { SecretsController } from './secrets.controller';
import { VaultSealer } from './vault-sealer';

@Module({ controllers: [SecretsController], providers: [VaultSealer] })
export class SecretsModule {}
