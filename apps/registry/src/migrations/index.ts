import { Initial1763600000000 } from './1763600000000-initial';

/** In order; never edit one that has landed — add a new one. */
export const registryMigrations = [Initial1763600000000];
