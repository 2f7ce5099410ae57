import { IsArray, IsDateString, IsInt, IsNumber, IsString } from 'class-validator';

import { Nullable } from './validation';

/** `waggle.rpc.<service>.stats`: counts since `since` (the start of the UTC day, chosen by the gateway so every service counts the same day). */
export class StatsRequest {
  @IsDateString()
  since!: string;
}

/** The registry's part of the overview. */
export interface RegistryStats {
  machinesOnline: number;
  /** Machines not revoked. */
  machinesTotal: number;
  messagesSince: number;
}

/** The task-router's part of the overview. */
export interface TaskStats {
  queued: number;
  /** Assigned or running. */
  running: number;
  succeededSince: number;
  /** Failed or timed out (cancelled ones are not failures). */
  failedSince: number;
}

/** The GitHub bot's part of the overview. */
export interface GithubStats {
  /** Issue links whose task has not reached its final outcome yet. */
  openLinks: number;
}

/**
 * GET /api/overview: the fleet at a glance. "Today" is the UTC day (as LLM budgets count
 * it). A service that did not answer is named in `unavailable` and its figures are null.
 */
export class OverviewView {
  /** Start of the UTC day the "today" figures count from. */
  @IsDateString()
  since!: string;

  @Nullable()
  @IsInt()
  machinesOnline!: number | null;

  /** Machines not revoked. */
  @Nullable()
  @IsInt()
  machinesTotal!: number | null;

  @Nullable()
  @IsInt()
  tasksQueued!: number | null;

  /** Assigned to a machine or running. */
  @Nullable()
  @IsInt()
  tasksRunning!: number | null;

  /** Succeeded today. */
  @Nullable()
  @IsInt()
  tasksDoneToday!: number | null;

  /** Failed or timed out today. */
  @Nullable()
  @IsInt()
  tasksFailedToday!: number | null;

  @Nullable()
  @IsInt()
  messagesToday!: number | null;

  /** What LLM calls through the hub cost today, in US dollars. */
  @Nullable()
  @IsNumber()
  llmSpendTodayUsd!: number | null;

  /** GitHub issue links not finished yet. */
  @Nullable()
  @IsInt()
  openGithubLinks!: number | null;

  /** Services that did not answer in time (registry, task-router, llm-failover, github-bot). */
  @IsArray()
  @IsString({ each: true })
  unavailable!: string[];
}
