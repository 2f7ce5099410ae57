import { randomUUID } from 'node:crypto';

import { Injectable } from '@nestjs/common';

import type { CreatedJoinToken, CreateJoinTokenRequest } from '@waggle/contracts';
import { assertSameRequest, ErrorCode, WaggleError } from '@waggle/contracts';
import { derivedToken, hashToken, newToken, newTokenSalt, TokenPrefix } from '@waggle/credentials';

import { RegistryConfig } from '../registry.config';
import type { JoinTokenEntity } from './join-token.entity';
import { JoinTokenRepository } from './join-token.repository';

const DEFAULT_TTL_SECONDS = 24 * 3600;

@Injectable()
export class JoinTokensService {
  constructor(
    private readonly tokens: JoinTokenRepository,
    private readonly config: RegistryConfig,
  ) {}

  /**
   * Makes a join token (shown once). With an Idempotency-Key, the token is derived from the
   * key's seed and a stored salt, so a repeat of the create shows the same token again
   * without the hub keeping it.
   */
  async create(request: CreateJoinTokenRequest): Promise<CreatedJoinToken> {
    const key = request.idempotencyKey;
    const ttl = this.config.WAGGLE_IDEMPOTENCY_TTL_SECONDS;
    const earlier = key ? await this.tokens.findByIdempotencyKey(key, ttl) : null;
    if (earlier) {
      return this.again(earlier, request);
    }
    const salt = key && request.idempotencySeed ? newTokenSalt() : null;
    const token = salt ? derivedToken(TokenPrefix.join, request.idempotencySeed!, salt) : newToken(TokenPrefix.join);
    const row = await this.tokens.insert({
      id: randomUUID(),
      tokenHash: hashToken(token),
      description: request.description ?? null,
      expiresAt: new Date(Date.now() + (request.ttlSeconds ?? DEFAULT_TTL_SECONDS) * 1000),
      maxUses: request.maxUses ?? null,
      idempotencyKey: key ?? null,
      idempotencyFingerprint: key ? (request.idempotencyFingerprint ?? null) : null,
      tokenSalt: salt,
    });
    if (!row) {
      // A concurrent create with the same key won; its token is the answer.
      const winner = await this.tokens.findByIdempotencyKey(key!, ttl);
      if (!winner) {
        throw new WaggleError(ErrorCode.Conflict, 'a join token with this idempotency key is being created; try again');
      }
      return this.again(winner, request);
    }
    return view(row, token);
  }

  /** The token an earlier create with the same key made, shown again. */
  private again(row: JoinTokenEntity, request: CreateJoinTokenRequest): CreatedJoinToken {
    assertSameRequest(row.idempotencyFingerprint, request.idempotencyFingerprint);
    const token =
      row.tokenSalt && request.idempotencySeed
        ? derivedToken(TokenPrefix.join, request.idempotencySeed, row.tokenSalt)
        : undefined;
    if (!token || hashToken(token) !== row.tokenHash) {
      throw new WaggleError(
        ErrorCode.Conflict,
        'a join token was made with this idempotency key and shown once; create another with a new key',
      );
    }
    return view(row, token);
  }
}

function view(row: JoinTokenEntity, token: string): CreatedJoinToken {
  return {
    id: row.id,
    token,
    description: row.description,
    expiresAt: row.expiresAt.toISOString(),
    maxUses: row.maxUses,
    uses: row.uses,
    createdAt: row.createdAt.toISOString(),
  };
}
