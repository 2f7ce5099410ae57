import { readFileSync } from 'node:fs';

import { Type } from 'class-transformer';
import { IsInt, IsNumber, IsOptional, IsString, Max, Min } from 'class-validator';

import { ConfigError, EnvList, HubServiceConfig, prefixedVariables } from '@waggle/config';
import type { LlmProviderKind } from '@waggle/contracts';
import { LLM_PROVIDER_KINDS } from '@waggle/contracts';
import type { Logger } from '@waggle/observability';

import type { Price } from './chain/pricing';
import { parsePrices } from './chain/pricing';
import type { ProviderSettings } from './wire/providers';

/** Every fixed variable llm-failover reads; providers come from `WAGGLE_LLM_<NAME>_*` (see providersFrom). */
export class LlmFailoverConfig extends HubServiceConfig {
  /** Providers in the order they are tried. */
  @EnvList()
  @IsString({ each: true })
  WAGGLE_LLM_CHAIN: string[] = ['anthropic', 'ollama', 'gemini', 'openai'];

  /** A JSON file of `WAGGLE_LLM_*` settings (name → value); the environment wins over it. */
  @IsOptional()
  @IsString()
  WAGGLE_LLM_CONFIG_FILE?: string;

  /** Retries of one provider before the next is tried (on timeouts, refused connections, 5xx, 429). */
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(10)
  WAGGLE_LLM_RETRIES = 1;

  /** First backoff between retries, doubled each time (a Retry-After answer wins). */
  @Type(() => Number)
  @IsInt()
  @Min(0)
  WAGGLE_LLM_RETRY_BASE_MS = 250;

  /** A Retry-After longer than this is not waited for: the next provider is tried instead. */
  @Type(() => Number)
  @IsInt()
  @Min(0)
  WAGGLE_LLM_RETRY_AFTER_MAX_MS = 10_000;

  /** Time to the response headers of a cloud provider. */
  @Type(() => Number)
  @IsInt()
  @Min(10)
  WAGGLE_LLM_TIMEOUT_MS = 60_000;

  /** Time to the response headers of a local provider (Ollama loads models and queues: slow is not down). */
  @Type(() => Number)
  @IsInt()
  @Min(10)
  WAGGLE_LLM_LOCAL_TIMEOUT_MS = 300_000;

  /** Longest silence inside a stream before it counts as broken. */
  @Type(() => Number)
  @IsInt()
  @Min(10)
  WAGGLE_LLM_STREAM_IDLE_MS = 120_000;

  /** Consecutive failures that open a provider's circuit. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  WAGGLE_LLM_BREAKER_THRESHOLD = 5;

  /** How long an open circuit skips its provider before one probe is let through. */
  @Type(() => Number)
  @IsInt()
  @Min(10)
  WAGGLE_LLM_BREAKER_COOLDOWN_MS = 60_000;

  /** How often local providers' model lists are probed. */
  @Type(() => Number)
  @IsInt()
  @Min(100)
  WAGGLE_LLM_HEALTH_INTERVAL_MS = 15_000;

  /** Prices in USD per million tokens, JSON: `{"model": {"input": 3, "output": 15}}`, over the defaults. */
  @IsOptional()
  @IsString()
  WAGGLE_LLM_PRICES?: string;

  /** Spending caps in USD (unset: none). Checked before a request is sent. */
  @IsOptional()
  @Type(() => Number)
  @IsNumber()
  @Min(0)
  WAGGLE_LLM_BUDGET_DAILY_USD?: number;

  @IsOptional()
  @Type(() => Number)
  @IsNumber()
  @Min(0)
  WAGGLE_LLM_BUDGET_MACHINE_DAILY_USD?: number;

  @IsOptional()
  @Type(() => Number)
  @IsNumber()
  @Min(0)
  WAGGLE_LLM_BUDGET_TASK_USD?: number;

  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(65535)
  WAGGLE_LLM_FAILOVER_METRICS_PORT = 9103;
}

const DEFAULT_URLS: Record<LlmProviderKind, string> = {
  anthropic: 'https://api.anthropic.com',
  openai: 'https://api.openai.com',
  gemini: 'https://generativelanguage.googleapis.com',
  ollama: 'http://127.0.0.1:11434',
};

/** Each kind's model for each alias; a provider's `_MODELS` overrides entries. */
export const DEFAULT_MODELS: Record<LlmProviderKind, Record<string, string>> = {
  anthropic: { default: 'claude-sonnet-4-5', fast: 'claude-haiku-4-5', smart: 'claude-opus-4-1' },
  openai: { default: 'gpt-5', fast: 'gpt-5-mini', smart: 'gpt-5' },
  gemini: { default: 'gemini-2.5-pro', fast: 'gemini-2.5-flash', smart: 'gemini-2.5-pro' },
  ollama: { default: 'llama3.1', fast: 'llama3.2', smart: 'llama3.1' },
};

