import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, Matches, MaxLength, MinLength } from 'class-validator';

import { DELIVERY_STATES, MAX_MESSAGE_BODY, SENDER_KINDS, TEXT_PATTERN } from '@waggle/contracts';
import type { DeliveryState, SenderKind } from '@waggle/contracts';

import { PageQueryDto } from '../../common/page.dto';

export class SendMessageDto {
  @ApiProperty({ example: 'soda-yeti', description: 'A machine name or id, "all" (every machine known now) or "hub"' })
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  @Matches(/^[^\p{Cc}\s]+$/u, { message: 'to must be a machine name or id, "all" or "hub"' })
  to!: string;

  @ApiProperty({ example: 'Please rebase feature/x on main', maxLength: MAX_MESSAGE_BODY })
  @IsString()
  @MinLength(1)
  @MaxLength(MAX_MESSAGE_BODY)
  @Matches(TEXT_PATTERN, { message: 'body must not contain control characters other than newline and tab' })
  body!: string;
}

export class ListMessagesQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ description: 'Only messages sent to or by this machine (name or id)' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  machine?: string;
}

export class SenderDto {
  @ApiProperty({ enum: SENDER_KINDS }) kind!: SenderKind;
  @ApiPropertyOptional() machineId?: string;
  @ApiProperty() name!: string;
}

export class RecipientDto {
  @ApiProperty() machineId!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ enum: DELIVERY_STATES }) state!: DeliveryState;
  @ApiProperty({ nullable: true, type: String }) deliveredAt!: string | null;
  @ApiProperty({ nullable: true, type: String }) readAt!: string | null;
}

export class MessageResponseDto {
  @ApiProperty({ description: 'Grows in the order messages were sent' }) id!: string;
  @ApiProperty({ type: SenderDto }) from!: SenderDto;
  @ApiProperty() to!: string;
  @ApiProperty() body!: string;
  @ApiProperty() createdAt!: string;
  @ApiProperty({ type: [RecipientDto] }) recipients!: RecipientDto[];
}

export class MessagePageDto {
  @ApiProperty({ type: [MessageResponseDto] }) items!: MessageResponseDto[];
  @ApiPropertyOptional() nextCursor?: string;
}
