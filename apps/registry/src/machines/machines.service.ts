import { randomUUID } from 'node:crypto';

import { Inject, Injectable } from '@nestjs/common';
import type { OnModuleInit } from '@nestjs/common';
import type { NatsConnection } from 'nats';
import type { EntityManager } from 'typeorm';

import type {
  GoodbyeReply,
  HeartbeatPayload,
  HelloReply,
  JoinRequest,
  JoinResponse,
  ListMachinesRequest,
  MachinePrincipal,
  MachineView,
  Page,
  SetMachinePermissionRequest,
} from '@waggle/contracts';
import { assertSameRequest, ErrorCode, RESERVED_NAMES, WaggleError } from '@waggle/contracts';
import { derivedToken, hashToken, isUserPublicKey, newToken, newTokenSalt, TokenPrefix } from '@waggle/credentials';
import { ensureMachineConsumers, removeMachineConsumers } from '@waggle/messaging';
import type { Logger } from '@waggle/observability';
import { event } from '@waggle/outbox';
import { LOGGER, NATS, TransactionsService } from '@waggle/service-kit';

import { RegistryMetrics } from '../infrastructure/registry.metrics';
import { JoinTokenRepository } from '../join-tokens/join-token.repository';
import { NatsAccessService } from '../nats-auth/nats-access.service';
import { RegistryConfig } from '../registry.config';
import type { MachineEntity } from './machine.entity';
import type { NamedMachine } from './machine.repository';
import { MachineRepository } from './machine.repository';

export function toMachineView(m: MachineEntity): MachineView {
  return {
    id: m.id,
    name: m.name,
    status: m.status,
    permissions: m.permissions,
    labels: m.labels,
    capabilityTags: m.capabilityTags,
    capabilities: m.capabilities,
    metrics: m.metrics,
    agentVersion: m.agentVersion,
    lastSeenAt: m.lastSeenAt?.toISOString() ?? null,
    joinedAt: m.joinedAt.toISOString(),
    revokedAt: m.revokedAt?.toISOString() ?? null,
  };
}

