import { FakeLlmProvider, TestHub } from '@waggle/testing';

import type { Row } from './stats';
import { BENCH_ENV, percentile } from './stats';

const SAMPLES = 300;
const FAILOVER_SAMPLES = 20;
const HANG_SAMPLES = 5;
const TIMEOUT_MS = 1000;
const BODY = JSON.stringify({
  model: 'claude-sonnet-4-5',
  max_tokens: 100,
  messages: [{ role: 'user', content: 'hi' }],
});

async function timed(n: number, call: () => Promise<Response>): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    const started = performance.now();
    const res = await call();
    await res.arrayBuffer();
    if (res.status !== 200) {
      throw new Error(`status ${res.status}`);
    }
    samples.push(performance.now() - started);
  }
  return samples;
}

/** Gateway overhead per LLM call, and time to fail over, each beside calling the fake provider directly. */
export async function benchLlm(): Promise<Row[]> {
  const anthropic = await FakeLlmProvider.start('anthropic');
  const ollama = await FakeLlmProvider.start('ollama');
  const port = Number(new URL(anthropic.url).port);
  const hub = await TestHub.start({
    env: BENCH_ENV,
    llm: {
      env: {
        WAGGLE_LLM_CHAIN: 'anthropic,ollama',
        WAGGLE_LLM_ANTHROPIC_URL: anthropic.url,
        WAGGLE_LLM_ANTHROPIC_API_KEY: 'sk-bench',
        WAGGLE_LLM_OLLAMA_URL: ollama.url,
        // Failover time itself: no retries, and a breaker that never opens during the run.
        WAGGLE_LLM_RETRIES: '0',
        WAGGLE_LLM_BREAKER_THRESHOLD: '100000',
        WAGGLE_LLM_TIMEOUT_MS: String(TIMEOUT_MS),
        // Log level stays at info: TestHub waits for each service's "ready" line.
      },
    },
  });
  const viaGateway = () =>
    fetch(`${hub.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': hub.adminToken },
      body: BODY,
    });
  const direct = (url: string, path: string, body: string) =>
    fetch(`${url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': 'k', 'anthropic-version': '2023-06-01' },
      body,
    });
  const ollamaBody = JSON.stringify({ model: 'llama3.1', stream: false, messages: [{ role: 'user', content: 'hi' }] });
  let fake = anthropic;
  try {
    await timed(30, viaGateway); // warm-up: connections, JIT, plans
    await timed(30, () => direct(anthropic.url, '/v1/messages', BODY));
    const gateway = await timed(SAMPLES, viaGateway);
    const bare = await timed(SAMPLES, () => direct(anthropic.url, '/v1/messages', BODY));
    const ollamaDirect = await timed(FAILOVER_SAMPLES, () => direct(ollama.url, '/api/chat', ollamaBody));

    await anthropic.stop();
    const refused = await timed(FAILOVER_SAMPLES, viaGateway);
    fake = await FakeLlmProvider.start('anthropic', port);
    fake.fallback = { kind: 'hang' };
    const hung = await timed(HANG_SAMPLES, viaGateway);
    return [
      {
        figure: 'LLM call p50 (non-streamed, via gateway)',
        value: percentile(gateway, 50),
        baseline: percentile(bare, 50),
        unit: 'ms',
        baselineName: 'POST to the provider directly',
      },
      {
        figure: 'LLM call p99 (non-streamed, via gateway)',
        value: percentile(gateway, 99),
        baseline: percentile(bare, 99),
        unit: 'ms',
        baselineName: 'POST to the provider directly',
      },
      {
        figure: 'failover p50, 1st provider refuses connections',
        value: percentile(refused, 50),
        baseline: percentile(ollamaDirect, 50),
        unit: 'ms',
        baselineName: 'POST to the 2nd provider directly',
      },
      {
        figure: `failover p50, 1st provider hangs (timeout ${TIMEOUT_MS} ms)`,
        value: percentile(hung, 50),
        baseline: percentile(ollamaDirect, 50),
        unit: 'ms',
        baselineName: 'POST to the 2nd provider directly',
      },
    ];
  } finally {
    await hub.stop();
    await Promise.all([fake.stop(), anthropic.stop(), ollama.stop()]);
  }
}
