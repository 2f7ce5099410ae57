import type { MigrationInterface, QueryRunner } from 'typeorm';

export class Vault1764800000000 implements MigrationInterface {
  name = 'Vault1764800000000';

  async up(q: QueryRunner): Promise<void> {
    // The master key's check value (one row): a vault started with another key refuses to start.
    // Beside it, the seed of the vault's transport curve key (values travel to the vault sealed
    // to its public half), wrapped by the master key: every replica holds the same one.
    await q.query(`CREATE TABLE "vault"."master_key" (
      "id" integer PRIMARY KEY CHECK ("id" = 1),
      "check_value" bytea NOT NULL,
      "transport_seed" bytea NOT NULL,
      "changed_at" timestamptz NOT NULL DEFAULT now()
    )`);
    // Key versions: random keys, each wrapped by the master key; they wrap the data keys.
    // A retired version's key is destroyed (NULL): nothing is wrapped under it any more.
    await q.query(`CREATE TABLE "vault"."key_versions" (
      "version" integer PRIMARY KEY,
      "state" text NOT NULL CHECK ("state" IN ('active', 'retiring', 'retired')),
      "wrapped_key" bytea,
      "created_at" timestamptz NOT NULL DEFAULT now(),
      "retired_at" timestamptz,
      CHECK (("state" = 'retired') = ("wrapped_key" IS NULL))
    )`);
    await q.query(
      `CREATE UNIQUE INDEX "key_versions_one_active" ON "vault"."key_versions" (("state")) WHERE "state" = 'active'`,
    );
    // A secret: its value under its own data key (AES-256-GCM, the id, name and scope as associated data),
    // the data key wrapped under a key version. Never a plaintext column.
    await q.query(`CREATE TABLE "vault"."secrets" (
      "id" uuid PRIMARY KEY,
      "name" text NOT NULL,
      "project" text NOT NULL DEFAULT '',
      "machine_label" text,
      "category" text NOT NULL,
      "description" text,
      "key_version" integer NOT NULL REFERENCES "vault"."key_versions" ("version"),
      "wrapped_key" bytea NOT NULL,
      "nonce" bytea NOT NULL,
      "ciphertext" bytea NOT NULL,
      "tag" bytea NOT NULL,
      "created_at" timestamptz NOT NULL DEFAULT now(),
      "updated_at" timestamptz NOT NULL DEFAULT now(),
      "last_accessed_at" timestamptz,
      "access_count" integer NOT NULL DEFAULT 0
    )`);
    await q.query(`CREATE UNIQUE INDEX "secrets_name_per_scope" ON "vault"."secrets" ("project", "name")`);
    await q.query(`CREATE INDEX "secrets_key_version" ON "vault"."secrets" ("key_version")`);
    await q.query(`CREATE INDEX "secrets_list" ON "vault"."secrets" ("created_at" DESC, "id" DESC)`);
    // Who did what to which secret, when, from where (the tracker's activity log will carry it too).
    await q.query(`CREATE TABLE "vault"."audit" (
      "id" uuid PRIMARY KEY,
      "at" timestamptz NOT NULL DEFAULT now(),
      "action" text NOT NULL,
      "secret_id" uuid,
      "secret_name" text,
      "scope" text,
      "actor" jsonb NOT NULL,
      "detail" jsonb
    )`);
    await q.query(`CREATE INDEX "audit_newest" ON "vault"."audit" ("at" DESC, "id" DESC)`);
    await q.query(`CREATE INDEX "audit_secret" ON "vault"."audit" ("secret_id", "at" DESC)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "vault"."audit"`);
    await q.query(`DROP TABLE "vault"."secrets"`);
    await q.query(`DROP TABLE "vault"."key_versions"`);
    await q.query(`DROP TABLE "vault"."master_key"`);
  }
}
