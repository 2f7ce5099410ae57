import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { EntityManager } from 'typeorm';

import { updateReturning } from '@waggle/persistence';

import { JoinTokenEntity } from './join-token.entity';

@Injectable()
export class JoinTokenRepository {
  constructor(private readonly dataSource: DataSource) {}

  async insert(
    token: Pick<JoinTokenEntity, 'id' | 'tokenHash' | 'description' | 'expiresAt' | 'maxUses'>,
  ): Promise<JoinTokenEntity> {
    const repo = this.dataSource.getRepository(JoinTokenEntity);
    await repo
      .createQueryBuilder()
      .insert()
      .values({ ...token, uses: 0 })
      .execute();
    return (await repo.findOneBy({ id: token.id }))!;
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
