import { Initial1763600000000 } from './1763600000000-initial';
import { MessageIdempotency1764400000000 } from './1764400000000-message-idempotency';

/** In order; never edit one that has landed — add a new one. */
export const registryMigrations = [Initial1763600000000, MessageIdempotency1764400000000];
