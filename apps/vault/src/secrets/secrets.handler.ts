import { Controller } from '@nestjs/common';

import {
  CheckSecretRefsRequest,
  CreateSecretRequest,
  ListSecretAuditRequest,
  ListSecretsRequest,
  ResolveSecretRequest,
  RotateKeyRequest,
  SecretRefRequest,
  UpdateSecretRequest,
  VaultRpc,
} from '@waggle/contracts';
import { HandleRpc } from '@waggle/service-kit';

import { Keyring } from '../keys/keyring';
import { RotationService } from '../keys/rotation.service';
import { SecretsService } from './secrets.service';

@Controller()
export class SecretsHandler {
  constructor(
    private readonly secrets: SecretsService,
    private readonly rotation: RotationService,
    private readonly keyring: Keyring,
  ) {}

  @HandleRpc(VaultRpc.create)
  create(req: CreateSecretRequest) {
    return this.secrets.create(req);
  }

  @HandleRpc(VaultRpc.list)
  list(req: ListSecretsRequest) {
    return this.secrets.list(req);
  }

  @HandleRpc(VaultRpc.get)
  get(req: SecretRefRequest) {
    return this.secrets.get(req);
  }

  @HandleRpc(VaultRpc.update)
  update(req: UpdateSecretRequest) {
    return this.secrets.update(req);
  }

  @HandleRpc(VaultRpc.delete)
  delete(req: SecretRefRequest) {
    return this.secrets.delete(req);
  }

  @HandleRpc(VaultRpc.reveal)
  reveal(req: SecretRefRequest) {
    return this.secrets.reveal(req);
  }

  @HandleRpc(VaultRpc.check)
  check(req: CheckSecretRefsRequest) {
    return this.secrets.check(req);
  }

  @HandleRpc(VaultRpc.resolve)
  resolve(req: ResolveSecretRequest) {
    return this.secrets.resolveForService(req);
  }

  @HandleRpc(VaultRpc.audit)
  audit(req: ListSecretAuditRequest) {
    return this.secrets.auditTrail(req);
  }

  @HandleRpc(VaultRpc.keys)
  keys() {
    return this.rotation.status();
  }

  @HandleRpc(VaultRpc.transportKey)
  transportKey() {
    return { publicKey: this.keyring.transportKey };
  }

  @HandleRpc(VaultRpc.rotate)
  rotate(req: RotateKeyRequest) {
    return this.rotation.rotate(req);
  }
}
