import { createHash, createHmac } from 'node:crypto';

import { applyDecorators } from '@nestjs/common';
import { ApiHeader } from '@nestjs/swagger';

import { WaggleError } from '@waggle/contracts';

import type { Principal } from '../auth/principal';
import { principalKey } from '../auth/principal';

const KEY = /^[\x21-\x7e]{1,200}$/;

/** Documents the `Idempotency-Key` header on a create route. */
export function ApiIdempotencyKey() {
  return applyDecorators(
    ApiHeader({
      name: 'idempotency-key',
      required: false,
      description:
        'Any string of 1–200 visible ASCII characters (a random UUID is best): a retry with the same key and the same body, from the same caller, within 24 hours returns what the first request made, and makes nothing twice. The same key with another body is refused with 422 IDEMPOTENCY_KEY_REUSED. After 24 hours the key is free again.',
    }),
  );
}

/** What the hub keeps of a caller's Idempotency-Key, and how it recognises the same request. */
export interface Idempotency {
  /** The caller's key hashed with who the caller is: one caller's key never answers another's request. */
  idempotencyKey?: string;
  /** SHA-256 of the body in a canonical form (keys sorted): the same key with another body is refused. */
  idempotencyFingerprint?: string;
}

/** For creates that show a secret once (a token): the seed it is derived from, so a repeat can show it again. */
export interface SecretIdempotency extends Idempotency {
  idempotencySeed?: string;
}

/** Who a key belongs to, for a signed-in caller. */
export function callerScope(principal: Principal): string {
  return principalKey(principal);
}

/** Who a key belongs to, for a join: whoever holds the join token. */
export function joinScope(joinToken: string): string {
  return `join:${createHash('sha256').update(joinToken).digest('hex')}`;
}

/** The Idempotency-Key header checked, scoped to `scope` and paired with the body's fingerprint. */
export function idempotencyOf(scope: string, header: string | undefined, body: object): Idempotency {
  if (header === undefined) {
    return {};
  }
  if (!KEY.test(header)) {
    throw WaggleError.invalid('Idempotency-Key must be 1–200 visible ASCII characters', [
      { field: 'idempotency-key', errors: ['must be 1–200 visible ASCII characters'] },
    ]);
  }
  return {
    idempotencyKey: `http-${createHash('sha256').update(`${scope}\n${header}`).digest('hex')}`,
    idempotencyFingerprint: createHash('sha256').update(canonicalJson(body)).digest('hex'),
  };
}

/**
 * As idempotencyOf, plus a seed for the secret the create shows: an HMAC of the scope under
 * the key itself, so the hub can make the same secret again only when the caller presents
 * the key again. The seed is never stored; a random key (a UUID) keeps it unguessable.
 */
export function secretIdempotencyOf(scope: string, header: string | undefined, body: object): SecretIdempotency {
  const idempotency = idempotencyOf(scope, header, body);
  if (header === undefined) {
    return idempotency;
  }
  return {
    ...idempotency,
    idempotencySeed: createHmac('sha256', header).update(`waggle idempotency seed\n${scope}`).digest('hex'),
  };
}

/** JSON with object keys sorted at every level, so equal bodies give equal text whatever their key order. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) {
    return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  }
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
