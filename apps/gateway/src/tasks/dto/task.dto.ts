import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsIn, IsInt, IsOptional, IsString, IsUUID, Matches, Max, MaxLength, Min, MinLength, ValidateNested } from 'class-validator';

import { AGENT_CLIS, GITHUB_MODES, LABEL_PATTERN, REPO_PATTERN, TASK_KINDS, TASK_STATES, TEXT_PATTERN } from '@waggle/contracts';
import type { AgentCliName, GithubMode, TaskKind, TaskState } from '@waggle/contracts';

import { PageQueryDto } from '../../common/page.dto';

export class GithubTaskInputDto {
  @ApiProperty({ example: 'octo-org/api' })
  @Matches(REPO_PATTERN, { message: 'repo must be owner/name' })
  repo!: string;

  @ApiProperty({ minimum: 1 })
  @IsInt()
  @Min(1)
  issueNumber!: number;

  @ApiProperty({ description: 'for the branch name and the pull request title' })
  @IsString()
  @MinLength(1)
  @MaxLength(300)
  issueTitle!: string;

  @ApiProperty({ enum: GITHUB_MODES })
  @IsIn(GITHUB_MODES)
  mode!: GithubMode;
}

export class TaskInputDto {
  @ApiPropertyOptional({ description: 'agent: the prompt' })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(200_000)
  prompt?: string;

  @ApiPropertyOptional({ enum: AGENT_CLIS, description: 'agent: which CLI (default: the first the machine has)' })
  @IsOptional()
  @IsIn(AGENT_CLIS)
  cli?: AgentCliName;

  @ApiPropertyOptional({ description: 'agent with ollama: the model' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  model?: string;

  @ApiPropertyOptional({ description: 'command: the program' })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(1000)
  program?: string;

  @ApiPropertyOptional({ type: [String], description: 'command: arguments, passed as an array (never through a shell)' })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(1000)
  @IsString({ each: true })
  args?: string[];

  @ApiPropertyOptional({ description: 'shell: the script (only on machines started with --allow-shell)' })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(200_000)
  script?: string;

  @ApiPropertyOptional({ description: 'working directory on the machine (default: a fresh one per attempt)' })
  @IsOptional()
  @IsString()
  @MaxLength(4096)
  cwd?: string;

  @ApiPropertyOptional({ type: GithubTaskInputDto, description: 'github-issue: the issue and what to deliver (the prompt is in prompt)' })
  @IsOptional()
  @ValidateNested()
  @Type(() => GithubTaskInputDto)
  github?: GithubTaskInputDto;
}

export class TaskRequirementsDto {
  @ApiPropertyOptional({ type: [String], example: ['claude', 'gpu'] })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(50)
  @IsString({ each: true })
  capabilities?: string[];

  @ApiPropertyOptional({ type: [String], example: ['room=lab'] })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(50)
  @Matches(LABEL_PATTERN, { each: true })
  labels?: string[];
}

export class CreateTaskDto {
  @ApiProperty({ example: 'Run the test suite' })
  @IsString()
  @MinLength(1)
  @MaxLength(300)
  @Matches(TEXT_PATTERN, { message: 'title must not contain control characters' })
  title!: string;

  @ApiProperty({ enum: TASK_KINDS })
  @IsIn(TASK_KINDS)
  kind!: TaskKind;

  @ApiProperty({ type: TaskInputDto })
  @ValidateNested()
  @Type(() => TaskInputDto)
  input!: TaskInputDto;

  @ApiPropertyOptional({ description: 'machine name or id: the task waits in its queue while it is off' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  target?: string;

  @ApiPropertyOptional({ type: TaskRequirementsDto })
  @IsOptional()
  @ValidateNested()
  @Type(() => TaskRequirementsDto)
  requires?: TaskRequirementsDto;

  @ApiPropertyOptional({ minimum: 0, maximum: 100, default: 50 })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(100)
  priority?: number;

  @ApiPropertyOptional({ minimum: 1, default: 3600 })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(7 * 24 * 3600)
  timeoutSeconds?: number;

  @ApiPropertyOptional({ minimum: 1, maximum: 20, default: 3 })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(20)
  maxAttempts?: number;

  @ApiPropertyOptional({ description: 'parent task (for help requests)' })
  @IsOptional()
  @IsUUID()
  parentTaskId?: string;
}

export class ListTasksQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ enum: TASK_STATES })
  @IsOptional()
  @IsIn(TASK_STATES)
  state?: TaskState;

  @ApiPropertyOptional({ description: 'machine name or id' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  machine?: string;

  @ApiPropertyOptional({ enum: TASK_KINDS })
  @IsOptional()
  @IsIn(TASK_KINDS)
  kind?: TaskKind;
}

export class TaskLogsQueryDto {
  @ApiPropertyOptional({ description: "only chunks after this sequence number (the previous page's next)" })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  after?: number;

  @ApiPropertyOptional({ minimum: 1, maximum: 5000, default: 1000 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(5000)
  limit?: number;
}

export class TaskResponseDto {
  @ApiProperty() id!: string;
  @ApiProperty() title!: string;
  @ApiProperty({ enum: TASK_KINDS }) kind!: TaskKind;
  @ApiProperty({ type: TaskInputDto }) input!: TaskInputDto;
  @ApiProperty({ enum: TASK_STATES }) state!: TaskState;
  @ApiProperty({ description: 'current attempt (the fencing token)' }) attempt!: number;
  @ApiProperty({ nullable: true, type: Object, description: '{ machineId, name } it runs on' }) machine!: object | null;
  @ApiProperty({ nullable: true, type: Object, description: '{ machineId, name } it was targeted at' }) target!: object | null;
  @ApiProperty({ type: TaskRequirementsDto }) requires!: TaskRequirementsDto;
  @ApiProperty() priority!: number;
  @ApiProperty() timeoutSeconds!: number;
  @ApiProperty() maxAttempts!: number;
  @ApiProperty({ nullable: true, type: Object, description: 'outcome, exitCode, durationMs, outputTail, structured, error' }) result!: object | null;
  @ApiProperty({ nullable: true, type: Object, description: 'while queued: { summary, candidates: [{ machineId, name, reasons[] }] }' }) waiting!:
    | object
    | null;
  @ApiProperty({ type: [Object], description: 'every attempt: machine, state, times, result' }) attempts!: object[];
  @ApiProperty({ nullable: true, type: String, description: 'the task this one helps (created by its help request)' }) parentTaskId!: string | null;
  @ApiProperty({
    type: [Object],
    description: 'help this task asked for: { id, reason, requires, state (accepted|unanswered), helper, etaSeconds, childTaskId, answers[] }',
  })
  help!: object[];
  @ApiProperty() createdAt!: string;
  @ApiProperty() updatedAt!: string;
}

export class TaskPageDto {
  @ApiProperty({ type: [TaskResponseDto] }) items!: TaskResponseDto[];
  @ApiPropertyOptional() nextCursor?: string;
}

export class TaskLogsPageDto {
  @ApiProperty({ type: [Object], description: '{ seq, attempt, stream, data, at }' }) items!: object[];
  @ApiProperty({ description: 'pass as `after` to continue' }) next!: number;
}
