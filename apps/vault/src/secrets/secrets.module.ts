import { Module } from '@nestjs/common';

import { AuditRepository } from '../audit/audit.repository';
import { DeliveryHandler } from '../delivery/delivery.handler';
import { DeliveryService } from '../delivery/delivery.service';
import { KeyRepository } from '../keys/key.repository';
import { Keyring } from '../keys/keyring';
import { RotationService } from '../keys/rotation.service';
import { SecretRepository } from './secret.repository';
import { SecretsHandler } from './secrets.handler';
import { SecretsService } from './secrets.service';

@Module({
  controllers: [SecretsHandler, DeliveryHandler],
  providers: [
    KeyRepository,
    Keyring,
    RotationService,
    SecretRepository,
    AuditRepository,
    SecretsService,
    DeliveryService,
  ],
})
export class SecretsModule {}
