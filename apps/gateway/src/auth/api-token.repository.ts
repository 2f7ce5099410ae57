import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

import { ApiTokenEntity } from './api-token.entity';

@Injectable()
export class ApiTokenRepository {
  constructor(private readonly dataSource: DataSource) {}

  private get repo() {
    return this.dataSource.getRepository(ApiTokenEntity);
  }

  async hasAdmin(): Promise<boolean> {
    return (await this.repo.createQueryBuilder('t').where("t.role = 'admin' AND t.revoked_at IS NULL").getCount()) > 0;
  }

  /**
   * Installs the first admin token unless one exists. The advisory lock makes two gateways
   * starting together install exactly one.
   */
  async insertFirstAdmin(id: string, tokenHash: string): Promise<boolean> {
    return this.dataSource.transaction(async (manager) => {
      await manager.query(`SELECT pg_advisory_xact_lock(hashtext('gateway.first-admin'))`);
      const exists = await manager
        .getRepository(ApiTokenEntity)
        .createQueryBuilder('t')
        .where("t.role = 'admin' AND t.revoked_at IS NULL")
        .getCount();
      if (exists) {
        return false;
      }
      await manager
        .getRepository(ApiTokenEntity)
        .createQueryBuilder()
        .insert()
        .values({ id, name: 'admin', role: 'admin', tokenHash })
        .execute();
      return true;
    });
  }

  async findActiveByHash(tokenHash: string): Promise<ApiTokenEntity | null> {
    return this.repo
      .createQueryBuilder('t')
      .where('t.token_hash = :tokenHash AND t.revoked_at IS NULL', { tokenHash })
      .getOne();
  }

  async insert(token: Pick<ApiTokenEntity, 'id' | 'name' | 'role' | 'tokenHash'>): Promise<ApiTokenEntity> {
    await this.repo.createQueryBuilder().insert().values(token).execute();
    return (await this.repo.findOneBy({ id: token.id }))!;
  }

  /** A page of tokens, newest first, after the cursor's (createdAt, id). */
  listBefore(cursor: { at: string; id: string } | undefined, limit: number): Promise<ApiTokenEntity[]> {
    const query = this.repo
      .createQueryBuilder('t')
      .orderBy('t.created_at', 'DESC')
      .addOrderBy('t.id', 'DESC')
      .limit(limit);
    if (cursor) {
      query.where('(t.created_at, t.id) < (:at, :id)', cursor);
    }
    return query.getMany();
  }

  findById(id: string): Promise<ApiTokenEntity | null> {
    return this.repo.findOneBy({ id });
  }

  /** Revokes a token (once: a revoked token keeps its first revocation time). */
  async revoke(id: string): Promise<void> {
    await this.repo
      .createQueryBuilder()
      .update()
      .set({ revokedAt: () => 'now()' })
      .where('id = :id AND revoked_at IS NULL', { id })
      .execute();
  }
}
