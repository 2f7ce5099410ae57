import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, Matches, MaxLength } from 'class-validator';

import { PageQueryDto } from '../../common/page.dto';

export class LlmSummaryQueryDto {
  @ApiPropertyOptional({ description: 'UTC day, YYYY-MM-DD (default today)' })
  @IsOptional()
  @Matches(/^\d{4}-\d{2}-\d{2}$/, { message: 'day must be YYYY-MM-DD' })
  day?: string;
}

export class ListFailoversQueryDto extends PageQueryDto {}

export class ResetBreakersDto {
  @ApiPropertyOptional({ description: 'one provider (default: every provider)' })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  provider?: string;
}

export class FailoverDto {
  @ApiProperty() id!: string;
  @ApiProperty() at!: string;
  @ApiProperty() requestId!: string;
  @ApiProperty() from!: string;
  @ApiProperty({ nullable: true, type: String }) to!: string | null;
  @ApiProperty() reason!: string;
  @ApiProperty({ nullable: true, type: String }) machineId!: string | null;
  @ApiProperty({ nullable: true, type: String }) taskId!: string | null;
}

export class FailoverPageDto {
  @ApiProperty({ type: [FailoverDto] }) items!: FailoverDto[];
  @ApiPropertyOptional() nextCursor?: string;
}
