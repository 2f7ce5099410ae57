import { Type } from 'class-transformer';
import {
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  IsUUID,
  Matches,
  MaxLength,
  Min,
  MinLength,
  NotEquals,
  ValidateBy,
  ValidateNested,
} from 'class-validator';
import type { ValidationOptions } from 'class-validator';

import { LABEL_PATTERN } from './machines';
import { PageQuery } from './pagination';

/** What kind of credential a secret is (shown in lists; changes nothing about how it is kept). */
export const SECRET_CATEGORIES = [
  'api_key',
  'password',
  'token',
  'certificate',
  'ssh_key',
  'env_var',
  'general',
] as const;
export type SecretCategory = (typeof SECRET_CATEGORIES)[number];

/** A secret's name: unique within its scope. */
export const SECRET_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const SECRET_NAME_RULE = 'must be 1-128 letters, digits, ".", "_" or "-", starting with a letter or digit';
/** A name no secret may have: it is a route of its own. */
export const RESERVED_SECRET_NAME = 'audit';
/** A project name string (the tracker will own projects; until then a scope is this name). */
export const PROJECT_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
const PROJECT_RULE = 'must be 1-63 letters, digits, ".", "_" or "-", starting with a letter or digit';
/** An environment variable a task receives a secret in. */
export const SECRET_ENV_PATTERN = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
/** Largest secret value, in characters (a certificate chain or an SSH key fits). */
export const MAX_SECRET_VALUE_LENGTH = 65_536;
/** Most secrets one task may name. */
export const MAX_TASK_SECRETS = 32;
/** What a secret value is replaced with in a task's logs, result and events. */
export const secretMask = (name: string) => `[secret:${name}]`;

/** Whether `value` is a map of environment variable → secret name, within the limits. */
export function isSecretRefs(value: unknown): value is Record<string, string> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return false;
  }
  const entries = Object.entries(value as Record<string, unknown>);
  return (
    entries.length <= MAX_TASK_SECRETS &&
    entries.every(
      ([env, name]) => SECRET_ENV_PATTERN.test(env) && typeof name === 'string' && SECRET_NAME_PATTERN.test(name),
    )
  );
}

/** The validator's name, by which the OpenAPI document knows the field is a map of strings. */
export const SECRET_REFS_VALIDATOR = 'isSecretRefs';

/** A task's secrets: `{ ENV_VAR: "secret-name" }`, at most MAX_TASK_SECRETS. */
export function IsSecretRefs(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: SECRET_REFS_VALIDATOR,
      validator: {
        validate: (value: unknown) => isSecretRefs(value),
        defaultMessage: () =>
          `$property must map at most ${MAX_TASK_SECRETS} environment variable names (A-Z, 0-9, _) to secret names (${SECRET_NAME_RULE})`,
      },
    },
    options,
  );
}

/** Who acts on a secret. Set by the gateway from the caller's credential, never by the caller. */
export class SecretActor {
  /** An API token, a person signed in, a machine's credential, or a hub service. */
  @IsIn(['token', 'user', 'machine', 'system'])
  kind!: 'token' | 'user' | 'machine' | 'system';

  @IsString()
  @MaxLength(200)
  name!: string;

  /** Where the request came from (the client's address, or `machine:<id>`). */
  @IsOptional()
  @IsString()
  @MaxLength(200)
  from?: string;
}

/** POST /api/secrets: what a caller sends. The value is stored encrypted and never shown in a list. */
export class CreateSecretBody {
  /** @example "gh-bot" */
  @Matches(SECRET_NAME_PATTERN, { message: `name ${SECRET_NAME_RULE}` })
  @NotEquals(RESERVED_SECRET_NAME, { message: 'name "audit" is reserved (GET /api/secrets/audit is the audit trail)' })
  name!: string;

  /** The secret itself (stored encrypted; never returned but by an admin's reveal). */
  @IsString()
  @MinLength(1)
  @MaxLength(MAX_SECRET_VALUE_LENGTH)
  value!: string;

