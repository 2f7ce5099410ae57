import type { Role, Sender } from '@waggle/contracts';

/**
 * Who is calling: an API token (a script), a person signed in with a session cookie, or a
 * machine's own credential. Tokens and people carry a role; a machine reaches only its own
 * things, whatever the route's role.
 */
export type Principal =
  | { kind: 'token'; role: Role; tokenId: string; name: string }
  | { kind: 'user'; role: Role; userId: string; sessionId: string; name: string; expiresAt: Date }
  | { kind: 'machine'; machineId: string; name: string };

/** What a route may admit: a role (and every role above it), or machines. */
export type Caller = Role | 'machine';

/**
 * A person's or a token's messages and tasks are sent as `admin` with their name (the kind
 * the contracts had before roles; what the name says is who).
 */
export function senderOf(principal: Principal): Sender {
  return principal.kind === 'machine'
    ? { kind: 'machine', machineId: principal.machineId, name: principal.name }
    : { kind: 'admin', name: principal.name };
}

/** One string per credential: what its requests are counted by, and what its idempotency keys are scoped to. */
export function principalKey(principal: Principal): string {
  switch (principal.kind) {
    case 'machine':
      return `machine:${principal.machineId}`;
    case 'token':
      // `admin:` is what token scopes were before tokens had roles: stored idempotency keys keep matching.
      return `admin:${principal.tokenId}`;
    case 'user':
      return `user:${principal.userId}`;
  }
}
