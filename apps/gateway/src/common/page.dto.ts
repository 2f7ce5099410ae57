import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';

import { MAX_PAGE_SIZE } from '@waggle/contracts';

/** Query of every list endpoint: keyset pagination. */
export class PageQueryDto {
  @ApiPropertyOptional({ description: 'Items per page', minimum: 1, maximum: MAX_PAGE_SIZE, default: 50 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(MAX_PAGE_SIZE)
  limit?: number;

  @ApiPropertyOptional({ description: 'Opaque cursor: the nextCursor of the previous page' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  @Matches(/^[A-Za-z0-9_-]+$/, { message: 'cursor must be a cursor returned by a previous page' })
  cursor?: string;
}

export class ErrorResponseDto {
  @ApiPropertyOptional({ example: 'INVALID_INPUT', description: 'Stable error code' })
  code!: string;

  @ApiPropertyOptional({ example: 'SendMessageDto is invalid: body' })
  message!: string;

  @ApiPropertyOptional({ description: 'For INVALID_INPUT: { fields: [{ field, errors[] }] }' })
  details?: unknown;

  @ApiPropertyOptional({ description: 'Correlation id of the request, also in the logs' })
  requestId?: string;
}
