import type { Sender } from '@waggle/contracts';

/** Who is calling: an admin API token, or a machine's own credential. */
export type Principal =
  { kind: 'admin'; tokenId: string; name: string } | { kind: 'machine'; machineId: string; name: string };
export type Role = Principal['kind'];

export function senderOf(principal: Principal): Sender {
  return principal.kind === 'machine'
    ? { kind: 'machine', machineId: principal.machineId, name: principal.name }
    : { kind: 'admin', name: principal.name };
}

/** One string per credential: what its requests are counted by, and what its idempotency keys are scoped to. */
export function principalKey(principal: Principal): string {
  return principal.kind === 'machine' ? `machine:${principal.machineId}` : `admin:${principal.tokenId}`;
}
