import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** What a machine keeps after joining: its id and its own credentials. Readable by its owner only. */
export interface AgentIdentity {
  v: 1;
  machineId: string;
  name: string;
  hubUrl: string;
  natsUrl: string;
  /** Bearer credential for the hub's HTTP API. */
  apiToken: string;
  /** NATS user JWT and the NKey seed it was issued for. */
  natsJwt: string;
  natsSeed: string;
  heartbeatIntervalMs: number;
  joinedAt: string;
}

export const IDENTITY_FILE = 'identity.json';

/** Writes a file atomically (temp + rename) with owner-only permissions. */
export async function writePrivateFile(path: string, content: string): Promise<void> {
  const temp = `${path}.${process.pid}.tmp`;
  await writeFile(temp, content, { mode: 0o600 });
  await chmod(temp, 0o600);
  await rename(temp, path);
}

export async function readIdentity(stateDir: string): Promise<AgentIdentity | undefined> {
  try {
    const identity = JSON.parse(await readFile(join(stateDir, IDENTITY_FILE), 'utf8')) as AgentIdentity;
    if (identity.v !== 1 || !identity.machineId || !identity.apiToken) {
      throw new Error(`${IDENTITY_FILE} is not a Waggle identity`);
    }
    return identity;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      return undefined;
    }
    throw error;
  }
}

export async function writeIdentity(stateDir: string, identity: AgentIdentity): Promise<void> {
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  await writePrivateFile(join(stateDir, IDENTITY_FILE), `${JSON.stringify(identity, null, 2)}\n`);
}
