import { Type } from 'class-transformer';
import { IsInt, IsString, Max, Min, ValidateNested } from 'class-validator';

import { PageQuery } from './pagination';
import { Nullable } from './validation';

/** `GET /api/events`: recent events, newest first; `cursor` is the last event id of the previous page. */
export class ListEventsRequest extends PageQuery {}

/** One GPU in a metric sample. */
export class GpuSample {
  @IsString()
  name!: string;

  @Nullable()
  @IsInt()
  utilizationPercent!: number | null;

  @Nullable()
  @IsInt()
  memoryUsedMb!: number | null;

  @Nullable()
  @IsInt()
  memoryTotalMb!: number | null;
}

/** One heartbeat's figures, kept for the visor's charts. */
export class MetricSample {
  @IsString()
  at!: string;

  /** CPU busy %, null from an agent that reports only its load average. */
  @Nullable()
  @Min(0)
  @Max(100)
  cpuPercent!: number | null;

  @IsInt()
  memoryUsedMb!: number;

  @IsInt()
  memoryTotalMb!: number;

  @IsInt()
  diskUsedMb!: number;

  @IsInt()
  diskTotalMb!: number;

  @ValidateNested({ each: true })
  @Type(() => GpuSample)
  gpus!: GpuSample[];
}

/** `GET /api/machines/{id}/metrics`: the machine's samples of the last hour, oldest first. */
export class MetricHistoryView {
  @IsString()
  machineId!: string;

  /** Seconds between kept samples, at least. */
  @IsInt()
  spacingSeconds!: number;

  @ValidateNested({ each: true })
  @Type(() => MetricSample)
  samples!: MetricSample[];
}
