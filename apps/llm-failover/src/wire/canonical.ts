/** The one shape every caller API and provider wire format is translated to and from. */
export interface ChatMessage {
  role: 'user' | 'assistant';
  content: string;
}

export interface ChatRequest {
  /** A model or a model alias, as the caller named it. */
  model: string;
  system?: string;
  messages: ChatMessage[];
  maxTokens: number;
  temperature?: number;
  topP?: number;
  stop?: string[];
  stream: boolean;
}

export type StopReason = 'end' | 'length' | 'stop_sequence';

export interface Usage {
  inputTokens: number;
  outputTokens: number;
}

export interface ChatResult {
  id: string;
  /** The provider's model that answered. */
  model: string;
  text: string;
  stopReason: StopReason;
  usage: Usage;
}

export type StreamEvent = { type: 'text'; text: string } | { type: 'done'; stopReason: StopReason; usage: Usage };

/** A caller's request that cannot be served as asked: 400 with the reason, in the caller's API shape. */
export class CallerInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CallerInputError';
  }
}

/** Text of a message content that is a string or an array of text blocks; anything else is refused. */
export function textOf(content: unknown, where: string): string {
  if (typeof content === 'string') {
    return content;
  }
  if (Array.isArray(content)) {
    return content
      .map((block: unknown, i) => {
        const b = block as { type?: unknown; text?: unknown };
        if (b && b.type === 'text' && typeof b.text === 'string') {
          return b.text;
        }
        throw new CallerInputError(
          `${where}[${i}]: only text content is supported (got ${JSON.stringify(b?.type ?? typeof block)})`,
        );
      })
      .join('');
  }
  throw new CallerInputError(`${where}: must be a string or an array of text blocks`);
}
