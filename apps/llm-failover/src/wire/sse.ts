import { createParser } from 'eventsource-parser';

/** One server-sent event frame, as the real APIs write them. */
export function sseFrame(data: unknown, event?: string): string {
  return `${event ? `event: ${event}\n` : ''}data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`;
}

/** The events of an SSE body, in order (eventsource-parser does the framing). */
export async function* sseEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<{ event?: string; data: string }> {
  const queue: { event?: string; data: string }[] = [];
  const parser = createParser({ onEvent: (e) => queue.push({ event: e.event, data: e.data }) });
  const decoder = new TextDecoder();
  for await (const chunk of body) {
    parser.feed(decoder.decode(chunk, { stream: true }));
    while (queue.length) {
      yield queue.shift()!;
    }
  }
}

/** Lines of a newline-delimited JSON body (Ollama streams this way). */
export async function* ndjsonLines(body: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of body) {
    buffer += decoder.decode(chunk, { stream: true });
    let newline: number;
    while ((newline = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, newline).trim();
      buffer = buffer.slice(newline + 1);
      if (line) {
        yield line;
      }
    }
  }
  if (buffer.trim()) {
    yield buffer.trim();
  }
}
