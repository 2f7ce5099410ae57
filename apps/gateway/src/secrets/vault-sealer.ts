import { Injectable } from '@nestjs/common';
import { createCurve } from 'nkeys.js';

import type { RevealedSecret, SealedReveal, SealedValue } from '@waggle/contracts';
import { ErrorCode, VaultRpc, WaggleError } from '@waggle/contracts';
import { openSealed, sealTo } from '@waggle/credentials';
import { RpcClient } from '@waggle/messaging';

/**
 * Values never cross NATS in the clear: what a person sends is sealed here to the vault's
 * transport key before it leaves the gateway, and a reveal comes back sealed to a key this
 * gateway makes for that one request.
 */
@Injectable()
export class VaultSealer {
  private transportKey?: Promise<string>;

  constructor(private readonly rpc: RpcClient) {}

  private key(refresh: boolean): Promise<string> {
    if (refresh || !this.transportKey) {
      const asked = this.rpc.call(VaultRpc.transportKey, { v: 1 }).then((r) => r.publicKey);
      asked.catch(() => (this.transportKey = undefined));
      this.transportKey = asked;
    }
    return this.transportKey;
  }

  /** Calls the vault with `value` sealed to its transport key (asked again once if the vault's key changed). */
  async send<T>(value: string | undefined, call: (sealed: SealedValue | undefined) => Promise<T>): Promise<T> {
    if (value === undefined) {
      return call(undefined);
    }
    try {
      return await call(sealTo(await this.key(false), value));
    } catch (error) {
      if (
        !(error instanceof WaggleError) ||
        error.code !== ErrorCode.InvalidInput ||
        !/transport key/.test(error.message)
      ) {
        throw error;
      }
      return call(sealTo(await this.key(true), value));
    }
  }

  /** A reveal: the vault seals the value to a one-time key of this request, opened here. */
  async reveal(call: (revealTo: string) => Promise<SealedReveal>): Promise<RevealedSecret> {
    const key = createCurve();
    try {
      const { sealedValue, ...view } = await call(key.getPublicKey());
      const value = openSealed(key, sealedValue);
      if (value === undefined) {
        throw new WaggleError(
          ErrorCode.IntegrityFailed,
          'the revealed value did not open with the key it was sealed to',
        );
      }
      return { ...view, value };
    } finally {
      key.clear();
    }
  }
}
