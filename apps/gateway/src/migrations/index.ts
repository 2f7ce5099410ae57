import { ApiTokens1763600000001 } from './1763600000001-api-tokens';
import { AuthFailures1764400000001 } from './1764400000001-auth-failures';
import { DropAuthFailures1764600000000 } from './1764600000000-drop-auth-failures';
import { People1764900000000 } from './1764900000000-people';

/** In order; never edit one that has landed — add a new one. */
export const gatewayMigrations = [
  ApiTokens1763600000001,
  AuthFailures1764400000001,
  DropAuthFailures1764600000000,
  People1764900000000,
];
