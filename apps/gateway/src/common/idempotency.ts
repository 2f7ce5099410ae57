import { createHash } from 'node:crypto';

import { applyDecorators } from '@nestjs/common';
import { ApiHeader } from '@nestjs/swagger';

import { WaggleError } from '@waggle/contracts';

import type { Principal } from '../auth/principal';

const KEY = /^[\x21-\x7e]{1,200}$/;

/** Documents the `Idempotency-Key` header on a create route. */
export function ApiIdempotencyKey() {
  return applyDecorators(
    ApiHeader({
      name: 'idempotency-key',
      required: false,
      description:
        'Any string of 1–200 visible ASCII characters: a retry with the same key (from the same caller) returns what the first request made, and makes nothing twice. Keys are kept; do not reuse one for a different request.',
    }),
  );
}

/**
 * The key the hub stores for a caller's `Idempotency-Key`: scoped to the caller (one
 * caller's key never answers another's request) and hashed to a fixed length.
 */
export function idempotencyKeyOf(principal: Principal, header: string | undefined): string | undefined {
  if (header === undefined) {
    return undefined;
  }
  if (!KEY.test(header)) {
    throw WaggleError.invalid('Idempotency-Key must be 1–200 visible ASCII characters', [
      { field: 'idempotency-key', errors: ['must be 1–200 visible ASCII characters'] },
    ]);
  }
  const caller = principal.kind === 'machine' ? `machine:${principal.machineId}` : `admin:${principal.tokenId}`;
  return `http-${createHash('sha256').update(`${caller}\n${header}`).digest('hex')}`;
}
