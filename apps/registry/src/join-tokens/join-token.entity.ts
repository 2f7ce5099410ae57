import { Column, Entity, PrimaryColumn } from 'typeorm';

@Entity({ name: 'join_tokens' })
export class JoinTokenEntity {
  @PrimaryColumn('uuid')
  id!: string;

  @Column('text', { name: 'token_hash' })
  tokenHash!: string;

  @Column('text', { nullable: true })
  description!: string | null;

  @Column('timestamptz', { name: 'expires_at' })
  expiresAt!: Date;

  @Column('integer', { name: 'max_uses', nullable: true })
  maxUses!: number | null;

  @Column('integer')
  uses!: number;

  @Column('timestamptz', { name: 'created_at' })
  createdAt!: Date;

  /** The Idempotency-Key of the create that made it, while the key lives. */
  @Column('text', { name: 'idempotency_key', nullable: true })
  idempotencyKey!: string | null;

  @Column('text', { name: 'idempotency_fingerprint', nullable: true })
  idempotencyFingerprint!: string | null;

  /** What the token was derived from (with the key's seed), so a repeated create can show it again. */
  @Column('bytea', { name: 'token_salt', nullable: true })
  tokenSalt!: Buffer | null;
}
