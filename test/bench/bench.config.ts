import { Type } from 'class-transformer';
import { IsIn, IsInt, Matches, Max, Min } from 'class-validator';

import { EnvList } from '@waggle/config';

/** Sizes of `npm run bench`, from WAGGLE_BENCH_* variables; the defaults keep a run near ten minutes on two cores. */
export class BenchConfig {
  /** Repetitions of every measured figure (median and min–max are printed). */
  @Type(() => Number)
  @IsInt()
  @Min(3)
  @Max(50)
  WAGGLE_BENCH_REPS = 3;

  /** Concurrent API clients (and raw JetStream publishers, raw Postgres clients, BullMQ producers). */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  WAGGLE_BENCH_CONCURRENCY = 32;

  /** Steady rate of the latency figures (messages or tasks per second). */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  WAGGLE_BENCH_RATE = 20;

  /** Messages per latency repetition (sent at WAGGLE_BENCH_RATE). */
  @Type(() => Number)
  @IsInt()
  @Min(10)
  WAGGLE_BENCH_LATENCY_MESSAGES = 150;

  /** Messages per burst to an online agent (the per-message counts). */
  @Type(() => Number)
  @IsInt()
  @Min(10)
  WAGGLE_BENCH_BURST_MESSAGES = 1000;

  /** Messages queued for an offline agent per repetition (API throughput, then the returning agent's catch-up). */
  @Type(() => Number)
  @IsInt()
  @Min(10)
  WAGGLE_BENCH_QUEUED_MESSAGES = 10_000;

  /** No-op tasks per burst (throughput and per-task counts). */
  @Type(() => Number)
  @IsInt()
  @Min(10)
  WAGGLE_BENCH_TASK_BURST = 500;

  /** Further burst sizes, measured once each, to show whether a task's cost grows with the backlog. */
  @EnvList()
  @Matches(/^[0-9]+$/, { each: true })
  WAGGLE_BENCH_TASK_BACKLOGS: string[] = ['100', '2000'];

  /** Tasks per latency repetition (created at WAGGLE_BENCH_RATE). */
  @Type(() => Number)
  @IsInt()
  @Min(10)
  WAGGLE_BENCH_TASK_LATENCY_TASKS = 100;

  /** Seconds of load per HTTP repetition (GET /api/machines and bare Fastify). */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  WAGGLE_BENCH_HTTP_SECONDS = 3;

  /** Seconds over which the idle hub's transactions are counted (in three thirds). */
  @Type(() => Number)
  @IsInt()
  @Min(3)
  WAGGLE_BENCH_IDLE_SECONDS = 15;

  /** Redis for the BullMQ baseline. */
  @Matches(/^redis:\/\//)
  WAGGLE_BENCH_REDIS_URL = 'redis://127.0.0.1:6379';

  /** Sentry events sent per repetition of the errors section. */
  @Type(() => Number)
  @IsInt()
  @Min(100)
  WAGGLE_BENCH_ERROR_EVENTS = 10_000;

  /** Sections to run: messages, tasks, startup, llm, github, errors. */
  @EnvList()
  @IsIn(['messages', 'tasks', 'startup', 'llm', 'github', 'errors'], { each: true })
  WAGGLE_BENCH_SECTIONS: string[] = ['messages', 'tasks', 'startup', 'llm', 'github', 'errors'];
}
