import { ParseUUIDPipe } from '@nestjs/common';
import type { PipeTransform } from '@nestjs/common';

import { ITEM_REF_PATTERN, PROJECT_KEY_PATTERN, WaggleError } from '@waggle/contracts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A project's key or id in a path. */
export const projectRef: PipeTransform<string, string> = {
  transform(value: string) {
    if (!PROJECT_KEY_PATTERN.test(value) && !UUID.test(value)) {
      throw WaggleError.invalid('project must be a project key or id', [
        { field: 'project', errors: ['must be a project key (lower-case letters, digits, dashes) or id'] },
      ]);
    }
    return value;
  },
};

export const uuidOf = (what: string) =>
  new ParseUUIDPipe({
    exceptionFactory: () =>
      WaggleError.invalid(`${what} id must be a UUID`, [{ field: 'id', errors: ['must be a UUID'] }]),
  });

/** A feature's or bug's id, or its ref (`feature-12`), in a path. */
export const itemRef: PipeTransform<string, string> = {
  transform(value: string) {
    if (!ITEM_REF_PATTERN.test(value)) {
      throw WaggleError.invalid('the item must be an id or a ref like feature-12', [
        { field: 'id', errors: ['must be an item id or ref'] },
      ]);
    }
    return value;
  },
};
