// What the task watchdog (process-watchdog.ts) runs once its agent is gone:
// `node reaper-main.js <agent mark> <grace ms>`. Stops every process carrying the mark.
import { createLogger } from '@waggle/observability';

import { markedBy, stopMarked } from './process-marks';

async function main() {
  const [mark, grace] = process.argv.slice(2);
  if (!mark) {
    process.stderr.write('usage: reaper-main.js <agent mark> <grace ms>\n');
    process.exit(2);
  }
  const stopped = await stopMarked(markedBy(mark), Number(grace) || 0);
  if (stopped) {
    createLogger('node-agent', 'info', false)
      .child({ component: 'watchdog' })
      .warn({ stopped }, "the agent is gone: stopped its tasks' processes");
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`task reaper failed: ${String((error as Error)?.stack ?? error)}\n`);
  process.exit(1);
});
