import { Vault1764800000000 } from './1764800000000-vault';

/** In order; never edit one that has landed — add a new one. */
export const vaultMigrations = [Vault1764800000000];
