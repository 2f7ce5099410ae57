import { createCurve } from 'nkeys.js';

import type { ResolveSecretRequest } from '@waggle/contracts';
import { ErrorCode, VaultRpc, WaggleError } from '@waggle/contracts';
import { openSealed } from '@waggle/credentials';
import type { RpcClient } from '@waggle/messaging';

/**
 * One of Waggle's own credentials that a setting names as a vault reference (`vault:NAME`,
 * see parseVaultRef), read from the vault for `service`: the value comes sealed to a curve
 * key made for this one read, so NATS never carries it in the clear. The vault audits it.
 */
export async function readVaultSecret(
  rpc: RpcClient,
  ref: Pick<ResolveSecretRequest, 'name' | 'project'>,
  service: string,
): Promise<string> {
  const key = createCurve();
  try {
    const reply = await rpc.call(VaultRpc.resolve, { v: 1, ...ref, service, sealTo: key.getPublicKey() });
    const value = openSealed(key, reply);
    if (value === undefined) {
      throw new WaggleError(ErrorCode.IntegrityFailed, `the vault's answer for ${ref.name} did not open`);
    }
    return value;
  } finally {
    key.clear();
  }
}
