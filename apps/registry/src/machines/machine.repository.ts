import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { EntityManager } from 'typeorm';

import type {
  Capabilities,
  HeartbeatPayload,
  ListMachinesRequest,
  MachineMetrics,
  MachinePermission,
  MachineStatus,
  Page,
} from '@waggle/contracts';
import {
  capabilityTags,
  decodeCursor,
  DEFAULT_PAGE_SIZE,
  encodeCursor,
  idPrefixRange,
  oneMatch,
} from '@waggle/contracts';
import type { IdempotentTable } from '@waggle/persistence';
import { findByIdempotencyKey, updateReturning } from '@waggle/persistence';

import { MachineEntity } from './machine.entity';

export interface NamedMachine {
  id: string;
  name: string;
}

interface Cursor {
  name: string;
  id: string;
}
const isCursor = (v: unknown): v is Cursor =>
  typeof v === 'object' && v !== null && typeof (v as Cursor).name === 'string' && typeof (v as Cursor).id === 'string';

/** Machines keep the Idempotency-Key of their join (and the salt of their API token) for its lifetime. */
export const MACHINE_KEYS: IdempotentTable = {
  table: '"registry"."machines"',
  createdAt: 'joined_at',
  alsoClear: ['token_salt'],
};

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

@Injectable()
export class MachineRepository {
  constructor(private readonly dataSource: DataSource) {}

  private repo(manager: EntityManager = this.dataSource.manager) {
    return manager.getRepository(MachineEntity);
  }

  /** By id, or by name among machines that are not revoked. */
  async findByRef(ref: string, manager?: EntityManager): Promise<MachineEntity | null> {
    if (UUID.test(ref)) {
      const byId = await this.repo(manager).findOneBy({ id: ref });
      if (byId) {
        return byId;
      }
    }
    const byName = await this.repo(manager)
      .createQueryBuilder('m')
      .where('m.name = :ref AND m.revoked_at IS NULL', { ref })
      .getOne();
    const range = byName || UUID.test(ref) ? undefined : idPrefixRange(ref);
    if (!range) {
      return byName;
    }
    // The first characters of an id, as in git and docker: the one machine whose id starts so.
    const matches = await this.repo(manager)
      .createQueryBuilder('m')
      .where('m.id BETWEEN :lo AND :hi', range)
      .orderBy('m.id')
      .limit(6)
      .getMany();
    const id = matches.length
      ? oneMatch(
          'machine',
          ref,
          matches.map((m) => m.id),
        )
      : undefined;
    return matches.find((m) => m.id === id) ?? null;
  }

  /**
   * Many references at once, as findByRef resolves each: by id (revoked ones too), else by
   * name among machines not revoked. Unknown references are absent from the map.
   */
  async findByRefs(
    manager: EntityManager,
    refs: string[],
  ): Promise<Map<string, { id: string; name: string; revoked: boolean }>> {
    const ids = refs.filter((r) => UUID.test(r)).map((r) => r.toLowerCase());
    const rows = await manager.query<{ id: string; name: string; revoked: boolean }[]>(
      `SELECT "id", "name", "revoked_at" IS NOT NULL AS "revoked" FROM "registry"."machines"
       WHERE "id" = ANY($1::uuid[]) OR ("name" = ANY($2::text[]) AND "revoked_at" IS NULL)`,
      [ids, refs],
    );
    const found = new Map<string, { id: string; name: string; revoked: boolean }>();
    for (const row of rows.filter((r) => !r.revoked)) {
      found.set(row.name, row);
    }
    // An id wins over a name that happens to look like one, as in findByRef.
    for (const row of rows) {
      found.set(row.id, row);
    }
    return found;
  }

  async findActiveById(id: string): Promise<MachineEntity | null> {
    return this.repo().createQueryBuilder('m').where('m.id = :id AND m.revoked_at IS NULL', { id }).getOne();
  }

  async findActiveByTokenHash(tokenHash: string): Promise<MachineEntity | null> {
    return this.repo()
      .createQueryBuilder('m')
      .where('m.token_hash = :tokenHash AND m.revoked_at IS NULL', { tokenHash })
      .getOne();
  }

  async isNameTaken(name: string, manager?: EntityManager): Promise<boolean> {
    return (
      (await this.repo(manager)
        .createQueryBuilder('m')
        .where('m.name = :name AND m.revoked_at IS NULL', { name })
        .getCount()) > 0
    );
  }

