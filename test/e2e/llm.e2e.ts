import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, beforeEach, describe, it } from 'node:test';

import { connect, credsAuthenticator } from 'nats';

import type { BreakerView, FailoverView, LlmCallReply, LlmProviderView, LlmSummary, Page } from '@waggle/contracts';
import { LlmRpc } from '@waggle/contracts';
import { authMaterialFiles } from '@waggle/credentials';
import { request } from '@waggle/messaging';
import type { ProviderWire } from '@waggle/testing';
import { eventually, FakeLlmProvider, present, TestHub } from '@waggle/testing';

type Json = Record<string, unknown>;
const WIRES: ProviderWire[] = ['anthropic', 'ollama', 'gemini', 'openai'];

describe('LLM gateway: one endpoint, failover between providers, shared circuit breakers, cost and budgets', () => {
  let hub: TestHub;
  const fakes = {} as Record<ProviderWire, FakeLlmProvider>;

  before(async () => {
    for (const wire of WIRES) {
      fakes[wire] = await FakeLlmProvider.start(wire);
    }
    hub = await TestHub.start({
      llm: {
        replicas: 2,
        env: {
          WAGGLE_LLM_CHAIN: WIRES.join(','),
          ...Object.fromEntries(WIRES.map((w) => [`WAGGLE_LLM_${w.toUpperCase()}_URL`, fakes[w].url])),
          WAGGLE_LLM_ANTHROPIC_API_KEY: 'sk-ant-test',
          WAGGLE_LLM_GEMINI_API_KEY: 'gm-test',
          WAGGLE_LLM_OPENAI_API_KEY: 'sk-test',
          WAGGLE_LLM_RETRIES: '1',
          WAGGLE_LLM_RETRY_BASE_MS: '20',
          WAGGLE_LLM_RETRY_AFTER_MAX_MS: '3000',
          WAGGLE_LLM_TIMEOUT_MS: '1000',
          WAGGLE_LLM_LOCAL_TIMEOUT_MS: '1000',
          WAGGLE_LLM_BREAKER_THRESHOLD: '3',
          WAGGLE_LLM_BREAKER_COOLDOWN_MS: '1500',
          WAGGLE_LLM_BUDGET_TASK_USD: '0.02',
        },
      },
    });
  });
  after(async () => {
    await hub?.stop();
    await Promise.all(WIRES.map((w) => fakes[w]?.stop()));
  });
  beforeEach(async () => {
    for (const wire of WIRES) {
      fakes[wire].reset();
    }
    assert.equal((await hub.api('POST', '/api/llm/circuit-breakers/reset', {})).status, 200);
  });

  const chat = (body: Json, headers: Record<string, string> = {}) =>
    fetch(`${hub.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${hub.adminToken}`, ...headers },
      body: JSON.stringify({ model: 'default', max_tokens: 100, messages: [{ role: 'user', content: 'hi' }], ...body }),
    });
  const messages = (body: Json, headers: Record<string, string> = {}) =>
    fetch(`${hub.url}/v1/messages`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-api-key': hub.adminToken,
        'anthropic-version': '2023-06-01',
        ...headers,
      },
      body: JSON.stringify({ model: 'default', max_tokens: 100, messages: [{ role: 'user', content: 'hi' }], ...body }),
    });
  /** Server-sent events of a response: [event name, parsed data]. */
  const events = async (res: Response) =>
    (await res.text())
      .split('\n\n')
      .filter((f) => f.trim())
      .map((frame) => {
        const name = /^event: (.*)$/m.exec(frame)?.[1] ?? '';
        const data = /^data: (.*)$/m.exec(frame)?.[1] ?? '';
        return [name, data === '[DONE]' ? data : (JSON.parse(data) as Json)] as const;
      });
  const generations = (wire: ProviderWire) => fakes[wire].requests.filter((r) => r.method === 'POST');

  it('answers in the OpenAI shape from the first provider, mapping the alias, and records tokens and cost', async () => {
    const res = await chat({});
    assert.equal(res.status, 200);
    const body = (await res.json()) as {
      object: string;
      model: string;
      choices: { message: { content: string } }[];
      usage: Json;
    };
    assert.equal(body.object, 'chat.completion');
    assert.equal(body.model, 'default');
    assert.equal(body.choices[0]?.message.content, 'Hello from anthropic');
    assert.deepEqual(body.usage, { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 });
    const sent = present(generations('anthropic')[0], 'the request to anthropic');
    assert.equal((sent.body as Json).model, 'claude-sonnet-4-5', 'the alias became the provider model');
    assert.equal(sent.headers['x-api-key'], 'sk-ant-test');
    assert.equal(generations('ollama').length, 0);

    const summary = await eventually(async () => {
      const s = (await hub.api<LlmSummary>('GET', '/api/llm/summary')).body;
      assert.ok(s.total.requests >= 1);
      return s;
    });
    const anthropic = summary.byProvider.find((p) => p.provider === 'anthropic')!;
    assert.ok(
      Math.abs(anthropic.costUsd / anthropic.requests - (10 * 3 + 5 * 15) / 1e6) < 1e-9,
      'sonnet: $3 in, $15 out per million',
    );
    const providers = (await hub.api<LlmProviderView[]>('GET', '/api/llm/providers')).body;
    assert.deepEqual(
      providers.map((p) => p.name),
      WIRES,
    );
    assert.equal(providers.find((p) => p.name === 'ollama')?.local, true);
    assert.equal(providers.find((p) => p.name === 'ollama')?.costUsd, 0);
  });

  it('streams in the Anthropic shape, event by event, with usage', async () => {
    const res = await messages({ stream: true });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /text\/event-stream/);
    const list = await events(res);
    const names = list.map(([n]) => n);
    assert.equal(names[0], 'message_start');
    assert.equal(names[1], 'content_block_start');
    assert.deepEqual(names.slice(-3), ['content_block_stop', 'message_delta', 'message_stop']);
    const text = list
      .filter(([n]) => n === 'content_block_delta')
      .map(([, d]) => ((d as Json).delta as Json).text)
      .join('');
    assert.equal(text, 'Hello from anthropic');
    assert.equal(((list.at(-2)![1] as Json).usage as Json).output_tokens, 5);
  });

  it('fails over in chain order on 5xx after retrying, and lists the failovers', async () => {
    fakes.anthropic.script({ kind: 'status', status: 500 }, { kind: 'status', status: 500 });
    fakes.ollama.script({ kind: 'status', status: 503 }, { kind: 'status', status: 503 });
    const res = await chat({ model: 'fast' });
    assert.equal(res.status, 200);
    const body = (await res.json()) as { choices: { message: { content: string } }[] };
    assert.equal(body.choices[0]?.message.content, 'Hello from gemini');
    assert.equal(generations('anthropic').length, 2, 'one retry, then the next provider');
    assert.equal(generations('ollama').length, 2);
    assert.match(generations('gemini')[0]?.path ?? '', /gemini-2\.5-flash:generateContent/);
    const failovers = (await hub.api<Page<FailoverView>>('GET', '/api/llm/failovers?limit=2')).body.items;
    // Both were recorded in one statement with one timestamp: compare them as a set.
    assert.deepEqual(failovers.map((f) => `${f.from}->${f.to}`).sort(), ['anthropic->ollama', 'ollama->gemini']);
    assert.match(failovers.find((f) => f.from === 'anthropic')!.reason, /500/);
  });

  it("returns a caller's own error without failing over", async () => {
    fakes.anthropic.script({ kind: 'status', status: 400, message: 'messages: roles must alternate' });
    const res = await chat({});
    assert.equal(res.status, 400);
    const body = (await res.json()) as { error: { message: string } };
    assert.match(body.error.message, /roles must alternate/);
    assert.equal(generations('ollama').length, 0);
    const bad = await chat({ messages: [{ role: 'tool', content: 'x' }] });
    assert.equal(bad.status, 400, 'a request the gateway cannot translate is refused before any provider');
    assert.match(((await bad.json()) as { error: { message: string } }).error.message, /role must be/);
  });

  it('honours Retry-After on a 429, then succeeds on the same provider', async () => {
    fakes.anthropic.script({ kind: 'status', status: 429, retryAfter: '1' });
    const res = await chat({});
    assert.equal(res.status, 200);
    const [first, second] = generations('anthropic');
    assert.ok(first && second, 'anthropic was asked twice');
    assert.ok(second.at - first.at >= 950, `waited ${second.at - first.at} ms`);
    assert.equal(generations('ollama').length, 0);
  });

  it('fails over on malformed JSON and on a hang; a busy local provider is not counted as down', async () => {
    fakes.anthropic.script({ kind: 'malformed' });
    fakes.ollama.script({ kind: 'hang' });
    const res = await chat({});
    assert.equal(res.status, 200);
    assert.equal(
      ((await res.json()) as { choices: { message: { content: string } }[] }).choices[0]?.message.content,
      'Hello from gemini',
    );
    const breakers = (await hub.api<BreakerView[]>('GET', '/api/llm/circuit-breakers')).body;
    assert.equal(breakers.find((b) => b.provider === 'anthropic')?.consecutiveFailures, 1);
    assert.equal(
      breakers.find((b) => b.provider === 'ollama')?.consecutiveFailures,
      0,
      'its model list answered: busy, not down',
    );
    assert.ok(
      fakes.ollama.requests.some((r) => r.path === '/api/tags'),
      'health was probed apart from the request',
    );
  });

  it('fails over when a provider refuses connections', async () => {
    const port = Number(new URL(fakes.anthropic.url).port);
    await fakes.anthropic.stop();
    try {
      const res = await chat({});
      assert.equal(res.status, 200);
      assert.equal(
        ((await res.json()) as { choices: { message: { content: string } }[] }).choices[0]?.message.content,
        'Hello from ollama',
      );
      const failovers = (await hub.api<Page<FailoverView>>('GET', '/api/llm/failovers?limit=1')).body.items;
      assert.match(failovers[0]?.reason ?? '', /connection failed/);
    } finally {
      fakes.anthropic = await FakeLlmProvider.start('anthropic', port);
    }
  });

  it('opens the circuit after consecutive failures, skips the provider on every replica, then closes it after one good probe', async () => {
    fakes.anthropic.fallback = { kind: 'status', status: 500 };
    for (let i = 0; i < 3; i++) {
      assert.equal((await chat({})).status, 200);
    }
    const opened = (await hub.api<BreakerView[]>('GET', '/api/llm/circuit-breakers')).body.find(
      (b) => b.provider === 'anthropic',
    );
    assert.equal(opened?.state, 'open');
    // One replica goes away: the other sees the same open circuit (the state is in Postgres).
    const replica = present(hub.llmFailovers[0], 'an llm-failover replica');
    await replica.kill();
    const before = generations('anthropic').length;
    for (let i = 0; i < 3; i++) {
      assert.equal((await chat({})).status, 200);
    }
    assert.equal(generations('anthropic').length, before, 'skipped while open');
    assert.equal(
      (await hub.api<Page<FailoverView>>('GET', '/api/llm/failovers?limit=1')).body.items[0]?.reason,
      'circuit open',
    );
    fakes.anthropic.fallback = { kind: 'ok' };
    await eventually(
      async () => {
        const res = await chat({});
        assert.equal(
          ((await res.json()) as { choices: { message: { content: string } }[] }).choices[0]?.message.content,
          'Hello from anthropic',
        );
      },
      { timeoutMs: 10_000, what: 'the half-open probe closes the circuit' },
    );
    const closed = (await hub.api<BreakerView[]>('GET', '/api/llm/circuit-breakers')).body.find(
      (b) => b.provider === 'anthropic',
    );
    assert.equal(closed?.state, 'closed');
    replica.start();
  });

  it('fails a stream over when it breaks before its first token; after it began, the caller gets an error event', async () => {
    fakes.anthropic.script({ kind: 'cut-before-first-token' }, { kind: 'cut-before-first-token' });
    const failed = await chat({ stream: true });
    assert.equal(failed.status, 200);
    const list = await events(failed);
    const deltaText = (d: Json | string): string => {
      const choices = typeof d === 'string' ? undefined : (d.choices as { delta: { content?: string } }[] | undefined);
      return choices?.[0]?.delta.content ?? '';
    };
    const text = list.map(([, d]) => deltaText(d)).join('');
    assert.equal(text, 'Hello from ollama');
    assert.equal(list.at(-1)![1], '[DONE]');

    fakes.anthropic.script({ kind: 'cut-after-first-token' });
    const cut = await messages({ stream: true });
    const cutEvents = await events(cut);
    assert.ok(
      cutEvents.some(([n]) => n === 'content_block_delta'),
      'the first token was passed on',
    );
    const error = cutEvents.find(([n]) => n === 'error');
    assert.match(((error?.[1] as Json).error as Json).message as string, /broke after it began/);
    assert.equal(generations('ollama').length, 1, 'no failover once the stream began');
  });

  it('streams from every provider wire format in both API shapes', async () => {
    for (const [i, target] of (['ollama', 'gemini', 'openai'] as const).entries()) {
      for (const wire of WIRES.slice(0, i + 1)) {
        fakes[wire].fallback = { kind: 'status', status: 500 };
      }
      fakes[target].fallback = { kind: 'ok' };
      const res = await messages({ stream: true });
      const text = (await events(res))
        .filter(([n]) => n === 'content_block_delta')
        .map(([, d]) => ((d as Json).delta as Json).text)
        .join('');
      assert.equal(text, `Hello from ${target}`);
      await hub.api('POST', '/api/llm/circuit-breakers/reset', {});
    }
  });

  it('answers 502 with every provider and its reason when all fail', async () => {
    for (const wire of WIRES) {
      fakes[wire].fallback = { kind: 'status', status: 500 };
    }
    const res = await messages({});
    assert.equal(res.status, 502);
    const body = (await res.json()) as {
      type: string;
      error: { message: string };
      providers: { provider: string; reason: string }[];
    };
    assert.equal(body.type, 'error');
    assert.deepEqual(
      body.providers.map((p) => p.provider),
      WIRES,
    );
    assert.ok(body.providers.every((p) => /500/.test(p.reason)));
  });

  it("refuses a call over a task's budget before it is sent (streamed or not), and attributes cost to the task", async () => {
    const taskId = crypto.randomUUID();
    fakes.anthropic.script({ kind: 'ok', inputTokens: 100, outputTokens: 1000 });
    assert.equal((await chat({ max_tokens: 1000 }, { 'x-waggle-task-id': taskId })).status, 200);
    const seen = generations('anthropic').length;
    const refused = await chat({ max_tokens: 500 }, { 'x-waggle-task-id': taskId });
    assert.equal(refused.status, 402);
    assert.match(
      ((await refused.json()) as { error: { message: string } }).error.message,
      /this task's budget of \$0\.0200 would be exceeded/,
    );
    const refusedStream = await messages({ stream: true, max_tokens: 500 }, { 'x-waggle-task-id': taskId });
    assert.equal(refusedStream.status, 402);
    assert.equal(generations('anthropic').length, seen, 'nothing was sent');
    assert.equal(
      (await chat({ max_tokens: 500 }, { 'x-waggle-task-id': crypto.randomUUID() })).status,
      200,
      'another task has its own budget',
    );
    const summary = (await hub.api<LlmSummary>('GET', '/api/llm/summary')).body;
    const spent = summary.byTask.find((t) => t.taskId === taskId);
    assert.ok(spent && Math.abs(spent.costUsd - (100 * 3 + 1000 * 15) / 1e6) < 1e-9);
    assert.equal(summary.budgets.perTaskUsd, 0.02);
  });

  it("serves Waggle's own services on the NATS request subject", async () => {
    const nc = await connect({
      servers: hub.nats.url,
      authenticator: credsAuthenticator(await readFile(authMaterialFiles(hub.nats.authDir).hubCreds)),
    });
    try {
      const reply = await request<LlmCallReply>(
        nc,
        LlmRpc.complete,
        {
          v: 1,
          api: 'openai',
          body: { model: 'default', messages: [{ role: 'user', content: 'from a service' }] },
          caller: { kind: 'service', name: 'github-bot' },
        },
        10_000,
      );
      assert.equal(reply.status, 200);
      assert.equal(
        (reply.body as { choices: { message: { content: string } }[] }).choices[0]?.message.content,
        'Hello from anthropic',
      );
    } finally {
      await nc.close();
    }
  });
});
