import { Tasks1763700000000 } from './1763700000000-tasks';
import { Help1764000000000 } from './1764000000000-help';
import { TargetedIndex1764000000001 } from './1764000000001-targeted-index';
import { GithubTasks1764200000000 } from './1764200000000-github-tasks';
import { AssignedIndex1764500000000 } from './1764500000000-assigned-index';
import { IdempotencyLifetime1764600000000 } from './1764600000000-idempotency-lifetime';
import { FinishedIndex1764900000000 } from './1764900000000-finished-index';

/** In order; never edit one that has landed — add a new one. */
export const taskRouterMigrations = [
  Tasks1763700000000,
  Help1764000000000,
  TargetedIndex1764000000001,
  GithubTasks1764200000000,
  AssignedIndex1764500000000,
  IdempotencyLifetime1764600000000,
  FinishedIndex1764900000000,
];
