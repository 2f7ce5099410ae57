import { randomUUID } from 'node:crypto';

import { Injectable } from '@nestjs/common';

import type { CreatedJoinToken, CreateJoinTokenRequest } from '@waggle/contracts';
import { hashToken, newToken, TokenPrefix } from '@waggle/credentials';

import { JoinTokenRepository } from './join-token.repository';

const DEFAULT_TTL_SECONDS = 24 * 3600;

@Injectable()
export class JoinTokensService {
  constructor(private readonly tokens: JoinTokenRepository) {}

  async create(request: CreateJoinTokenRequest): Promise<CreatedJoinToken> {
    const token = newToken(TokenPrefix.join);
    const row = await this.tokens.insert({
      id: randomUUID(),
      tokenHash: hashToken(token),
      description: request.description ?? null,
      expiresAt: new Date(Date.now() + (request.ttlSeconds ?? DEFAULT_TTL_SECONDS) * 1000),
      maxUses: request.maxUses ?? null,
    });
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
}
