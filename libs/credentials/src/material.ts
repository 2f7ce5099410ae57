import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import type { KeyPair } from '@nats-io/jwt';
import {
  createAccount,
  createOperator,
  createUser,
  encodeAccount,
  encodeOperator,
  encodeUser,
  fmtCreds,
  fromPublic,
  fromSeed,
} from '@nats-io/jwt';

import { Consumers, MachineSubjects, Streams } from '@waggle/contracts';

/** Name of the NATS account every Waggle service and machine lives in. */
export const WAGGLE_ACCOUNT = 'WAGGLE';
const SYSTEM_ACCOUNT = 'SYS';

/**
 * Keys and JWTs of the hub's decentralized NATS auth. The operator signs accounts; the
 * WAGGLE account signs one user per machine; the system account pushes account updates
 * (revocations) to the server's full resolver, so nothing needs a restart.
 */
export interface NatsAuthMaterial {
  operatorSeed: string;
  operatorJwt: string;
  systemAccountJwt: string;
  systemAccountPublicKey: string;
  accountSeed: string;
  accountJwt: string;
  accountPublicKey: string;
  /** Full-access user for hub services in the WAGGLE account. */
  hubCreds: string;
  /** User in the system account, for `$SYS.REQ.CLAIMS.UPDATE`. */
  systemCreds: string;
}

const decoder = new TextDecoder();
const seedOf = (kp: KeyPair) => decoder.decode(kp.getSeed());

/** Account claims without limits default to zero connections: say "unlimited" outright. */
const NO_CORE_LIMITS = {
  subs: -1,
  conn: -1,
  leaf: -1,
  imports: -1,
  exports: -1,
  data: -1,
  payload: -1,
  wildcards: true,
};

/** The WAGGLE account's claims: JetStream on, no limits, and the revoked machine users. */
export async function signAccountJwt(
  operatorSeed: string,
  accountSeed: string,
  revocations: Record<string, number> = {},
): Promise<string> {
  return encodeAccount(
    WAGGLE_ACCOUNT,
    fromSeed(new TextEncoder().encode(accountSeed)),
    {
      limits: {
        ...NO_CORE_LIMITS,
        mem_storage: -1,
        disk_storage: -1,
        streams: -1,
        consumer: -1,
      },
      revocations,
    },
    { signer: fromSeed(new TextEncoder().encode(operatorSeed)) },
  );
}

async function userCreds(
  name: string,
  accountKp: KeyPair,
  permissions: Parameters<typeof encodeUser>[3] = {},
): Promise<string> {
  const user = createUser();
  const jwt = await encodeUser(name, user, accountKp, permissions);
  return decoder.decode(fmtCreds(jwt, user));
}

export async function generateAuthMaterial(): Promise<NatsAuthMaterial> {
  const operator = createOperator();
  const system = createAccount();
  const account = createAccount();
  const systemPublicKey = system.getPublicKey();
  const operatorJwt = await encodeOperator('waggle', operator, { system_account: systemPublicKey });
  const systemAccountJwt = await encodeAccount(
    SYSTEM_ACCOUNT,
    system,
    { limits: NO_CORE_LIMITS },
    { signer: operator },
  );
  const accountJwt = await signAccountJwt(seedOf(operator), seedOf(account));
  return {
    operatorSeed: seedOf(operator),
    operatorJwt,
    systemAccountJwt,
    systemAccountPublicKey: systemPublicKey,
    accountSeed: seedOf(account),
    accountJwt,
    accountPublicKey: account.getPublicKey(),
    hubCreds: await userCreds('hub', account),
    systemCreds: await userCreds('hub-system', system),
  };
}

/** What one machine's NATS user may do: only its own subjects and its own inbox consumer. */
/** How long after a hub request a machine may still answer it (nanoseconds, as NATS JWTs count). */
const RESPONSE_TTL_NS = 30 * 1_000_000_000;

export function machinePermissions(machineId: string) {
  /** Pull, inspect and ack one durable consumer — nothing else of the stream. */
  const consumer = (stream: string, durable: string) => [
    `$JS.API.CONSUMER.MSG.NEXT.${stream}.${durable}`,
    `$JS.API.CONSUMER.INFO.${stream}.${durable}`,
    `$JS.ACK.${stream}.${durable}.>`,
  ];
  return {
    pub: {
      allow: [
        MachineSubjects.upAll(machineId),
        MachineSubjects.logsAll(machineId),
        ...consumer(Streams.messages.name, Consumers.inbox(machineId)),
        ...consumer(Streams.tasks.name, Consumers.tasks(machineId)),
      ],
    },
    sub: { allow: [`${MachineSubjects.replyPrefix(machineId)}.>`, MachineSubjects.downAll(machineId)] },
    // Answer a request the hub sent it (a help question) once, on the reply subject given, within the TTL.
    resp: { max: 1, ttl: RESPONSE_TTL_NS },
  };
}

/** Signs the user JWT for a machine's public NKey (the machine keeps the seed). */
export async function issueMachineJwt(
  accountSeed: string,
  machineId: string,
  machinePublicKey: string,
): Promise<string> {
  return encodeUser(
    `machine:${machineId}`,
    machinePublicKey,
    fromSeed(new TextEncoder().encode(accountSeed)),
    machinePermissions(machineId),
  );
}

/** Whether `key` is a well-formed NATS user public key (prefix and checksum). */
export function isUserPublicKey(key: string): boolean {
  try {
    return key.startsWith('U') && fromPublic(key).getPublicKey() === key;
  } catch {
    return false;
  }
}

/** A new NKey pair for a machine: the seed stays in its state dir. */
export function newMachineKey(): { seed: string; publicKey: string } {
  const kp = createUser();
  return { seed: seedOf(kp), publicKey: kp.getPublicKey() };
}

export function credsFor(jwt: string, seed: string): string {
  return decoder.decode(fmtCreds(jwt, fromSeed(new TextEncoder().encode(seed))));
}

const FILES = {
  operatorSeed: 'operator.nk',
  operatorJwt: 'operator.jwt',
  systemAccountJwt: 'system-account.jwt',
  systemAccountPublicKey: 'system-account.pub',
  accountSeed: 'account.nk',
  accountJwt: 'account.jwt',
  accountPublicKey: 'account.pub',
  hubCreds: 'hub.creds',
  systemCreds: 'system.creds',
} as const satisfies Record<keyof NatsAuthMaterial, string>;

export function authMaterialFiles(dir: string): Record<keyof NatsAuthMaterial, string> {
  return Object.fromEntries(Object.entries(FILES).map(([k, f]) => [k, join(dir, f)])) as Record<
    keyof NatsAuthMaterial,
    string
  >;
}

/** Writes each piece to its own file, readable by the owner only (Docker secrets take them one by one). */
export async function writeAuthMaterial(dir: string, material: NatsAuthMaterial): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const files = authMaterialFiles(dir);
  for (const key of Object.keys(FILES) as (keyof NatsAuthMaterial)[]) {
    await writeFile(files[key], material[key], { mode: 0o600 });
    await chmod(files[key], 0o600);
  }
}

export async function readAuthMaterial(dir: string): Promise<NatsAuthMaterial | undefined> {
  const files = authMaterialFiles(dir);
  try {
    const entries = await Promise.all(
      (Object.keys(FILES) as (keyof NatsAuthMaterial)[]).map(
        async (key) => [key, await readFile(files[key], 'utf8')] as const,
      ),
    );
    return Object.fromEntries(entries) as unknown as NatsAuthMaterial;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      return undefined;
    }
    throw error;
  }
}