  /** @example "token" */
  @IsOptional()
  @IsIn(SECRET_CATEGORIES)
  category?: SecretCategory;

  /** The project whose tasks may use it; absent: global (any task). */
  @IsOptional()
  @Matches(PROJECT_NAME_PATTERN, { message: `project ${PROJECT_RULE}` })
  project?: string;

  /** Only machines with this label receive it (a task naming it runs only on such machines). */
  @IsOptional()
  @Matches(LABEL_PATTERN, { message: 'machineLabel must be a machine label (e.g. gpu=4090)' })
  machineLabel?: string;

  @IsOptional()
  @IsString()
  @MaxLength(1000)
  description?: string;
}

/** A public curve (X25519) NKey: `X…`. */
export const CURVE_KEY_PATTERN = /^X[A-Z2-7]{55}$/;

/**
 * A value on its way over NATS: sealed (X25519, XSalsa20-Poly1305) to one holder's curve key
 * by a one-time sender key. Plaintext values never travel over NATS: the gateway seals what a
 * person sends to the vault's transport key, the vault seals a reveal to the gateway's
 * one-time key and a task's values to the machine's key.
 */
export class SealedValue {
  /** The sender's one-time public curve key. */
  @Matches(CURVE_KEY_PATTERN, { message: 'sender must be a public curve NKey (X…)' })
  sender!: string;

  /** The sealed bytes, base64 (a value of 65,536 characters of up to 4 bytes each fits). */
  @IsString()
  @MaxLength(360_000)
  sealed!: string;
}

/** `waggle.rpc.vault.secrets.create`: the body without its value, which comes sealed to the vault. */
export class CreateSecretRequest {
  @IsIn([1])
  v!: 1;

  @Matches(SECRET_NAME_PATTERN, { message: `name ${SECRET_NAME_RULE}` })
  @NotEquals(RESERVED_SECRET_NAME, { message: 'name "audit" is reserved (GET /api/secrets/audit is the audit trail)' })
  name!: string;

  @ValidateNested()
  @Type(() => SealedValue)
  sealedValue!: SealedValue;

  @IsOptional()
  @IsIn(SECRET_CATEGORIES)
  category?: SecretCategory;

  @IsOptional()
  @Matches(PROJECT_NAME_PATTERN, { message: `project ${PROJECT_RULE}` })
  project?: string;

  @IsOptional()
  @Matches(LABEL_PATTERN, { message: 'machineLabel must be a machine label (e.g. gpu=4090)' })
  machineLabel?: string;

  @IsOptional()
  @IsString()
  @MaxLength(1000)
  description?: string;

  @ValidateNested()
  @Type(() => SecretActor)
  actor!: SecretActor;
}

/** PATCH /api/secrets/{ref}: a new value and/or new metadata (name and scope stay). */
export class UpdateSecretBody {
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(MAX_SECRET_VALUE_LENGTH)
  value?: string;

  @IsOptional()
  @IsIn(SECRET_CATEGORIES)
  category?: SecretCategory;

  @IsOptional()
  @IsString()
  @MaxLength(1000)
  description?: string;
}

/** A secret by id, or by name within a scope (`project` absent: global). */
export class SecretRefQuery {
  @IsOptional()
  @Matches(PROJECT_NAME_PATTERN, { message: `project ${PROJECT_RULE}` })
  project?: string;
}

export class SecretRefRequest extends SecretRefQuery {
  /** The secret's id or its name. */
  @IsString()
  @MaxLength(128)
  @Matches(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, { message: 'a secret is named by its id or its name' })
  ref!: string;

  /** A reveal: the one-time public curve key the value is sealed to (the gateway's, for this request). */
  @IsOptional()
  @Matches(CURVE_KEY_PATTERN, { message: 'revealTo must be a public curve NKey (X…)' })
  revealTo?: string;

  @ValidateNested()
  @Type(() => SecretActor)
  actor!: SecretActor;
}

