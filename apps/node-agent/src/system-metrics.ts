import { statfs } from 'node:fs/promises';
import { cpus, freemem, loadavg, totalmem, uptime } from 'node:os';

import type { MachineMetrics } from '@waggle/contracts';

const MB = 1024 * 1024;

/** Load, memory and the disk holding `path` right now. */
export async function readMetrics(path: string): Promise<MachineMetrics> {
  const disk = await statfs(path);
  return {
    cpuLoad: Math.round((loadavg()[0] / (cpus().length || 1)) * 100) / 100,
    memoryUsedMb: Math.round((totalmem() - freemem()) / MB),
    memoryTotalMb: Math.round(totalmem() / MB),
    diskFreeMb: Math.round((disk.bavail * disk.bsize) / MB),
    diskTotalMb: Math.round((disk.blocks * disk.bsize) / MB),
    uptimeSeconds: Math.round(uptime()),
  };
}
