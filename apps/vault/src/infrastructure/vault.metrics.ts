import { Inject, Injectable } from '@nestjs/common';
import { Counter } from 'prom-client';
import type { Registry } from 'prom-client';

import { METRICS } from '@waggle/service-kit';

/** Vault metrics. Labels from bounded sets only (never a secret's name or id). */
@Injectable()
export class VaultMetrics {
  readonly accesses: Counter<'kind'>;
  readonly integrityFailures: Counter;
  readonly rewrapped: Counter;

  constructor(@Inject(METRICS) readonly registry: Registry) {
    this.accesses = new Counter({
      name: 'waggle_vault_secret_accesses_total',
      help: 'Secret values decrypted, by kind (reveal by a person, use by a task or a hub service)',
      labelNames: ['kind'],
      registers: [registry],
    });
    this.integrityFailures = new Counter({
      name: 'waggle_vault_integrity_failures_total',
      help: 'Decryptions refused because a ciphertext, tag, nonce or associated data was altered',
      registers: [registry],
    });
    this.rewrapped = new Counter({
      name: 'waggle_vault_data_keys_rewrapped_total',
      help: 'Data keys re-wrapped under a new key version by rotations',
      registers: [registry],
    });
  }
}
