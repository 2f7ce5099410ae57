import { randomUUID } from 'node:crypto';

import type { StopReason, Usage } from './canonical';
import type { ProviderWire } from './provider-wire';
import { bearer, join, MalformedReplyError, nestedErrorMessage, num, obj, parseJson, str } from './provider-wire';
import { sseEvents } from './sse';

const openAiStop = (s: unknown): StopReason => (s === 'length' ? 'length' : 'end');

/** OpenAI's Chat Completions API (/v1/chat/completions), with its SSE stream ending in [DONE]. */
export const openaiWire: ProviderWire = {
  request(p, req, model) {
    const messages = [...(req.system ? [{ role: 'system', content: req.system }] : []), ...req.messages];
    return {
      url: join(p.url, '/v1/chat/completions'),
      headers: bearer(p),
      body: {
        model,
        messages,
        max_tokens: req.maxTokens,
        temperature: req.temperature,
        top_p: req.topP,
        stop: req.stop,
        stream: req.stream || undefined,
        stream_options: req.stream ? { include_usage: true } : undefined,
      },
    };
  },
  parse(p, json) {
    const body = obj(json);
    const choice = obj(Array.isArray(body.choices) ? body.choices[0] : undefined);
    const message = obj(choice.message);
    if (typeof message.content !== 'string') {
      throw new MalformedReplyError(p.name, 'no choices[0].message.content');
    }
    const usage = obj(body.usage);
    return {
      id: str(body.id, randomUUID()),
      model: str(body.model, ''),
      text: message.content,
      stopReason: openAiStop(choice.finish_reason),
      usage: { inputTokens: num(usage.prompt_tokens), outputTokens: num(usage.completion_tokens) },
    };
  },
  async *stream(p, body) {
    const usage: Usage = { inputTokens: 0, outputTokens: 0 };
    let stopReason: StopReason = 'end';
    for await (const e of sseEvents(body)) {
      if (e.data === '[DONE]') {
        yield { type: 'done', stopReason, usage };
        return;
      }
      const data = parseJson(p, e.data);
      if (data.error) {
        throw new Error(`${p.name} stream error: ${str(obj(data.error).message, 'unknown')}`);
      }
      const choice = obj(Array.isArray(data.choices) ? data.choices[0] : undefined);
      const content = obj(choice.delta).content;
      if (typeof content === 'string' && content) {
        yield { type: 'text', text: content };
      }
      if (choice.finish_reason) {
        stopReason = openAiStop(choice.finish_reason);
      }
      if (data.usage) {
        const u = obj(data.usage);
        usage.inputTokens = num(u.prompt_tokens);
        usage.outputTokens = num(u.completion_tokens);
      }
    }
    throw new Error(`${p.name} stream ended before [DONE]`);
  },
  errorMessage: nestedErrorMessage,
  health: (p) => ({ url: join(p.url, '/v1/models'), headers: bearer(p) }),
};
