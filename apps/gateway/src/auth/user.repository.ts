import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { EntityManager } from 'typeorm';

import type { Role } from '@waggle/contracts';

import { UserEntity } from './user.entity';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Changes to an account; `undefined` leaves a field as it is. */
export interface UserChanges {
  role?: Role;
  passwordHash?: string;
  disabled?: boolean;
}

@Injectable()
export class UserRepository {
  constructor(private readonly dataSource: DataSource) {}

  private repo(manager: EntityManager = this.dataSource.manager) {
    return manager.getRepository(UserEntity);
  }

  async hasAccounts(): Promise<boolean> {
    return (await this.repo().createQueryBuilder('u').limit(1).getCount()) > 0;
  }

  /** The account a name signs in as (names are unique whatever their case). */
  findByName(name: string): Promise<UserEntity | null> {
    return this.repo().createQueryBuilder('u').where('lower(u.name) = lower(:name)', { name }).getOne();
  }

  /** An account by its id or its name, as the API and the CLI refer to it. */
  findByRef(ref: string, manager?: EntityManager): Promise<UserEntity | null> {
    const query = this.repo(manager).createQueryBuilder('u');
    return (
      UUID.test(ref) ? query.where('u.id = :ref', { ref }) : query.where('lower(u.name) = lower(:ref)', { ref })
    ).getOne();
  }

  /** A page of accounts in name order, after `afterName` (lower-cased). */
  listAfter(afterName: string | undefined, limit: number): Promise<UserEntity[]> {
    const query = this.repo().createQueryBuilder('u').orderBy('lower(u.name)', 'ASC').limit(limit);
    if (afterName !== undefined) {
      query.where('lower(u.name) > :afterName', { afterName });
    }
    return query.getMany();
  }

  /** Inserts an account; false when the name is taken. */
  async insert(user: Pick<UserEntity, 'id' | 'name' | 'role' | 'passwordHash'>): Promise<boolean> {
    const rows = await this.dataSource.query<unknown[]>(
      `INSERT INTO "gateway"."users" ("id", "name", "role", "password_hash") VALUES ($1, $2, $3, $4)
       ON CONFLICT DO NOTHING RETURNING "id"`,
      [user.id, user.name, user.role, user.passwordHash],
    );
    return rows.length === 1;
  }

  /**
   * Installs the first admin account unless any account exists. The advisory lock makes two
   * gateways starting together install exactly one.
   */
  async insertFirstAdmin(id: string, passwordHash: string): Promise<boolean> {
    return this.dataSource.transaction(async (manager) => {
      await manager.query(`SELECT pg_advisory_xact_lock(hashtext('gateway.first-admin-user'))`);
      if ((await this.repo(manager).count()) > 0) {
        return false;
      }
      await manager.query(
        `INSERT INTO "gateway"."users" ("id", "name", "role", "password_hash") VALUES ($1, 'admin', 'admin', $2)`,
        [id, passwordHash],
      );
      return true;
    });
  }

  /**
   * Runs `work` while no other change to accounts can run (an advisory lock for the
   * transaction), so "is this the last admin?" cannot be raced by two requests.
   */
  inAccountsLock<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(async (manager) => {
      await manager.query(`SELECT pg_advisory_xact_lock(hashtext('gateway.users'))`);
      return work(manager);
    });
  }

  /** Accounts that may still act as admins (enabled), other than `exceptId`. */
  countOtherActiveAdmins(exceptId: string, manager: EntityManager): Promise<number> {
    return this.repo(manager)
      .createQueryBuilder('u')
      .where("u.role = 'admin' AND u.disabled_at IS NULL AND u.id <> :exceptId", { exceptId })
      .getCount();
  }

  async update(id: string, changes: UserChanges, manager: EntityManager): Promise<void> {
    const set: Record<string, unknown> = { updatedAt: () => 'now()' };
    if (changes.role !== undefined) {
      set.role = changes.role;
    }
    if (changes.passwordHash !== undefined) {
      set.passwordHash = changes.passwordHash;
    }
    if (changes.disabled !== undefined) {
      set.disabledAt = changes.disabled ? () => 'now()' : null;
    }
    await this.repo(manager).createQueryBuilder().update().set(set).where('id = :id', { id }).execute();
  }

  async remove(id: string, manager: EntityManager): Promise<void> {
    await this.repo(manager).createQueryBuilder().delete().where('id = :id', { id }).execute();
  }
}
