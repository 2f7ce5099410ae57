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
}
