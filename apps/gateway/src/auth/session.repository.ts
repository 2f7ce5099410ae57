import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { EntityManager } from 'typeorm';

import type { Role } from '@waggle/contracts';

/** A live session with its account, as one query answers it. */
export interface LiveSession {
  sessionId: string;
  expiresAt: Date;
  userId: string;
  name: string;
  role: Role;
}

interface LiveSessionRow {
  session_id: string;
  expires_at: Date;
  user_id: string;
  name: string;
  role: Role;
}

const toLive = (row: LiveSessionRow): LiveSession => ({
  sessionId: row.session_id,
  expiresAt: row.expires_at,
  userId: row.user_id,
  name: row.name,
  role: row.role,
});

@Injectable()
export class SessionRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Starts a session of `userId` lasting `idleSeconds`, and records the sign-in on the account. */
  async start(id: string, tokenHash: string, userId: string, idleSeconds: number): Promise<Date> {
    return this.dataSource.transaction(async (manager) => {
      const rows = await manager.query<{ expires_at: Date }[]>(
        `INSERT INTO "gateway"."sessions" ("id", "token_hash", "user_id", "expires_at")
         VALUES ($1, $2, $3, now() + make_interval(secs => $4)) RETURNING "expires_at"`,
        [id, tokenHash, userId, idleSeconds],
      );
      await manager.query(`UPDATE "gateway"."users" SET "last_login_at" = now() WHERE "id" = $1`, [userId]);
      return rows[0]!.expires_at;
    });
  }

  /** The unexpired session of an enabled account holding this cookie hash, left as it is. */
  async findLive(tokenHash: string): Promise<LiveSession | undefined> {
    const rows = await this.dataSource.query<LiveSessionRow[]>(
      `SELECT s."id" AS session_id, s."expires_at", u."id" AS user_id, u."name", u."role"
       FROM "gateway"."sessions" s JOIN "gateway"."users" u ON u."id" = s."user_id"
       WHERE s."token_hash" = $1 AND s."expires_at" > now() AND u."disabled_at" IS NULL`,
      [tokenHash],
    );
    return rows[0] ? toLive(rows[0]) : undefined;
  }

  /** The same, with its end moved to `idleSeconds` from now: one statement per request. */
  async extendLive(tokenHash: string, idleSeconds: number): Promise<LiveSession | undefined> {
    const [rows] = await this.dataSource.query<[LiveSessionRow[], number]>(
      `UPDATE "gateway"."sessions" s SET "expires_at" = now() + make_interval(secs => $2)
       FROM "gateway"."users" u
       WHERE s."token_hash" = $1 AND s."expires_at" > now() AND u."id" = s."user_id" AND u."disabled_at" IS NULL
       RETURNING s."id" AS session_id, s."expires_at", u."id" AS user_id, u."name", u."role"`,
      [tokenHash, idleSeconds],
    );
    return rows[0] ? toLive(rows[0]) : undefined;
  }

  /** Ends the session holding this cookie hash (signing out). */
  async endByHash(tokenHash: string): Promise<void> {
    await this.dataSource.query(`DELETE FROM "gateway"."sessions" WHERE "token_hash" = $1`, [tokenHash]);
  }

  /** Ends every session of an account (its password changed, or it was disabled). */
  async endAllOf(userId: string, manager: EntityManager = this.dataSource.manager): Promise<void> {
    await manager.query(`DELETE FROM "gateway"."sessions" WHERE "user_id" = $1`, [userId]);
  }

  /** Deletes sessions that ended; returns how many. */
  async pruneExpired(): Promise<number> {
    const [, count] = await this.dataSource.query<[unknown, number]>(
      `DELETE FROM "gateway"."sessions" WHERE "expires_at" <= now()`,
    );
    return count;
  }
}
