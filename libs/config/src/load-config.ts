import 'reflect-metadata';

import { readFileSync } from 'node:fs';

import { plainToInstance, Transform } from 'class-transformer';
import { getMetadataStorage, validateSync } from 'class-validator';

/** The one place Waggle reads the process environment. */
function environment(): NodeJS.ProcessEnv {
  return process.env;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Parses `true/false/1/0/yes/no` into a boolean; anything else stays a string and fails validation. */
export function EnvBoolean(): PropertyDecorator {
  // Reads the raw variable (`obj[key]`): implicit conversion would already have made "false" true.
  return Transform(({ obj, key }: { obj: Record<string, unknown>; key: string }) => {
    const value = obj[key];
    if (typeof value !== 'string') {
      return value;
    }
    const v = value.trim().toLowerCase();
    if (['true', '1', 'yes', 'on'].includes(v)) {
      return true;
    }
    if (['false', '0', 'no', 'off', ''].includes(v)) {
      return false;
    }
    return value;
  });
}

/** Splits a comma-separated variable into a list of trimmed, non-empty entries. */
export function EnvList(): PropertyDecorator {
  return Transform(({ obj, key }: { obj: Record<string, unknown>; key: string }) => {
    const value = obj[key];
    return typeof value === 'string'
      ? value
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean)
      : value;
  });
}

/**
 * Resolves `NAME_FILE` variables (Docker secrets): the file's content becomes `NAME`. Setting both is an error, because which wins would be a guess.
 */
export function resolveFileVariables(
  env: NodeJS.ProcessEnv,
  names: ReadonlySet<string>,
): { values: Record<string, string>; problems: string[] } {
  const values: Record<string, string> = {};
  const problems: string[] = [];
  for (const name of names) {
    if (env[name] !== undefined) {
      values[name] = env[name];
    }
  }
  for (const name of names) {
    const key = `${name}_FILE`;
    const path = env[key];
    if (!path) {
      continue;
    }
    if (env[name] !== undefined) {
      problems.push(`${name} and ${key} are both set; set only one`);
      continue;
    }
    try {
      const content = readFileSync(path, 'utf8');
      // A one-line secret loses its final newline; multi-line content (creds, PEM) is kept whole.
      const body = content.replace(/\r?\n$/, '');
      values[name] = body.includes('\n') ? content : body;
    } catch (error) {
      problems.push(`${key}: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  }
  return { values, problems };
}

/**
 * Reads, converts and validates the environment into `type`, once, at boot. Every bad
 * variable is listed together in one ConfigError.
 */
/** The variables a config class declares (its validated properties). */
function declaredVariables(type: new () => object): Set<string> {
  const metadata = getMetadataStorage().getTargetValidationMetadatas(type, '', true, false);
  return new Set([...metadata.map((m) => m.propertyName), ...Object.keys(new type())]);
}

/** Variables whose values are secrets: never repeated in an error. */
const SECRET_VARIABLE = /KEY|SECRET|TOKEN|PASSWORD|SEED|CREDS/;

export function loadConfig<T extends object>(type: new () => T, env: NodeJS.ProcessEnv = environment()): T {
  const { values, problems } = resolveFileVariables(env, declaredVariables(type));
  const config = plainToInstance(type, values, { enableImplicitConversion: true });
  const errors = validateSync(config, { whitelist: true, skipMissingProperties: false });
  for (const error of errors) {
    // A bad key or token is not echoed: the error goes to logs.
    const shown =
      error.value === undefined
        ? 'not set'
        : SECRET_VARIABLE.test(error.property)
          ? 'value not shown'
          : 'got ' + JSON.stringify(String(error.value)).slice(0, 80);
    problems.push(`${error.property}: ${Object.values(error.constraints ?? {}).join('; ')} (${shown})`);
  }
  if (problems.length) {
    throw new ConfigError(problems);
  }
  return config;
}

/** The environment a child process inherits, with overrides. For launchers and test harnesses. */
export function childEnvironment(overrides: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...environment() };
  for (const [key, value] of Object.entries(overrides)) {
    if (value === undefined) {
      delete env[key];
    } else {
      env[key] = value;
    }
  }
  return env;
}

/** Loads config or prints every problem and exits: for an app's main. */
export function loadConfigOrExit<T extends object>(type: new () => T): T {
  try {
    return loadConfig(type);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
}

/**
 * Every variable that starts with `prefix`, for settings whose names are data (one set per
 * LLM provider: `WAGGLE_LLM_<NAME>_URL`). `NAME_FILE` variables are read like Docker
 * secrets; `fileDefaults` (a config file's entries) sit beneath the environment; names in
 * `except` are left out (variables the caller has already read).
 */
export function prefixedVariables(
  prefix: string,
  fileDefaults: Record<string, string> = {},
  env: NodeJS.ProcessEnv = environment(),
  except: ReadonlySet<string> = new Set(),
): { values: Record<string, string>; problems: string[] } {
  const merged: NodeJS.ProcessEnv = { ...fileDefaults };
  for (const [name, value] of Object.entries(env)) {
    if (name.startsWith(prefix) && !except.has(name) && value !== undefined) {
      merged[name] = value;
    }
  }
  const names = new Set(Object.keys(merged).map((name) => name.replace(/_FILE$/, '')));
  return resolveFileVariables(merged, names);
}
