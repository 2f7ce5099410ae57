import { Tasks1763700000000 } from './1763700000000-tasks';

/** In order; never edit one that has landed — add a new one. */
export const taskRouterMigrations = [Tasks1763700000000];
