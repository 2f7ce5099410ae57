import { Module } from '@nestjs/common';

import { ErrorsController } from './errors.controller';
import { IngestController } from './ingest.controller';

/** Error groups' HTTP edge: Sentry-compatible ingest (ingest keys, no token) and the groups' API, forwarded to the tracker. */
@Module({ controllers: [IngestController, ErrorsController] })
export class ErrorGroupsModule {}
