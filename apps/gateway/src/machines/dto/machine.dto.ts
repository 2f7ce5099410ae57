import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsIn, IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';

import { LABEL_PATTERN, MACHINE_STATUSES, NAME_PATTERN, NAME_RULE } from '@waggle/contracts';
import type { MachineStatus } from '@waggle/contracts';

import { PageQueryDto } from '../../common/page.dto';

export class ListMachinesQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ enum: MACHINE_STATUSES, description: 'Default: every machine not revoked' })
  @IsOptional()
  @IsIn(MACHINE_STATUSES)
  status?: MachineStatus;

  @ApiPropertyOptional({
    example: 'ollama:llama3',
    description: 'Capability tag: claude, codex, gemini, ollama, ollama:<model>, gpu, git, tmux, docker, os:linux, arch:arm64',
  })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  capability?: string;

  @ApiPropertyOptional({ example: 'gpu=4090' })
  @IsOptional()
  @Matches(LABEL_PATTERN, { message: 'label must be a label (letters, digits, ._:/=-)' })
  label?: string;
}

export class JoinMachineDto {
  @ApiProperty({ description: 'Join token created by an admin' })
  @IsString()
  @MaxLength(200)
  joinToken!: string;

  @ApiProperty({ example: 'soda-yeti', description: `Machine name: ${NAME_RULE}` })
  @Matches(NAME_PATTERN, { message: `name ${NAME_RULE}` })
  name!: string;

  @ApiProperty({ description: 'Public NATS NKey (U…) the machine generated; it keeps the seed' })
  @Matches(/^U[A-Z2-7]{55}$/, { message: 'natsPublicKey must be a NATS user public NKey' })
  natsPublicKey!: string;

  @ApiPropertyOptional({ type: [String], example: ['gpu=4090', 'room=office'] })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(50)
  @Matches(LABEL_PATTERN, { each: true, message: 'each label must be letters, digits or ._:/=-' })
  labels?: string[];
}

export class JoinResponseDto {
  @ApiProperty() machineId!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ description: 'Bearer credential of this machine for the API; shown once' }) apiToken!: string;
  @ApiProperty({ description: "NATS user JWT limited to this machine's subjects" }) natsJwt!: string;
  @ApiProperty({ example: 'nats://hub:4222' }) natsUrl!: string;
  @ApiProperty() heartbeatIntervalMs!: number;
}

export class CreateJoinTokenDto {
  @ApiPropertyOptional({ example: 'lab machines' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  @Matches(/^[^\p{Cc}]*$/u, { message: 'description must not contain control characters' })
  description?: string;

  @ApiPropertyOptional({ description: 'Seconds until it expires (default 86400)', minimum: 60, maximum: 2592000 })
  @IsOptional()
  @IsInt()
  @Min(60)
  @Max(30 * 24 * 3600)
  ttlSeconds?: number;

  @ApiPropertyOptional({ description: 'How many machines may join with it (default unlimited)', minimum: 1 })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(10_000)
  maxUses?: number;
}

export class JoinTokenResponseDto {
  @ApiProperty() id!: string;
  @ApiProperty({ description: 'The join token; shown once' }) token!: string;
  @ApiProperty({ nullable: true, type: String }) description!: string | null;
  @ApiProperty() expiresAt!: string;
  @ApiProperty({ nullable: true, type: Number }) maxUses!: number | null;
  @ApiProperty() uses!: number;
  @ApiProperty() createdAt!: string;
}

export class DiskMetricsDto {
  @ApiProperty({ example: '/' }) mount!: string;
  @ApiPropertyOptional({ example: 'ext4' }) fsType?: string;
  @ApiProperty() sizeMb!: number;
  @ApiProperty() usedMb!: number;
}

export class NetworkMetricsDto {
  @ApiProperty({ example: 'eth0' }) iface!: string;
  @ApiProperty() rxBytesPerSecond!: number;
  @ApiProperty() txBytesPerSecond!: number;
}

export class GpuMetricsDto {
  @ApiProperty() name!: string;
  @ApiPropertyOptional({ minimum: 0, maximum: 100 }) utilizationPercent?: number;
  @ApiPropertyOptional() memoryUsedMb?: number;
  @ApiPropertyOptional() memoryTotalMb?: number;
}

export class MachineMetricsDto {
  @ApiProperty({ description: '1-minute load average per CPU (1 = every CPU has a runnable process); not CPU %' }) cpuLoad!: number;
  @ApiProperty() memoryUsedMb!: number;
  @ApiProperty() memoryTotalMb!: number;
  @ApiProperty() diskFreeMb!: number;
  @ApiProperty() diskTotalMb!: number;
  @ApiProperty() uptimeSeconds!: number;
  @ApiPropertyOptional({ minimum: 0, maximum: 100, description: 'CPU busy % since the previous heartbeat' }) cpuPercent?: number;
  @ApiPropertyOptional({ type: [Number], description: 'CPU busy % per core' }) cpuCoresPercent?: number[];
  @ApiPropertyOptional({ type: [Number], description: 'Load averages over 1, 5 and 15 minutes' }) loadAverage?: number[];
  @ApiPropertyOptional({ type: [DiskMetricsDto] }) disks?: DiskMetricsDto[];
  @ApiPropertyOptional({ type: [NetworkMetricsDto] }) network?: NetworkMetricsDto[];
  @ApiPropertyOptional({ type: [GpuMetricsDto], description: 'GPUs with live utilisation and VRAM' }) gpus?: GpuMetricsDto[];
}

export class MachineResponseDto {
  @ApiProperty() id!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ enum: MACHINE_STATUSES }) status!: MachineStatus;
  @ApiProperty({ type: [String] }) labels!: string[];
  @ApiProperty({ type: [String], example: ['claude', 'git', 'gpu', 'ollama', 'ollama:llama3'] }) capabilityTags!: string[];
  @ApiProperty({
    nullable: true,
    type: Object,
    description: 'os, arch, hostname, cpus, memoryMb, agents[{name,version,models}], tools[{name,version}], gpus[], labels',
  })
  capabilities!: object | null;
  @ApiProperty({ nullable: true, type: MachineMetricsDto }) metrics!: MachineMetricsDto | null;
  @ApiProperty({ nullable: true, type: String }) agentVersion!: string | null;
  @ApiProperty({ nullable: true, type: String }) lastSeenAt!: string | null;
  @ApiProperty() joinedAt!: string;
  @ApiProperty({ nullable: true, type: String }) revokedAt!: string | null;
}

export class MachinePageDto {
  @ApiProperty({ type: [MachineResponseDto] }) items!: MachineResponseDto[];
  @ApiPropertyOptional() nextCursor?: string;
}
