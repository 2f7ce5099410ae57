import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

import type { SecretCategory, TimeCursor } from '@waggle/contracts';
import { updateReturning } from '@waggle/persistence';

import { CURSOR_AT } from '../audit/audit.repository';

/** A secret's row: metadata, and its value only as ciphertext under a wrapped data key. */
export interface SecretRow {
  id: string;
  name: string;
  /** '' for a global secret. */
  project: string;
  /** Only machines with this label receive it. */
  machine_label: string | null;
  category: SecretCategory;
  description: string | null;
  key_version: number;
  wrapped_key: Buffer;
  nonce: Buffer;
  ciphertext: Buffer;
  tag: Buffer;
  created_at: Date;
  updated_at: Date;
  last_accessed_at: Date | null;
  access_count: number;
  /** Set by list(): the row's time to the microsecond. */
  cursor_at?: string;
}

/** The encrypted parts a write stores. */
export interface EncryptedValue {
  keyVersion: number;
  wrappedKey: Buffer;
  nonce: Buffer;
  ciphertext: Buffer;
  tag: Buffer;
}

const COLUMNS = `"id", "name", "project", "machine_label", "category", "description", "key_version", "wrapped_key", "nonce", "ciphertext", "tag",
  "created_at", "updated_at", "last_accessed_at", "access_count"`;

/**
 * Writes of a value hold their key version's row FOR SHARE and insist it is active: a rotation
 * that has moved on waits for them, and they never store a data key under a retiring version.
 */
const ACTIVE_VERSION = `(SELECT "version" FROM "vault"."key_versions" WHERE "version" = $KV AND "state" = 'active' FOR SHARE)`;

@Injectable()
export class SecretRepository {
  constructor(private readonly db: DataSource) {}

  /** Inserts a secret; null when its key version stopped being active meanwhile (re-encrypt and retry). Throws 23505 on a duplicate name. */
  async insert(
    row: {
      id: string;
      name: string;
      project: string;
      machine_label: string | null;
      category: SecretCategory;
      description: string | null;
    },
    value: EncryptedValue,
  ): Promise<SecretRow | null> {
    const rows = await this.db.query<SecretRow[]>(
      `INSERT INTO "vault"."secrets" ("id", "name", "project", "category", "description", "key_version", "wrapped_key", "nonce", "ciphertext", "tag", "machine_label")
       SELECT $1, $2, $3, $4, $5, v."version", $7, $8, $9, $10, $11 FROM ${ACTIVE_VERSION.replace('$KV', '$6')} v
       RETURNING ${COLUMNS}`,
      [
        row.id,
        row.name,
        row.project,
        row.category,
        row.description,
        value.keyVersion,
        value.wrappedKey,
        value.nonce,
        value.ciphertext,
        value.tag,
        row.machine_label,
      ],
    );
    return rows[0] ?? null;
  }

  async findById(id: string): Promise<SecretRow | null> {
    const rows = await this.db.query<SecretRow[]>(`SELECT ${COLUMNS} FROM "vault"."secrets" WHERE "id" = $1`, [id]);
    return rows[0] ?? null;
  }

  async findByName(project: string, name: string): Promise<SecretRow | null> {
    const rows = await this.db.query<SecretRow[]>(
      `SELECT ${COLUMNS} FROM "vault"."secrets" WHERE "project" = $1 AND "name" = $2`,
      [project, name],
    );
    return rows[0] ?? null;
  }

  /** Newest first, by (created_at, id). `project` '' means global only. */
  async list(filter: { project?: string; category?: SecretCategory }, after: TimeCursor | undefined, limit: number) {
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.project !== undefined) {
      params.push(filter.project);
      where.push(`"project" = $${params.length}`);
    }
    if (filter.category) {
      params.push(filter.category);
      where.push(`"category" = $${params.length}`);
    }
    if (after) {
      params.push(after.at, after.id);
      where.push(`("created_at", "id") < ($${params.length - 1}::timestamptz, $${params.length}::uuid)`);
    }
    params.push(limit);
    return this.db.query<SecretRow[]>(
      `SELECT ${COLUMNS}, ${CURSOR_AT('created_at')} FROM "vault"."secrets" ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY "created_at" DESC, "id" DESC LIMIT $${params.length}`,
      params,
    );
  }

  /** A new value (under a new data key) and/or metadata; null when the key version stopped being active meanwhile. */
  async update(
    id: string,
    meta: { category?: SecretCategory; description?: string },
    value: EncryptedValue | undefined,
  ): Promise<SecretRow | null> {
    if (!value) {
      const rows = await updateReturning<SecretRow>(
        this.db,
        `UPDATE "vault"."secrets" SET "category" = COALESCE($2, "category"), "description" = COALESCE($3, "description"), "updated_at" = now()
         WHERE "id" = $1 RETURNING ${COLUMNS}`,
        [id, meta.category ?? null, meta.description ?? null],
      );
      return rows[0] ?? null;
    }
    const rows = await updateReturning<SecretRow>(
      this.db,
      `UPDATE "vault"."secrets" s SET "category" = COALESCE($2, s."category"), "description" = COALESCE($3, s."description"),
         "key_version" = v."version", "wrapped_key" = $5, "nonce" = $6, "ciphertext" = $7, "tag" = $8, "updated_at" = now()
       FROM ${ACTIVE_VERSION.replace('$KV', '$4')} v
       WHERE s."id" = $1 RETURNING ${COLUMNS.split(', ')
         .map((c) => `s.${c.trim()}`)
         .join(', ')}`,
      [
        id,
        meta.category ?? null,
        meta.description ?? null,
        value.keyVersion,
        value.wrappedKey,
        value.nonce,
        value.ciphertext,
        value.tag,
      ],
    );
    return rows[0] ?? null;
  }

  async delete(id: string): Promise<SecretRow | null> {
    const rows = await updateReturning<SecretRow>(
      this.db,
      `DELETE FROM "vault"."secrets" WHERE "id" = $1 RETURNING ${COLUMNS}`,
      [id],
    );
    return rows[0] ?? null;
  }

  /** Counts a reveal or a task's use. */
  async touch(ids: string[]): Promise<void> {
    await this.db.query(
      `UPDATE "vault"."secrets" SET "access_count" = "access_count" + 1, "last_accessed_at" = now() WHERE "id" = ANY($1::uuid[])`,
      [ids],
    );
  }

  /** Up to `limit` data keys still wrapped under `version` (a rotation's next batch). */
  async wrappedUnder(version: number, limit: number): Promise<{ id: string; wrapped_key: Buffer }[]> {
    return this.db.query(
      `SELECT "id", "wrapped_key" FROM "vault"."secrets" WHERE "key_version" = $1 ORDER BY "id" LIMIT $2`,
      [version, limit],
    );
  }

  /** Re-wrapped data keys, in one transaction; a row whose value changed meanwhile (another version) is left alone. */
  async rewrap(from: number, to: number, rows: { id: string; wrapped: Buffer }[]): Promise<void> {
    await this.db.transaction(async (m) => {
      await m.query(
        `UPDATE "vault"."secrets" s SET "key_version" = $2, "wrapped_key" = r."wrapped"
         FROM unnest($3::uuid[], $4::bytea[]) AS r("id", "wrapped")
         WHERE s."id" = r."id" AND s."key_version" = $1`,
        [from, to, rows.map((r) => r.id), rows.map((r) => r.wrapped)],
      );
    });
  }
}
