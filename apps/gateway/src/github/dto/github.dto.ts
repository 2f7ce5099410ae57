import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsBoolean, IsIn, IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min, MinLength, ValidateNested } from 'class-validator';

import type { AgentCliName, GithubLinkStatus, GithubMode, GithubOutcome } from '@waggle/contracts';
import { AGENT_CLIS, GITHUB_LABEL_PATTERN, GITHUB_LINK_STATUSES, GITHUB_MODES, GITHUB_OUTCOMES, REPO_PATTERN } from '@waggle/contracts';

import { PageQueryDto } from '../../common/page.dto';

export class GithubTaskDefaultsDto {
  @ApiPropertyOptional({ type: [String], description: 'capability tags every machine must have (`needs:<tag>` issue labels add to them)', example: ['gpu'] })
  @IsOptional()
  @IsString({ each: true })
  @MaxLength(200, { each: true })
  capabilities?: string[];

  @ApiPropertyOptional({ type: [String], description: 'machine labels every candidate must have', example: ['room=lab'] })
  @IsOptional()
  @IsString({ each: true })
  @MaxLength(63, { each: true })
  labels?: string[];

  @ApiPropertyOptional({ description: 'machine name or id that runs every task of the repository' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  target?: string;

  @ApiPropertyOptional({ enum: AGENT_CLIS, description: 'agent CLI (an `agent:<cli>` issue label wins)' })
  @IsOptional()
  @IsIn(AGENT_CLIS)
  cli?: AgentCliName;

  @ApiPropertyOptional({ enum: GITHUB_MODES, description: 'pull_request (default) or follow_up (a `mode:follow-up` issue label also says so)' })
  @IsOptional()
  @IsIn(GITHUB_MODES)
  mode?: GithubMode;

  @ApiPropertyOptional({ minimum: 60, description: 'seconds a task may run' })
  @IsOptional()
  @IsInt()
  @Min(60)
  @Max(7 * 24 * 3600)
  timeoutSeconds?: number;
}

export class WatchRepoDto {
  @ApiProperty({ example: 'octo-org/api', description: 'owner/name' })
  @Matches(REPO_PATTERN, { message: 'repo must be owner/name' })
  repo!: string;

  @ApiPropertyOptional({ default: 'waggle', description: 'issues with this label become tasks' })
  @IsOptional()
  @Matches(GITHUB_LABEL_PATTERN, { message: 'label must be 1-50 characters without commas or control characters' })
  label?: string;

  @ApiPropertyOptional({ minLength: 16, description: "the webhook's secret; absent: one is made and shown once in the reply" })
  @IsOptional()
  @IsString()
  @MinLength(16)
  @MaxLength(200)
  webhookSecret?: string;

  @ApiPropertyOptional({ default: true, description: 'poll for labelled issues (for hubs GitHub cannot reach)' })
  @IsOptional()
  @IsBoolean()
  poll?: boolean;

  @ApiPropertyOptional({ type: GithubTaskDefaultsDto })
  @IsOptional()
  @ValidateNested()
  @Type(() => GithubTaskDefaultsDto)
  defaults?: GithubTaskDefaultsDto;
}

export class WatchedRepoDto {
  @ApiProperty() repo!: string;
  @ApiProperty() label!: string;
  @ApiProperty() poll!: boolean;
  @ApiProperty({ type: GithubTaskDefaultsDto }) defaults!: GithubTaskDefaultsDto;
  @ApiProperty({ example: '/api/github/webhook', description: 'where GitHub sends the issues webhook (content type application/json)' }) webhookPath!: string;
  @ApiProperty() createdAt!: string;
  @ApiProperty({ nullable: true, type: String }) lastPolledAt!: string | null;
  @ApiProperty({ nullable: true, type: String, description: "set while GitHub's rate limit holds the bot back" }) rateLimitedUntil!: string | null;
  @ApiProperty({ nullable: true, type: String }) lastError!: string | null;
}

export class WatchedRepoCreatedDto extends WatchedRepoDto {
  @ApiPropertyOptional({ description: 'the webhook secret the hub made: shown this once' }) webhookSecret?: string;
}

export class WatchedRepoPageDto {
  @ApiProperty({ type: [WatchedRepoDto] }) items!: WatchedRepoDto[];
  @ApiPropertyOptional() nextCursor?: string;
}

export class ListLinksQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ example: 'octo-org/api' })
  @IsOptional()
  @Matches(REPO_PATTERN, { message: 'repo must be owner/name' })
  repo?: string;

  @ApiPropertyOptional({ enum: GITHUB_LINK_STATUSES })
  @IsOptional()
  @IsIn(GITHUB_LINK_STATUSES)
  status?: GithubLinkStatus;
}

class PullRequestRefDto {
  @ApiProperty() number!: number;
  @ApiProperty() url!: string;
}

class FollowUpDto extends PullRequestRefDto {
  @ApiProperty() title!: string;
}

export class GithubLinkDto {
  @ApiProperty() id!: string;
  @ApiProperty() repo!: string;
  @ApiProperty() issueNumber!: number;
  @ApiProperty() issueTitle!: string;
  @ApiProperty() issueUrl!: string;
  @ApiProperty({ nullable: true, type: String }) taskId!: string | null;
  @ApiProperty({ enum: GITHUB_LINK_STATUSES }) status!: GithubLinkStatus;
  @ApiProperty({ enum: GITHUB_OUTCOMES, nullable: true }) outcome!: GithubOutcome | null;
  @ApiProperty({ type: PullRequestRefDto, nullable: true }) pullRequest!: PullRequestRefDto | null;
  @ApiProperty({ type: [FollowUpDto] }) followUps!: FollowUpDto[];
  @ApiProperty({ nullable: true, type: String }) claimedBy!: string | null;
  @ApiProperty({ nullable: true, type: String }) error!: string | null;
  @ApiProperty() createdAt!: string;
  @ApiProperty() updatedAt!: string;
}

export class GithubLinkPageDto {
  @ApiProperty({ type: [GithubLinkDto] }) items!: GithubLinkDto[];
  @ApiPropertyOptional() nextCursor?: string;
}

export class WebhookReplyDto {
  @ApiProperty({ description: 'false for a redelivery already handled' }) accepted!: boolean;
  @ApiProperty({ example: 'linked' }) result!: string;
}
