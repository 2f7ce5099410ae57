import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsNumber,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateNested,
} from 'class-validator';

import { PageQuery } from './pagination';
import { Nullable } from './validation';

/** Names: letters, digits, `.`, `_`, `-`; 1..63 characters; no spaces or control characters. */
export const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
export const NAME_RULE = 'must be 1-63 letters, digits, ".", "_" or "-", starting with a letter or digit';
/** Labels: `key` or `key=value`, same alphabet as names plus `=`, `:` and `/`. */
export const LABEL_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:/=-]{0,62}$/;
/** What an admin may grant a machine. `dispatch`: create tasks through the API (never shell or command tasks for other machines). */
export const MACHINE_PERMISSIONS = ['dispatch'] as const;
export type MachinePermission = (typeof MACHINE_PERMISSIONS)[number];

/** A SHA-256 in hex (fingerprints and seeds the gateway derives). */
export const HEX_256 = /^[0-9a-f]{64}$/;

/** Names a machine cannot take, because `to` uses them. */
export const RESERVED_NAMES: ReadonlySet<string> = new Set(['all', 'hub']);

export const MACHINE_STATUSES = ['online', 'offline', 'revoked'] as const;
export type MachineStatus = (typeof MACHINE_STATUSES)[number];

/** Agent CLIs Waggle knows how to detect and run. */
export const AGENT_CLIS = ['claude', 'codex', 'gemini', 'ollama'] as const;
export type AgentCliName = (typeof AGENT_CLIS)[number];

export class AgentCliInfo {
  /** Which agent CLI: claude, codex, gemini or ollama. */
  @IsIn(AGENT_CLIS)
  name!: AgentCliName;

  /** Version the CLI reports, as printed. */
  @IsString()
  @MaxLength(200)
  version!: string;

  /** Models the CLI can run locally (ollama's model list). */
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(500)
  @IsString({ each: true })
  @MaxLength(200, { each: true })
  models?: string[];
}

export class ToolInfo {
  /** git, tmux, docker, … */
  @IsString()
  @MaxLength(50)
  name!: string;

  @IsString()
  @MaxLength(200)
  version!: string;
}

export class GpuInfo {
  @IsString()
  @MaxLength(200)
  name!: string;

  /** Total memory in MiB, when known. */
  @IsOptional()
  @IsNumber()
  @Min(0)
  memoryMb?: number;

  /** Utilisation 0..100 once at detection; a live value is in the heartbeat's `metrics.gpus`. */
  @IsOptional()
  @IsNumber()
  @Min(0)
  @Max(100)
  utilizationPercent?: number;
}

/** What a machine is and what it can run. Changes rarely; sent with every heartbeat. */
export class Capabilities {
  @IsString()
  @MaxLength(50)
  os!: string;

  @IsString()
  @MaxLength(50)
  arch!: string;

  @IsString()
  @MaxLength(255)
  hostname!: string;

  @IsInt()
  @Min(1)
  cpus!: number;

  @IsNumber()
  @Min(0)
  memoryMb!: number;

  @IsArray()
  @ArrayMaxSize(20)
  @ValidateNested({ each: true })
  @Type(() => AgentCliInfo)
  agents!: AgentCliInfo[];

  @IsArray()
  @ArrayMaxSize(50)
  @ValidateNested({ each: true })
  @Type(() => ToolInfo)
  tools!: ToolInfo[];

  @IsArray()
  @ArrayMaxSize(16)
  @ValidateNested({ each: true })
  @Type(() => GpuInfo)
  gpus!: GpuInfo[];

  /** Labels given with `--label`. */
  @IsArray()
  @ArrayMaxSize(50)
  @Matches(LABEL_PATTERN, { each: true })
  labels!: string[];

  /** Tasks the machine runs at once (`--slots`, default 1). */
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(256)
  slots?: number;

  /** Started with `--allow-command`: runs `command` tasks. */
  @IsOptional()
  @IsBoolean()
  allowCommand?: boolean;

  /** Started with `--allow-shell`: runs `shell` tasks. */
  @IsOptional()
  @IsBoolean()
  allowShell?: boolean;

  /** Has a GitHub identity (a token) and git: runs `github-issue` tasks. */
  @IsOptional()
  @IsBoolean()
  github?: boolean;
}

