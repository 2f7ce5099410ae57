import { randomUUID } from 'node:crypto';

import type { StopReason, Usage } from './canonical';
import type { Json, ProviderWire } from './provider-wire';
import { join, MalformedReplyError, nestedErrorMessage, num, obj, parseJson, str } from './provider-wire';
import { sseEvents } from './sse';

const geminiStop = (s: unknown): StopReason => (s === 'MAX_TOKENS' ? 'length' : 'end');

function geminiResult(data: Json): { text: string; finish: unknown; usage: Usage | undefined } {
  const candidate = obj(Array.isArray(data.candidates) ? data.candidates[0] : undefined);
  const parts = obj(candidate.content).parts;
  const text = Array.isArray(parts) ? parts.map((part) => str(obj(part).text)).join('') : '';
  const meta = data.usageMetadata ? obj(data.usageMetadata) : undefined;
  return {
    text,
    finish: candidate.finishReason,
    usage: meta ? { inputTokens: num(meta.promptTokenCount), outputTokens: num(meta.candidatesTokenCount) } : undefined,
  };
}

/** Google's Gemini API (generateContent, streamGenerateContent over SSE). */
export const geminiWire: ProviderWire = {
  request(p, req, model) {
    const action = req.stream ? ':streamGenerateContent?alt=sse' : ':generateContent';
    return {
      url: join(p.url, `/v1beta/models/${encodeURIComponent(model)}${action}`),
      headers: { 'x-goog-api-key': p.apiKey ?? '' },
      body: {
        contents: req.messages.map((m) => ({
          role: m.role === 'assistant' ? 'model' : 'user',
          parts: [{ text: m.content }],
        })),
        systemInstruction: req.system ? { parts: [{ text: req.system }] } : undefined,
        generationConfig: {
          maxOutputTokens: req.maxTokens,
          temperature: req.temperature,
          topP: req.topP,
          stopSequences: req.stop,
        },
      },
    };
  },
  parse(p, json) {
    const body = obj(json);
    if (!Array.isArray(body.candidates)) {
      throw new MalformedReplyError(p.name, 'no candidates');
    }
    const r = geminiResult(body);
    return {
      id: str(body.responseId, randomUUID()),
      model: str(body.modelVersion, ''),
      text: r.text,
      stopReason: geminiStop(r.finish),
      usage: r.usage ?? { inputTokens: 0, outputTokens: 0 },
    };
  },
  async *stream(p, body) {
    let usage: Usage = { inputTokens: 0, outputTokens: 0 };
    let stopReason: StopReason | undefined;
    for await (const e of sseEvents(body)) {
      const data = parseJson(p, e.data);
      if (data.error) {
        throw new Error(`${p.name} stream error: ${str(obj(data.error).message, 'unknown')}`);
      }
      const r = geminiResult(data);
      if (r.text) {
        yield { type: 'text', text: r.text };
      }
      if (r.usage) {
        usage = r.usage;
      }
      if (r.finish) {
        stopReason = geminiStop(r.finish);
      }
    }
    // Gemini has no end marker: the stream ends after the candidate that carries finishReason.
    if (!stopReason) {
      throw new Error(`${p.name} stream ended without a finishReason`);
    }
    yield { type: 'done', stopReason, usage };
  },
  errorMessage: nestedErrorMessage,
  health: (p) => ({ url: join(p.url, '/v1beta/models'), headers: { 'x-goog-api-key': p.apiKey ?? '' } }),
};
