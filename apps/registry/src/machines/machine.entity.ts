import { Column, Entity, PrimaryColumn } from 'typeorm';

import type { Capabilities, MachineMetrics, MachinePermission, MachineStatus } from '@waggle/contracts';

@Entity({ name: 'machines' })
export class MachineEntity {
  @PrimaryColumn('uuid')
  id!: string;

  @Column('text')
  name!: string;

  @Column('text')
  status!: MachineStatus;

  @Column('text', { array: true })
  labels!: string[];

  @Column('text', { name: 'capability_tags', array: true })
  capabilityTags!: string[];

  @Column('jsonb', { nullable: true })
  capabilities!: Capabilities | null;

  @Column('jsonb', { nullable: true })
  metrics!: MachineMetrics | null;

  @Column('text', { name: 'agent_version', nullable: true })
  agentVersion!: string | null;

  @Column('integer', { name: 'heartbeat_interval_ms' })
  heartbeatIntervalMs!: number;

  @Column('text', { name: 'nats_public_key' })
  natsPublicKey!: string;

  @Column('text', { name: 'token_hash' })
  tokenHash!: string;

  @Column('timestamptz', { name: 'last_seen_at', nullable: true })
  lastSeenAt!: Date | null;

  @Column('timestamptz', { name: 'joined_at' })
  joinedAt!: Date;

  @Column('timestamptz', { name: 'revoked_at', nullable: true })
  revokedAt!: Date | null;

  @Column('text', { array: true })
  permissions!: MachinePermission[];

  /** The Idempotency-Key of the join that made it, while the key lives. */
  @Column('text', { name: 'idempotency_key', nullable: true })
  idempotencyKey!: string | null;

  @Column('text', { name: 'idempotency_fingerprint', nullable: true })
  idempotencyFingerprint!: string | null;

  /** What its API token was derived from (with the key's seed), so a repeated join can show it again. */
  @Column('bytea', { name: 'token_salt', nullable: true })
  tokenSalt!: Buffer | null;
}