  async findAllActive(manager?: EntityManager): Promise<NamedMachine[]> {
    return this.repo(manager)
      .createQueryBuilder('m')
      .select(['m.id', 'm.name'])
      .where('m.revoked_at IS NULL')
      .orderBy('m.name')
      .getMany();
  }

  async countByStatus(): Promise<Partial<Record<MachineStatus, number>>> {
    const rows = await this.dataSource.query<{ status: MachineStatus; n: number }[]>(
      `SELECT "status", count(*)::int AS n FROM "registry"."machines" GROUP BY "status"`,
    );
    return Object.fromEntries(rows.map((r) => [r.status, r.n]));
  }

  async findRevokedPublicKeys(): Promise<{ natsPublicKey: string; revokedAt: Date }[]> {
    const rows = await this.repo()
      .createQueryBuilder('m')
      .select(['m.natsPublicKey', 'm.revokedAt'])
      .where('m.revoked_at IS NOT NULL')
      .getMany();
    return rows.map((r) => ({ natsPublicKey: r.natsPublicKey, revokedAt: r.revokedAt! }));
  }

  async insert(
    manager: EntityManager,
    machine: Pick<
      MachineEntity,
      | 'id'
      | 'name'
      | 'labels'
      | 'natsPublicKey'
      | 'tokenHash'
      | 'heartbeatIntervalMs'
      | 'idempotencyKey'
      | 'idempotencyFingerprint'
      | 'tokenSalt'
    >,
  ): Promise<MachineEntity> {
    await this.repo(manager)
      .createQueryBuilder()
      .insert()
      .values({ ...machine, status: 'offline', capabilityTags: [], permissions: [] })
      .execute();
    return (await this.repo(manager).findOneBy({ id: machine.id }))!;
  }

  /** The machine a join with this (live) key made. */
  async findByIdempotencyKey(key: string, ttlSeconds: number): Promise<MachineEntity | null> {
    const row = await findByIdempotencyKey<{ id: string }>(this.dataSource, MACHINE_KEYS, key, ttlSeconds);
    return row ? this.repo().findOneBy({ id: row.id }) : null;
  }

  /**
   * Grants or withdraws one permission of a machine that is not revoked. Returns the machine
   * if that changed something, null if it already was so (or the machine is revoked).
   */
  async setPermission(
    manager: EntityManager,
    id: string,
    permission: MachinePermission,
    granted: boolean,
  ): Promise<MachineEntity | null> {
    const rows = await updateReturning<{ id: string }>(
      manager,
      `UPDATE "registry"."machines"
       SET "permissions" = CASE WHEN $3 THEN array_append("permissions", $2) ELSE array_remove("permissions", $2) END
       WHERE "id" = $1 AND "revoked_at" IS NULL AND ($2 = ANY("permissions")) <> $3
       RETURNING "id"`,
      [id, permission, granted],
    );
    return rows.length ? this.repo(manager).findOneBy({ id }) : null;
  }

  /** Marks the machine revoked; returns it, or null if it was already revoked. */
  async revoke(manager: EntityManager, id: string): Promise<MachineEntity | null> {
    const result = await this.repo(manager)
      .createQueryBuilder()
      .update()
      .set({ status: 'revoked', revokedAt: () => 'now()' })
      .where('id = :id AND revoked_at IS NULL', { id })
      .returning('*')
      .execute();
    const rows = result.raw as unknown[];
    return rows.length ? (await this.repo(manager).findOneBy({ id }))! : null;
  }

  async list(query: ListMachinesRequest): Promise<Page<MachineEntity>> {
    const limit = query.limit ?? DEFAULT_PAGE_SIZE;
    const qb = this.repo()
      .createQueryBuilder('m')
      .orderBy('m.name')
      .addOrderBy('m.id')
      .take(limit + 1);
    if (query.status) {
      qb.andWhere('m.status = :status', { status: query.status });
    } else {
      qb.andWhere('m.revoked_at IS NULL');
    }
    if (query.capability) {
      qb.andWhere(':capability = ANY(m.capability_tags)', { capability: query.capability });
    }
    if (query.label) {
      qb.andWhere(':label = ANY(m.labels)', { label: query.label });
    }
    const after = decodeCursor(query.cursor, isCursor);
    if (after) {
      qb.andWhere('(m.name, m.id) > (:name, :id)', after);
    }
    const rows = await qb.getMany();
    const items = rows.slice(0, limit);
    const last = items.at(-1);
    return {
      items,
      nextCursor: rows.length > limit && last ? encodeCursor({ name: last.name, id: last.id }) : undefined,
    };
  }