@Injectable()
export class MachinesService implements OnModuleInit {
  constructor(
    private readonly config: RegistryConfig,
    private readonly machines: MachineRepository,
    private readonly joinTokens: JoinTokenRepository,
    private readonly tx: TransactionsService,
    private readonly natsAccess: NatsAccessService,
    private readonly metrics: RegistryMetrics,
    @Inject(NATS) private readonly nc: NatsConnection,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  onModuleInit() {
    this.metrics.countMachinesWith(() => this.machines.countByStatus());
  }

  /**
   * A machine joins: its NATS user is signed, its row and the join token's use are written
   * in one transaction. With an Idempotency-Key (the agent sends one per join), a repeat
   * after a lost answer returns the same credentials: the API token is derived from the
   * key's seed and a stored salt, so only its hash is kept.
   */
  async join(request: JoinRequest): Promise<JoinResponse> {
    if (RESERVED_NAMES.has(request.name.toLowerCase())) {
      throw WaggleError.invalid(`"${request.name}" is reserved`, [
        { field: 'name', errors: [`name "${request.name}" is reserved`] },
      ]);
    }
    if (!isUserPublicKey(request.natsPublicKey)) {
      throw WaggleError.invalid('natsPublicKey is not a valid NATS user public key', [
        { field: 'natsPublicKey', errors: ['checksum or prefix is wrong'] },
      ]);
    }
    const key = request.idempotencyKey;
    const ttl = this.config.WAGGLE_IDEMPOTENCY_TTL_SECONDS;
    const earlier = key ? await this.machines.findByIdempotencyKey(key, ttl) : null;
    if (earlier) {
      return this.joinedAgain(earlier, request);
    }
    const id = randomUUID();
    const salt = key && request.idempotencySeed ? newTokenSalt() : null;
    const apiToken = salt
      ? derivedToken(TokenPrefix.machine, request.idempotencySeed!, salt)
      : newToken(TokenPrefix.machine);
    // Signed before anything is stored: a join either completes whole or leaves nothing behind.
    const natsJwt = await this.natsAccess.issue(id, request.natsPublicKey);
    let machine: MachineEntity;
    try {
      machine = await this.tx.run(async (manager) => {
        if (!(await this.joinTokens.consumeUse(manager, hashToken(request.joinToken)))) {
          throw new WaggleError(ErrorCode.Unauthenticated, 'join token is unknown, expired or used up');
        }
        if (await this.machines.isNameTaken(request.name, manager)) {
          throw new WaggleError(ErrorCode.Conflict, `a machine named "${request.name}" already exists`, {
            name: request.name,
          });
        }
        const row = await this.machines.insert(manager, {
          id,
          name: request.name,
          labels: request.labels ?? [],
          natsPublicKey: request.natsPublicKey,
          tokenHash: hashToken(apiToken),
          heartbeatIntervalMs: this.config.WAGGLE_HEARTBEAT_INTERVAL_MS,
          idempotencyKey: key ?? null,
          idempotencyFingerprint: key ? (request.idempotencyFingerprint ?? null) : null,
          tokenSalt: salt,
        });
        return { result: row, outbox: [event(randomUUID(), 'machine.joined', { machineId: id, name: row.name })] };
      });
    } catch (error) {
      // A concurrent join with the same key won (this one's use of the join token rolled back).
      const winner = key ? await this.machines.findByIdempotencyKey(key, ttl).catch(() => null) : null;
      if (winner) {
        return this.joinedAgain(winner, request);
      }
      throw error;
    }
    await ensureMachineConsumers(await this.nc.jetstreamManager(), id);
    this.logger.info({ machineId: id, name: machine.name }, 'machine joined');
    return this.joinResponse(machine, apiToken, natsJwt);
  }

  /** The credentials an earlier join with the same key made, shown again (its NATS user signed anew for the same key). */
  private async joinedAgain(machine: MachineEntity, request: JoinRequest): Promise<JoinResponse> {
    assertSameRequest(machine.idempotencyFingerprint, request.idempotencyFingerprint);
    if (machine.revokedAt) {
      throw new WaggleError(ErrorCode.Conflict, `machine "${machine.name}", which joined with this key, was revoked`);
    }
    const apiToken =
      machine.tokenSalt && request.idempotencySeed
        ? derivedToken(TokenPrefix.machine, request.idempotencySeed, machine.tokenSalt)
        : undefined;
    if (!apiToken || hashToken(apiToken) !== machine.tokenHash) {
      throw new WaggleError(
        ErrorCode.Conflict,
        `machine "${machine.name}" joined with this key and its credential was shown once; join again with a new key and name`,
      );
    }
    const natsJwt = await this.natsAccess.issue(machine.id, machine.natsPublicKey);
    await ensureMachineConsumers(await this.nc.jetstreamManager(), machine.id);
    this.logger.info({ machineId: machine.id, name: machine.name }, 'machine join repeated');
    return this.joinResponse(machine, apiToken, natsJwt);
  }

  private joinResponse(machine: MachineEntity, apiToken: string, natsJwt: string): JoinResponse {
    return {
      machineId: machine.id,
      name: machine.name,
      apiToken,
      natsJwt,
      natsUrl: this.config.WAGGLE_NATS_PUBLIC_URL ?? this.config.WAGGLE_NATS_URL,
      heartbeatIntervalMs: this.config.WAGGLE_HEARTBEAT_INTERVAL_MS,
    };
  }

  /** Grants or withdraws a permission; a change is announced (`machine.permissions_changed`). */
  async setPermission(request: SetMachinePermissionRequest): Promise<MachineView> {
    const target = await this.require(request.machine);
    if (target.revokedAt) {
      throw new WaggleError(ErrorCode.Conflict, `machine "${target.name}" is revoked`);
    }
    const changed = await this.tx.run(async (manager) => {
      const row = await this.machines.setPermission(manager, target.id, request.permission, request.granted);
      return {
        result: row,
        outbox: row
          ? [
              event(randomUUID(), 'machine.permissions_changed', {
                machineId: row.id,
                name: row.name,
                permissions: row.permissions,
              }),
            ]
          : [],
      };
    });
    if (changed) {
      this.logger.info(
        { machineId: changed.id, name: changed.name, permission: request.permission, granted: request.granted },
        request.granted ? 'machine permission granted' : 'machine permission withdrawn',
      );
    }
    return toMachineView(changed ?? (await this.require(target.id)));
  }

  async list(query: ListMachinesRequest): Promise<Page<MachineView>> {
    const page = await this.machines.list(query);
    return { items: page.items.map(toMachineView), nextCursor: page.nextCursor };
  }

  async get(ref: string): Promise<MachineView> {
    return toMachineView(await this.require(ref));
  }

  /** The machine by id or name; `manager` looks it up inside the caller's transaction. */
  async require(ref: string, manager?: EntityManager): Promise<MachineEntity> {
    const machine = await this.machines.findByRef(ref, manager);
    if (!machine) {
      throw WaggleError.notFound('machine', ref);
    }
    return machine;
  }

  /** Revokes at once: API token refused, NATS user revoked and disconnected, its queues dropped. */
  async revoke(ref: string): Promise<MachineView> {
    const target = await this.require(ref);
    const revoked = await this.tx.run(async (manager) => {
      const row = await this.machines.revoke(manager, target.id);
      if (!row) {
        throw new WaggleError(ErrorCode.Conflict, `machine "${target.name}" is already revoked`);
      }
      return { result: row, outbox: [event(randomUUID(), 'machine.revoked', { machineId: row.id, name: row.name })] };
    });
    await this.natsAccess.pushRevocations();
    await removeMachineConsumers(await this.nc.jetstreamManager(), revoked.id);
    this.logger.info({ machineId: revoked.id, name: revoked.name }, 'machine revoked');
    return toMachineView(revoked);
  }

  async verifyToken(token: string): Promise<MachinePrincipal> {
    const machine = token.startsWith(TokenPrefix.machine)
      ? await this.machines.findActiveByTokenHash(hashToken(token))
      : null;
    if (!machine) {
      throw new WaggleError(ErrorCode.Unauthenticated, 'machine credential is unknown or revoked');
    }
    return { machineId: machine.id, name: machine.name };
  }

  /** A machine (re)introduces itself: it is recorded online at once and its inbox consumer exists. */
  async hello(machineId: string, payload: HeartbeatPayload): Promise<HelloReply> {
    const machine = await this.machines.findActiveById(machineId);
    if (!machine) {
      throw new WaggleError(ErrorCode.Forbidden, 'this machine is unknown or revoked');
    }
    await this.recordHeartbeats([{ machineId, payload }]);
    await ensureMachineConsumers(await this.nc.jetstreamManager(), machineId);
    return { machineId, name: machine.name };
  }

  /** Returns the machines whose heartbeat was recorded (revoked ones are not). */
  async recordHeartbeats(beats: { machineId: string; payload: HeartbeatPayload }[]): Promise<NamedMachine[]> {
    if (!beats.length) {
      return [];
    }
    return this.tx.run(async (manager) => {
      const { cameOnline: online, seen } = await this.machines.recordHeartbeats(manager, beats);
      return {
        result: seen,
        outbox: online.map((m) => event(randomUUID(), 'machine.online', { machineId: m.id, name: m.name })),
      };
    });
  }

  /** Marks silent machines offline; returns when the next one can go silent (null: none is online). */
  async sweepPresence(): Promise<Date | null> {
    return this.tx.run(async (manager) => {
      const missed = this.config.WAGGLE_OFFLINE_AFTER_MISSED;
      const offline = await this.machines.markSilentOffline(manager, missed);
      return {
        result: await this.machines.nextSilenceDeadline(manager, missed),
        outbox: offline.map(offlineEvent),
      };
    });
  }

  /** A machine that stops says goodbye: offline at once, not after its missed heartbeats. */
  async goodbye(machineId: string): Promise<GoodbyeReply> {
    return this.tx.run(async (manager) => {
      const offline = await this.machines.markOffline(manager, machineId);
      return { result: { offline: !!offline }, outbox: offline ? [offlineEvent(offline)] : [] };
    });
  }
}

function offlineEvent(m: { id: string; name: string; last_seen_at: Date | null }) {
  return event(randomUUID(), 'machine.offline', {
    machineId: m.id,
    name: m.name,
    lastSeenAt: m.last_seen_at ? new Date(m.last_seen_at).toISOString() : null,
  });
}
