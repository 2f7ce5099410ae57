import { randomUUID } from 'node:crypto';

import { Inject, Injectable } from '@nestjs/common';

import type { CreatedUser, CreateUserBody, ListUsersQuery, Page, UpdateUserBody, UserView } from '@waggle/contracts';
import { decodeCursor, DEFAULT_PAGE_SIZE, encodeCursor, ErrorCode, WaggleError } from '@waggle/contracts';
import type { Logger } from '@waggle/observability';
import { LOGGER } from '@waggle/service-kit';

import { generatePassword, hashPassword } from './password';
import { SessionRepository } from './session.repository';
import type { UserEntity } from './user.entity';
import { UserRepository } from './user.repository';

interface NameCursor {
  name: string;
}
const isNameCursor = (v: unknown): v is NameCursor => typeof (v as NameCursor | null)?.name === 'string';

export function userView(user: UserEntity): UserView {
  return {
    id: user.id,
    name: user.name,
    role: user.role,
    disabled: user.disabledAt !== null,
    createdAt: user.createdAt.toISOString(),
    lastLoginAt: user.lastLoginAt?.toISOString() ?? null,
  };
}

/** People's accounts: made, changed and removed by admins; the last enabled admin cannot be lost. */
@Injectable()
export class UsersService {
  constructor(
    private readonly users: UserRepository,
    private readonly sessions: SessionRepository,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async list(query: ListUsersQuery): Promise<Page<UserView>> {
    const limit = query.limit ?? DEFAULT_PAGE_SIZE;
    const after = decodeCursor(query.cursor, isNameCursor)?.name;
    const rows = await this.users.listAfter(after, limit + 1);
    const items = rows.slice(0, limit);
    const last = items.at(-1);
    return {
      items: items.map(userView),
      ...(rows.length > limit && last ? { nextCursor: encodeCursor({ name: last.name.toLowerCase() }) } : {}),
    };
  }

  async get(ref: string): Promise<UserView> {
    return userView(await this.find(ref));
  }

  async create(body: CreateUserBody, by: string): Promise<CreatedUser> {
    const password = body.password ?? generatePassword();
    const id = randomUUID();
    const inserted = await this.users.insert({
      id,
      name: body.name,
      role: body.role,
      passwordHash: await hashPassword(password),
    });
    if (!inserted) {
      throw new WaggleError(ErrorCode.Conflict, `a user named ${body.name} exists`);
    }
    this.logger.info({ user: body.name, role: body.role, by }, 'user added');
    const user = await this.find(id);
    return { user: userView(user), ...(body.password ? {} : { password }) };
  }

  async update(ref: string, body: UpdateUserBody, by: string): Promise<UserView> {
    if (body.role === undefined && body.password === undefined && body.disabled === undefined) {
      throw WaggleError.invalid('nothing to change: give role, password or disabled');
    }
    const passwordHash = body.password === undefined ? undefined : await hashPassword(body.password);
    const id = await this.users.inAccountsLock(async (manager) => {
      const user = await this.users.findByRef(ref, manager);
      if (!user) {
        throw WaggleError.notFound('user', ref);
      }
      const losesAdmin =
        user.role === 'admin' && !user.disabledAt && ((body.role && body.role !== 'admin') || body.disabled === true);
      if (losesAdmin && (await this.users.countOtherActiveAdmins(user.id, manager)) === 0) {
        throw new WaggleError(ErrorCode.Conflict, `${user.name} is the last enabled admin; make another admin first`);
      }
      await this.users.update(user.id, { role: body.role, passwordHash, disabled: body.disabled }, manager);
      // A new password or a disabled account ends every session it had (a role change applies at the next request).
      if (passwordHash !== undefined || body.disabled === true) {
        await this.sessions.endAllOf(user.id, manager);
      }
      return user.id;
    });
    this.logger.info(
      {
        user: ref,
        role: body.role,
        disabled: body.disabled,
        password: body.password !== undefined ? 'changed' : undefined,
        by,
      },
      'user changed',
    );
    return this.get(id);
  }

  async remove(ref: string, by: string): Promise<void> {
    await this.users.inAccountsLock(async (manager) => {
      const user = await this.users.findByRef(ref, manager);
      if (!user) {
        throw WaggleError.notFound('user', ref);
      }
      if (
        user.role === 'admin' &&
        !user.disabledAt &&
        (await this.users.countOtherActiveAdmins(user.id, manager)) === 0
      ) {
        throw new WaggleError(ErrorCode.Conflict, `${user.name} is the last enabled admin; make another admin first`);
      }
      // Its sessions go with it (ON DELETE CASCADE).
      await this.users.remove(user.id, manager);
    });
    this.logger.info({ user: ref, by }, 'user removed');
  }

  private async find(ref: string): Promise<UserEntity> {
    const user = await this.users.findByRef(ref);
    if (!user) {
      throw WaggleError.notFound('user', ref);
    }
    return user;
  }
}
