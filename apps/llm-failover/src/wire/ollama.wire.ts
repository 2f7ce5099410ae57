import { randomUUID } from 'node:crypto';

import type { ProviderWire } from './provider-wire';
import { join, MalformedReplyError, num, obj, parseJson, str } from './provider-wire';
import { ndjsonLines } from './sse';

/** Ollama's own chat API (/api/chat), streaming newline-delimited JSON. */
export const ollamaWire: ProviderWire = {
  request(p, req, model) {
    const messages = [...(req.system ? [{ role: 'system', content: req.system }] : []), ...req.messages];
    return {
      url: join(p.url, '/api/chat'),
      headers: {},
      body: {
        model,
        messages,
        stream: req.stream,
        options: { num_predict: req.maxTokens, temperature: req.temperature, top_p: req.topP, stop: req.stop },
      },
    };
  },
  parse(p, json) {
    const body = obj(json);
    const message = obj(body.message);
    if (typeof message.content !== 'string' || body.done !== true) {
      throw new MalformedReplyError(p.name, 'no message.content');
    }
    return {
      id: randomUUID(),
      model: str(body.model, ''),
      text: message.content,
      stopReason: body.done_reason === 'length' ? 'length' : 'end',
      usage: { inputTokens: num(body.prompt_eval_count), outputTokens: num(body.eval_count) },
    };
  },
  async *stream(p, body) {
    for await (const line of ndjsonLines(body)) {
      const data = parseJson(p, line);
      if (typeof data.error === 'string') {
        throw new Error(`${p.name} stream error: ${data.error}`);
      }
      const content = obj(data.message).content;
      if (typeof content === 'string' && content) {
        yield { type: 'text', text: content };
      }
      if (data.done === true) {
        yield {
          type: 'done',
          stopReason: data.done_reason === 'length' ? 'length' : 'end',
          usage: { inputTokens: num(data.prompt_eval_count), outputTokens: num(data.eval_count) },
        };
        return;
      }
    }
    throw new Error(`${p.name} stream ended before done`);
  },
  errorMessage: (json) => {
    const error = obj(json).error;
    return typeof error === 'string' ? error : undefined;
  },
  health: (p) => ({ url: join(p.url, '/api/tags'), headers: {} }),
};
