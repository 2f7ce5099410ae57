import type { Provider } from '@nestjs/common';
import { DataSource } from 'typeorm';

import type { DatabaseOptions } from './database';
import { openDatabase } from './database';

/** The service's DataSource as a Nest provider: its schema migrated before anything uses it. */
export function databaseProvider(options: DatabaseOptions): Provider {
  return { provide: DataSource, useFactory: () => openDatabase(options) };
}
