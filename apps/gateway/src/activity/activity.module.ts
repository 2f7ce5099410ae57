import { Module } from '@nestjs/common';

import { ActivityController } from './activity.controller';
import { ActivityPublisher } from './activity.publisher';

/** The activity log: published here for every change, kept and served by the tracker. */
@Module({ controllers: [ActivityController], providers: [ActivityPublisher], exports: [ActivityPublisher] })
export class ActivityModule {}
