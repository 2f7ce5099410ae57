import type { LlmProviderKind } from '@waggle/contracts';

import { anthropicWire } from './anthropic.wire';
import { geminiWire } from './gemini.wire';
import { ollamaWire } from './ollama.wire';
import { openaiWire } from './openai.wire';
import type { ProviderWire } from './provider-wire';

export type { HttpCall, ProviderSettings, ProviderWire } from './provider-wire';
export { MalformedReplyError } from './provider-wire';

/** The wire format of each provider kind; one file per format beside this one. */
export const PROVIDER_WIRES: Record<LlmProviderKind, ProviderWire> = {
  anthropic: anthropicWire,
  openai: openaiWire,
  gemini: geminiWire,
  ollama: ollamaWire,
};