export class UpdateSecretRequest {
  @IsIn([1])
  v!: 1;

  /** The new value, sealed to the vault's transport key. */
  @IsOptional()
  @ValidateNested()
  @Type(() => SealedValue)
  sealedValue?: SealedValue;

  @IsOptional()
  @IsIn(SECRET_CATEGORIES)
  category?: SecretCategory;

  @IsOptional()
  @IsString()
  @MaxLength(1000)
  description?: string;

  @IsString()
  @MaxLength(128)
  @Matches(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, { message: 'a secret is named by its id or its name' })
  ref!: string;

  @IsOptional()
  @Matches(PROJECT_NAME_PATTERN, { message: `project ${PROJECT_RULE}` })
  project?: string;

  @ValidateNested()
  @Type(() => SecretActor)
  actor!: SecretActor;
}

export class ListSecretsQuery extends PageQuery {
  /** Only this project's secrets (`global`: only global ones). */
  @IsOptional()
  @Matches(PROJECT_NAME_PATTERN, { message: `project ${PROJECT_RULE}` })
  project?: string;

  @IsOptional()
  @IsIn(SECRET_CATEGORIES)
  category?: SecretCategory;
}

export class ListSecretsRequest extends ListSecretsQuery {}

/** A secret as lists and reads show it: everything but the value. */
export class SecretView {
  @IsUUID()
  id!: string;

  @IsString()
  name!: string;

  @IsIn(SECRET_CATEGORIES)
  category!: SecretCategory;

  /** `global`, or `project:<name>`. */
  @IsString()
  scope!: string;

  /** The project, or null for a global secret. */
  project!: string | null;

  /** Only machines with this label receive it; null: any machine. */
  machineLabel!: string | null;

  description!: string | null;

  createdAt!: string;

  updatedAt!: string;

  /** When a person revealed it or a task used it last; null if never. */
  lastAccessedAt!: string | null;

  /** How many reveals and task uses so far. */
  @IsInt()
  accessCount!: number;
}

/** An admin's reveal: the value, once, logged and counted. */
export class RevealedSecret extends SecretView {
  @IsString()
  value!: string;
}

/** The vault's answer to a reveal: the value sealed to the key named in `revealTo`. */
export interface SealedReveal extends SecretView {
  sealedValue: SealedValue;
}

/** The vault's transport key: the public curve key values are sealed to on their way in. */
export interface VaultTransportKey {
  publicKey: string;
}

export const SECRET_AUDIT_ACTIONS = [
  'create',
  'update',
  'reveal',
  'use',
  'refuse',
  'delete',
  'rotate',
  'integrity_failure',
] as const;
export type SecretAuditAction = (typeof SECRET_AUDIT_ACTIONS)[number];

export class ListSecretAuditQuery extends PageQuery {
  /** Only the entries of this secret (its id). */
  @IsOptional()
  @IsUUID()
  secretId?: string;

  @IsOptional()
  @IsIn(SECRET_AUDIT_ACTIONS)
  action?: SecretAuditAction;
}

export class ListSecretAuditRequest extends ListSecretAuditQuery {}

/** One entry of the secrets' audit trail: who did what, when, from where. */
export class SecretAuditView {
  id!: string;
  at!: string;
  @IsIn(SECRET_AUDIT_ACTIONS)
  action!: SecretAuditAction;
  /** The secret, when the action was on one (null for a key rotation). */
  secretId!: string | null;
  secretName!: string | null;
  scope!: string | null;
  actor!: SecretActor;
  /** For a task's use: the task and attempt; for a rotation: the key versions. */
  detail!: Record<string, unknown> | null;
}

/** `waggle vault rotate-key`: re-wraps every data key under a new master key version. */
export class RotateKeyRequest {
  @IsIn([1])
  v!: 1;

  @ValidateNested()
  @Type(() => SecretActor)
  actor!: SecretActor;
}

export class KeyVersionView {
  version!: number;
  state!: 'active' | 'retired';
  createdAt!: string;
  retiredAt!: string | null;
  /** How many data keys are wrapped under it now. */
  dataKeys!: number;
}

