import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { EntityManager } from 'typeorm';

import type { IdempotentTable } from '@waggle/persistence';
import { findByIdempotencyKey, updateReturning } from '@waggle/persistence';

import { JoinTokenEntity } from './join-token.entity';

/** Join tokens keep the Idempotency-Key of their create (and the salt of the token) for its lifetime. */
export const JOIN_TOKEN_KEYS: IdempotentTable = {
  table: '"registry"."join_tokens"',
  createdAt: 'created_at',
  alsoClear: ['token_salt'],
};

export type NewJoinToken = Pick<
  JoinTokenEntity,
  | 'id'
  | 'tokenHash'
  | 'description'
  | 'expiresAt'
  | 'maxUses'
  | 'idempotencyKey'
  | 'idempotencyFingerprint'
  | 'tokenSalt'
>;

@Injectable()
export class JoinTokenRepository {
  constructor(private readonly dataSource: DataSource) {}

  private get repo() {
    return this.dataSource.getRepository(JoinTokenEntity);
  }

  /** Inserts the token; with an Idempotency-Key another create holds, inserts nothing and returns null. */
  async insert(token: NewJoinToken): Promise<JoinTokenEntity | null> {
    const rows = await this.dataSource.query<{ id: string }[]>(
      `INSERT INTO "registry"."join_tokens" ("id", "token_hash", "description", "expires_at", "max_uses", "uses", "idempotency_key", "idempotency_fingerprint", "token_salt")
       VALUES ($1, $2, $3, $4, $5, 0, $6, $7, $8)
       ON CONFLICT ("idempotency_key") WHERE "idempotency_key" IS NOT NULL DO NOTHING
       RETURNING "id"`,
      [
        token.id,
        token.tokenHash,
        token.description,
        token.expiresAt,
        token.maxUses,
        token.idempotencyKey,
        token.idempotencyFingerprint,
        token.tokenSalt,
      ],
    );
    return rows.length ? this.repo.findOneBy({ id: token.id }) : null;
  }

  /** The token a create with this (live) key made. */
  async findByIdempotencyKey(key: string, ttlSeconds: number): Promise<JoinTokenEntity | null> {
    const row = await findByIdempotencyKey<{ id: string }>(this.dataSource, JOIN_TOKEN_KEYS, key, ttlSeconds);
    return row ? this.repo.findOneBy({ id: row.id }) : null;
  }

  /**
   * Spends one use of a valid token, atomically: two machines joining with the last use
   * left cannot both succeed. Returns false for an unknown, expired or used-up token.
   */
  async consumeUse(manager: EntityManager, tokenHash: string): Promise<boolean> {
    const result = await updateReturning<unknown>(
      manager,
      `UPDATE "registry"."join_tokens" SET "uses" = "uses" + 1
       WHERE "token_hash" = $1 AND "expires_at" > now() AND ("max_uses" IS NULL OR "uses" < "max_uses")
       RETURNING "id"`,
      [tokenHash],
    );
    return result.length === 1;
  }
}