/** One mounted filesystem at the time of a heartbeat. */
export class DiskMetrics {
  /** Where it is mounted (`/`, `/home`, `C:`). */
  @IsString()
  @MaxLength(255)
  mount!: string;

  /** Filesystem type (ext4, apfs, ntfs …), when known. */
  @IsOptional()
  @IsString()
  @MaxLength(50)
  fsType?: string;

  /** Size in MiB. */
  @IsNumber()
  @Min(0)
  sizeMb!: number;

  /** Used in MiB. */
  @IsNumber()
  @Min(0)
  usedMb!: number;
}

/** Traffic of one network interface, averaged since the previous heartbeat. */
export class NetworkMetrics {
  /** Interface name (`eth0`, `wlan0`, `tailscale0`). */
  @IsString()
  @MaxLength(64)
  iface!: string;

  /** Bytes received per second. */
  @IsNumber()
  @Min(0)
  rxBytesPerSecond!: number;

  /** Bytes sent per second. */
  @IsNumber()
  @Min(0)
  txBytesPerSecond!: number;
}

/** One GPU at the time of a heartbeat. */
export class GpuMetrics {
  @IsString()
  @MaxLength(200)
  name!: string;

  /** Utilisation 0..100 right now, when the driver reports it (NVIDIA). */
  @IsOptional()
  @IsNumber()
  @Min(0)
  @Max(100)
  utilizationPercent?: number;

  /** VRAM in use, MiB, when the driver reports it. */
  @IsOptional()
  @IsNumber()
  @Min(0)
  memoryUsedMb?: number;

  /** VRAM in total, MiB, when known. */
  @IsOptional()
  @IsNumber()
  @Min(0)
  memoryTotalMb?: number;
}

/**
 * How the machine is doing at the time of a heartbeat. The fields after `uptimeSeconds` came
 * later and are optional: an older agent sends without them and still passes.
 */
export class MachineMetrics {
  /**
   * 1-minute load average divided by the number of CPUs (1.0 = every CPU has a runnable
   * process). A load average, not CPU busy time: see `cpuPercent` and `loadAverage`.
   * Kept because older readers (and placement) use it.
   */
  @IsNumber()
  @Min(0)
  cpuLoad!: number;

  @IsNumber()
  @Min(0)
  memoryUsedMb!: number;

  @IsNumber()
  @Min(0)
  memoryTotalMb!: number;

  /** Free MiB on the disk holding the agent's state directory. */
  @IsNumber()
  @Min(0)
  diskFreeMb!: number;

  /** Size in MiB of the disk holding the agent's state directory. */
  @IsNumber()
  @Min(0)
  diskTotalMb!: number;

  @IsNumber()
  @Min(0)
  uptimeSeconds!: number;

  /** CPU busy 0..100 over all cores since the previous heartbeat. */
  @IsOptional()
  @IsNumber()
  @Min(0)
  @Max(100)
  cpuPercent?: number;

  /** CPU busy 0..100 of each core since the previous heartbeat. */
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(1024)
  @IsNumber({}, { each: true })
  @Min(0, { each: true })
  @Max(100, { each: true })
  cpuCoresPercent?: number[];

  /** Load averages over 1, 5 and 15 minutes, as the OS reports them (not divided by CPUs). */
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(3)
  @IsNumber({}, { each: true })
  @Min(0, { each: true })
  loadAverage?: number[];

  /** Local filesystems (a few, root first). */
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(16)
  @ValidateNested({ each: true })
  @Type(() => DiskMetrics)
  disks?: DiskMetrics[];

  /** Network interfaces (a few; loopback and container bridges left out). */
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(16)
  @ValidateNested({ each: true })
  @Type(() => NetworkMetrics)
  network?: NetworkMetrics[];

  /** GPUs with their live utilisation and VRAM. */
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(16)
  @ValidateNested({ each: true })
  @Type(() => GpuMetrics)
  gpus?: GpuMetrics[];
}

/** The live heartbeat feed (hub → dashboards): a machine's latest metrics, by id and name. */
export class LiveHeartbeat {
  @IsString()
  @MaxLength(200)
  machineId!: string;

