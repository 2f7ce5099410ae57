import { Injectable } from '@nestjs/common';

import { parseVaultRef, WaggleError } from '@waggle/contracts';
import { RpcClient } from '@waggle/messaging';
import { readVaultSecret } from '@waggle/service-kit';

import type { ProviderSettings } from '../wire/providers';

/** A key read from the vault is used this long, then read again (a new value takes effect). */
const KEY_TTL_MS = 5 * 60_000;

/** A provider's API key could not be read from the vault: this provider is skipped for the call. */
export class ProviderKeyUnavailable extends Error {}

/**
 * Provider API keys given as vault references (`WAGGLE_LLM_<NAME>_API_KEY=vault:NAME` or
 * `vault:PROJECT/NAME`): read from the vault when first needed, sealed to a one-time key of
 * this service (NATS never carries the key in the clear), kept in memory for a few minutes.
 */
@Injectable()
export class ProviderKeysService {
  private readonly keys = new Map<string, { value: string; until: number }>();

  constructor(private readonly rpc: RpcClient) {}

  /** The provider with its API key resolved; a plain key is used as is. */
  async resolve(p: ProviderSettings): Promise<ProviderSettings> {
    const ref = parseVaultRef(p.apiKey);
    if (!ref) {
      return p;
    }
    const cached = this.keys.get(p.apiKey!);
    if (cached && cached.until > Date.now()) {
      return { ...p, apiKey: cached.value };
    }
    try {
      const value = await readVaultSecret(this.rpc, ref, 'llm-failover');
      this.keys.set(p.apiKey!, { value, until: Date.now() + KEY_TTL_MS });
      return { ...p, apiKey: value };
    } catch (error) {
      const reason = error instanceof WaggleError ? error.message : String(error);
      throw new ProviderKeyUnavailable(
        `${p.name}: its API key (${p.apiKey}) could not be read from the vault: ${reason}`,
      );
    }
  }
}
