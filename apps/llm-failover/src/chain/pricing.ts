import type { Usage } from '../wire/canonical';
import type { ProviderSettings } from '../wire/providers';

/** USD per million tokens. */
export interface Price {
  input: number;
  output: number;
}

/** List prices of current models (USD per million tokens); WAGGLE_LLM_PRICES overrides or adds. */
export const DEFAULT_PRICES: Record<string, Price> = {
  'claude-opus-4-1': { input: 15, output: 75 },
  'claude-sonnet-4-5': { input: 3, output: 15 },
  'claude-haiku-4-5': { input: 1, output: 5 },
  'gpt-5': { input: 1.25, output: 10 },
  'gpt-5-mini': { input: 0.25, output: 2 },
  'gpt-4.1': { input: 2, output: 8 },
  'gpt-4o': { input: 2.5, output: 10 },
  'gpt-4o-mini': { input: 0.15, output: 0.6 },
  'gemini-2.5-pro': { input: 1.25, output: 10 },
  'gemini-2.5-flash': { input: 0.3, output: 2.5 },
};

/** Parses WAGGLE_LLM_PRICES; the error names the entry that is wrong. */
export function parsePrices(json: string | undefined): Record<string, Price> {
  if (!json) {
    return { ...DEFAULT_PRICES };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    throw new Error('WAGGLE_LLM_PRICES must be JSON: {"model": {"input": 3, "output": 15}}');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new Error('WAGGLE_LLM_PRICES must be a JSON object');
  }
  const prices = { ...DEFAULT_PRICES };
  for (const [model, value] of Object.entries(parsed)) {
    const p = value as Partial<Price>;
    if (typeof p?.input !== 'number' || typeof p.output !== 'number' || p.input < 0 || p.output < 0) {
      throw new Error(
        `WAGGLE_LLM_PRICES: ${model} needs non-negative numbers "input" and "output" (USD per million tokens)`,
      );
    }
    prices[model] = { input: p.input, output: p.output };
  }
  return prices;
}

export class PriceTable {
  constructor(private readonly prices: Record<string, Price>) {}

  /** The price of a provider's model: 0 on a local provider; a dated model id falls back to its family. */
  priceOf(provider: Pick<ProviderSettings, 'local'>, model: string): Price | undefined {
    if (provider.local) {
      return { input: 0, output: 0 };
    }
    return this.prices[model] ?? this.prices[model.replace(/-\d{8}$|-latest$/, '')];
  }

  /** Cost of a request in USD (unknown price: 0, and `priced` false). */
  cost(provider: Pick<ProviderSettings, 'local'>, model: string, usage: Usage): { usd: number; priced: boolean } {
    const price = this.priceOf(provider, model);
    if (!price) {
      return { usd: 0, priced: false };
    }
    return { usd: (usage.inputTokens * price.input + usage.outputTokens * price.output) / 1_000_000, priced: true };
  }
}