export class VaultKeysView {
  activeVersion!: number;
  versions!: KeyVersionView[];
}

export class RotationView extends VaultKeysView {
  /** The version that was active before. */
  previousVersion!: number;
  /** Data keys re-wrapped. */
  rewrapped!: number;
  durationMs!: number;
}

export class VaultKeysRequest {
  @IsIn([1])
  v!: 1;
}

/**
 * The task-router's check when a task is created: may a task (of this project) use these
 * secrets? Refused with NOT_FOUND naming the first that does not exist in reach.
 */
export class CheckSecretRefsRequest {
  @IsIn([1])
  v!: 1;

  /** Environment variable → secret name. */
  @IsSecretRefs()
  refs!: Record<string, string>;

  @IsOptional()
  @Matches(PROJECT_NAME_PATTERN, { message: `project ${PROJECT_RULE}` })
  project?: string;
}

export interface SecretRefsCheck {
  /** Environment variable → the secret's id and scope it resolved to, and the label a machine needs for it. */
  resolved: Record<string, { id: string; scope: string; machineLabel: string | null }>;
}

/**
 * `waggle.m.<id>.up.secrets.open`: a machine running an attempt asks for the secrets its
 * task names, sealed to its own curve key. The vault checks with the task-router that the
 * attempt is this machine's and live.
 */
export class OpenSecretsRequest {
  @IsIn([1])
  v!: 1;

  @IsUUID()
  taskId!: string;

  @IsInt()
  @Min(1)
  attempt!: number;

  /** The machine's public curve (X25519) NKey, `X…`: only its holder can open the values. */
  @Matches(CURVE_KEY_PATTERN, { message: 'sealKey must be a public curve NKey (X…)' })
  sealKey!: string;
}

export interface SealedSecrets {
  /** Environment variable → the value sealed to the machine's key, and the secret's name (for masking). */
  values: Record<string, SealedValue & { name: string }>;
}

/**
 * `waggle.rpc.vault.secrets.resolve`: a hub service reads one of Waggle's own credentials
 * (an LLM provider key, a token) that its configuration names as a vault reference; the value
 * comes sealed to the service's one-time key. Audited as a use by that service.
 */
export class ResolveSecretRequest {
  @IsIn([1])
  v!: 1;

  @Matches(SECRET_NAME_PATTERN, { message: `name ${SECRET_NAME_RULE}` })
  name!: string;

  @IsOptional()
  @Matches(PROJECT_NAME_PATTERN, { message: `project ${PROJECT_RULE}` })
  project?: string;

  /** The service asking (for the audit trail). */
  @Matches(/^[a-z][a-z0-9-]{0,62}$/, { message: 'service must be a service name' })
  service!: string;

  /** The one-time public curve key to seal the value to. */
  @Matches(CURVE_KEY_PATTERN, { message: 'sealTo must be a public curve NKey (X…)' })
  sealTo!: string;
}

export interface ResolvedSecret extends SealedValue {
  name: string;
  scope: string;
}

/** The prefix of a setting that names a vault secret instead of holding the value. */
export const VAULT_REF_PREFIX = 'vault:';

/** `vault:NAME` (global) or `vault:PROJECT/NAME`: the secret a setting refers to; undefined for a plain value. */
export function parseVaultRef(value: string | undefined): { name: string; project?: string } | undefined {
  if (!value?.startsWith(VAULT_REF_PREFIX)) {
    return undefined;
  }
  const ref = value.slice(VAULT_REF_PREFIX.length);
  const slash = ref.indexOf('/');
  const [project, name] = slash >= 0 ? [ref.slice(0, slash), ref.slice(slash + 1)] : [undefined, ref];
  if (!SECRET_NAME_PATTERN.test(name) || (project !== undefined && !PROJECT_NAME_PATTERN.test(project))) {
    return undefined;
  }
  return project ? { name, project } : { name };
}
