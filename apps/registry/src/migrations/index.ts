import { Initial1763600000000 } from './1763600000000-initial';
import { MessageIdempotency1764400000000 } from './1764400000000-message-idempotency';
import { IdempotencyLifetime1764600000000 } from './1764600000000-idempotency-lifetime';
import { MachinePermissions1764600000001 } from './1764600000001-machine-permissions';
import { MessagesCreatedIndex1764900000000 } from './1764900000000-messages-created-index';

/** In order; never edit one that has landed — add a new one. */
export const registryMigrations = [
  Initial1763600000000,
  MessageIdempotency1764400000000,
  IdempotencyLifetime1764600000000,
  MachinePermissions1764600000001,
  MessagesCreatedIndex1764900000000,
];