  @IsString()
  @MaxLength(200)
  name!: string;

  @ValidateNested()
  @Type(() => MachineMetrics)
  metrics!: MachineMetrics;
}

/** `waggle.m.<id>.up.goodbye`: the machine stops (SIGTERM, Ctrl-C, a service stop); it is offline from now on. */
export class GoodbyeRequest {
  @IsIn([1])
  v!: 1;
}

export interface GoodbyeReply {
  /** Whether this goodbye took the machine offline (false: it was offline already). */
  offline: boolean;
}

/** `waggle.m.<id>.up.heartbeat` and `…up.hello`: who the machine is and how it is doing. */
export class HeartbeatPayload {
  /** Schema version of this payload. */
  @IsIn([1])
  v!: 1;

  /** Agent software version. */
  @IsString()
  @MaxLength(50)
  agentVersion!: string;

  @ValidateNested()
  @Type(() => Capabilities)
  capabilities!: Capabilities;

  @ValidateNested()
  @Type(() => MachineMetrics)
  metrics!: MachineMetrics;

  /** Milliseconds between heartbeats this agent keeps; the hub derives presence from it. */
  @IsInt()
  @Min(100)
  @Max(600_000)
  intervalMs!: number;
}

export interface HelloReply {
  machineId: string;
  name: string;
}

/** Capability tags a machine offers, as tasks will require them: `claude`, `ollama:llama3`, `gpu`, `git`. */
export function capabilityTags(c: Capabilities): string[] {
  const tags = new Set<string>();
  for (const agent of c.agents) {
    tags.add(agent.name);
    for (const model of agent.models ?? []) {
      tags.add(`${agent.name}:${model}`);
    }
  }
  for (const tool of c.tools) {
    tags.add(tool.name);
  }
  if (c.gpus.length) {
    tags.add('gpu');
  }
  if (c.allowCommand) {
    tags.add('allow:command');
  }
  if (c.allowShell) {
    tags.add('allow:shell');
  }
  if (c.github) {
    tags.add('github');
  }
  tags.add(`os:${c.os}`);
  tags.add(`arch:${c.arch}`);
  return [...tags].sort();
}

/** POST /api/machines/join: what a joining machine sends. */
export class JoinMachineBody {
  /** The join token an admin created. */
  @IsString()
  @MaxLength(200)
  joinToken!: string;

  /**
   * The machine's name: 1-63 letters, digits, ".", "_" or "-", starting with a letter or digit.
   * @example "soda-yeti"
   */
  @Matches(NAME_PATTERN, { message: `name ${NAME_RULE}` })
  name!: string;

  /** Public NKey (starts with U) the machine generated; its seed never leaves the machine. */
  @Matches(/^U[A-Z2-7]{55}$/, { message: 'natsPublicKey must be a NATS user public NKey' })
  natsPublicKey!: string;

  /** @example ["gpu=4090","room=office"] */
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(50)
  @Matches(LABEL_PATTERN, { each: true, message: 'each label must be letters, digits or ._:/=-' })
  labels?: string[];
}

/** `waggle.rpc.registry.machines.join` */
export class JoinRequest extends JoinMachineBody {
  @IsIn([1])
  v!: 1;

  /** From the caller's Idempotency-Key (scoped to the join token): a repeated join returns the first one's credentials. */
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  idempotencyKey?: string;

  /** Hash of the request body: the same key with another body is refused. */
  @IsOptional()
  @Matches(HEX_256)
  idempotencyFingerprint?: string;

  /** Derived from the key, never stored: lets a repeat show the credential again (only its hash is kept). */
  @IsOptional()
  @Matches(HEX_256)
  idempotencySeed?: string;
}

export class JoinResponse {
  @IsString()
  machineId!: string;

  @IsString()
  name!: string;

  /** Bearer credential for the HTTP API, shown once. */
  @IsString()
  apiToken!: string;

  /** NATS user JWT for the machine's NKey, limited to its own subjects. Empty when the hub's NATS has no auth. */
  @IsString()
  natsJwt!: string;

  /**
   * Where the machine should connect to NATS.
   * @example "nats://hub:4222"
   */
  @IsString()
  natsUrl!: string;

