import { Tasks1763700000000 } from './1763700000000-tasks';
import { Help1764000000000 } from './1764000000000-help';
import { TargetedIndex1764000000001 } from './1764000000001-targeted-index';
import { GithubTasks1764200000000 } from './1764200000000-github-tasks';
import { AssignedIndex1764500000000 } from './1764500000000-assigned-index';
import { IdempotencyLifetime1764600000000 } from './1764600000000-idempotency-lifetime';
import { RetryPolicy1764700000000 } from './1764700000000-retry-policy';
import { FinishedIndex1764900000000 } from './1764900000000-finished-index';
import { TaskSecrets1764800000001 } from './1764800000001-task-secrets';

/** In order; never edit one that has landed — add a new one. */
export const taskRouterMigrations = [
  Tasks1763700000000,
  Help1764000000000,
  TargetedIndex1764000000001,
  GithubTasks1764200000000,
  AssignedIndex1764500000000,
  IdempotencyLifetime1764600000000,
  RetryPolicy1764700000000,
  FinishedIndex1764900000000,
  TaskSecrets1764800000001,
];
