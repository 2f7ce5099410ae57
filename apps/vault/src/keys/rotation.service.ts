import { Inject, Injectable } from '@nestjs/common';

import type { RotateKeyRequest, RotationView, VaultKeysView } from '@waggle/contracts';
import type { Logger } from '@waggle/observability';
import { LOGGER } from '@waggle/service-kit';

import { AuditRepository } from '../audit/audit.repository';
import { VaultMetrics } from '../infrastructure/vault.metrics';
import { SecretRepository } from '../secrets/secret.repository';
import { VaultConfig } from '../vault.config';
import { KeyRepository } from './key.repository';
import { Keyring } from './keyring';

/**
 * `waggle vault rotate-key`: a new key version becomes active (new writes use it at once),
 * every data key is re-wrapped under it in small batches while reads and writes go on, then
 * the old version's key is destroyed. Values are not re-encrypted: only their data keys move.
 */
@Injectable()
export class RotationService {
  constructor(
    private readonly keyring: Keyring,
    private readonly keys: KeyRepository,
    private readonly secrets: SecretRepository,
    private readonly audit: AuditRepository,
    private readonly metrics: VaultMetrics,
    private readonly config: VaultConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async status(): Promise<VaultKeysView> {
    const rows = await this.keys.versions();
    return {
      activeVersion: rows.find((r) => r.state === 'active')?.version ?? 0,
      versions: rows.map((r) => ({
        version: r.version,
        state: r.state === 'active' ? 'active' : 'retired',
        createdAt: r.created_at.toISOString(),
        retiredAt: r.retired_at?.toISOString() ?? null,
        dataKeys: r.data_keys,
      })),
    };
  }

  async rotate(req: RotateKeyRequest): Promise<RotationView> {
    const started = Date.now();
    // A rotation that stopped half way (a crash) is finished rather than refused.
    const begun = (await this.keyring.beginRotation()) ?? {
      previous: (await this.keys.retiringVersion()) ?? this.keyring.activeVersion,
      next: this.keyring.activeVersion,
    };
    const { previous, next } = begun;
    let rewrapped = 0;
    for (;;) {
      const batch = await this.secrets.wrappedUnder(previous, this.config.WAGGLE_VAULT_ROTATE_BATCH);
      if (!batch.length) {
        if (previous === next || (await this.keys.retire(previous))) {
          break;
        }
        continue;
      }
      const moved: { id: string; wrapped: Buffer }[] = [];
      for (const row of batch) {
        const dataKey = await this.keyring.unwrapDataKey(row.id, previous, row.wrapped_key);
        moved.push({ id: row.id, wrapped: (await this.keyring.wrapDataKey(row.id, dataKey, next)).wrapped });
        dataKey.fill(0);
      }
      await this.secrets.rewrap(previous, next, moved);
      rewrapped += moved.length;
      this.metrics.rewrapped.inc(moved.length);
    }
    await this.keyring.reload();
    const durationMs = Date.now() - started;
    await this.audit.record([{ action: 'rotate', actor: req.actor, detail: { from: previous, to: next, rewrapped } }]);
    this.logger.info(
      { from: previous, to: next, rewrapped, durationMs },
      'vault key rotated; the old version is retired',
    );
    return { ...(await this.status()), previousVersion: previous, rewrapped, durationMs };
  }
}
