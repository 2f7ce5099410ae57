import { spawn } from 'node:child_process';

import { Worker } from 'bullmq';

/** Runs `true` (stdout and stderr read, as an agent does) and resolves with its exit code. */
function runTrue(): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn('true', [], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.resume();
    child.stderr.resume();
    child.once('error', reject);
    child.once('close', (code) => resolve(code ?? 1));
  });
}

/**
 * Baseline of an agent: a BullMQ worker process with `concurrency` slots that spawns `true`
 * for every job. Argv: redis URL, queue name, concurrency. Prints `ready`.
 */
async function main() {
  const [redisUrl, queue, concurrency] = process.argv.slice(2);
  if (!redisUrl || !queue || !concurrency) {
    throw new Error('usage: bullmq-worker <redis-url> <queue> <concurrency>');
  }
  const url = new URL(redisUrl);
  const worker = new Worker(queue, async () => ({ exitCode: await runTrue() }), {
    connection: { host: url.hostname, port: Number(url.port || 6379), maxRetriesPerRequest: null },
    concurrency: Number(concurrency),
  });
  await worker.waitUntilReady();
  process.stdout.write('ready\n');
  const stop = () => void worker.close().then(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((error: unknown) => {
  process.stderr.write(`${String(error)}\n`);
  process.exit(1);
});