  @IsInt()
  heartbeatIntervalMs!: number;
}

export class ListMachinesRequest extends PageQuery {
  /** Default: every machine not revoked. */
  @IsOptional()
  @IsIn(MACHINE_STATUSES)
  status?: MachineStatus;

  /**
   * A capability tag: claude, codex, gemini, ollama, ollama:<model>, gpu, git, tmux, docker, os:linux, arch:arm64.
   * @example "ollama:llama3"
   */
  @IsOptional()
  @IsString()
  @MaxLength(200)
  capability?: string;

  /** @example "gpu=4090" */
  @IsOptional()
  @Matches(LABEL_PATTERN, { message: 'label must be a label (letters, digits, ._:/=-)' })
  label?: string;
}

export class MachineRefRequest {
  /** Machine id or name. */
  @IsString()
  @MaxLength(200)
  machine!: string;
}

export class MachineView {
  @IsString()
  id!: string;

  @IsString()
  name!: string;

  @IsIn(MACHINE_STATUSES)
  status!: MachineStatus;

  /**
   * What an admin granted it beyond its own tasks and messages. `dispatch`: it may create tasks through the API.
   * @example ["dispatch"]
   */
  @IsIn(MACHINE_PERMISSIONS, { each: true })
  permissions!: MachinePermission[];

  @IsString({ each: true })
  labels!: string[];

  /** @example ["claude","git","gpu","ollama","ollama:llama3"] */
  @IsString({ each: true })
  capabilityTags!: string[];

  @Nullable()
  @ValidateNested()
  @Type(() => Capabilities)
  capabilities!: Capabilities | null;

  @Nullable()
  @ValidateNested()
  @Type(() => MachineMetrics)
  metrics!: MachineMetrics | null;

  @Nullable()
  @IsString()
  agentVersion!: string | null;

  @Nullable()
  @IsString()
  lastSeenAt!: string | null;

  @IsString()
  joinedAt!: string;

  @Nullable()
  @IsString()
  revokedAt!: string | null;
}

/** POST /api/join-tokens: the token an admin asks for. */
export class CreateJoinTokenBody {
  /**
   * What the token is for (shown in lists).
   * @example "lab machines"
   */
  @IsOptional()
  @IsString()
  @MaxLength(200)
  @Matches(/^[^\p{Cc}]*$/u, { message: 'description must not contain control characters' })
  description?: string;

  /** Seconds until the token expires (default 1 day, at most 30 days). */
  @IsOptional()
  @IsInt()
  @Min(60)
  @Max(30 * 24 * 3600)
  ttlSeconds?: number;

  /** How many machines may join with it (default unlimited). */
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(10_000)
  maxUses?: number;
}

/** `waggle.rpc.registry.join-tokens.create` */
export class CreateJoinTokenRequest extends CreateJoinTokenBody {
  /** From the caller's Idempotency-Key: a repeated create returns the token the first one made. */
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  idempotencyKey?: string;

  /** Hash of the request body: the same key with another body is refused. */
  @IsOptional()
  @Matches(HEX_256)
  idempotencyFingerprint?: string;

  /** Derived from the key, never stored: lets a repeat show the token again (only its hash is kept). */
  @IsOptional()
  @Matches(HEX_256)
  idempotencySeed?: string;
}

/** `waggle.rpc.registry.machines.permissions.set`: grant or withdraw one permission. */
export class SetMachinePermissionRequest extends MachineRefRequest {
  @IsIn(MACHINE_PERMISSIONS)
  permission!: MachinePermission;

  @IsBoolean()
  granted!: boolean;
}

export class JoinTokenView {
  @IsString()
  id!: string;

  @Nullable()
  @IsString()
  description!: string | null;

  @IsString()
  expiresAt!: string;

  @Nullable()
  @IsInt()
  maxUses!: number | null;

  @IsInt()
  uses!: number;

  @IsString()
  createdAt!: string;
}

export class CreatedJoinToken extends JoinTokenView {
  /** The token itself, shown once. */
  @IsString()
  token!: string;
}

export class VerifyMachineTokenRequest {
  @IsString()
  @MaxLength(300)
  token!: string;
}

export interface MachinePrincipal {
  machineId: string;
  name: string;
}
