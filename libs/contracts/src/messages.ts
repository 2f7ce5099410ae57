import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsIn,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
  MinLength,
  ValidateNested,
} from 'class-validator';

import { HEX_256 } from './machines';
import { PageQuery } from './pagination';
import { Nullable } from './validation';

/** Largest message body, in characters. */
export const MAX_MESSAGE_BODY = 64 * 1024;
/** Text may hold newlines and tabs, but no other control characters. */
export const TEXT_PATTERN = /^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F]*$/;

/** `service`: a hub service acting on its own (the GitHub bot). */
export const SENDER_KINDS = ['admin', 'machine', 'service'] as const;
export type SenderKind = (typeof SENDER_KINDS)[number];

export const DELIVERY_STATES = ['queued', 'delivered', 'read'] as const;
export type DeliveryState = (typeof DELIVERY_STATES)[number];

/** Who sent a message. Set by the hub from the caller's credential, never by the caller. */
export class Sender {
  @IsIn(SENDER_KINDS)
  kind!: SenderKind;

  /** The sending machine's id, when a machine sent it. */
  @IsOptional()
  @IsString()
  machineId?: string;

  /** Display name: the machine's name, or the API token's name. */
  @IsString()
  @MaxLength(200)
  name!: string;
}

/** POST /api/messages: what a caller sends. The hub adds who sent it. */
export class SendMessageBody {
  /**
   * A machine name or id, `all` (every machine known now) or `hub`.
   * @example "soda-yeti"
   */
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  @Matches(/^[^\p{Cc}\s]+$/u, { message: 'to must be a machine name or id, "all" or "hub"' })
  to!: string;

  /** @example "Please rebase feature/x on main" */
  @IsString()
  @MinLength(1)
  @MaxLength(MAX_MESSAGE_BODY)
  @Matches(TEXT_PATTERN, { message: 'body must not contain control characters other than newline and tab' })
  body!: string;
}

/** `waggle.rpc.registry.messages.send` */
export class SendMessageRequest extends SendMessageBody {
  @IsIn([1])
  v!: 1;

  @ValidateNested()
  @Type(() => Sender)
  from!: Sender;

  /** A repeated send with the same key returns the message the first one stored (a caller's retry sends nothing twice). */
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  idempotencyKey?: string;

  /** Hash of the request body: the same key with another body is refused (IDEMPOTENCY_KEY_REUSED). */
  @IsOptional()
  @Matches(HEX_256)
  idempotencyFingerprint?: string;
}

export class RecipientView {
  @IsString()
  machineId!: string;

  @IsString()
  name!: string;

  @IsIn(DELIVERY_STATES)
  state!: DeliveryState;

  @Nullable()
  @IsString()
  deliveredAt!: string | null;

  @Nullable()
  @IsString()
  readAt!: string | null;
}

export class MessageView {
  /** Message id; ids grow in the order messages were sent. */
  @Matches(/^\d+$/)
  id!: string;

  @ValidateNested()
  @Type(() => Sender)
  from!: Sender;

  @IsString()
  to!: string;

  @IsString()
  body!: string;

  @IsString()
  createdAt!: string;

  @ValidateNested({ each: true })
  @Type(() => RecipientView)
  recipients!: RecipientView[];
}

export class ListMessagesRequest extends PageQuery {
  /** Only messages sent to or by this machine (name or id). */
  @IsOptional()
  @IsString()
  @MaxLength(200)
  machine?: string;

  /** `hub`: only the messages machines sent to the hub (`waggle send --to hub`). */
  @IsOptional()
  @IsIn(['hub'])
  to?: 'hub';
}

/** What lands on `waggle.m.<id>.inbox`: one message for one recipient. */
export class InboxMessage {
  @IsIn([1])
  v!: 1;

  /** Message id (the same for every recipient of a broadcast). */
  @Matches(/^\d+$/)
  id!: string;

  @ValidateNested()
  @Type(() => Sender)
  from!: Sender;

  @IsString()
  to!: string;

  @IsString()
  @MaxLength(MAX_MESSAGE_BODY)
  body!: string;

  /** ISO time the hub accepted the message. */
  @IsString()
  sentAt!: string;
}

/** `…up.delivered` and `…up.read`: the machine stored, or someone read, these messages. */
export class ReceiptRequest {
  @IsIn([1])
  v!: 1;

  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(1000)
  @Matches(/^\d+$/, { each: true })
  ids!: string[];
}

export interface ReceiptReply {
  /** How many deliveries changed state (a repeated receipt changes none). */
  updated: number;
}
