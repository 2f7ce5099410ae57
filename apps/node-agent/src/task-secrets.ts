import { chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import type { NatsConnection } from 'nats';
import { createCurve, fromCurveSeed } from 'nkeys.js';
import type { KeyPair } from 'nkeys.js';

import type { TaskAssignment } from '@waggle/contracts';
import { ErrorCode, WaggleError } from '@waggle/contracts';
import { openSealed } from '@waggle/credentials';
import { machineRequest } from '@waggle/messaging';

/** File of this machine's curve (X25519) seed, beside its identity: secrets are sealed to its public half. */
const SEAL_KEY_FILE = 'seal.xk';
const OPEN_TIMEOUT_MS = 10_000;

/** This machine's sealing key: made once, kept in its state dir readable by the agent's user only. */
export async function machineSealKey(stateDir: string): Promise<KeyPair> {
  const path = join(stateDir, SEAL_KEY_FILE);
  const existing = await readFile(path, 'utf8').catch(() => '');
  if (existing.trim()) {
    return fromCurveSeed(new TextEncoder().encode(existing.trim()));
  }
  const key = createCurve();
  // `wx`: when another start made it first, that one is used.
  await writeFile(path, new TextDecoder().decode(key.getSeed()), { mode: 0o600, flag: 'wx' }).catch(() => undefined);
  await chmod(path, 0o600);
  return fromCurveSeed(new TextEncoder().encode((await readFile(path, 'utf8')).trim()));
}

export interface OpenedSecrets {
  /** Environment variable → value, for the task's environment only. */
  env: Record<string, string>;
  /** Secret name and value, for masking. */
  named: { name: string; value: string }[];
}

/**
 * The secrets an attempt's task names, from the vault: it answers only this machine's live
 * attempt, each value sealed to this machine's key (NATS carries nothing else).
 */
export async function openTaskSecrets(
  nc: NatsConnection,
  machineId: string,
  assignment: TaskAssignment,
  key: KeyPair,
): Promise<OpenedSecrets> {
  const reply = await machineRequest(
    nc,
    'secretsOpen',
    machineId,
    { v: 1, taskId: assignment.taskId, attempt: assignment.attempt, sealKey: key.getPublicKey() },
    OPEN_TIMEOUT_MS,
  );
  const env: Record<string, string> = {};
  const named: OpenedSecrets['named'] = [];
  for (const [variable, sealed] of Object.entries(reply.values)) {
    const value = openSealed(key, sealed);
    if (value === undefined) {
      throw new WaggleError(
        ErrorCode.IntegrityFailed,
        `the sealed value of ${variable} did not open with this machine's key`,
      );
    }
    env[variable] = value;
    named.push({ name: sealed.name, value });
  }
  for (const variable of Object.keys(assignment.secrets ?? {})) {
    if (!(variable in env)) {
      throw new WaggleError(ErrorCode.NotFound, `the vault sent no value for ${variable}`);
    }
  }
  return { env, named };
}