  /** Records a batch of heartbeats in one statement; returns machines that were offline and are online now. */
  async recordHeartbeats(
    manager: EntityManager,
    beats: { machineId: string; payload: HeartbeatPayload }[],
  ): Promise<{ cameOnline: NamedMachine[]; seen: NamedMachine[] }> {
    const rows = beats.map(({ machineId, payload }) => ({
      id: machineId,
      metrics: payload.metrics satisfies MachineMetrics,
      capabilities: payload.capabilities satisfies Capabilities,
      tags: capabilityTags(payload.capabilities),
      labels: payload.capabilities.labels,
      agent_version: payload.agentVersion,
      interval: payload.intervalMs,
    }));
    const cameOnline = await updateReturning<NamedMachine>(
      manager,
      `UPDATE "registry"."machines" SET "status" = 'online'
       WHERE "id" = ANY($1::uuid[]) AND "status" = 'offline' AND "revoked_at" IS NULL
       RETURNING "id", "name"`,
      [rows.map((r) => r.id)],
    );
    const seen = await updateReturning<NamedMachine>(
      manager,
      `UPDATE "registry"."machines" AS m SET
         "last_seen_at" = now(), "metrics" = v.metrics, "capabilities" = v.capabilities,
         "capability_tags" = v.tags, "labels" = v.labels, "agent_version" = v.agent_version,
         "heartbeat_interval_ms" = v.interval
       FROM jsonb_to_recordset($1::jsonb) AS v(id uuid, metrics jsonb, capabilities jsonb, tags text[], labels text[], agent_version text, interval integer)
       WHERE m."id" = v.id AND m."revoked_at" IS NULL
       RETURNING m."id", m."name"`,
      [JSON.stringify(rows)],
    );
    return { cameOnline, seen };
  }

  /** When the first online machine goes silent for `missed` heartbeats, by the database's clock; null: none online. */
  async nextSilenceDeadline(manager: EntityManager, missed: number): Promise<Date | null> {
    const [row] = await manager.query<{ at: Date | null; now: Date }[]>(
      `SELECT min(COALESCE("last_seen_at", now()) + ("heartbeat_interval_ms" * $1) * interval '1 millisecond') AS "at", now() AS "now"
       FROM "registry"."machines" WHERE "status" = 'online' AND "revoked_at" IS NULL`,
      [missed],
    );
    // As a time on this host's clock: the wait is what the database says is left.
    return row?.at ? new Date(Date.now() + (new Date(row.at).getTime() - new Date(row.now).getTime())) : null;
  }

  /** Online machines whose last heartbeat is older than `missed` of their own intervals become offline. */
  async markSilentOffline(
    manager: EntityManager,
    missed: number,
  ): Promise<(NamedMachine & { last_seen_at: Date | null })[]> {
    const result = await updateReturning<NamedMachine & { last_seen_at: Date | null }>(
      manager,
      `UPDATE "registry"."machines" SET "status" = 'offline'
       WHERE "status" = 'online' AND "revoked_at" IS NULL
         AND ("last_seen_at" IS NULL OR "last_seen_at" < now() - ("heartbeat_interval_ms" * $1) * interval '1 millisecond')
       RETURNING "id", "name", "last_seen_at"`,
      [missed],
    );
    return result;
  }

  /** The machine said goodbye: offline now, if it was online. */
  async markOffline(
    manager: EntityManager,
    machineId: string,
  ): Promise<(NamedMachine & { last_seen_at: Date | null }) | undefined> {
    const [row] = await updateReturning<NamedMachine & { last_seen_at: Date | null }>(
      manager,
      `UPDATE "registry"."machines" SET "status" = 'offline'
       WHERE "id" = $1 AND "status" = 'online' AND "revoked_at" IS NULL
       RETURNING "id", "name", "last_seen_at"`,
      [machineId],
    );
    return row;
  }
}
