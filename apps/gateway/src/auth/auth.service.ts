import { randomUUID } from 'node:crypto';

import { Inject, Injectable } from '@nestjs/common';
import type { OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import type { NatsConnection, Subscription } from 'nats';

import type { WaggleEvent } from '@waggle/contracts';
import { ErrorCode, eventSubject, GatewaySubjects, RegistryRpc, WaggleError } from '@waggle/contracts';
import { hashToken, newToken, TokenPrefix } from '@waggle/credentials';
import { decodeJson, RpcClient } from '@waggle/messaging';
import type { Logger } from '@waggle/observability';
import { LOGGER, NATS } from '@waggle/service-kit';

import { GatewayConfig } from '../gateway.config';
import { ApiTokenRepository } from './api-token.repository';
import { AuthThrottle } from './auth-throttle';
import { generatePassword, hashPassword } from './password';
import type { Principal } from './principal';
import { UserRepository } from './user.repository';

const BEARER = /^Bearer\s+(\S+)$/i;
/** How long a resolved token is trusted without asking again (revocations drop it at once). */
const CACHE_TTL_MS = 60_000;
/** Tokens remembered at most; the oldest go first. */
const CACHE_MAX = 10_000;

@Injectable()
export class AuthService implements OnApplicationBootstrap, OnApplicationShutdown {
  /**
   * Principals of tokens seen lately, by the token's hash (the token itself is never kept):
   * a request costs no query. A machine's entries go the moment it is revoked (the
   * machine.revoked event reaches every replica; this replica's own revoke drops them before
   * it answers), and every entry after CACHE_TTL_MS.
   */
  private readonly cache = new Map<string, { principal: Principal; until: number }>();
  private revocations?: Subscription;
  private tokenRevocations?: Subscription;

  constructor(
    private readonly tokens: ApiTokenRepository,
    private readonly users: UserRepository,
    private readonly config: GatewayConfig,
    private readonly rpc: RpcClient,
    private readonly throttle: AuthThrottle,
    @Inject(NATS) private readonly nc: NatsConnection,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap() {
    // A core subscription sees every event JetStream stores on the subject, on every replica.
    this.revocations = this.nc.subscribe(eventSubject('machine.revoked'), {
      callback: (err, msg) => {
        if (err) {
          return;
        }
        try {
          const event = decodeJson(msg.data) as WaggleEvent<'machine.revoked'>;
          this.forgetMachine(event.data.machineId);
        } catch {
          // Unreadable: drop every machine entry rather than keep one that may be revoked.
          this.forgetMachine();
        }
      },
    });
    // Another replica revoked an API token: drop it here too (without the message, the cache's TTL would).
    this.tokenRevocations = this.nc.subscribe(GatewaySubjects.tokenRevoked, {
      callback: (err, msg) => {
        if (err) {
          return;
        }
        let tokenId: unknown;
        try {
          tokenId = (decodeJson(msg.data) as { tokenId?: unknown }).tokenId;
        } catch {
          // Unreadable: dropped below as "every token".
        }
        this.forgetToken(typeof tokenId === 'string' ? tokenId : undefined);
      },
    });
  }

  onApplicationShutdown() {
    this.revocations?.unsubscribe();
    this.tokenRevocations?.unsubscribe();
  }

  /** An API token was revoked here: forgotten at once, and every other replica is told. */
  tokenRevoked(tokenId: string): void {
    this.forgetToken(tokenId);
    this.nc.publish(GatewaySubjects.tokenRevoked, JSON.stringify({ tokenId }));
  }

  /** Forgets the cached principal of an API token (every token when none is named). */
  private forgetToken(tokenId?: string): void {
    for (const [hash, { principal }] of this.cache) {
      if (principal.kind === 'token' && (!tokenId || principal.tokenId === tokenId)) {
        this.cache.delete(hash);
      }
    }
  }

  /** Forgets the cached principal of a machine (every machine when none is named). */
  forgetMachine(machineId?: string): void {
    for (const [hash, { principal }] of this.cache) {
      if (principal.kind === 'machine' && (!machineId || principal.machineId === machineId)) {
        this.cache.delete(hash);
      }
    }
  }

  /**
   * First start: install WAGGLE_ADMIN_TOKEN's hash, or make a token and print it once on
   * stderr (not through the logger: logs are shipped, the terminal is the operator's).
   */
  async ensureAdminToken(): Promise<void> {
    if (await this.tokens.hasAdmin()) {
      return;
    }
    const token = this.config.WAGGLE_ADMIN_TOKEN ?? newToken(TokenPrefix.admin);
    const installed = await this.tokens.insertFirstAdmin(randomUUID(), hashToken(token));
    if (!installed) {
      return;
    }
    this.logger.info(
      { from: this.config.WAGGLE_ADMIN_TOKEN ? 'WAGGLE_ADMIN_TOKEN' : 'generated' },
      'admin token installed',
    );
    if (!this.config.WAGGLE_ADMIN_TOKEN) {
      process.stderr.write(`\n  Admin token (shown once, store it now):\n    ${token}\n\n`);
    }
  }

  /**
   * First start: the first admin account, `admin`, with WAGGLE_ADMIN_PASSWORD or a
   * generated password printed once on stderr (beside the admin token). Only its hash is stored.
   */
  async ensureAdminAccount(): Promise<void> {
    if (await this.users.hasAccounts()) {
      return;
    }
    const password = this.config.WAGGLE_ADMIN_PASSWORD ?? generatePassword();
    const installed = await this.users.insertFirstAdmin(randomUUID(), await hashPassword(password));
    if (!installed) {
      return;
    }
    this.logger.info(
      { from: this.config.WAGGLE_ADMIN_PASSWORD ? 'WAGGLE_ADMIN_PASSWORD' : 'generated' },
      'admin account installed',
    );
    if (!this.config.WAGGLE_ADMIN_PASSWORD) {
      process.stderr.write(`\n  Admin account (shown once, store it now):\n    name admin, password ${password}\n\n`);
    }
  }

  bearerOf(header: string | undefined): string | undefined {
    return header ? BEARER.exec(header)?.[1] : undefined;
  }

  /**
   * Resolves a bearer token to its principal, or throws UNAUTHENTICATED. A presented token
   * that fails counts against its address and against itself; past the limit the answer is
   * 429, and a token that has failed too often is refused before it is looked up.
   */
  async authenticate(token: string | undefined, address?: string): Promise<Principal> {
    if (!token) {
      throw new WaggleError(ErrorCode.Unauthenticated, 'missing bearer token (Authorization: Bearer <token>)');
    }
    this.throttle.refuseWornOut('auth', token);
    try {
      return await this.resolve(token);
    } catch (error) {
      if (error instanceof WaggleError && error.code === ErrorCode.Unauthenticated) {
        this.throttle.failed('auth', token, address);
      }
      throw error;
    }
  }

  private async resolve(token: string): Promise<Principal> {
    if (token.length > 300) {
      throw new WaggleError(ErrorCode.Unauthenticated, 'token is unknown or revoked');
    }
    const hash = hashToken(token);
    const cached = this.cache.get(hash);
    if (cached && cached.until > Date.now()) {
      return cached.principal;
    }
    const principal = await this.lookUp(token, hash);
    this.cache.delete(hash);
    if (this.cache.size >= CACHE_MAX) {
      this.cache.delete(this.cache.keys().next().value!);
    }
    this.cache.set(hash, { principal, until: Date.now() + CACHE_TTL_MS });
    return principal;
  }

  private async lookUp(token: string, hash: string): Promise<Principal> {
    if (token.startsWith(TokenPrefix.machine)) {
      const machine = await this.rpc.call(RegistryRpc.verifyMachineToken, { token });
      return { kind: 'machine', machineId: machine.machineId, name: machine.name };
    }
    const row = await this.tokens.findActiveByHash(hash);
    if (!row) {
      throw new WaggleError(ErrorCode.Unauthenticated, 'token is unknown or revoked');
    }
    return { kind: 'token', role: row.role, tokenId: row.id, name: row.name };
  }
}
