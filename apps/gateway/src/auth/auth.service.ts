import { randomUUID } from 'node:crypto';

import { Inject, Injectable } from '@nestjs/common';

import { ErrorCode, RegistryRpc, WaggleError } from '@waggle/contracts';
import { hashToken, newToken, TokenPrefix } from '@waggle/credentials';
import { RpcClient } from '@waggle/messaging';
import type { Logger } from '@waggle/observability';
import { LOGGER } from '@waggle/service-kit';

import { GatewayConfig } from '../gateway.config';
import { ApiTokenRepository } from './api-token.repository';
import { AuthThrottle } from './auth-throttle';
import type { Principal } from './principal';

const BEARER = /^Bearer\s+(\S+)$/i;

@Injectable()
export class AuthService {
  constructor(
    private readonly tokens: ApiTokenRepository,
    private readonly config: GatewayConfig,
    private readonly rpc: RpcClient,
    private readonly throttle: AuthThrottle,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

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
    if (token.startsWith(TokenPrefix.machine)) {
      const machine = await this.rpc.call(RegistryRpc.verifyMachineToken, { token });
      return { kind: 'machine', machineId: machine.machineId, name: machine.name };
    }
    const row = token.length <= 300 ? await this.tokens.findActiveByHash(hashToken(token)) : null;
    if (!row) {
      throw new WaggleError(ErrorCode.Unauthenticated, 'token is unknown or revoked');
    }
    return { kind: 'admin', tokenId: row.id, name: row.name };
  }
}
