import { Type } from 'class-transformer';
import {
  IsBoolean,
  IsDateString,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  IsUUID,
  Matches,
  MaxLength,
  MinLength,
  ValidateNested,
} from 'class-validator';

import { NAME_PATTERN, NAME_RULE } from './machines';
import { PageQuery } from './pagination';
import { Nullable } from './validation';

/**
 * What a person or an API token may do, each role including the ones before it: viewers
 * read; operators also send messages and create, cancel and retry tasks; admins also manage
 * machines, join tokens, API tokens, users, watched repositories and LLM breakers.
 */
export const ROLES = ['viewer', 'operator', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** Whether `held` includes `needed` (admin ⊇ operator ⊇ viewer). */
export function roleIncludes(held: Role, needed: Role): boolean {
  return ROLES.indexOf(held) >= ROLES.indexOf(needed);
}

/** Shortest and longest password accepted (characters). */
export const MIN_PASSWORD_LENGTH = 10;
export const MAX_PASSWORD_LENGTH = 256;

/** A person's account as the API shows it: never its password or hash. */
export class UserView {
  @IsUUID()
  id!: string;

  /** @example "ana" */
  @Matches(NAME_PATTERN)
  name!: string;

  @IsIn(ROLES)
  role!: Role;

  /** A disabled account cannot sign in; its sessions ended when it was disabled. */
  @IsBoolean()
  disabled!: boolean;

  @IsDateString()
  createdAt!: string;

  /** When the account last signed in. */
  @Nullable()
  @IsDateString()
  lastLoginAt!: string | null;
}

/** The signed-in person, as `POST /api/auth/login` and `GET /api/auth/session` answer. */
export class SessionUser {
  @IsUUID()
  id!: string;

  @Matches(NAME_PATTERN)
  name!: string;

  @IsIn(ROLES)
  role!: Role;
}

/** A session: who, how long it lasts without a request, and when it ends if nothing extends it. */
export class SessionView {
  @ValidateNested()
  @Type(() => SessionUser)
  user!: SessionUser;

  /** Idle timeout in seconds (WAGGLE_SESSION_IDLE_SECONDS): every request with the cookie starts it again. */
  @IsInt()
  idleSeconds!: number;

  /** When the session ends unless a request comes first. */
  @IsDateString()
  expiresAt!: string;
}

/** POST /api/auth/login. A wrong name and a wrong password get the same 401. */
export class LoginBody {
  /** @example "admin" */
  @IsString()
  @MaxLength(63)
  name!: string;

  @IsString()
  @MaxLength(MAX_PASSWORD_LENGTH)
  password!: string;
}

/** POST /api/users (admin). Without a password the hub makes one and answers it once. */
export class CreateUserBody {
  /** @example "ana" */
  @Matches(NAME_PATTERN, { message: `name ${NAME_RULE}` })
  name!: string;

  @IsIn(ROLES)
  role!: Role;

  @IsOptional()
  @IsString()
  @MinLength(MIN_PASSWORD_LENGTH)
  @MaxLength(MAX_PASSWORD_LENGTH)
  password?: string;
}

/** The made account, and its password when the hub generated it (shown this once; only its hash is kept). */
export class CreatedUser {
  @ValidateNested()
  @Type(() => UserView)
  user!: UserView;

  @IsOptional()
  @IsString()
  password?: string;
}

/** PATCH /api/users/:id (admin): any of role, password, disabled. A password change or disabling ends the account's sessions. */
export class UpdateUserBody {
  @IsOptional()
  @IsIn(ROLES)
  role?: Role;

  @IsOptional()
  @IsString()
  @MinLength(MIN_PASSWORD_LENGTH)
  @MaxLength(MAX_PASSWORD_LENGTH)
  password?: string;

  @IsOptional()
  @IsBoolean()
  disabled?: boolean;
}

export class ListUsersQuery extends PageQuery {}

/** An API token as the API shows it: never the token or its hash. */
export class ApiTokenView {
  @IsUUID()
  id!: string;

  /** @example "ci" */
  @IsString()
  name!: string;

  @IsIn(ROLES)
  role!: Role;

  @IsDateString()
  createdAt!: string;

  @Nullable()
  @IsDateString()
  revokedAt!: string | null;
}

/** POST /api/tokens (admin): a token for a script, with the role it acts with. */
export class CreateApiTokenBody {
  /** What the token is for. @example "ci" */
  @Matches(NAME_PATTERN, { message: `name ${NAME_RULE}` })
  name!: string;

  @IsIn(ROLES)
  role!: Role;
}

/** The made token: `token` is shown this once; only its hash is kept. */
export class CreatedApiToken extends ApiTokenView {
  /** @example "wgl_api_…" */
  @IsString()
  token!: string;
}

export class ListApiTokensQuery extends PageQuery {}