/** The config file's entries, as strings (they sit beneath the environment). */
function fileSettings(path: string | undefined, problems: string[]): Record<string, string> {
  if (!path) {
    return {};
  }
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as unknown;
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new Error('not a JSON object');
    }
    return Object.fromEntries(
      Object.entries(parsed).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]),
    );
  } catch (error) {
    problems.push(`WAGGLE_LLM_CONFIG_FILE: cannot use ${path} (${(error as Error).message})`);
    return {};
  }
}

export interface ProviderChain {
  providers: ProviderSettings[];
  /** Chain entries left out, and why (a cloud provider without a key). */
  skipped: string[];
  /** WAGGLE_LLM_PRICES (environment or config file) over the default prices. */
  prices: Record<string, Price>;
}

/**
 * The provider chain from `WAGGLE_LLM_CHAIN` and, per name, `WAGGLE_LLM_<NAME>_URL`,
 * `_API_KEY` (or `_API_KEY_FILE`), `_KIND` (for extra OpenAI-compatible entries),
 * `_MODELS` (`alias=model,…`) and `_LOCAL`. Every problem is listed at once.
 */
export function providersFrom(config: LlmFailoverConfig, env?: NodeJS.ProcessEnv): ProviderChain {
  const problems: string[] = [];
  const file = fileSettings(config.WAGGLE_LLM_CONFIG_FILE, problems);
  // The config file's own path is not a `_FILE` secret to read again.
  const { values, problems: fileProblems } = prefixedVariables(
    'WAGGLE_LLM_',
    file,
    env,
    new Set(['WAGGLE_LLM_CONFIG_FILE']),
  );
  problems.push(...fileProblems);
  const chain = (values.WAGGLE_LLM_CHAIN ? values.WAGGLE_LLM_CHAIN.split(',') : config.WAGGLE_LLM_CHAIN)
    .map((s) => s.trim())
    .filter(Boolean);
  const providers: ProviderSettings[] = [];
  const skipped: string[] = [];
  for (const name of chain) {
    if (!/^[a-z][a-z0-9-]*$/.test(name)) {
      problems.push(`WAGGLE_LLM_CHAIN: provider name "${name}" must be lower-case letters, digits and dashes`);
      continue;
    }
    const key = (suffix: string) => values[`WAGGLE_LLM_${name.toUpperCase().replaceAll('-', '_')}_${suffix}`];
    const kind = (key('KIND') ?? name) as LlmProviderKind;
    if (!LLM_PROVIDER_KINDS.includes(kind)) {
      problems.push(
        `WAGGLE_LLM_${name.toUpperCase()}_KIND must be one of ${LLM_PROVIDER_KINDS.join(', ')} (got ${JSON.stringify(key('KIND') ?? name)})`,
      );
      continue;
    }
    const url = key('URL') ?? DEFAULT_URLS[kind];
    if (!/^https?:\/\/[^\s]+$/.test(url)) {
      problems.push(`WAGGLE_LLM_${name.toUpperCase()}_URL must be an http(s) URL`);
    }
    const models: Record<string, string> = { ...(key('KIND') ? {} : DEFAULT_MODELS[kind]) };
    for (const entry of (key('MODELS') ?? '').split(',').filter(Boolean)) {
      const [alias, model] = entry.split('=').map((s) => s.trim());
      if (!alias || !model) {
        problems.push(`WAGGLE_LLM_${name.toUpperCase()}_MODELS: "${entry}" is not alias=model`);
      } else {
        models[alias] = model;
      }
    }
    const localFlag = key('LOCAL');
    const local = localFlag !== undefined ? ['1', 'true', 'yes'].includes(localFlag.toLowerCase()) : kind === 'ollama';
    const apiKey = key('API_KEY');
    if (!apiKey && !local && kind !== 'openai') {
      skipped.push(`${name}: no WAGGLE_LLM_${name.toUpperCase()}_API_KEY`);
      continue;
    }
    if (!apiKey && !local && kind === 'openai' && !key('URL')) {
      skipped.push(`${name}: no WAGGLE_LLM_${name.toUpperCase()}_API_KEY`);
      continue;
    }
    providers.push({ name, kind, url, apiKey, local, models });
  }
  let prices: Record<string, Price> = {};
  try {
    prices = parsePrices(values.WAGGLE_LLM_PRICES ?? config.WAGGLE_LLM_PRICES);
  } catch (error) {
    problems.push((error as Error).message);
  }
  if (problems.length) {
    throw new ConfigError(problems);
  }
  return { providers, skipped, prices };
}

/**
 * The provider chain, or exit with the configuration's problems (as for any bad variable).
 * Logs the chain and what was left out of it, once, at start.
 */
export function chainOrExit(config: LlmFailoverConfig, logger: Logger): ProviderChain {
  let chain: ProviderChain;
  try {
    chain = providersFrom(config);
  } catch (error) {
    if (!(error instanceof ConfigError)) {
      throw error;
    }
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
  for (const reason of chain.skipped) {
    logger.warn({ reason }, 'provider left out of the chain');
  }
  logger.info(
    { chain: chain.providers.map((p) => `${p.name} (${p.kind}${p.local ? ', local' : ''})`) },
    'provider chain',
  );
  return chain;
}
