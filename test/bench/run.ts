import 'reflect-metadata';

import { open } from 'node:fs/promises';

import type { MessageView } from '@waggle/contracts';
import { eventually, TestHub } from '@waggle/testing';

import { benchGithub } from './github';
import { rawCatchUp, rawRoundTrip } from './jetstream-baseline';
import { benchLlm } from './llm';
import type { Row } from './stats';
import { BENCH_ENV, percentile, printRows } from './stats';
import { benchTasks } from './tasks';

const LATENCY_SAMPLES = 300;
const QUEUED = 10_000;
const BODY = 'x'.repeat(200);

/** Reads only what was appended to an agent's inbox since the last call: polling stays cheap. */
class InboxTail {
  private offset = 0;
  private partial = '';
  private readonly received = new Map<string, number>();

  constructor(private readonly path: string) {}

  async read(): Promise<Map<string, number>> {
    const handle = await open(this.path, 'r').catch(() => undefined);
    if (!handle) {
      return this.received;
    }
    try {
      const { size } = await handle.stat();
      if (size > this.offset) {
        const buffer = Buffer.alloc(size - this.offset);
        await handle.read(buffer, 0, buffer.length, this.offset);
        this.offset = size;
        const lines = (this.partial + buffer.toString('utf8')).split('\n');
        this.partial = lines.pop() ?? '';
        for (const line of lines) {
          if (!line) {
            continue;
          }
          const m = JSON.parse(line) as { id: string; receivedAt: string };
          this.received.set(m.id, Date.parse(m.receivedAt));
        }
      }
    } finally {
      await handle.close();
    }
    return this.received;
  }
}

/**
 * `npm run bench`: the fleet's figures, each beside a raw JetStream baseline measured in
 * the same run on the same nats-server, as a ratio. Nothing here is a pass/fail test.
 */
async function main() {
  const hub = await TestHub.start({ heartbeatIntervalMs: 1000, env: BENCH_ENV });
  try {
    const agent = await hub.startAgent('bench-agent');
    const creds = hub.nats.material.hubCreds;

    // 1. hub → agent latency: POST accepted → stored on the machine (the agent's own receivedAt).
    const tail = new InboxTail(agent.inbox.inboxPath);
    const latencies: number[] = [];
    for (let i = 0; i < LATENCY_SAMPLES; i++) {
      const sentAt = Date.now();
      const res = await hub.api<MessageView>('POST', '/api/messages', { to: 'bench-agent', body: BODY });
      if (res.status !== 201) {
        throw new Error(`send failed: ${res.status}`);
      }
      const receivedAt = await eventually(
        async () => {
          const found = (await tail.read()).get(res.body.id);
          if (!found) {
            throw new Error('not yet');
          }
          return found;
        },
        { intervalMs: 2, timeoutMs: 10_000 },
      );
      latencies.push(receivedAt - sentAt);
    }
    const raw = await rawRoundTrip(hub.nats.url, creds, LATENCY_SAMPLES, BODY.length);

    // 2. a returning agent catches up on 10,000 queued messages.
    await agent.kill('SIGKILL');
    const before = (await tail.read()).size;
    const sendStart = Date.now();
    const queue = Array.from({ length: QUEUED }, (_, i) => i);
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        for (let i = queue.shift(); i !== undefined; i = queue.shift()) {
          const res = await hub.api('POST', '/api/messages', { to: 'bench-agent', body: `${i} ${BODY}` });
          if (res.status !== 201) {
            throw new Error(`send failed: ${res.status}`);
          }
        }
      }),
    );
    const sendSeconds = (Date.now() - sendStart) / 1000;
    const restartAt = performance.now();
    agent.start();
    await eventually(
      async () => {
        const seen = (await tail.read()).size;
        if (seen < before + QUEUED) {
          throw new Error(`${seen - before} of ${QUEUED}`);
        }
      },
      { timeoutMs: 300_000, intervalMs: 20 },
    );
    const catchUpMs = performance.now() - restartAt;
    const rawCatchUpMs = await rawCatchUp(hub.nats.url, creds, QUEUED, BODY.length);

    const rows: Row[] = [
      {
        figure: `hub→agent latency p50 (${LATENCY_SAMPLES} msgs)`,
        value: percentile(latencies, 50),
        baseline: raw.p50,
        unit: 'ms',
        baselineName: 'JetStream publish→pull→ack p50',
      },
      {
        figure: `hub→agent latency p99 (${LATENCY_SAMPLES} msgs)`,
        value: percentile(latencies, 99),
        baseline: raw.p99,
        unit: 'ms',
        baselineName: 'JetStream publish→pull→ack p99',
      },
      {
        figure: `returning agent receives ${QUEUED.toLocaleString('en')} queued`,
        value: catchUpMs / 1000,
        baseline: rawCatchUpMs / 1000,
        unit: 's',
        baselineName: `JetStream pull+ack of ${QUEUED.toLocaleString('en')} (batches of 500)`,
      },
    ];
    printRows('Waggle fleet benchmark (one machine, nats-server and Postgres local)', rows);
    process.stdout.write(
      `\nnotes: latency is POST /api/messages → message fsync'ed in the agent's inbox (agent clock = hub clock here).\n` +
        `catch-up includes agent start-up (process, NATS connect, hello) and one delivery receipt per batch.\n` +
        `queueing ${QUEUED.toLocaleString('en')} messages through the API (16 concurrent clients) took ${sendSeconds.toFixed(1)} s (${Math.round(QUEUED / sendSeconds)} msg/s).\n`,
    );
  } finally {
    await hub.stop();
  }
  printRows('Waggle task benchmark: no-op `command` tasks (300 per round), through the API', await benchTasks());
  process.stdout.write(
    "\nnotes: tasks/s counts from the first create to the last result recorded; latency is the task's createdAt → result recorded (hub clock).\nEvery task spawns a process on its agent; the baseline moves a message and does no work.\n",
  );
  printRows(
    'Waggle LLM gateway benchmark: a local fake provider speaking the Anthropic and Ollama wire formats',
    await benchLlm(),
  );
  process.stdout.write(
    '\nnotes: via gateway = HTTP → gateway → NATS → llm-failover (breaker read, ledger write) → provider and back; no retries, so failover time is the failure itself plus the second call.\n',
  );
  printRows(
    'Waggle GitHub benchmark: a local fake GitHub with bare repositories, a fake `claude` that edits one file',
    await benchGithub(),
  );
  process.stdout.write(
    '\nnotes: issue → pull request is webhook → task → claim → clone, agent, commit, push, ls-remote, PR → the bot checks the branch and posts the link, labels and comments (writes not spaced); by hand is the git and PR work alone.\n',
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${String((error as Error)?.stack ?? error)}\n`);
  process.exit(1);
});
